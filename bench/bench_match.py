"""Benchmark: cash application, measured against a generated ledger whose answers are known.

    .venv/bin/python bench/bench_match.py small            # 1,000 lines, 10,000 invoices
    .venv/bin/python bench/bench_match.py medium --database-url postgres://postgres@127.0.0.1:5432/postgres

Creates a fresh database (SQLite in a temporary directory, or with ``--database-url`` a new
PostgreSQL database next to the one named, dropped afterwards) with two companies built the
same way from two seeds: ``calib`` (always the small size) and ``bench``. Each has customers
with realistic names (a legal form, sometimes none), half of them with an IBAN on file, and
posted invoices (NET30, 2-10-NET30 and 30-60-90 terms) through ``documents_post_bulk``; and
one MT940 statement per company imported through ``statement_import``, whose lines follow
the frozen MIX below, each with the answer it should get.

1. **Calibration** (``calib``): ``bank_match --dry-run``; the threshold is the lowest
   confidence at which the proposals within 0.05 above it are right at least 99.5% of the
   time, and never below 0.5 (``calibrate``). On the shared books of ``books.py``
   (``--shared-books``) it is made at their size: on a second copy, with the names and
   statement of seed + 1 (``--calibrate-only``, in a process of its own).
2. **Measure** (``bench``): ``bank_match`` (proposals for every line, timed), then
   ``bank_match --auto-apply`` at the calibrated threshold (the receipts and allocations
   written through the payment services, timed), then every ledger invariant
   (``check_company``).

A line is right only if the customer and every allocation (invoice and amount) are. It
prints one JSON object (precision, recall of matchable lines, top-3 recall of the matchable
lines sent to review, noise left unapplied, timings) and writes it to ``bench/results/``.
The generator and its mix were written before the matcher was tuned and are not changed to
suit it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_import import bench_database, machine, server_cpu_seconds  # noqa: E402

# size -> (statement lines, open invoices); one customer per 10 invoices
SIZES = {"small": (1_000, 10_000), "medium": (10_000, 100_000),
         "large": (10_000, 1_000_000)}
ISSUED_FROM = date(2025, 1, 2)
PAID_FROM = date(2025, 3, 1)
# The frozen mix: what share of the lines is of each kind.
MIX = {
    "exact_ref": 0.28,  # our RF reference, the exact amount
    "ref_typo": 0.10,  # the invoice number with noise: case, spacing, no prefix, a digit off
    "no_ref": 0.12,  # name (sometimes misspelt) and the amount of one invoice
    "combined": 0.10,  # 2-8 invoices of one customer in one transfer
    "short_over": 0.08,  # one invoice paid a little short (bank fees) or over
    "discount": 0.05,  # one invoice paid less its early-payment discount
    "partial": 0.07,  # one instalment, or a part of an invoice
    "third_party": 0.05,  # a parent company or a third party pays, from its own account
    "noise": 0.15,  # money in from no customer, and money out (fees, suppliers)
}
LEGAL = ["GmbH", "SA", "SARL", "Ltd", "BV", "SAS", "S.p.A.", "Oy", "AB", "Inc.", "", ""]
WORDS = ("alpha nova blue river stone north star green hill oak bright delta prime atlas "
         "summit harbor pioneer silver golden crown metro union lake forest cedar maple "
         "falcon eagle orion vertex apex zenith nordic baltic alpine coastal urban rapid "
         "solid smart future global royal vital bold clear true first central western").split()
TRADES = ("Trading Logistics Bakery Consulting Foods Motors Textiles Systems Hotels Media "
          "Pharma Energy Builders Partners Foods Electrics Optics Farms Print Design").split()


def _name(rng: random.Random) -> str:
    return " ".join([rng.choice(WORDS).capitalize(), rng.choice(WORDS).capitalize(),
                     rng.choice(TRADES), rng.choice(LEGAL)]).strip()


def _typo(rng: random.Random, text: str) -> str:
    i = rng.randrange(1, max(2, len(text) - 1))
    kind = rng.randrange(3)
    if kind == 0:
        return text[:i] + text[i + 1:]
    if kind == 1:
        return text[:i] + text[i + 1:i + 2] + text[i:i + 1] + text[i + 2:]
    return text[:i] + rng.choice("aeiou") + text[i:]


def _iban(n: int) -> str:
    from schwifty import IBAN

    return str(IBAN.generate("DE", bank_code=f"{37040044 + n % 7:08d}",
                             account_code=f"{n:010d}"))


def _noisy_number(rng: random.Random, number: str) -> str:
    """The invoice number as people type it: case, separators, prefix, a digit off."""
    head, _, tail = number.partition("-")  # INV2025, 00042
    prefix, year = head[:3], head[3:]
    choice = rng.randrange(6)
    if choice == 0:
        return f"{prefix.lower()} {year} {tail}"
    if choice == 1:
        return f"{year}/{tail}"
    if choice == 2:
        return f"{prefix}-{year}-{tail}"
    if choice == 3:
        return f"Invoice no. {prefix}{year}{tail}"
    digits = list(tail)
    k = rng.randrange(len(digits) - 1)
    if choice == 4:  # two neighbouring digits swapped
        digits[k], digits[k + 1] = digits[k + 1], digits[k]
        if digits == list(tail):
            del digits[k]
    else:  # a digit dropped
        del digits[-1 - rng.randrange(min(3, len(digits)))]
    return f"{prefix}{year}-{''.join(digits)}"


# ---------------------------------------------------------------------------- the books
def build(code: str, lines_n: int, invoices_n: int, seed: int) -> dict[str, Any]:
    """A company, its customers and posted invoices, and a statement whose answers are
    known: ``{"company", "owner", "truth": {line_id: (customer_id | None, {number: minor}),
    "kind": {line_id: kind}}``."""
    from django.contrib.auth import get_user_model

    from salesledger.apps.core.services import company_create, company_profile_update
    from salesledger.apps.customers.models import BankAccount, Customer, PaymentTerms
    from salesledger.apps.interchange.csvio import import_file
    from salesledger.apps.invoicing.models import Instalment, Invoice
    from salesledger.apps.invoicing.posting.check import BulkDoc
    from salesledger.apps.invoicing.services import documents_post_bulk
    from salesledger.apps.payments.adjustments.settings import settlement_settings_set
    from salesledger.domain.invoicing import LineInput

    rng = random.Random(seed)
    owner = get_user_model().objects.create_user(f"{code}-owner")
    company = company_create(actor=owner, code=code, name=f"Company {code}", owner=owner)
    company = company_profile_update(actor=owner, company=company,
                                     iban=_iban(9_000_000 + seed % 1000))
    settlement_settings_set(actor=owner, company=company,
                            writeoff_tolerance_amount=Decimal("5.00"),
                            writeoff_tolerance_percent=Decimal("2"))
    customers_n = max(20, invoices_n // 10)
    names = [_name(rng) for _ in range(customers_n)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "customers.csv"
        with path.open("w", encoding="utf-8") as fh:
            fh.write("code,name,country,billing_line1,billing_postal_code,billing_city\n")
            for n, name in enumerate(names):
                fh.write(f"K{n:06d},\"{name}\",DE,{n} Hauptstrasse,10115,Berlin\n")
        import_file(kind="customers", path=path, company=company, actor=owner)
    ids = dict(Customer.objects.filter(company=company).values_list("code", "id"))
    cids = [ids[f"K{n:06d}"] for n in range(customers_n)]
    ibans = {cid: _iban(seed % 1000 * 1_000_000 + n) for n, cid in enumerate(cids)
             if n % 2 == 0}
    # the customers' own accounts (set-up data, not what is measured)
    BankAccount.objects.bulk_create([BankAccount(company=company, customer_id=cid, iban=iban)
                                     for cid, iban in ibans.items()], batch_size=5000)
    terms = dict(PaymentTerms.objects.filter(company=company).values_list("code", "pk"))
    docs: list[BulkDoc] = []
    for _ in range(invoices_n):
        kind = rng.random()
        t = (terms["30-60-90"] if kind < 0.15 else terms["2-10-NET30"] if kind < 0.3
             else terms["NET30"])
        price = Decimal(rng.randrange(2000, 250000)).scaleb(-2)
        docs.append(BulkDoc(customer_id=cids[rng.randrange(customers_n)], kind="invoice",
                            currency="EUR", terms_id=t,
                            issue_date=ISSUED_FROM + timedelta(days=rng.randrange(55)),
                            lines=[LineInput("Goods", Decimal(1), price, Decimal(19))]))
    for i in range(0, len(docs), 20_000):
        documents_post_bulk(actor=owner, company=company, docs=docs[i:i + 20_000])
    open_by: dict[int, list[dict[str, Any]]] = {}
    for inv_id, number, cid, ref, total in Invoice.objects.filter(
            company=company, kind="invoice").order_by("id").values_list(
            "id", "number", "customer_id", "payment_reference", "total"):
        # in the order written: without it the row order (an index's choice) would decide
        # the statement, and the same seed would not give the same lines on every database
        open_by.setdefault(cid, []).append({"id": inv_id, "number": number, "ref": ref,
                                            "total": total, "inst": []})
    by_id = {i["id"]: i for lst in open_by.values() for i in lst}
    for inv_id, amount, disc, disc_date in Instalment.objects.filter(
            company=company).order_by("invoice_id", "seq").values_list(
            "invoice_id", "amount", "discount_amount", "discount_date"):
        by_id[inv_id]["inst"].append(amount)
        if disc:
            by_id[inv_id]["disc"] = (disc, disc_date)
    truth, kinds_of = make_statement(company, owner, rng, lines_n, cids, names, ibans, open_by,
                                PAID_FROM)
    return {"company": company, "owner": owner, "truth": truth, "kind": kinds_of,
            "customers": customers_n, "invoices": invoices_n}


def make_statement(company: Any, owner: Any, rng: random.Random, lines_n: int, cids: list[int],
              names: list[str], ibans: dict[int, str],
              open_by: dict[int, list[dict[str, Any]]], day0: date
              ) -> tuple[dict[int, Any], dict[int, str]]:
    """The statement of ``lines_n`` lines in the frozen MIX, paying the open invoices of
    ``open_by`` (per customer, each ``{"id", "number", "ref", "total": what it owes, "inst":
    what its open instalments owe, "disc": (discount, date) when it has one}``), imported
    as the command does (an MT940 file, dated from ``day0``): ``(truth, kinds)`` by line."""
    from salesledger.apps.banking.services import statement_import

    customers_n = len(cids)
    used: set[int] = set()
    statement: list[tuple[int, str, str, str, dict[str, int] | None, int | None, str]] = []

    def pick(cid: int | None = None) -> tuple[int, dict[str, Any]]:
        while True:
            c = cid if cid is not None else cids[rng.randrange(customers_n)]
            free = [i for i in open_by.get(c, ()) if i["id"] not in used]
            if free:
                inv = rng.choice(free)
                used.add(inv["id"])
                return c, inv
            if cid is not None:
                raise LookupError

    kinds = list(MIX)
    weights = [MIX[k] for k in kinds]
    parent_names: dict[int, str] = {}
    for _ in range(lines_n):
        kind = rng.choices(kinds, weights)[0]
        cid_n = rng.randrange(customers_n)
        cid = cids[cid_n]
        name = names[cid_n]
        iban = ibans.get(cid, "") if rng.random() < 0.7 else ""
        if kind == "noise":
            amount = rng.randrange(500, 300000)
            if rng.random() < 0.5:
                statement.append((-amount, rng.choice(["Bank fees", "Supplier payment",
                                                        "Salary", "Rent"]),
                                  _name(rng), "", None, None, kind))
            else:
                statement.append((amount, rng.choice(["Refund", "Interest", "Grant",
                                                       "Insurance claim"]),
                                  _name(rng), "", None, None, kind))
            continue
        try:
            c, inv = pick(cid)
        except LookupError:
            c, inv = pick()
            cid_n = cids.index(c)
            name, iban = names[cid_n], ibans.get(c, "") if rng.random() < 0.7 else ""
        open_ = inv["total"]
        if kind == "exact_ref":
            statement.append((open_, inv["ref"], name, iban, {inv["number"]: open_}, c, kind))
        elif kind == "ref_typo":
            statement.append((open_, f"Payment {_noisy_number(rng, inv['number'])}",
                              _typo(rng, name) if rng.random() < 0.5 else name, iban,
                              {inv["number"]: open_}, c, kind))
        elif kind == "no_ref":
            statement.append((open_, rng.choice(["Payment", "Thank you", "Invoice",
                                                 "Zahlung"]),
                              _typo(rng, name) if rng.random() < 0.4 else name, iban,
                              {inv["number"]: open_}, c, kind))
        elif kind == "combined":
            invs = [inv]
            for _ in range(rng.randrange(1, 8)):
                try:
                    invs.append(pick(c)[1])
                except LookupError:
                    break
            if len(invs) < 2:
                used.discard(inv["id"])
                continue
            text = (" ".join(i["number"] for i in invs) if rng.random() < 0.5
                    else "Invoices March")
            statement.append((sum(i["total"] for i in invs), text, name, iban,
                              {i["number"]: i["total"] for i in invs}, c, kind))
        elif kind == "short_over":
            delta = max(1, int(open_ * rng.uniform(0.001, 0.03)))
            amount = open_ - delta if rng.random() < 0.6 else open_ + delta
            statement.append((amount, inv["ref"], name, iban,
                              {inv["number"]: min(amount, open_)}, c, kind))
        elif kind == "discount":
            if "disc" not in inv:
                used.discard(inv["id"])
                continue
            amount = open_ - inv["disc"][0]
            statement.append((amount, inv["ref"], name, iban, {inv["number"]: amount}, c,
                              kind))
        elif kind == "partial":
            amount = inv["inst"][0] if len(inv["inst"]) > 1 else int(
                open_ * rng.choice([0.25, 0.5]))
            statement.append((amount, f"{inv['ref']} part", name, iban,
                              {inv["number"]: amount}, c, kind))
        elif kind == "third_party":
            payer = parent_names.setdefault(c, _name(rng) + " Holding")
            text = inv["ref"] if rng.random() < 0.5 else "On behalf of our subsidiary"
            statement.append((open_, text, payer, _iban(5_000_000 + cid_n),
                              {inv["number"]: open_}, c, kind))
    # the statement file (MT940), imported as the command does
    body = [":20:BENCH", f":25:{company.iban}", ":28C:1/1", ":60F:C250301EUR0,00"]
    total = 0
    for n, (amount, text, name, iban, _alloc, _c, _k) in enumerate(statement):
        day = (day0 + timedelta(days=n % 20)).strftime("%y%m%d")
        mark = "C" if amount > 0 else "D"
        total += amount
        whole, cents = divmod(abs(amount), 100)
        body.append(f":61:{day}{day[2:]}{mark}{whole},{cents:02d}NTRFREF{n:06d}//B{n:07d}")
        body.append(f":86:/NAME/{name[:60]}" + (f"/IBAN/{iban}" if iban else "")
                    + f"/REMI/{text}")
    whole, cents = divmod(abs(total), 100)
    body.append(f":62F:{'C' if total >= 0 else 'D'}250331EUR{whole},{cents:02d}")
    body.append("-")
    result = statement_import(actor=owner, company=company,
                              data="\r\n".join(body).encode())
    from salesledger.apps.banking.models import StatementLine

    line_ids = list(StatementLine.objects.filter(
        statement=result.statements[0].statement).order_by("pk").values_list("pk", flat=True))
    assert len(line_ids) == len(statement), (len(line_ids), len(statement))
    truth = {lid: (s[5], s[4]) for lid, s in zip(line_ids, statement, strict=True)}
    kinds_of = {lid: s[6] for lid, s in zip(line_ids, statement, strict=True)}
    return truth, kinds_of


def on_books(lines_n: int, seed: int) -> dict[str, Any]:
    """The statement of ``lines_n`` lines against the books of ``bench/books.py`` (a copy:
    this writes), made the way ``build`` makes one against its own: the books' customers
    get the generator's names and half of them an IBAN (set-up, as ``build`` gives them;
    the books name them ``Customer N`` and keep no IBAN), the company an IBAN and the
    write-off tolerance; any open invoice can be paid, at what it still owes (the books'
    invoices were paid in part on 2025-07-01). The statement is dated from 2026-01-05,
    after the books' last day."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from salesledger.apps.core.models import Company
    from salesledger.apps.core.services import company_profile_update
    from salesledger.apps.customers.models import BankAccount, Customer
    from salesledger.apps.invoicing.models import Instalment, Invoice
    from salesledger.apps.payments.adjustments.settings import settlement_settings_set

    rng = random.Random(seed)
    company = Company.objects.get(code="bench")
    owner = get_user_model().objects.get(username="bench-owner")
    company = company_profile_update(actor=owner, company=company,
                                     iban=_iban(9_000_000 + seed % 1000))
    settlement_settings_set(actor=owner, company=company,
                            writeoff_tolerance_amount=Decimal("5.00"),
                            writeoff_tolerance_percent=Decimal("2"))
    cids = list(Customer.objects.filter(company=company).order_by("code")
                .values_list("id", flat=True))
    names = [_name(rng) for _ in cids]
    with connection.cursor() as cursor:
        cursor.executemany(f'UPDATE "{Customer._meta.db_table}" SET "name" = %s '
                           'WHERE "id" = %s', list(zip(names, cids, strict=True)))
    ibans = {cid: _iban(seed % 1000 * 1_000_000 + n) for n, cid in enumerate(cids)
             if n % 2 == 0}
    BankAccount.objects.bulk_create([BankAccount(company=company, customer_id=cid, iban=iban)
                                     for cid, iban in ibans.items()], batch_size=5000)
    sql = (f'SELECT v."id", v."number", v."customer_id", v."payment_reference", '
           f'i."amount" - i."settled", i."discount_amount", i."discount_date" '
           f'FROM "{Instalment._meta.db_table}" i '
           f'JOIN "{Invoice._meta.db_table}" v ON v."id" = i."invoice_id" '
           f'WHERE i."company_id" = %s AND i."settled" < i."amount" AND v."kind" = %s '
           f'AND v."status" = %s ORDER BY v."id", i."seq"')
    open_by: dict[int, list[dict[str, Any]]] = {}
    by_id: dict[int, dict[str, Any]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [company.pk, "invoice", "posted"])
        for inv_id, number, cid, ref, owed, disc, disc_date in cursor.fetchall():
            inv = by_id.get(inv_id)
            if inv is None:
                inv = by_id[inv_id] = {"id": inv_id, "number": number, "ref": ref,
                                       "total": 0, "inst": []}
                open_by.setdefault(cid, []).append(inv)
            inv["total"] += owed
            inv["inst"].append(owed)
            if disc:
                inv["disc"] = (disc, disc_date)
    truth, kinds_of = make_statement(company, owner, rng, lines_n, cids, names, ibans,
                                     open_by, date(2026, 1, 5))
    return {"company": company, "owner": owner, "truth": truth, "kind": kinds_of,
            "customers": len(cids), "invoices": len(by_id)}


def _right(p: Any, truth: tuple[int | None, dict[str, int] | None]) -> bool:
    cid, alloc = truth
    return cid is not None and p.customer_id == cid and dict(p.allocations) == alloc


def calibrate(results: list[Any], truth: dict[int, Any], target: float,
              band: float = 0.05, floor: float = 0.5) -> float:
    """The threshold: walking down the confidences of the best proposals, the lowest at
    which the proposals within ``band`` above it are still right at least ``target`` of the
    time (the precision of what a lower threshold adds, not only of the whole, which a run
    of sure lines would hide); never below ``floor`` (the setting's bound)."""
    tops = sorted(((r.suggestions[0].confidence, _right(r.suggestions[0], truth[r.line.pk]))
                   for r in results if r.suggestions), key=lambda x: -x[0])
    best = 1.0
    for conf in sorted({c for c, _ in tops}, reverse=True):
        if conf < floor:
            break
        near = [ok for c, ok in tops if conf <= c <= conf + band]
        if sum(near) / len(near) < target:
            break
        best = conf
    return best


def _backend_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend so far; 0.0 on SQLite, whose
    work is the process's own."""
    return server_cpu_seconds() or 0.0


class Clock:
    """Wall seconds, this process's CPU seconds and the database server's CPU seconds
    between ``start`` and ``stop``, added up over several spans."""

    def __init__(self) -> None:
        self.wall = self.cpu = self.server = 0.0

    def start(self) -> None:
        self._at = (time.perf_counter(), time.process_time(), _backend_cpu())

    def stop(self) -> None:
        wall, cpu, server = self._at
        self.wall += time.perf_counter() - wall
        self.cpu += time.process_time() - cpu
        self.server += _backend_cpu() - server


def _books_key(size: str, seed: int, db: str) -> str:
    return f"match-{size}-{seed}-{db}"


def books_restore(books: Path | None, key: str, db: str) -> dict[str, Any] | None:
    """Put the books a previous run kept in ``books`` into the fresh database (before
    Django connects to it); return what is known of them, or None when none are kept. The
    candidates are still read from the database by the matcher: only the building is
    skipped."""
    if books is None or not (books / f"{key}.json").exists():
        return None
    if db == "sqlite":
        import shutil

        target = Path(os.environ["SALESLEDGER_HOME"]) / "var" / "salesledger.sqlite3"
        shutil.copyfile(books / f"{key}.sqlite3", target)
    else:
        import subprocess

        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "-d",
                        os.environ["SALESLEDGER_DATABASE_URL"], str(books / f"{key}.dump")],
                       check=True)
    meta: dict[str, Any] = json.loads((books / f"{key}.json").read_text())
    return meta


def books_keep(books: Path, key: str, db: str, meta: dict[str, Any]) -> None:
    """Keep the books just built in ``books`` for the next run of the same size and seed."""
    from django.db import connection

    books.mkdir(parents=True, exist_ok=True)
    if db == "sqlite":
        import sqlite3

        connection.ensure_connection()
        target = sqlite3.connect(books / f"{key}.sqlite3")
        with target:
            connection.connection.backup(target)
        target.close()
    else:
        import subprocess

        subprocess.run(["pg_dump", "-Fc", "-Z1", "-f", str(books / f"{key}.dump"),
                        os.environ["SALESLEDGER_DATABASE_URL"]], check=True)
    (books / f"{key}.json").write_text(json.dumps(meta))


def _meta(b: dict[str, Any]) -> dict[str, Any]:
    return {"company": b["company"].code, "owner": b["owner"].username,
            "truth": [[lid, cid, alloc] for lid, (cid, alloc) in b["truth"].items()],
            "kind": [[lid, k] for lid, k in b["kind"].items()],
            "customers": b["customers"], "invoices": b["invoices"]}


def _unmeta(m: dict[str, Any]) -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    from salesledger.apps.core.models import Company

    return {"company": Company.objects.get(code=m["company"]),
            "owner": get_user_model().objects.get(username=m["owner"]),
            "truth": {lid: (cid, alloc) for lid, cid, alloc in m["truth"]},
            "kind": dict((lid, k) for lid, k in m["kind"]),
            "customers": m["customers"], "invoices": m["invoices"]}


def measure(size: str, seed: int, db: str, books_dir: Path | None = None, *,
            on_shared_books: bool = False, threshold: float | None = None,
            decisions: Path | None = None, profile: Path | None = None,
            apply_only: bool = False, check: bool = True, match_only: bool = False,
            calibrate_only: bool = False, kept_reports: bool = False,
            misses: Path | None = None) -> dict[str, Any]:
    """One run: see the module's docstring. ``on_shared_books``: the database Django points
    at holds a copy of ``bench/books.py``'s books, and the statement is made against them
    (``on_books``); ``threshold``: the auto-apply threshold, not calibrated again (the
    calibration of a seed always gives the same); ``decisions``: a file where each line's
    decision and proposals are written (``decisions_compare`` checks two runs' are the
    same); ``profile``: a folder where the matching's and the applying's cProfile
    statistics are written (``match.prof``; ``apply.prof``, the writing alone, in CPU
    seconds: the timings then include the profiler's cost); ``apply_only``: the dry run of
    every line is not timed apart (its figures are left out; the run that applies matches
    first, as always, and only its writing is timed); ``check``: run every ledger
    invariant after the run; ``match_only``: no run that applies: the figures are those of
    the dry run at ``threshold`` (a line counts as applied when its best proposal reaches
    it, as ``bank_match --auto-apply`` would apply it; the applying's figures are left
    out); ``calibrate_only``: on shared books, the statement of ``seed`` made and matched
    (dry run) only to calibrate the threshold on it (``{"threshold": ...}``);
    ``kept_reports``: the aging summary and the worklist ranking of the statement's last
    day are built first, as the worker keeps them each night, so that the applying keeps
    them exact too (their handlers' work is timed with it); ``misses``: a file where each
    reviewed matchable line whose right answer is not among its three suggestions is
    written with what it carries (``review_misses``)."""
    key = _books_key(size, seed, db)
    kept = None if on_shared_books else books_restore(books_dir, key, db)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from salesledger.apps.banking.matching import bank_match
    from salesledger.apps.core.invariants import check_company

    call_command("migrate", verbosity=0)
    lines_n, invoices_n = SIZES[size]
    t0 = time.perf_counter()
    calib: dict[str, Any] | None = None
    if on_shared_books:
        # the threshold is calibrated on the same books with another seed's names and
        # statement (``calibrate_on_books``, in a process of its own): a name or an amount
        # that is unique among a small ledger's customers is not among 100,000
        books = on_books(lines_n, seed)
    elif kept is not None:
        calib, books = _unmeta(kept["calib"]), _unmeta(kept["bench"])
    else:
        calib = build("calib", *SIZES["small"], seed=seed + 1)
        books = build("bench", lines_n, invoices_n, seed=seed)
        if books_dir is not None:
            books_keep(books_dir, key, db, {"calib": _meta(calib), "bench": _meta(books)})
    if kept_reports:
        _keep_reports(books["company"])
    built = round(time.perf_counter() - t0, 1)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    if calibrate_only:
        dry = bank_match(actor=books["owner"], company=books["company"], dry_run=True)
        return {"threshold": calibrate(dry, books["truth"], 0.995), "seed": seed,
                "lines": len(books["truth"])}
    if threshold is None:
        assert calib is not None
        dry = bank_match(actor=calib["owner"], company=calib["company"], dry_run=True)
        threshold = calibrate(dry, calib["truth"], 0.995)
    matching_clock = Clock()
    proposed: list[Any] = []
    if not apply_only:
        profiler = _profiler(profile, "match")
        matching_clock.start()
        with profiler:
            proposed = bank_match(actor=books["owner"], company=books["company"],
                                  dry_run=True)
        matching_clock.stop()
    # the time spent writing, apart from the matching done again by the same call
    from salesledger.apps.banking import matching

    writing = Clock()
    real = matching._apply_sure
    # the writing alone profiled (apply.prof), the matching of the same call not; in CPU
    # seconds of this process (on a shared machine wall time is mostly waiting for a core)
    import cProfile

    writing_profile = cProfile.Profile(time.process_time) if profile is not None else None

    def timed(*a: Any, **kw: Any) -> Any:
        writing.start()
        if writing_profile is not None:
            writing_profile.enable()
        try:
            return real(*a, **kw)
        finally:
            if writing_profile is not None:
                writing_profile.disable()
            writing.stop()

    matching._apply_sure = timed  # type: ignore[assignment]
    start = time.perf_counter()
    if match_only:
        done = [_as_applied(r, threshold) for r in proposed]
    else:
        done = bank_match(actor=books["owner"], company=books["company"], auto_apply=True,
                          threshold=threshold)
    run_seconds = time.perf_counter() - start
    matching._apply_sure = real  # type: ignore[assignment]
    if writing_profile is not None and profile is not None:
        profile.mkdir(parents=True, exist_ok=True)
        writing_profile.dump_stats(profile / "apply.prof")
    if decisions is not None:
        decisions_write(decisions, proposed, done)
    truth, kinds = books["truth"], books["kind"]
    applied = [r for r in done if r.decision == "applied"]
    right = sum(_right(r.proposal, truth[r.line.pk]) for r in applied)
    matchable = [lid for lid, (cid, _) in truth.items() if cid is not None]
    right_matchable = sum(1 for r in applied if _right(r.proposal, truth[r.line.pk]))
    review = [r for r in done if r.decision != "applied" and truth[r.line.pk][0] is not None]
    top3 = sum(1 for r in review if any(_right(s, truth[r.line.pk]) for s in r.suggestions[:3]))
    noise = [r for r in done if truth[r.line.pk][0] is None]
    noise_left = sum(1 for r in noise if r.decision != "applied")
    missed = [r for r in review
              if not any(_right(s, truth[r.line.pk]) for s in r.suggestions[:3])]
    misses_by_class = review_misses(missed, done, truth, books["kind"], misses,
                                    books["company"])
    by_kind: dict[str, dict[str, int]] = {}
    for r in done:
        k = by_kind.setdefault(kinds[r.line.pk], {"lines": 0, "applied": 0, "right": 0})
        k["lines"] += 1
        if r.decision == "applied":
            k["applied"] += 1
            k["right"] += _right(r.proposal, truth[r.line.pk])
    result = {
        "benchmark": "match", "size": size, "db": db, "seed": seed, "lines": len(truth),
        "open_invoices": invoices_n, "customers": books["customers"],
        "threshold": round(threshold, 4),
        "precision": round(right / len(applied), 4) if applied else None,
        "recall": round(right_matchable / len(matchable), 4) if matchable else None,
        "top3_recall_review": round(top3 / len(review), 4) if review else None,
        "noise_unapplied": round(noise_left / len(noise), 4) if noise else None,
        "applied": len(applied), "sent_to_review": len(review),
        "review_misses": misses_by_class,
        # wall seconds, this process's CPU seconds (with SQLite the database's work too)
        # and, on PostgreSQL, the server process's CPU seconds: what a busy shared
        # machine's wall time hides
        **({} if apply_only else {
            "match_seconds": round(matching_clock.wall, 2),
            "lines_per_second": round(len(proposed) / matching_clock.wall, 1),
            "match_cpu_seconds": round(matching_clock.cpu, 2),
            "match_server_cpu_seconds": round(matching_clock.server, 2),
            "lines_per_cpu_second": round(
                len(proposed) / (matching_clock.cpu + matching_clock.server), 1)}),
        **({"match_only": True} if match_only else {
            "match_and_apply_seconds": round(run_seconds, 2),
            "apply_seconds": round(writing.wall, 2),
            "receipts_per_second": round(len(applied) / writing.wall, 1) if applied else None,
            "apply_cpu_seconds": round(writing.cpu, 2),
            "apply_server_cpu_seconds": round(writing.server, 2),
            "receipts_per_cpu_second": round(len(applied) / (writing.cpu + writing.server), 1)
            if applied else None}),
        "books": "shared" if on_shared_books else "kept" if kept is not None else "built",
        "kept_reports": kept_reports,
        "by_kind": by_kind, "build_seconds": built,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M"),
        "load_average": [round(x, 1) for x in os.getloadavg()]}
    # the figures before the invariants, which take longer than the run on a million open
    # items and a busy machine
    print(json.dumps({k: v for k, v in result.items() if k != "by_kind"}), file=sys.stderr,
          flush=True)
    if check:
        problems = [str(p) for p in check_company(books["company"])]
        assert not problems, problems[:5]
        result["invariants"] = "kept"
    else:
        result["invariants"] = "not checked"
    return result


def _carries(r: Any, truth: tuple[int | None, dict[str, int] | None],
             statement: dict[str, list[tuple[int, int | None]]],
             numbers: dict[str, tuple[str, int]], customers: dict[int, tuple[str, int | None]],
             own_ibans: dict[str, int], owed: dict[int, int]) -> dict[str, Any]:
    """What a reviewed line carries that could name its right answer (``review_misses``):
    the right invoices' RF reference or number in its text (as written, or a fragment: the
    number's last five digits), its IBAN (the customer's own, or on another line of the
    statement paying the same customer), the customer's name (its score), a parent
    company, and how many open items of the ledger owe its amount exactly."""
    from salesledger.domain.cash_matching import name_key, name_score, normalize

    cid, alloc = truth
    assert cid is not None and alloc is not None
    line = r.line
    text = normalize(" ".join((line.creditor_reference, line.text, line.end_to_end_id)))
    refs = [numbers.get(n, ("", 0))[0] for n in alloc]
    written = [n for n in alloc if normalize(n) in text or (
        numbers.get(n, ("", 0))[0] and normalize(numbers[n][0]) in text)]
    fragment = [n for n in alloc if n not in written and normalize(n)[-5:] in text]
    iban = normalize(line.counterparty_iban)
    name, parent = customers.get(cid, ("", None))
    others = [lid for lid, c in statement.get(iban, ()) if lid != line.pk] if iban else []
    amount = line.amount
    whole = sum(alloc.values()) == amount
    return {
        "line": line.pk, "amount": amount, "name": line.counterparty_name,
        "iban": line.counterparty_iban, "text": line.text,
        "creditor_reference": line.creditor_reference, "customer": cid,
        "customer_name": name, "allocations": alloc, "references": refs,
        "number_written": written, "number_fragment": fragment,
        "own_iban": bool(iban) and own_ibans.get(iban) == cid,
        "iban_on_other_lines_of_customer": [
            lid for lid in others if dict(statement[iban]).get(lid) == cid],
        "name_score": round(name_score(name_key(line.counterparty_name), name_key(name)), 1)
        if line.counterparty_name else None,
        "parent": parent, "invoices": len(alloc), "pays_in_full": whole,
        "open_items_owing_the_amount": owed.get(amount, 0) if len(alloc) == 1 else None,
        "customer_suggested": any(s.customer_id == cid for s in r.suggestions[:3]),
        "suggestions": [[s.customer_id, [list(a) for a in s.allocations], s.confidence,
                         list(s.evidence)] for s in r.suggestions[:3]],
        "decision": r.decision}


def _miss_class(m: dict[str, Any]) -> str:
    """The first of what a missed line carries, in the order of the pipeline's evidence."""
    if m["number_written"]:
        return "reference or invoice number in the text"
    if m["number_fragment"]:
        return "a fragment of the invoice number in the text"
    if m["own_iban"]:
        return "the customer's own IBAN"
    if m["iban_on_other_lines_of_customer"]:
        return "an IBAN seen on another line paying the customer"
    if m["parent"] is not None:
        return "a parent company's customer"
    if m["name_score"] is not None and m["name_score"] >= 85:
        return "the customer's name (85 % or more)"
    if m["invoices"] > 1:
        return "the amount only: a sum of the customer's open items"
    n = m["open_items_owing_the_amount"] or 0
    many = next(label for most, label in ((0, "no"), (1, "1"), (3, "2-3"), (10, "4-10"),
                                          (1 << 62, "over 10")) if n <= most)
    return f"the amount only: {many} open item(s) owe it"


def review_misses(missed: list[Any], done: list[Any], truth: dict[int, Any],
                  kinds: dict[int, str], path: Path | None, company: Any
                  ) -> dict[str, dict[str, int]]:
    """Classify each reviewed matchable line whose right answer is not among its three
    suggestions by what it carries (``_carries``, ``_miss_class``): class -> kind -> lines;
    with ``path``, each such line written there (one JSON object a line)."""
    if not missed:
        return {}
    from salesledger.apps.banking.matching import _owed_near, owed_in_parts
    from salesledger.apps.customers.models import BankAccount, Customer
    from salesledger.apps.invoicing.models import Invoice
    from salesledger.domain.cash_matching import normalize

    statement: dict[str, list[tuple[int, int | None]]] = {}
    for r in done:
        iban = normalize(r.line.counterparty_iban)
        if iban:
            statement.setdefault(iban, []).append((r.line.pk, truth[r.line.pk][0]))
    wanted = {n for r in missed for n in truth[r.line.pk][1]}
    numbers = {n: (ref, pk) for n, ref, pk in Invoice.objects.filter(
        company=company, number__in=sorted(wanted)).values_list(
        "number", "payment_reference", "id")}
    cids = sorted({truth[r.line.pk][0] for r in missed})
    customers = {pk: (name, parent) for pk, name, parent in Customer.objects.filter(
        pk__in=cids).values_list("id", "name", "parent_id")}
    own = {normalize(i): c for i, c in BankAccount.objects.filter(
        company=company, customer_id__in=cids).values_list("iban", "customer_id")}
    # what open items owe: an invoice's total, an open instalment, and (paid in part) its
    # open instalments together, as ``wide_candidates`` finds them
    amounts = sorted({r.line.amount for r in missed})
    parts = owed_in_parts(company)
    seen: dict[int, set[int]] = {a: set(parts.get(a, ())) for a in amounts}
    for k in range(0, len(amounts), 100):
        for amount, pk in _owed_near(company, [(a, a) for a in amounts[k:k + 100]]):
            if amount in seen:
                seen[amount].add(pk)
    owed = {a: len(ids) for a, ids in seen.items()}
    out: dict[str, dict[str, int]] = {}
    rows = []
    for r in missed:
        m = _carries(r, truth[r.line.pk], statement, numbers, customers, own, owed)
        m["kind"], m["class"] = kinds[r.line.pk], _miss_class(m)
        rows.append(m)
        by = out.setdefault(m["class"], {})
        by[m["kind"]] = by.get(m["kind"], 0) + 1
    if path is not None:
        path.write_text("".join(json.dumps(m) + "\n" for m in rows))
    return out


def _as_applied(r: Any, threshold: float) -> Any:
    """A line of the dry run as ``bank_match --auto-apply`` at ``threshold`` decides it:
    applied when its best proposal reaches the threshold (the others' suggestions are the
    dry run's, which ``widen`` made for every line below the default threshold, so for
    those below ``threshold`` too)."""
    from dataclasses import replace

    top = r.suggestions[0] if r.decision != "applied" and r.suggestions else r.proposal
    if r.decision in ("other", "applied") or top is None or top.confidence < threshold:
        return r
    return replace(r, decision="applied", proposal=top, suggestions=r.suggestions[1:])


def calibrate_on_books(size: str, source: str, seed: int, database_url: str | None) -> float:
    """The threshold calibrated on a copy of the shared books ``source`` with the names
    and statement of ``seed`` (another seed than the measured one's), in a process of its
    own (it needs its own copy of the books)."""
    import subprocess

    args = [sys.executable, str(Path(__file__).resolve()), size, "--shared-books", source,
            "--seed", str(seed), "--calibrate-only"]
    if database_url:
        args += ["--database-url", database_url]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    threshold: float = json.loads(out.strip().splitlines()[-1])["threshold"]
    return threshold


def _keep_reports(company: Any) -> None:
    """The aging summary and the worklist ranking of the statement's last day, as the worker
    builds them each night (``--kept-reports``)."""
    from django.db.models import Max

    from salesledger.apps.banking.models import StatementLine
    from salesledger.apps.collections.ranking import worklist_rank_build
    from salesledger.apps.reporting.aging_summary import summary_build

    last = StatementLine.objects.filter(company=company).aggregate(d=Max("booking_date"))["d"]
    summary_build(company, day=last)
    worklist_rank_build(company, day=last)


@contextlib.contextmanager
def _profiler(folder: Path | None, name: str) -> Iterator[None]:
    """cProfile what runs inside, its statistics written to ``folder/name.prof``; nothing
    without a folder. Timed in the process's CPU seconds, not the clock's: on the shared,
    loaded machine a wall-clock profile counts the time spent waiting for a core (and, the
    first time, for the disk) in whatever function was running."""
    if folder is None:
        yield
        return
    import cProfile

    folder.mkdir(parents=True, exist_ok=True)
    with cProfile.Profile(time.process_time) as prof:
        yield
    prof.dump_stats(folder / f"{name}.prof")


def _decision(r: Any) -> list[Any]:
    def proposal(p: Any) -> list[Any]:
        return [p.customer_id, [list(a) for a in p.allocations], round(p.confidence, 9),
                list(p.evidence)]

    return [r.line.pk, r.decision, proposal(r.proposal) if r.proposal else None,
            [proposal(p) for p in r.suggestions]]


def decisions_write(path: Path, proposed: list[Any], applied: list[Any]) -> None:
    """Each line's decision, customer, allocations, confidence, evidence and suggestions,
    in the dry run (``proposed``) and in the run that applies: what two runs of the same
    books and seed must agree on line by line, whatever was made faster between them."""
    path.write_text(json.dumps({"proposed": [_decision(r) for r in proposed],
                                "applied": [_decision(r) for r in applied]}) + "\n")


def decisions_compare(before: Path, after: Path) -> list[str]:
    """The lines whose decisions differ between two files of ``decisions_write`` (none:
    the same proposals, line by line)."""
    a, b = json.loads(before.read_text()), json.loads(after.read_text())
    out = []
    for run in ("proposed", "applied"):
        if len(a[run]) != len(b[run]):
            out.append(f"{run}: {len(a[run])} lines before, {len(b[run])} after")
        for x, y in zip(a[run], b[run], strict=False):
            if x != y:
                out.append(f"{run}: line {x[0]}: {x} before, {y} after")
    return out


@contextlib.contextmanager
def shared_books(source: str, database_url: str | None) -> Iterator[str]:
    """A copy of the books ``bench/books.py`` made (read-only, shared), for this run to
    write: SQLite, ``source`` is the books' folder, copied to a temporary one; PostgreSQL,
    ``source`` is the books' database, copied as a template (nobody may be connected to
    it). The copy is removed on exit. Yields ``"sqlite"`` or ``"postgresql"``."""
    import subprocess

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesledger.config.settings")
    os.environ["SALESLEDGER_SECRET_KEY"] = "bench-not-secret"
    os.environ.pop("SALESLEDGER_DATABASE_URL", None)
    if database_url is None:
        if not (Path(source) / "books.json").exists():
            raise SystemExit(f"{source} holds no finished books (no books.json)")
        with tempfile.TemporaryDirectory(prefix="salesledger-match-") as tmp:
            home = Path(tmp) / "home"
            subprocess.run(["cp", "-a", source, str(home)], check=True)
            os.environ["SALESLEDGER_HOME"] = str(home)
            yield "sqlite"
        return
    import psycopg

    parts = urlsplit(database_url)
    name = f"salesledger_match_{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="salesledger-match-") as tmp:
        os.environ["SALESLEDGER_HOME"] = tmp
        (Path(tmp) / "var").mkdir()
        admin = psycopg.connect(database_url, autocommit=True)
        try:
            for attempt in range(120):  # the template may be read by someone: wait 10 min
                try:
                    admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
                    break
                except psycopg.errors.ObjectInUse:
                    if attempt == 119:
                        raise
                    time.sleep(5)
            os.environ["SALESLEDGER_DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
            yield "postgresql"
        finally:
            from django.db import connections

            connections.close_all()
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size", choices=SIZES, nargs="?", default="small")
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--database-url", help="PostgreSQL server to run on (a new database "
                                               "is created next to the one named)")
    parser.add_argument("--results", default=str(HERE / "results"))
    parser.add_argument("--books", type=Path, help="a directory where the books built are "
                        "kept, and reused by the next run of the same size, seed and database "
                        "(restored into its fresh database; the matcher still reads them "
                        "from it)")
    parser.add_argument("--shared-books", metavar="BOOKS", help="measure against a copy of "
                        "the books of bench/books.py instead of books of its own: their "
                        "folder (SQLite) or, with --database-url, their database's name")
    parser.add_argument("--threshold", type=float, help="the auto-apply threshold, instead "
                        "of calibrating it again")
    parser.add_argument("--decisions", type=Path, help="write each line's decisions there")
    parser.add_argument("--compare", type=Path, help="a decisions file of an earlier run of "
                        "the same books and seed: fail (exit 1) if any line's differs")
    parser.add_argument("--profile", type=Path, help="write the matching's and the "
                        "applying's cProfile statistics into this folder")
    parser.add_argument("--apply-only", action="store_true", help="time the applying alone: "
                        "no separate dry run of every line (the run that applies still "
                        "matches first; only its writing is timed)")
    parser.add_argument("--no-check", action="store_true", help="skip the ledger invariants "
                        "after the run (at the issue's size they take longer than the run)")
    parser.add_argument("--label", default="", help="added to the result file's name")
    parser.add_argument("--match-only", action="store_true", help="no run that applies: "
                        "precision and recall of the dry run at the threshold (what "
                        "--auto-apply would apply); no applying figures")
    parser.add_argument("--calibrate-only", action="store_true", help="with --shared-books: "
                        "only calibrate the threshold on this seed's statement (a dry run), "
                        "print it")
    parser.add_argument("--misses", type=Path, help="write each reviewed matchable line "
                        "whose right answer is not among its three suggestions there, with "
                        "what it carries (one JSON object a line); the classes are counted "
                        "in the result (review_misses)")
    parser.add_argument("--kept-reports", action="store_true", help="build the aging summary "
                        "and the worklist ranking of the statement's last day first, as the "
                        "worker keeps them: the applying then keeps them exact too")
    args = parser.parse_args()
    if args.compare and args.apply_only:
        parser.error("--compare needs the dry run: not with --apply-only")
    if args.compare and not args.decisions:
        parser.error("--compare needs --decisions")
    # a run stopped (SIGTERM) still removes its copy of the books
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.calibrate_only and not args.shared_books:
        parser.error("--calibrate-only needs --shared-books")
    if args.match_only and args.apply_only:
        parser.error("--match-only and --apply-only exclude each other")
    calibration_seed = None
    if args.shared_books and args.threshold is None and not args.calibrate_only:
        calibration_seed = args.seed + 1
        args.threshold = calibrate_on_books(args.size, args.shared_books, calibration_seed,
                                            args.database_url)
    database = (shared_books(args.shared_books, args.database_url) if args.shared_books
                else bench_database(args.database_url))
    with database as opened:
        db = opened if isinstance(opened, str) else opened[1]
        result = measure(args.size, args.seed, db, args.books,
                         on_shared_books=bool(args.shared_books), threshold=args.threshold,
                         decisions=args.decisions, profile=args.profile,
                         apply_only=args.apply_only, check=not args.no_check,
                         match_only=args.match_only, calibrate_only=args.calibrate_only,
                         kept_reports=args.kept_reports, misses=args.misses)
    if args.calibrate_only:
        print(json.dumps(result))
        return
    if calibration_seed is not None:
        result["calibration_seed"] = calibration_seed
    if args.shared_books:
        result["shared_books"] = Path(args.shared_books).name
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    label = f"-{args.label}" if args.label else ""
    if args.label:
        result["label"] = args.label
    (out / f"match-{args.size}-{result['db']}-{stamp}{label}.json").write_text(
        json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    if args.compare:
        differ = decisions_compare(args.compare, args.decisions)
        for d in differ[:20]:
            print(d, file=sys.stderr)
        if differ:
            raise SystemExit(f"{len(differ)} decision(s) differ from {args.compare}")
        print(f"every line's decisions are those of {args.compare}", file=sys.stderr)


if __name__ == "__main__":
    main()
