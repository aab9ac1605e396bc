"""Benchmark: rendering and freezing invoice PDFs in the background.

    .venv/bin/python bench/bench_pdf.py                          # 1,000 invoices, 2 workers
    .venv/bin/python bench/bench_pdf.py --documents 200 --workers 1
    .venv/bin/python bench/bench_pdf.py --database-url postgres://postgres@127.0.0.1:5432/postgres

Builds a fresh database (SQLite in a temporary directory, or with ``--database-url`` a new
PostgreSQL database next to the one named, dropped afterwards): one company with a complete
profile (address, VAT number, IBAN, a logo, footer and legal mentions), 50 customers in the
five document languages with billing addresses, and ``--documents`` posted invoices of 1 to 6
lines, a quarter of them in three instalments and a fifth with an early-payment discount
(through the bulk poster, not timed).

Then it queues the freezing exactly as posting does (``pdfs_freeze_later`` in a transaction:
``freeze_pdfs_task`` rows of up to ``FREEZE_CHUNK`` = 100 invoices each, not timed), and times the
product's own background path: ``--workers`` real ``salesledger worker --interval 0.2`` processes
(``python -m salesledger.cli.main worker``, with the benchmark's SALESLEDGER_HOME and database URL
in their environment), each of which claims tasks from the django-tasks-db queue and runs
``pdfs_freeze``, which renders every invoice from its frozen snapshot with WeasyPrint and stores
it with its hash (``invoice_pdf_file``). The time runs from starting the workers to the moment
every invoice has its stored PDF (the DocumentFile table is polled every 0.1 s), worker start-up
and font loading included. Peak resident memory (VmHWM) is read from /proc before the workers
are stopped with SIGTERM; their CPU time is what they used from start to exit. Their output goes
to ``worker-N.log`` in the temporary directory, whose tail is printed if one fails.

Afterwards (not timed) it checks that every task succeeded with no failed document, that every
invoice has exactly one stored PDF whose hash is right, and that rendering a few of them again
gives the same bytes. Prints one JSON object: ``{"benchmark": "render_pdf", "documents",
"seconds", "per_second", "peak_rss_mb", ...}``; ``tasks_per_worker`` and ``idle_tail_seconds``
(how long the first worker to run out of tasks stood idle before the last one finished) show how
evenly the tasks were shared. ``--chunk N`` (an experiment) queues N invoices per task instead.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_import import fresh_postgres, machine  # noqa: E402

LANGUAGES = ("en", "fr", "de", "es", "pt")
COUNTRIES = {"en": "GB", "fr": "FR", "de": "DE", "es": "ES", "pt": "PT"}
ITEMS = ("Consulting", "Maintenance contract", "Software licence", "Training day",
         "Hosting (monthly)", "Travel expenses", "Support hours", "Hardware")


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesledger.config.settings")
    import django

    django.setup()


def logo() -> bytes:
    """A 200 x 60 PNG, about the size of a real logo on a document."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (200, 60), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 60, 60), fill=(31, 78, 121))
    draw.text((70, 20), "ACME CONSEIL", fill=(31, 78, 121))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def build(documents: int, seed: int) -> list[int]:
    """The company, its customers and ``documents`` posted invoices; returns their ids."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from salesledger.apps.core.services import company_create, company_profile_update
    from salesledger.apps.customers.models import PaymentTerms
    from salesledger.apps.customers.services import AddressInput, CustomerInput, customer_create
    from salesledger.apps.invoicing.posting.check import BulkDoc
    from salesledger.apps.invoicing.services import documents_post_bulk
    from salesledger.domain.invoicing import LineInput

    call_command("migrate", verbosity=0)
    owner = get_user_model().objects.create_user("bench-owner")
    company = company_create(actor=owner, code="bench", name="Acme Conseil", owner=owner)
    company = company_profile_update(
        actor=owner, company=company, legal_name="Acme Conseil SARL", tax_id="FR40303265045",
        registration_id="RCS Paris 303 265 045", address_line1="12 rue de la Paix",
        postal_code="75002", city="Paris", email="billing@acme.example",
        phone="+33 1 23 45 67 89", website="acme.example", iban="FR7630006000011234567890189",
        bic="AGRIFRPP", document_footer="Acme Conseil SARL, capital 10 000 EUR, RCS Paris "
        "303 265 045", legal_mentions="Late payment: penalties at three times the legal rate "
        "and a fixed indemnity of 40 EUR for recovery costs.", logo=logo())
    rng = random.Random(seed)
    customers = []
    for n in range(50):
        language = LANGUAGES[n % len(LANGUAGES)]
        country = COUNTRIES[language]
        customers.append(customer_create(actor=owner, company=company, data=CustomerInput(
            code=f"C{n:03d}", name=f"Customer {n:03d} {rng.choice(['Ltd', 'SARL', 'GmbH'])}",
            language=language, country=country, email=f"billing{n}@example.org",
            billing=AddressInput(line1=f"{n + 1} Market Street", city="Capital",
                                 postal_code=f"{10000 + n}", country=country))))
    terms = {t.code: t.pk for t in PaymentTerms.objects.filter(company=company)}
    docs = []
    for i in range(documents):
        lines = [LineInput(rng.choice(ITEMS), Decimal(rng.randint(1, 12)),
                           Decimal(rng.randint(1000, 90000)) / 100, Decimal("20"))
                 for _ in range(rng.randint(1, 6))]
        roll = rng.random()
        term = "30-60-90" if roll < 0.25 else "2-10-NET30" if roll < 0.45 else "NET30"
        docs.append(BulkDoc(customer_id=customers[i % len(customers)].pk, kind="invoice",
                            issue_date=date(2025, 1, 1) + timedelta(days=i % 300),
                            currency="EUR", lines=lines, terms_id=terms[term],
                            po_number=f"PO-{i:05d}" if i % 3 == 0 else ""))
    return documents_post_bulk(actor=owner, company=company, docs=docs)


# ---------------------------------------------------------------- the workers
def queue_freeze(ids: list[int], chunk: int | None) -> int:
    """Queue the freezing as posting does: ``pdfs_freeze_later`` in a transaction (``chunk``,
    for an experiment only, overrides the product's invoices per task in this process)."""
    from django.db import transaction

    from salesledger.apps.core.models import Company
    from salesledger.apps.documents import tasks

    if chunk:
        tasks.FREEZE_CHUNK = chunk
    company = Company.objects.get(code="bench")
    with transaction.atomic():
        return tasks.pdfs_freeze_later(company, ids)


def _peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a live process (VmHWM), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for w in workers:
        if w.poll() is None:
            w.send_signal(signal.SIGTERM)  # the worker finishes the task at hand, then exits
    for w in workers:
        try:
            w.wait(timeout=60)
        except subprocess.TimeoutExpired:
            w.kill()
            w.wait()


def freeze_all(ids: list[int], workers: int, interval: float, logs: Path,
               timeout: float) -> dict[str, Any]:
    """Start ``workers`` real ``salesledger worker`` processes; time them until every
    invoice has its stored PDF; stop them; return the time and their CPU and memory."""
    from django.db import connections

    from salesledger.apps.invoicing.models import DocumentFile

    connections.close_all()
    files = DocumentFile.objects.filter(kind="pdf", invoice_id__in=ids)
    command = [sys.executable, "-m", "salesledger.cli.main", "worker", "--interval",
               f"{interval:g}"]
    paths = [logs / f"worker-{n}.log" for n in range(workers)]
    procs: list[subprocess.Popen[bytes]] = []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    polling = time.process_time()
    start = time.perf_counter()
    try:
        for path in paths:  # the environment (SALESLEDGER_HOME, database URL) is inherited
            with path.open("wb") as log:
                procs.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
        while True:
            done = files.count()
            if done >= len(ids):
                break
            dead = [n for n, w in enumerate(procs) if w.poll() is not None]
            if dead or time.perf_counter() - start > timeout:
                n = dead[0] if dead else 0
                why = (f"worker {n} exited with {procs[n].returncode}" if dead
                       else f"timed out after {timeout:g}s")
                raise SystemExit(f"{why} with {done} of {len(ids)} PDFs stored; "
                                 f"tail of {paths[n]}:\n{_tail(paths[n])}")
            time.sleep(0.1)
        seconds = time.perf_counter() - start
        polling = time.process_time() - polling
        peaks = [_peak_rss_mb(w.pid) for w in procs]  # before stopping: /proc goes with it
    except BaseException:
        _stop(procs)
        raise
    _stop(procs)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    failed = [n for n, w in enumerate(procs) if w.returncode != 0]
    if failed:
        raise SystemExit(f"worker {failed[0]} exited with {procs[failed[0]].returncode}; tail "
                         f"of {paths[failed[0]]}:\n{_tail(paths[failed[0]])}")
    return {"seconds": seconds, "peak_rss_mb": max(peaks),
            # everything the workers used, start-up and shutdown included
            "cpu_seconds": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
            "poll_cpu_seconds": polling}


def tasks_report(ids: list[int]) -> dict[str, Any]:
    """How the queue went: tasks, how many each worker ran, and how long the first worker
    to run out of tasks stood idle before the last task finished."""
    from django_tasks_db.models import DBTaskResult

    tasks = list(DBTaskResult.objects.filter(task_path__endswith=".freeze_pdfs_task"))
    bad = [t for t in tasks if t.status != "SUCCESSFUL" or (t.return_value or {}).get("failed")]
    if bad:
        raise SystemExit(f"task {bad[0].id} {bad[0].status}: "
                         f"{bad[0].return_value or bad[0].traceback}")
    last: dict[str, Any] = {}
    ran: dict[str, int] = {}
    for t in tasks:
        who = t.worker_ids[-1]
        ran[who] = ran.get(who, 0) + 1
        last[who] = max(last.get(who, t.finished_at), t.finished_at)
    end = max(last.values())
    return {"tasks": len(tasks), "tasks_per_worker": sorted(ran.values(), reverse=True),
            "idle_tail_seconds": round(max((end - at).total_seconds() for at in last.values()), 1)}


def verify(ids: list[int], samples: int = 5) -> int:
    """Check the stored PDFs; returns their total size in bytes."""
    from salesledger.apps.core.models import Company
    from salesledger.apps.documents.services import render_invoice_pdf
    from salesledger.apps.invoicing.models import DocumentFile, Invoice

    files = DocumentFile.objects.filter(kind="pdf", invoice_id__in=ids)
    if files.count() != len(ids) or files.values("invoice_id").distinct().count() != len(ids):
        raise SystemExit(f"{files.count()} PDFs stored for {len(ids)} invoices")
    size = 0
    for f in files.iterator(chunk_size=200):
        content = bytes(f.content)
        size += len(content)
        if hashlib.sha256(content).hexdigest() != f.sha256:
            raise SystemExit(f"stored PDF {f.pk} does not match its hash")
    company = Company.objects.get(code="bench")
    for invoice in Invoice.objects.filter(pk__in=ids[:samples]):
        stored = bytes(DocumentFile.objects.get(invoice=invoice, kind="pdf").content)
        if render_invoice_pdf(company, invoice) != stored:
            raise SystemExit(f"{invoice.number} renders to other bytes than stored")
    return size


def run(args: argparse.Namespace, home: Path, db: str) -> dict[str, Any]:
    _setup_django()
    ids = build(args.documents, args.seed)
    queue_freeze(ids, args.chunk)
    timed = freeze_all(ids, args.workers, args.interval, home,
                       timeout=max(600.0, args.documents * 2.0))
    queue = tasks_report(ids)
    stored = verify(ids)
    seconds, cpu = timed["seconds"], timed["cpu_seconds"]
    return {"benchmark": "render_pdf", "path": "task worker", "documents": args.documents,
            "workers": args.workers, "seconds": round(seconds, 2),
            "per_second": round(args.documents / seconds, 1),
            "peak_rss_mb": round(timed["peak_rss_mb"], 1),
            # CPU the workers used (start-up included): what the rate would be on idle cores
            "cpu_seconds": round(cpu, 2), "per_cpu_second": round(args.documents / cpu, 1),
            "avg_pdf_kb": round(stored / args.documents / 1024, 1), **queue,
            # CPU this process used meanwhile, polling the table (not in cpu_seconds)
            "poll_cpu_seconds": round(timed["poll_cpu_seconds"], 2), "db": db,
            "machine": machine()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--interval", type=float, default=0.2,
                        help="the workers' --interval (seconds between polls of the queue)")
    parser.add_argument("--chunk", type=int, default=0,
                        help="experiment: invoices per task instead of the product's "
                        "FREEZE_CHUNK")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--database-url", help="a PostgreSQL server to create a database on")
    args = parser.parse_args()
    os.environ["DJANGO_SETTINGS_MODULE"] = "salesledger.config.settings"
    os.environ.pop("SALESLEDGER_DATABASE_URL", None)
    os.environ["SALESLEDGER_SECRET_KEY"] = "bench-not-secret"
    with tempfile.TemporaryDirectory(prefix="salesledger-bench-pdf-") as tmp:
        home = Path(tmp)
        os.environ["SALESLEDGER_HOME"] = tmp  # inherited by the worker processes
        (home / "var").mkdir()
        if args.database_url:
            with fresh_postgres(args.database_url) as url:
                os.environ["SALESLEDGER_DATABASE_URL"] = url
                result = run(args, home, "postgresql")
        else:
            result = run(args, home, "sqlite")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
