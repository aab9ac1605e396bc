"""Benchmark: the dunning run (docs/design/dunning.md).

    .venv/bin/python bench/bench_dunning.py small              # select and level 10,000 items
    .venv/bin/python bench/bench_dunning.py medium --database-url postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/bench_dunning.py --send 1000        # send 1,000 reminders (e-mail)
    .venv/bin/python bench/bench_dunning.py --send 200 --letters
    .venv/bin/python bench/bench_dunning.py issue --keep /tmp/dunning-books   # the issue's size

``issue``: the issue's own size, 100,000 customers with ten open items each (1,000,000), made
by ``generate_issue`` (seeded; through the bulk services, with ``bench_allocate.py``'s
``post_books``: ``import_file`` for the customers, ``documents_post_bulk`` for the invoices,
each due in thirds; ``receipts_record_bulk`` for an unapplied receipt of one customer in
twenty, which the run must warn about instead of reminding). Nothing is allocated, so every
item is open. ``--keep DIR`` keeps the SQLite database in DIR (or, on PostgreSQL, a database
named ``salesledger_bench_dunning_issue``) and reuses it when it is there: the same books
before and after a change. On PostgreSQL the server's CPU seconds for the run are read too
(``/proc/<pg_backend_pid()>/stat``, when the server runs on this machine).

Selection: builds the books of ``bench_allocate.py`` (its seeded generator, in a child process:
one customer per 100 open items, invoices due in thirds, ten receipts per customer), gives the
company a default policy of four levels (-3, +5, +20, +40 days), then times ``dunning_run``
without sending (the preview: every read, the levelling of every item, the plan of every
customer) as of 2025-12-31, ``--repeat`` times, after the receipts were applied oldest first
(not timed, as in ``bench_aging.py``).

Sending (``--send N``): a fresh database with N customers, each with an e-mail address and one
invoice 10 days overdue, a local SMTP server (aiosmtpd, in this process) and ``dunning_run`` with
``send=True`` (the service the worker's daily task calls): the seconds and messages per second,
with ``--letters`` each with its PDF letter rendered and attached. Every message is counted at
the server.

One JSON object is printed and written to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import socket
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_allocate import (  # noqa: E402
    ALLOCATE_ON,
    COMPANY,
    main_on_generated_books,
    post_books,
    record_receipts,
)
from bench_import import bench_database, machine, server_cpu_seconds  # noqa: E402

TODAY = date(2025, 12, 31)


def _policy(company: Any, owner: Any, letters: bool = False) -> None:
    from salesledger.apps.dunning.services import policy_add
    from salesledger.domain.dunning import Level

    channels = ("email", "letter") if letters else ("email",)
    policy_add(actor=owner, company=company, code="BENCH", default=True, levels=[
        Level(0, -3, "Friendly reminder", channels), Level(0, 5, "Reminder", channels),
        Level(0, 20, "Second reminder", channels), Level(0, 40, "Final notice", channels)])


def measure(size: str, repeat: int, db: str, made: dict[str, Any]) -> dict[str, Any]:
    import django

    django.setup()
    from django.db import connection

    from salesledger.apps.core.selectors import company_get, company_owner
    from salesledger.apps.dunning.run import dunning_run
    from salesledger.apps.payments.autoallocate import auto_allocate_all

    company = company_get(COMPANY)
    owner = company_owner(company)
    # The receipts applied first (not timed), as in bench_aging.py: what is left open is
    # what a run reminds of.
    auto_allocate_all(actor=owner, company=company, day=ALLOCATE_ON)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    _policy(company, owner)
    times, summary = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        summary = dunning_run(actor=owner, company=company, as_of=TODAY, send=False)
        times.append(time.perf_counter() - start)
    assert summary is not None
    reasons: dict[str, int] = {}
    for s in summary.skipped:
        reasons[s["reason"]] = reasons.get(s["reason"], 0) + 1
    return {"benchmark": "dunning_select", "size": size, "db": connection.vendor,
            "customers": made["customers"], "open_items": made["items"],
            "customers_to_remind": summary.customers,
            "items_listed": sum(len(p["items"]) for p in summary.planned),
            "skipped": reasons, "seconds": {"best": round(min(times), 3),
                                            "median": round(statistics.median(times), 3)},
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "machine": machine()}


def send(n: int, letters: bool, database_url: str | None, worker: bool = False
         ) -> dict[str, Any]:
    with bench_database(database_url) as (_, db):
        return _send(n, letters, worker)


def _send(n: int, letters: bool, worker: bool) -> dict[str, Any]:
    import django

    django.setup()
    from aiosmtpd.controller import Controller
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from salesledger.apps.core.services import company_create
    from salesledger.apps.customers.models import Customer
    from salesledger.apps.dunning.run import dunning_run
    from salesledger.apps.dunning.tasks import dunning_run_task
    from salesledger.apps.interchange.csvio import import_file
    from salesledger.apps.invoicing.posting.check import BulkDoc
    from salesledger.apps.invoicing.services import documents_post_bulk
    from salesledger.domain.invoicing import LineInput

    class Count:
        received = 0

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            Count.received += 1
            return "250 OK"

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(Count(), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.DEFAULT_FROM_EMAIL = "bench@ledger.example"
    try:
        call_command("migrate", verbosity=0)
        owner = get_user_model().objects.create_user("bench-owner")
        company = company_create(actor=owner, code=COMPANY, name="Benchmark Ltd", owner=owner)
        with tempfile.TemporaryDirectory() as tmp:  # the customers in bulk, as an import
            path = Path(tmp) / "customers.csv"
            path.write_text("code,name,country,email\n" + "".join(
                f"S{k:06d},Customer {k},FR,s{k}@example.com\n" for k in range(n)),
                encoding="utf-8")
            import_file(kind="customers", path=path, company=company, actor=owner)
        ids = list(Customer.objects.filter(company=company).values_list("pk", flat=True))
        documents_post_bulk(actor=owner, company=company, docs=[BulkDoc(
            customer_id=cid, kind="invoice", currency="EUR",
            issue_date=TODAY - timedelta(days=40),
            lines=[LineInput("Goods", Decimal(1), Decimal("100.00"), Decimal(20))])
            for cid in ids])
        _policy(company, owner, letters)
        def children() -> float:  # the letter processes, once the run has stopped them
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            return usage.ru_utime + usage.ru_stime

        start, start_cpu = time.perf_counter(), time.process_time() + children()
        if worker:
            # The worker's way: the day's run queued as the calendar queues it, and run by
            # the worker (its batch mode: what is ready, then return) in this process.
            from django_tasks_db.models import DBTaskResult

            from salesledger.worker import make_worker

            task_id = dunning_run_task.enqueue(company.code, TODAY.isoformat(),
                                               owner.username).id
            make_worker(worker_id="bench-dunning").run()
            row = DBTaskResult.objects.get(pk=task_id)
            assert row.status == "SUCCESSFUL", (row.status, row.traceback)
            sent, letters_made = row.return_value["messages_sent"], None
        else:
            summary = dunning_run(actor=owner, company=company, as_of=TODAY, send=True)
            sent, letters_made = summary.messages_sent, summary.letters
        seconds = time.perf_counter() - start
        cpu = time.process_time() + children() - start_cpu
        if worker:
            letters_made = row.return_value["letters"]
    finally:
        controller.stop()
    assert sent == n == Count.received, (sent, Count.received)
    return {"benchmark": "dunning_send", "db": connection.vendor, "messages": n,
            "through": "worker" if worker else "service",
            "letters": letters_made, "seconds": round(seconds, 2),
            "per_second": round(n / seconds, 1),
            # CPU seconds of this process (the mail server's thread included) and of the
            # letter processes it started: what the shared machine's load does not inflate
            "cpu_seconds": round(cpu, 2), "per_cpu_second": round(n / cpu, 1),
            "machine": machine(), "load_average": list(os.getloadavg())}


ISSUE = {"customers": 100_000, "items": 1_000_000}


def backend_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend so far; 0.0 on SQLite."""
    return server_cpu_seconds() or 0.0


def generate_issue(customers: int, items: int, seed: int) -> dict[str, Any]:
    """The issue's books: ``customers`` with ``items`` open items between them (ten each at
    the issue's size), invoices due in thirds issued over the half-year before ``TODAY``, so
    that the items fall at every level of the policy and some are not due yet; one customer in
    twenty has an unapplied receipt (possibly paid: warned about, not reminded)."""
    import random

    import django

    django.setup()
    from salesledger.apps.payments.bulk import BulkReceipt

    rng = random.Random(seed)
    start = time.perf_counter()

    def invoice(rng: random.Random) -> tuple[date, Decimal]:
        issued = TODAY - timedelta(days=rng.randrange(1, 180))
        return issued, Decimal(rng.randrange(3000, 60000)).scaleb(-2)

    company, owner, ids = post_books(
        rng, customers=customers, items=items, shuffle=False, invoice=invoice,
        customer_csv=("code,name,country,email",
                      lambda n: f"D{n:06d},Customer {n},FR,d{n}@example.com"))
    record_receipts(company, owner, [
        BulkReceipt(customer_id=cid, date=TODAY - timedelta(days=5), currency="EUR",
                    amount=rng.randrange(5000, 60000), bank_reference=f"TRF{n:08d}")
        for n, cid in enumerate(ids[::20])])
    return {"customers": customers, "items": items, "invoices": items // 3 + items % 3,
            "generate_seconds": round(time.perf_counter() - start, 1)}


def issue(args: argparse.Namespace) -> dict[str, Any]:
    """Select and level the issue's size, on kept books if ``--keep`` names them."""
    import contextlib

    @contextlib.contextmanager
    def kept() -> Any:
        os.environ["SALESLEDGER_SECRET_KEY"] = "bench-not-secret"
        if args.database_url:
            from urllib.parse import urlsplit, urlunsplit

            import psycopg

            name = args.pg_database
            parts = urlsplit(args.database_url)
            with psycopg.connect(args.database_url, autocommit=True) as admin:
                fresh = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                      [name]).fetchone() is None
                if fresh:
                    admin.execute(f'CREATE DATABASE "{name}"')
            os.environ["SALESLEDGER_DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
            home = Path(args.keep)
            (home / "var").mkdir(parents=True, exist_ok=True)
            os.environ["SALESLEDGER_HOME"] = str(home)
            yield fresh
        else:
            home = Path(args.keep)
            (home / "var").mkdir(parents=True, exist_ok=True)
            os.environ["SALESLEDGER_HOME"] = str(home)
            yield not (home / "var" / "salesledger.sqlite3").exists()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesledger.config.settings")
    os.environ.pop("SALESLEDGER_DATABASE_URL", None)
    if args.keep:
        ctx: Any = kept()
    else:
        @contextlib.contextmanager
        def fresh_db() -> Any:
            with bench_database(args.database_url):
                yield True
        ctx = fresh_db()
    with ctx as fresh:
        made: dict[str, Any] = {"customers": args.customers, "items": args.items}
        if fresh:
            made = generate_issue(args.customers, args.items, args.seed)
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from salesledger.apps.core.selectors import company_get, company_owner
        from salesledger.apps.dunning.models import DunningPolicy
        from salesledger.apps.dunning.run import dunning_run

        call_command("migrate", verbosity=0)
        company = company_get(COMPANY)
        owner = company_owner(company)
        if not fresh:  # kept books (perhaps bench/books.py's, copied): what they hold
            from django.db.models import F

            from salesledger.apps.customers.models import Customer
            from salesledger.apps.invoicing.models import Instalment

            made = {"customers": Customer.objects.filter(company=company).count(),
                    "items": Instalment.objects.filter(company=company,
                                                       amount__gt=F("settled")).count()}
        if not DunningPolicy.objects.filter(company=company).exists():
            _policy(company, owner)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        times, cpu, server, summary = [], [], [], None
        for _ in range(args.repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            start_server = backend_cpu()
            summary = dunning_run(actor=owner, company=company, as_of=TODAY, send=False)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            server.append(backend_cpu() - start_server)
            rows_start = time.process_time()
            summary.as_dict()  # the preview's rows, built when shown
            rows_cpu = time.process_time() - rows_start
        assert summary is not None
        reasons: dict[str, int] = {}
        for s in summary.skipped:
            reasons[s["reason"]] = reasons.get(s["reason"], 0) + 1
        return {"benchmark": "dunning_select", "size": "issue", "db": connection.vendor,
                **made, "customers_to_remind": summary.customers,
                "items_listed": sum(len(p["items"]) for p in summary.planned),
                "skipped": reasons,
                "seconds": {"best": round(min(times), 3),
                            "median": round(statistics.median(times), 3)},
                "cpu_seconds": {"best": round(min(cpu), 3),
                                "median": round(statistics.median(cpu), 3)},
                # the database server's process for this connection (PostgreSQL; 0 on
                # SQLite, which runs in this process and is counted above)
                "server_cpu_seconds": {"best": round(min(server), 3),
                                       "median": round(statistics.median(server), 3)},
                # building the preview's rows, a row per item listed (the display's cost)
                "preview_rows_cpu_seconds": round(rows_cpu, 3),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "machine": machine(), "load_average": list(os.getloadavg())}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "issue":
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("size", choices=["issue"])
        parser.add_argument("--customers", type=int, default=ISSUE["customers"])
        parser.add_argument("--items", type=int, default=ISSUE["items"])
        parser.add_argument("--seed", type=int, default=20261206)
        parser.add_argument("--repeat", type=int, default=3)
        parser.add_argument("--keep", help="keep (and reuse) the books here")
        parser.add_argument("--database-url")
        parser.add_argument("--pg-database", default="salesledger_bench_dunning_issue",
                            help="with --keep on PostgreSQL: the kept books' database (a "
                            "copy of bench/books.py's: CREATE DATABASE ... TEMPLATE ...)")
        parser.add_argument("--label", default="", help="a word in the result's file name")
        parser.add_argument("--results", default=str(HERE / "results"))
        args = parser.parse_args()
        result = issue(args)
        out = Path(args.results)
        out.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        label = f"-{args.label}" if args.label else ""
        (out / f"dunning-issue-{result['db']}{label}-{stamp}.json").write_text(
            json.dumps(result, indent=2) + "\n")
        print(json.dumps(result))
        return
    if "--send" not in sys.argv:
        main_on_generated_books(__doc__.splitlines()[0], "dunning", 3, measure)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--send", type=int, required=True)
    parser.add_argument("--letters", action="store_true")
    parser.add_argument("--worker", action="store_true",
                        help="queue the run and let the worker run it, as the calendar does")
    parser.add_argument("--database-url")
    parser.add_argument("--results", default=str(HERE / "results"))
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesledger.config.settings")
    result = send(args.send, args.letters, args.database_url, args.worker)
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    kind = ("letters" if args.letters else "email") + ("-worker" if args.worker else "")
    (out / f"dunning-send-{kind}-{args.send}-{result['db']}-{stamp}.json").write_text(
        json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
