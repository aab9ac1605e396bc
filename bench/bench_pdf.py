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

Then it times the background work: a process pool of ``--workers`` processes, each of which
sets Django up on its own and renders invoices from their frozen snapshots through
``invoice_pdf_file`` (the service behind ``invoice pdf``, ``invoice send`` and Factur-X), which
lays the PDF out with WeasyPrint and stores it with its hash. The time counts everything from
starting the pool to the last file stored, process start-up and font loading included. Each
worker reports its peak resident memory.

Afterwards (not timed) it checks that every invoice has exactly one stored PDF whose hash is
right, and that rendering a few of them again gives the same bytes. Prints one JSON object:
``{"benchmark": "render_pdf", "documents", "seconds", "per_second", "peak_rss_mb", ...}``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
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
    from salesledger.apps.invoicing.bulk import BulkDoc, documents_post_bulk
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
def _worker_init() -> None:
    _setup_django()
    # What a long-running worker process does once: Django, fonts and the stylesheet are
    # loaded for good, so the cyclic garbage collector need not walk them again while
    # WeasyPrint churns through its layout objects.
    import gc

    from salesledger.apps.documents.rendering import _weasy, sandbox_engine

    _weasy(), sandbox_engine()
    gc.collect()
    gc.freeze()


def render_chunk(ids: list[int]) -> dict[str, Any]:
    """Render and freeze the PDFs of ``ids`` in this worker process."""
    from salesledger.apps.core.models import Company
    from salesledger.apps.documents.services import invoice_pdf_file
    from salesledger.apps.invoicing.models import Invoice

    company = Company.objects.get(code="bench")
    size = 0
    for invoice in Invoice.objects.filter(pk__in=ids).select_related("customer", "terms"):
        size += len(invoice_pdf_file(actor=None, company=company, invoice=invoice).content)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"pid": os.getpid(), "documents": len(ids), "bytes": size,
            "peak_rss_mb": usage.ru_maxrss / 1024, "cpu": usage.ru_utime + usage.ru_stime}


def render_all(ids: list[int], workers: int, chunk: int) -> tuple[float, list[dict[str, Any]]]:
    from django.db import connections

    connections.close_all()  # children must not share the parent's connection
    chunks = [ids[i:i + chunk] for i in range(0, len(ids), chunk)]
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers, initializer=_worker_init) as pool:
        results = list(pool.map(render_chunk, chunks))
    return time.perf_counter() - start, results


def verify(ids: list[int], samples: int = 5) -> None:
    from salesledger.apps.core.models import Company
    from salesledger.apps.documents.services import render_invoice_pdf
    from salesledger.apps.invoicing.models import DocumentFile, Invoice

    files = DocumentFile.objects.filter(kind="pdf", invoice_id__in=ids)
    if files.count() != len(ids):
        raise SystemExit(f"{files.count()} PDFs stored for {len(ids)} invoices")
    for f in files.iterator(chunk_size=200):
        if hashlib.sha256(bytes(f.content)).hexdigest() != f.sha256:
            raise SystemExit(f"stored PDF {f.pk} does not match its hash")
    company = Company.objects.get(code="bench")
    for invoice in Invoice.objects.filter(pk__in=ids[:samples]):
        stored = bytes(DocumentFile.objects.get(invoice=invoice, kind="pdf").content)
        if render_invoice_pdf(company, invoice) != stored:
            raise SystemExit(f"{invoice.number} renders to other bytes than stored")


def run(documents: int, workers: int, chunk: int, seed: int, db: str) -> dict[str, Any]:
    _setup_django()
    ids = build(documents, seed)
    seconds, results = render_all(ids, workers, chunk)
    verify(ids)
    peaks: dict[int, float] = {}
    cpu: dict[int, float] = {}
    for r in results:  # usage figures are cumulative per process: keep each one's last
        peaks[r["pid"]] = max(peaks.get(r["pid"], 0.0), r["peak_rss_mb"])
        cpu[r["pid"]] = max(cpu.get(r["pid"], 0.0), r["cpu"])
    stored = sum(r["bytes"] for r in results)
    return {"benchmark": "render_pdf", "documents": documents, "workers": workers,
            "seconds": round(seconds, 2), "per_second": round(documents / seconds, 1),
            "peak_rss_mb": round(max(peaks.values()), 1),
            # CPU the workers used (start-up included): what the rate would be on idle cores
            "cpu_seconds": round(sum(cpu.values()), 2),
            "per_cpu_second": round(documents / sum(cpu.values()), 1),
            "avg_pdf_kb": round(stored / documents / 1024, 1), "db": db, "machine": machine()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=25, help="invoices per task")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--database-url", help="a PostgreSQL server to create a database on")
    args = parser.parse_args()
    os.environ["DJANGO_SETTINGS_MODULE"] = "salesledger.config.settings"
    os.environ.pop("SALESLEDGER_DATABASE_URL", None)
    os.environ["SALESLEDGER_SECRET_KEY"] = "bench-not-secret"
    with tempfile.TemporaryDirectory(prefix="salesledger-bench-pdf-") as home:
        os.environ["SALESLEDGER_HOME"] = home  # inherited by the worker processes
        (Path(home) / "var").mkdir()
        if args.database_url:
            with fresh_postgres(args.database_url) as url:
                os.environ["SALESLEDGER_DATABASE_URL"] = url
                result = run(args.documents, args.workers, args.chunk, args.seed,
                             "postgresql")
        else:
            result = run(args.documents, args.workers, args.chunk, args.seed, "sqlite")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
