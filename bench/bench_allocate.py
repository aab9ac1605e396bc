"""Benchmark: bulk automatic allocation of unapplied cash across many open items.

    .venv/bin/python bench/bench_allocate.py small            # 10,000 items, 1,000 receipts
    .venv/bin/python bench/bench_allocate.py large            # 1,000,000 items, 100,000 receipts
    .venv/bin/python bench/bench_allocate.py medium --database-url postgres://postgres@127.0.0.1:5432/postgres

Creates a fresh database (SQLite in a temporary directory, or with ``--database-url`` a new
PostgreSQL database next to the one named, dropped afterwards) and fills one company, in a
child process, through the bulk services (``import_file`` for the customers,
``documents_post_bulk`` for the invoices, ``receipts_record_bulk`` for the receipts; seeded,
so a seed always gives the same books): one customer per 100 open items, each invoice due
in thirds (30/60/90 days), ten receipts per customer, none allocated. Then, in this process,
it times ``auto_allocate_all`` (the service behind ``salesledger receipt auto-allocate``),
runs every ledger invariant (``check_company``, not timed) and prints one JSON object:
``{"benchmark": "auto_allocate", "receipts", "open_items", "allocations", "seconds",
"per_second", "peak_rss_mb", "db", ...}``. ``peak_rss_mb`` is the peak resident memory of
this process, which only allocated: the data were made by the child.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_import import bench_database, machine  # noqa: E402

# size -> (open items, receipts)
SIZES = {"small": (10_000, 1_000), "medium": (100_000, 10_000), "large": (1_000_000, 100_000),
         "1m": (1_000_000, 100_000)}  # the issue's million open items, by its own name
COMPANY = "bench"
ISSUED_FROM = date(2025, 1, 2)
RECEIVED_ON = date(2025, 7, 1)
ALLOCATE_ON = date(2025, 7, 15)
BATCH = 20_000  # documents per bulk call (one transaction each)


# ---------------------------------------------------------------------------- generation
def generate(size: str, seed: int) -> dict[str, Any]:
    """Fill the database with the books of ``size`` (runs in the child process)."""
    import django

    django.setup()
    from django.db import connection

    from salesledger.apps.payments.bulk import BulkReceipt

    items, receipts = SIZES[size]
    customers = max(10, items // 100)
    rng = random.Random(seed)

    def invoice(rng: random.Random) -> tuple[date, Decimal]:
        price = Decimal(rng.randrange(3000, 60000)).scaleb(-2)
        return ISSUED_FROM + timedelta(days=rng.randrange(170)), price

    start = time.perf_counter()
    company, owner, ids = post_books(
        rng, customers=customers, items=items, shuffle=True, invoice=invoice,
        customer_csv=("code,name,country,billing_line1,billing_postal_code,billing_city",
                      lambda n: f"B{n:06d},Customer {n},FR,{n} rue du Port,75001,Paris"))
    posted = time.perf_counter()
    record_receipts(company, owner, [BulkReceipt(
        customer_id=ids[n % customers], date=RECEIVED_ON, currency="EUR",
        amount=rng.randrange(5000, 60000), bank_reference=f"TRF{n:08d}")
        for n in range(receipts)])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    done = time.perf_counter()
    return {"customers": customers, "invoices": items // 3 + items % 3, "items": items,
            "receipts": receipts, "post_seconds": round(posted - start, 1),
            "receipt_seconds": round(done - posted, 1)}


def post_books(rng: random.Random, *, customers: int, items: int, shuffle: bool,
               invoice: Callable[[random.Random], tuple[date, Decimal]],
               customer_csv: tuple[str, Callable[[int], str]]) -> tuple[Any, Any, list[int]]:
    """The books the benchmarks share, made through the bulk services in a migrated
    database: the company ``COMPANY`` and its owner, ``customers`` customers imported from a
    CSV file (its header and a row per customer number), and ``items`` open items among them
    in turn, invoices of one line due in thirds (the few items that do not make a third are
    NET30; ``shuffle``: in a seeded order), each with the issue date and price ``invoice``
    draws. Returns the company, its owner and the customers' ids in order."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from salesledger.apps.core.services import company_create
    from salesledger.apps.customers.models import Customer, PaymentTerms
    from salesledger.apps.interchange.csvio import import_file
    from salesledger.apps.invoicing.posting.check import BulkDoc
    from salesledger.apps.invoicing.services import documents_post_bulk
    from salesledger.domain.invoicing import LineInput

    call_command("migrate", verbosity=0)
    owner = get_user_model().objects.create_user("bench-owner")
    company = company_create(actor=owner, code=COMPANY, name="Benchmark Ltd", owner=owner)
    header, row = customer_csv
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "customers.csv"
        with path.open("w", encoding="utf-8") as fh:
            fh.write(header + "\n")
            for n in range(customers):
                fh.write(row(n) + "\n")
        import_file(kind="customers", path=path, company=company, actor=owner)
    by_row = dict(Customer.objects.filter(company=company).values_list("code", "id"))
    ids = [by_row[row(n).split(",", 1)[0]] for n in range(customers)]
    thirds = PaymentTerms.objects.get(company=company, code="30-60-90").pk
    net30 = PaymentTerms.objects.get(company=company, code="NET30").pk
    docs = [thirds] * (items // 3) + [net30] * (items % 3)
    if shuffle:
        rng.shuffle(docs)
    batch: list[BulkDoc] = []
    for n, terms in enumerate(docs):
        issued, price = invoice(rng)
        batch.append(BulkDoc(customer_id=ids[n % customers], kind="invoice", currency="EUR",
                             terms_id=terms, issue_date=issued,
                             lines=[LineInput("Goods", Decimal(1), price, Decimal(20))]))
        if len(batch) == BATCH:
            documents_post_bulk(actor=owner, company=company, docs=batch)
            batch = []
    if batch:
        documents_post_bulk(actor=owner, company=company, docs=batch)
    return company, owner, ids


def record_receipts(company: Any, owner: Any, receipts: list[Any]) -> None:
    """Record ``receipts`` (``BulkReceipt``) through the bulk service, ``BATCH`` a call."""
    from salesledger.apps.payments.bulk import receipts_record_bulk

    for start in range(0, len(receipts), BATCH):
        receipts_record_bulk(actor=owner, company=company,
                             receipts=receipts[start:start + BATCH])


# ---------------------------------------------------------------------------- allocation
def allocate(size: str, policy: str, chunk: int, check: bool, db: str,
             made: dict[str, Any]) -> dict[str, Any]:
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from salesledger.apps.core.invariants import check_company
    from salesledger.apps.core.selectors import company_resolve
    from salesledger.apps.payments.autoallocate import auto_allocate_all

    company = company_resolve(COMPANY)
    owner = get_user_model().objects.get(username="bench-owner")
    start = time.perf_counter()
    result = auto_allocate_all(actor=owner, company=company, day=ALLOCATE_ON, policy=policy,
                               chunk_customers=chunk)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {"benchmark": "auto_allocate", "size": size, "policy": policy, "chunk": chunk,
           "receipts": made["receipts"], "open_items": made["items"],
           "customers": made["customers"], "allocations": result.allocations,
           "receipts_used": result.receipts, "seconds": round(seconds, 2),
           "per_second": round(result.allocations / seconds, 1),
           "peak_rss_mb": round(peak, 1), "db": db,
           "generate_seconds": made["post_seconds"] + made["receipt_seconds"],
           "machine": machine()}
    if check:
        start = time.perf_counter()
        problems = check_company(company)
        assert not problems, f"ledger check failed: {[str(p) for p in problems[:20]]}"
        out["check_seconds"] = round(time.perf_counter() - start, 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size", choices=SIZES, nargs="?", default="small")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--policy", default="oldest_first",
                        choices=["oldest_first", "by_reference", "proportional"])
    parser.add_argument("--chunk", type=int, default=500, help="customers per transaction")
    parser.add_argument("--no-check", action="store_true", help="skip check_company")
    parser.add_argument("--database-url", help="PostgreSQL server to run on (a new database "
                                               "is created next to the one named)")
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesledger.config.settings")
    if args.generate_only:  # the child: the environment names the database
        print(json.dumps(generate(args.size, args.seed)))
        return
    with bench_database(args.database_url) as (_, db):
        result = allocate(args.size, args.policy, args.chunk, not args.no_check, db,
                          generated(args.size, args.seed))
    print(json.dumps(result))


def generated(size: str, seed: int) -> dict[str, Any]:
    """Make the books of ``size`` in a child process, in the database the environment names
    (so that the measuring process starts with nothing loaded); return what it made."""
    child = subprocess.run(
        [sys.executable, str(HERE / "bench_allocate.py"), size, "--seed", str(seed),
         "--generate-only"], env=os.environ.copy(), check=True, capture_output=True, text=True)
    return dict(json.loads(child.stdout.strip().splitlines()[-1]))


# ---------------------------------------------------------------------------- other benchmarks
def main_on_generated_books(description: str, name: str, repeat: int,
                            measure: Callable[[str, int, str, dict[str, Any]], dict[str, Any]]
                            ) -> None:
    """The command line of a benchmark that measures the books this module generates
    (``bench_aging.py``, ``bench_web.py``): ``size [--seed] [--repeat] [--database-url]
    [--results]``. The books are made in a child process in a fresh database (SQLite in a
    temporary folder, or a new PostgreSQL database next to the one named, dropped afterwards);
    ``measure(size, repeat, db, made)`` times them in this process, and its figures are printed
    and written to ``results/NAME-SIZE-DB-STAMP.json``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("size", choices=SIZES, nargs="?", default="small")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--repeat", type=int, default=repeat)
    parser.add_argument("--database-url", help="PostgreSQL server to run on (a new database "
                                               "is created next to the one named)")
    parser.add_argument("--results", default=str(HERE / "results"))
    args = parser.parse_args()
    with bench_database(args.database_url) as (_, db):
        result = measure(args.size, args.repeat, db, generated(args.size, args.seed))
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    (out / f"{name}-{args.size}-{result['db']}-{stamp}.json").write_text(
        json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
