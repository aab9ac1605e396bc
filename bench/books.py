"""Seeded books at the issue's scale, made in minutes: the product's own books, copied.

    .venv/bin/python bench/books.py issue --books /tmp/books            # SQLite, cached there
    .venv/bin/python bench/books.py issue --database-url postgres://postgres@127.0.0.1:5432/postgres

Making a million open items through the bulk services takes most of an hour (the posting
checks, numbering, the audit chain and the allocation plans, per document); a benchmark of
the reports needs them, and with ten million rows of history, in minutes. So the services
make one *block* of customers (``block`` of them, 1,000 by default) with everything the
ledger holds: the customers (``import_file``), their invoices (``documents_post_bulk``),
receipts (``receipts_record_bulk``) and allocations (``auto_allocate_all``, once a month);
then the block is copied ``customers / block - 1`` times, table by table, in this process,
with ``insert_rows`` (multi-row ``INSERT`` on SQLite, ``COPY`` on PostgreSQL). Each copy is
the block's rows with new ids (the block's id plus the copy's number times the table's
largest id in the block, foreign keys alike), new codes and numbers in the same series
(customer ``n`` becomes ``n + copy × block``, document ``seq`` becomes ``seq + copy × the
series' count``, so numbering stays gapless), the creditor references, snapshots and their
hashes computed again, and the block's audit events appended to the hash chain again with
what they name renamed; and every amount of copy ``k`` multiplied by ``k + 1`` (``scale``:
money columns, snapshots, the money audit events name; ``_MONEY``), so that no amount is
owed a hundred times over. ``check_company`` (every ledger invariant) passes on the result, and
``bench/tests/test_books.py`` builds small books both ways and compares their reports: the
copied books are the books the services write.

What a customer holds depends only on its number modulo ``period`` (the block size, unless
given), so the services alone make the same books when asked for every customer at once.

Per customer (seeded by ``seed`` and the customer's number modulo ``period``):

* history: closed invoices (NET 30, one instalment) issued from 2023-01-02 to 2024-11-30,
  each paid by a receipt of exactly its total 0 to 60 days after it falls due (never after
  2024-12-31), allocated oldest first at each month end: about ``history_lines`` journal
  lines in all (an invoice writes 3 lines, a receipt 2, an allocation 2);
* the open year 2025: three invoices due in thirds (30/60/90 days) and two NET 30 invoices
  (11 instalments), one receipt on 2025-07-01 of about one instalment, allocated oldest
  first on 2025-07-15; one customer in ten also has an unapplied receipt of 2025-11-15.

Every price is a multiple of 5 cents, so that the tax and the thirds are exact and a
multiplied copy is what the services would write for the multiplied amounts.

At the ``issue`` size (100,000 customers) that is about 1,000,000 open instalments on
2025-12-31 and 10,000,000 journal lines of closed history (``issue-h1``: 1,000,000).

Cache: the built books are kept, by size and seed, so that a second run starts at once. On
SQLite a folder ``BOOKS/KEY/`` (a ``SALESLEDGER_HOME`` whose database is
``var/salesledger.sqlite3``); on PostgreSQL a database ``salesledger_books_KEY`` beside the
one named (made as ``..._building`` and renamed when complete). ``books_database`` points the
environment at them; a benchmark only reads them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from salesledger.apps.core.fields import DecimalText
from salesledger.domain.numbering import format_number
from salesledger.domain.references import creditor_reference

HERE = Path(__file__).resolve().parent
COMPANY = "bench"
OWNER = "bench-owner"
VERSION = 2  # bump when what a customer holds changes: the cache key carries it

# size -> (customers, journal lines of closed history)
# ``medium-h01`` is ``medium`` with a tenth of its closed history: the pair ``medium-h01`` /
# ``medium`` is ``issue-h1`` / ``issue`` at a tenth of the customers (the same history per
# customer, 10 and 100 journal lines), for the "1.3 times slower with ten times the history"
# figure where ``issue`` takes too long to make (bench/README.md).
SIZES = {"tiny": (40, 4_000), "small": (1_000, 100_000), "medium": (10_000, 1_000_000),
         "medium-h01": (10_000, 100_000),
         "issue-h1": (100_000, 1_000_000), "issue": (100_000, 10_000_000)}

HISTORY_FROM = date(2023, 1, 2)
HISTORY_LAST_ISSUE = date(2024, 11, 30)
HISTORY_END = date(2024, 12, 31)
OPEN_FROM = date(2025, 1, 2)
RECEIVED_ON = date(2025, 7, 1)
ALLOCATE_ON = date(2025, 7, 15)
UNAPPLIED_ON = date(2025, 11, 15)
LINES_PER_CLOSED = 7  # invoice 3 + receipt 2 + allocation 2


def books_key(size: str, seed: int, block: int) -> str:
    return f"{size}-s{seed}-b{block}-v{VERSION}"


# ---------------------------------------------------------------------------- the block
def _plan(n: int, period: int, seed: int, closed_per_customer: float) -> dict[str, Any]:
    """What customer ``n`` holds: a function of ``n % period`` and the seed, every amount
    times ``scale(n, period)``. Prices are whole multiples of 5 cents, so that the tax at
    20 % is exact and a total of 6/5 of it splits into exact thirds: the books of any factor
    are those of factor 1 with every amount multiplied, which is what a copy writes."""
    rng = random.Random(seed * 1_000_003 + n % period)
    factor = scale(n, period)
    closed = int(closed_per_customer) + (rng.random() < closed_per_customer % 1)
    span = (HISTORY_LAST_ISSUE - HISTORY_FROM).days
    history = []
    for _ in range(closed):
        issued = HISTORY_FROM + timedelta(days=rng.randrange(span + 1))
        paid = min(issued + timedelta(days=30 + rng.randrange(61)), HISTORY_END)
        history.append((issued, _price(rng, factor), paid))
    history.sort()
    current = [(OPEN_FROM + timedelta(days=rng.randrange(350)), _price(rng, factor), thirds)
               for thirds in (True, True, True, False, False)]
    return {"history": history, "open": current,
            "receipt": rng.randrange(5000, 25000) * factor,
            "unapplied": rng.randrange(1000, 20000) * factor if n % period % 10 == 3 else 0}


def scale(n: int, period: int) -> int:
    """The factor of every amount of customer ``n``: that of its copy of the block (the
    block itself 1, copy ``k`` ``k + 1``), so that no amount has a twin in every copy."""
    return n // period + 1


def _price(rng: random.Random, factor: int) -> Decimal:
    """A unit price from 30.00 to 599.95, a multiple of 5 cents, times ``factor``."""
    return Decimal(rng.randrange(600, 12000) * 5 * factor).scaleb(-2)


def make_block(customers: int, *, period: int, seed: int, history_lines: int,
               total_customers: int | None = None, company_code: str = COMPANY,
               migrate: bool = True) -> dict[str, Any]:
    """Make the books of customers ``0 .. customers-1`` of a new company ``company_code``
    through the product's services, in the database Django is set up on (migrated first
    unless ``migrate`` is false). ``total_customers`` (default ``customers``) sets how much
    history each customer gets: ``history_lines`` journal lines over all of them."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from salesledger.apps.core.services import company_create
    from salesledger.apps.customers.models import Customer, PaymentTerms
    from salesledger.apps.interchange.csvio import import_file
    from salesledger.apps.invoicing.posting.check import BulkDoc
    from salesledger.apps.invoicing.services import documents_post_bulk
    from salesledger.apps.payments.autoallocate import auto_allocate_all
    from salesledger.apps.payments.bulk import BulkReceipt, receipts_record_bulk
    from salesledger.domain.invoicing import LineInput

    if migrate:
        call_command("migrate", verbosity=0)
    owner, _ = get_user_model().objects.get_or_create(username=OWNER)
    company = company_create(actor=owner, code=company_code, name="Benchmark Ltd",
                             owner=owner)
    closed_per = history_lines / LINES_PER_CLOSED / (total_customers or customers)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "customers.csv"
        with path.open("w", encoding="utf-8") as fh:
            fh.write("code,name,country,billing_line1,billing_postal_code,billing_city\n")
            for n in range(customers):
                fh.write(f"B{n:06d},Customer {n},FR,{n} rue du Port,75001,Paris\n")
        import_file(kind="customers", path=path, company=company, actor=owner)
    codes = dict(Customer.objects.filter(company=company).values_list("code", "id"))
    thirds = PaymentTerms.objects.get(company=company, code="30-60-90").pk
    net30 = PaymentTerms.objects.get(company=company, code="NET30").pk
    docs: list[BulkDoc] = []
    receipts: list[BulkReceipt] = []
    for n in range(customers):
        plan, cid = _plan(n, period, seed, closed_per), codes[f"B{n:06d}"]
        for issued, price, paid in plan["history"]:
            doc = BulkDoc(customer_id=cid, kind="invoice", currency="EUR", terms_id=net30,
                          issue_date=issued,
                          lines=[LineInput("Goods", Decimal(1), price, Decimal(20))])
            docs.append(doc)
            receipts.append(BulkReceipt(customer_id=cid, date=paid, currency="EUR",
                                        amount=_total_cents(price)))
        for issued, price, split in plan["open"]:
            docs.append(BulkDoc(customer_id=cid, kind="invoice", currency="EUR",
                                terms_id=thirds if split else net30, issue_date=issued,
                                lines=[LineInput("Goods", Decimal(1), price, Decimal(20))]))
        receipts.append(BulkReceipt(customer_id=cid, date=RECEIVED_ON, currency="EUR",
                                    amount=plan["receipt"]))
        if plan["unapplied"]:
            receipts.append(BulkReceipt(customer_id=cid, date=UNAPPLIED_ON, currency="EUR",
                                        amount=plan["unapplied"]))
    for doc_batch in _chunks(docs, 20_000):
        documents_post_bulk(actor=owner, company=company, docs=doc_batch)
    for receipt_batch in _chunks(receipts, 20_000):
        receipts_record_bulk(actor=owner, company=company, receipts=receipt_batch)
    day = date(2023, 1, 31)
    while day <= HISTORY_END:
        auto_allocate_all(actor=owner, company=company, day=day)
        day = (day.replace(day=1) + timedelta(days=62)).replace(day=1) - timedelta(days=1)
    auto_allocate_all(actor=owner, company=company, day=ALLOCATE_ON)
    return {"customers": customers, "documents": len(docs), "receipts": len(receipts)}


def _total_cents(price: Decimal) -> int:
    """The total of a one-line invoice of ``price`` at 20 % VAT, in cents (tax rounded half
    up, as posting rounds it): what the receipt that pays it brings."""
    net = int(price * 100)
    return net + int((Decimal(net) * Decimal("0.2")).quantize(Decimal(1), ROUND_HALF_UP))


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


# ---------------------------------------------------------------------------- the copies
_NUMBER = re.compile(r"\b(INV|RCT|CN)(\d{4})-(\d+)\b")
_REFERENCE = re.compile(r"RF\d\d([A-Z]+)(\d{4})(\d+)")
# What names a customer or a document, in one pattern: a number, a code, a name, a street.
_NAMES = re.compile(r"\b(?:(INV|RCT|CN)(\d{4})-(\d+)|B(\d{6})|Customer (\d+))\b"
                    r"|^(\d+) rue du Port$")
_DIGIT = re.compile(r"\d")
# The text columns of the copied tables that name a customer or a document.
_TEXT_COLUMNS = {"code", "name", "line1", "number", "payment_reference", "memo"}


# Money, per copied table: ``int`` columns in minor units, ``text`` decimal text (a unit
# price), ``json`` an object of currency -> minor units; each multiplied by the copy's factor.
_MONEY = {
    "customers.Customer": {"credit_limit": "int"},
    "invoicing.Invoice": {"net": "int", "tax": "int", "total": "int", "base_total": "int",
                          "allocated": "int"},
    "invoicing.InvoiceLine": {"net": "int", "tax": "int", "unit_price": "text"},
    "invoicing.Instalment": {"amount": "int", "base_amount": "int", "settled": "int",
                             "discount_amount": "int"},
    "payments.Receipt": {"amount": "int", "base_amount": "int", "allocated": "int"},
    "payments.Allocation": {"amount": "int", "source_amount": "int", "base_unapplied": "int",
                            "base_receivable": "int"},
    "runs.AllocationRun": {"totals": "json"},
    "ledger.JournalLine": {"amount_currency": "int", "amount": "int"},
}
# Numbers that are not money (counts, sequences, rates, quantities): kept. A numeric or JSON
# column in neither list stops the copy, so that a new one is not copied unscaled unseen.
_NOT_MONEY = {"seq", "fiscal_year", "source_id", "rows", "position", "quantity", "tax_rate",
              "discount_percent", "rate", "fx_rate", "chunk_customers", "last_customer_id",
              "customers", "receipts", "allocations", "snapshot"}
# Money in the audit events' data: major units as text under these keys, minor units in
# an allocation run's ``totals``.
_AUDIT_MONEY = {"total", "amount"}


def _times(value: Any, factor: int) -> Any:
    """``value`` (minor units, or a decimal's text or value) multiplied by ``factor``,
    exactly, keeping its decimals."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value * factor
    if isinstance(value, str):
        return str(Decimal(value) * factor)
    return Decimal(value) * factor


def _scaled_snapshot(snap: dict[str, Any], factor: int) -> dict[str, Any]:
    """A snapshot's money times ``factor``: lines (unit price, net, tax), charges, tax
    groups and totals; quantities and rates kept."""
    out = dict(snap)
    for key in ("net", "tax", "total", "allowance_total", "charge_total"):
        out[key] = _times(snap[key], factor)
    out["lines"] = [{**li, "unit_price": _times(li["unit_price"], factor),
                     "net": _times(li["net"], factor), "tax": _times(li["tax"], factor)}
                    for li in snap["lines"]]
    out["charges"] = [{**c, **{k: _times(c[k], factor) for k in ("amount", "tax", "base")
                               if k in c}} for c in snap["charges"]]
    out["tax_groups"] = [{**g, "net": _times(g["net"], factor), "tax": _times(g["tax"], factor)}
                         for g in snap["tax_groups"]]
    return out


def _scaled_audit(value: Any, factor: int, key: str = "") -> Any:
    """An audit event's data with its money times ``factor`` (see ``_AUDIT_MONEY``)."""
    if isinstance(value, dict):
        if key == "totals":
            return {k: _times(v, factor) for k, v in value.items()}
        return {k: _scaled_audit(v, factor, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_scaled_audit(v, factor, key) for v in value]
    if key in _AUDIT_MONEY and isinstance(value, str):
        return _times(value, factor)
    return value


class _Renamer:
    """Renames what a copy of the block names: customers (code, name, street) and document
    numbers (with the creditor references made from them)."""

    def __init__(self, block: int, counts: dict[tuple[str, str], int]) -> None:
        self.block, self.counts, self.copy = block, counts, 0

    def _one(self, m: re.Match[str]) -> str:
        prefix, year, seq, code, name, street = m.groups()
        shift = self.copy * self.block
        if prefix:
            return format_number(prefix, int(year),
                                 int(seq) + self.copy * self.counts[(prefix, year)])
        if code:
            return f"B{int(code) + shift:06d}"
        if name:
            return f"Customer {int(name) + shift}"
        return f"{int(street) + shift} rue du Port"

    def text(self, value: str) -> str:
        if not _DIGIT.search(value):
            return value
        ref = _REFERENCE.fullmatch(value)
        if ref is not None:
            return creditor_reference(self.text(f"{ref.group(1)}{ref.group(2)}-{ref.group(3)}"))
        return _NAMES.sub(self._one, value)

    def snapshot(self, snap: dict[str, Any]) -> dict[str, Any]:
        """A posted document's snapshot for the copy: its number, reference and customer."""
        out = dict(snap)
        out["number"] = self.text(snap["number"])
        out["payment_reference"] = self.text(snap["payment_reference"])
        customer = out["customer"] = dict(snap["customer"])
        customer["code"], customer["name"] = self.text(customer["code"]), self.text(
            customer["name"])
        address = customer["billing_address"] = dict(customer["billing_address"])
        address["line1"] = self.text(address["line1"])
        return out

    def json(self, value: Any, ids: Callable[[str, int], int]) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.json(v, ids) for v in value]
        if isinstance(value, dict):
            return {k: (ids(k, v) if isinstance(v, int) and not isinstance(v, bool)
                        else self.json(v, ids)) for k, v in value.items()}
        return value


def _plans(model: Any, largest_of: dict[str, int]) -> tuple[list[str], list[tuple[str, Any]]]:
    """How each column of ``model`` is copied: ``id`` (offset by the copy times the largest
    id of the table named), ``money`` (times the copy's factor: ``int``, ``text`` or
    ``json``, see ``_MONEY``), ``source`` (a journal entry's source, by its type),
    ``snapshot``, ``json``, ``text`` (renamed), ``seq`` (a document's number in its series)
    or ``keep``."""
    names, plans = [], []
    money = _MONEY.get(model._meta.label, {})
    for f in model._meta.concrete_fields:
        target = f.related_model._meta.label if f.is_relation else None
        names.append(f.attname)
        numeric = f.get_internal_type() in ("BigIntegerField", "IntegerField", "JSONField",
                                            "PositiveIntegerField",
                                            "PositiveSmallIntegerField") or isinstance(
            f, DecimalText)
        if (numeric and not f.is_relation and not f.primary_key and f.attname not in money
                and f.attname not in _NOT_MONEY):
            raise ValueError(f"books.py: is {model._meta.label}.{f.attname} money? "
                             "name it in _MONEY or _NOT_MONEY")
        if f.attname in money:
            plans.append(("money", money[f.attname]))
        elif f.primary_key:
            plans.append(("id", model._meta.label))
        elif target in largest_of:
            plans.append(("id", target))
        elif f.attname == "source_id":
            plans.append(("source", None))
        elif f.attname == "snapshot":
            plans.append(("snapshot", None))
        elif f.get_internal_type() == "JSONField":
            plans.append(("json", None))
        elif f.attname in _TEXT_COLUMNS:
            plans.append(("text", None))
        elif f.attname == "seq" and model._meta.label == "invoicing.Invoice":
            plans.append(("seq", None))
        else:
            plans.append(("keep", None))
    return names, plans


def copy_block(copies: int, *, company_code: str = COMPANY,
               progress: Callable[[str], None] = print) -> dict[str, int]:
    """Append ``copies`` copies of the block of customers of company ``company_code`` (made
    by ``make_block``, the last thing written to the tables copied), each in its own
    transaction; see the module docstring."""
    from django.apps import apps
    from django.db import connection, transaction

    from salesledger.apps.core.audit import EventSpec, chain_hash
    from salesledger.apps.core.bulkinsert import insert_rows
    from salesledger.apps.core.models import AuditChain, AuditEvent, Company, NumberCounter
    from salesledger.domain.snapshot import snapshot_hash

    company = Company.objects.get(code=company_code)
    labels = ["core.ImportBatch", "customers.Customer", "customers.Address",
              "ledger.JournalEntry", "invoicing.Invoice", "invoicing.InvoiceLine",
              "invoicing.Instalment", "payments.Receipt", "runs.AllocationRun",
              "payments.Allocation", "ledger.JournalLine"]
    models = [apps.get_model(label) for label in labels]
    largest = {m: m.objects.filter(company=company).order_by("-pk").values_list(
        "pk", flat=True).first() or 0 for m in models}
    for m in models:  # a copy's ids (the block's plus k times the largest) must be free
        assert not m.objects.filter(pk__gt=largest[m]).exists(), m
    block = int(apps.get_model("customers.Customer").objects.filter(company=company).count())
    counts = {(c.prefix, str(c.fiscal_year)): c.last
              for c in NumberCounter.objects.filter(company=company)}
    renamer = _Renamer(block, counts)
    by_entity = {"invoice": "invoicing.Invoice", "receipt": "payments.Receipt",
                 "customer": "customers.Customer", "allocation_run": "runs.AllocationRun",
                 "allocation": "payments.Allocation", "import_batch": "core.ImportBatch"}
    json_ids = {"instalment": "invoicing.Instalment", "import_batch": "core.ImportBatch",
                "invoice": "invoicing.Invoice", "receipt": "payments.Receipt"}
    largest_of = {m._meta.label: largest[m] for m in models}
    plans_of = {m: _plans(m, largest_of) for m in models}
    seed_rows = {m: list(m.objects.filter(company=company).order_by("pk").values_list(
        *plans_of[m][0])) for m in models
        if not all(how in ("id", "keep") or (how, label) == ("money", "int")
                   for how, label in plans_of[m][1])}
    events = list(AuditEvent.objects.filter(company=company, seq__gt=1).order_by("seq")
                  .values_list("seq", "at", "actor_id", "actor_name", "action", "entity",
                               "entity_id", "data"))
    per_copy = len(events)
    chain = AuditChain.objects.get(company=company)
    prev, last_seq = chain.last_hash, chain.last_seq
    assert last_seq == per_copy + 1, "the block's audit chain must start at the company"
    written = 0
    invoices = apps.get_model("invoicing.Invoice")
    hashes: dict[int, str] = {}
    posted: list[int] = []
    for copy in range(1, copies + 1):
        hashes.clear()
        renamer.copy = copy
        factor = scale(copy * block, block)

        def new_id(label: str, value: int | None, _copy: int = copy) -> int | None:
            return None if value is None else value + _copy * largest_of[label]

        def json_id(key: str, value: int) -> int:
            label = json_ids.get(key)
            return value if label is None else value + renamer.copy * largest_of[label]

        def copy_rows(m: Any, names: list[str], plans: list[tuple[str, Any]],
                      copy: int = copy, factor: int = factor) -> int:
            rows = seed_rows[m]
            kind_at = names.index("source_type") if "source_type" in names else -1
            out = []
            for row in rows:
                new = list(row)
                for i, (how, label) in enumerate(plans):
                    v = row[i]
                    if v is None or how == "keep":
                        continue
                    if how == "id":
                        new[i] = v + copy * largest_of[label]
                    elif how == "money":
                        new[i] = (_scaled_audit(v, factor, "totals") if label == "json"
                                  else _times(v, factor))
                    elif how == "text":
                        new[i] = renamer.text(v) if v else v
                    elif how == "snapshot":
                        new[i] = _scaled_snapshot(renamer.snapshot(v), factor) if v else v
                    elif how == "json":
                        new[i] = renamer.json(v, json_id)
                    elif how == "source":
                        source = by_entity.get(row[kind_at])
                        new[i] = v if source is None else new_id(source, v)
                    elif how == "seq":
                        key = (row[names.index("series")], str(row[names.index("fiscal_year")]))
                        new[i] = v + copy * counts[key]
                if m._meta.label == "invoicing.Invoice" and new[names.index("snapshot")]:
                    digest = snapshot_hash(new[names.index("snapshot")])
                    new[names.index("snapshot_hash")] = digest
                    hashes[new[0]] = digest
                out.append(new)
            if m._meta.label == "invoicing.Invoice":
                # Posted rows take no new lines (a database guard): written as drafts,
                # they are posted once their lines are in, as the posting service does.
                status = names.index("status")
                posted[:] = [r[0] for r in out if r[status] == "posted"]
                for r in out:
                    r[status] = "draft"
            insert_rows(m, names, out)
            return len(out)

        with transaction.atomic():
            for m in models:
                names, plans = plans_of[m]
                if all(how in ("id", "keep") or (how, label) == ("money", "int")
                       for how, label in plans):
                    # Nothing to rename: the database copies the rows itself.
                    table = m._meta.db_table
                    exprs = ", ".join(
                        f"{n} + {copy * largest_of[label]}" if how == "id"
                        else f"{n} * {factor}" if how == "money" else n
                        for n, (how, label) in zip(names, plans, strict=True))
                    with connection.cursor() as cursor:
                        cursor.execute(f"INSERT INTO {table} ({', '.join(names)}) "
                                       f"SELECT {exprs} FROM {table} "
                                       f"WHERE company_id = %s AND id <= %s",
                                       [company.pk, largest_of[m._meta.label]])
                        written += cursor.rowcount
                else:
                    written += copy_rows(m, names, plans)
                if m._meta.label == "invoicing.InvoiceLine":
                    for ids in _chunks(posted, 5000):
                        invoices.objects.filter(pk__in=ids).update(status="posted")
            audit_rows = []
            for _seq, at, actor_id, actor_name, action, entity, entity_id, data in events:
                label = by_entity.get(entity)
                new_entity = (str(new_id(label, int(entity_id)))
                              if label and entity_id else entity_id)
                new_data = _scaled_audit(renamer.json(data, json_id), factor)
                if action == "invoice.post":
                    new_data["after"]["snapshot_hash"] = hashes[int(new_entity)]
                last_seq += 1
                spec = EventSpec(action, entity, new_entity, new_data)
                digest = chain_hash(prev, company.pk, last_seq, at, actor_name, spec)
                audit_rows.append((company.pk, last_seq, at, actor_id, actor_name, action,
                                   entity, new_entity, new_data, prev, digest))
                prev = digest
            insert_rows(AuditEvent, ("company_id", "seq", "at", "actor_id", "actor_name",
                                     "action", "entity", "entity_id", "data", "prev_hash",
                                     "hash"), audit_rows)
            written += len(audit_rows)
            AuditChain.objects.filter(pk=chain.pk).update(last_seq=last_seq, last_hash=prev)
        progress(f"copy {copy}/{copies}: {written:,} rows")
    for (prefix, year), count in counts.items():
        NumberCounter.objects.filter(company=company, prefix=prefix,
                                     fiscal_year=int(year)).update(last=count * (copies + 1))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for m in [*models, AuditEvent]:
                table = m._meta.db_table
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT max(id) FROM {table}))")
    return {"rows": written}


# ---------------------------------------------------------------------------- build, cache
def build(size: str, *, seed: int, block: int | None = None,
          progress: Callable[[str], None] = print) -> dict[str, Any]:
    """Make the books of ``size`` in the database Django is set up on (empty): the block
    through the services, the rest copied. Returns what was made, with seconds."""
    from django.db import connection

    customers, history_lines = SIZES[size]
    block = min(block or 1000, customers)
    if customers % block:
        raise ValueError(f"{customers} customers are not a whole number of blocks of {block}")
    start = time.perf_counter()
    cpu = time.process_time()
    made = make_block(block, period=block, seed=seed, history_lines=history_lines,
                      total_customers=customers)
    progress(f"block of {block} customers made by the services in "
             f"{time.perf_counter() - start:.1f} s")
    blocked = time.perf_counter()
    copied = copy_block(customers // block - 1, progress=progress)
    with connection.cursor() as cursor:
        # Statistics for the planner; on PostgreSQL also the visibility map, without which
        # an index-only scan (the aging's covering index) visits the table for every row,
        # as it would until autovacuum passed on a freshly loaded database.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return {"size": size, "seed": seed, "block": block, "customers": customers,
            "block_documents": made["documents"], "rows_copied": copied["rows"],
            "block_seconds": round(blocked - start, 1),
            "copy_seconds": round(time.perf_counter() - blocked, 1),
            "cpu_seconds": round(time.process_time() - cpu, 1), **counts_of_books()}


def counts_of_books() -> dict[str, int]:
    """What the books hold: customers, open instalments (on 2025-12-31: every instalment not
    fully settled), invoices, and journal lines (all, and those of closed history: the lines
    of entries dated up to 2024-12-31)."""
    from django.db import connection

    with connection.cursor() as cursor:
        out = {}
        for name, sql in (
            ("customers_count", "SELECT count(*) FROM customers_customer"),
            ("invoices", "SELECT count(*) FROM invoicing_invoice"),
            ("open_items", "SELECT count(*) FROM invoicing_instalment WHERE settled < amount"),
            ("journal_lines", "SELECT count(*) FROM ledger_journalline"),
            ("history_journal_lines",
             "SELECT count(*) FROM ledger_journalline WHERE date <= '2024-12-31'"),
        ):
            cursor.execute(sql)
            out[name] = int(cursor.fetchone()[0])
    return out


@contextlib.contextmanager
def books_database(size: str, *, seed: int = 20261207, block: int | None = None,
                   books: str | Path | None = None, database_url: str | None = None,
                   progress: Callable[[str], None] = print) -> Iterator[dict[str, Any]]:
    """Point this process's environment (before ``django.setup()``) at the books of ``size``,
    building them first in a child process if the cache has none. SQLite: under ``books``
    (default: a temporary folder, removed on exit); PostgreSQL (``database_url``): a
    database ``salesledger_books_KEY`` beside the one named, kept for the next run. Yields
    ``{"db", "key", "built": what the build reported, or None when the cache had them}``."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesledger.config.settings")
    os.environ["SALESLEDGER_SECRET_KEY"] = "bench-not-secret"
    key = books_key(size, seed, block or min(1000, SIZES[size][0]))
    with contextlib.ExitStack() as stack:
        root = Path(books) if books else Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="salesledger-books-")))
        home = root / key
        home.mkdir(parents=True, exist_ok=True)
        (home / "var").mkdir(exist_ok=True)
        os.environ["SALESLEDGER_HOME"] = str(home)
        built = None
        if database_url:
            import psycopg

            # SALESLEDGER_BOOKS_DATABASE: a copy of the books to read (and write) instead
            # (``CREATE DATABASE copy TEMPLATE salesledger_books_KEY``)
            name = os.environ.get("SALESLEDGER_BOOKS_DATABASE") or (
                "salesledger_books_" + re.sub(r"[^a-z0-9]", "_", key.lower()))
            parts = urlsplit(database_url)
            with psycopg.connect(database_url, autocommit=True) as admin:
                exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                       (name,)).fetchone()
                if not exists:
                    if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                     (f"{name}_building",)).fetchone():
                        raise SystemExit(f"database {name}_building exists: a build is running "
                                         "or was stopped (drop it to build again)")
                    admin.execute(f'CREATE DATABASE "{name}_building"')
                    building = urlunsplit(parts._replace(path=f"/{name}_building"))
                    built = _build_child(size, seed, block, {"SALESLEDGER_DATABASE_URL":
                                                             building}, progress)
                    admin.execute(f'ALTER DATABASE "{name}_building" RENAME TO "{name}"')
            os.environ["SALESLEDGER_DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
            db = "postgresql"
        else:
            os.environ.pop("SALESLEDGER_DATABASE_URL", None)
            done, building = home / "books.json", home / "building.pid"
            if not done.exists():
                if building.exists() and _alive(int(building.read_text() or 0)):
                    raise SystemExit(f"books {key} are being built by process "
                                     f"{building.read_text()}: wait for it to finish")
                for stale in (home / "var").glob("salesledger.sqlite3*"):
                    stale.unlink()
                building.write_text(str(os.getpid()))
                built = _build_child(size, seed, block, {}, progress)
                done.write_text(json.dumps(built) + "\n")
                building.unlink()
            db = "sqlite"
        yield {"db": db, "key": key, "built": built}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return pid > 0


def _build_child(size: str, seed: int, block: int | None, env: dict[str, str],
                 progress: Callable[[str], None]) -> dict[str, Any]:
    argv = [sys.executable, str(HERE / "books.py"), size, "--seed", str(seed), "--build-here"]
    if block:
        argv += ["--block", str(block)]
    # The child's progress and errors go straight to this process's standard error.
    child = subprocess.run(argv, env={**os.environ, **env}, check=True,
                           stdout=subprocess.PIPE, text=True)
    return dict(json.loads(child.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size", choices=SIZES)
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--block", type=int, help="customers made by the services (1,000)")
    parser.add_argument("--books", help="folder of the SQLite books (kept for the next run)")
    parser.add_argument("--database-url", help="PostgreSQL server: the books are a database "
                                               "beside the one named, kept for the next run")
    parser.add_argument("--check", action="store_true", help="run check_company after")
    parser.add_argument("--build-here", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesledger.config.settings")
    if args.build_here:  # the child: the environment names the (empty) database
        import django

        django.setup()
        out = build(args.size, seed=args.seed, block=args.block,
                    progress=lambda s: print(s, file=sys.stderr, flush=True))
        print(json.dumps(out))
        return
    with books_database(args.size, seed=args.seed, block=args.block, books=args.books,
                        database_url=args.database_url,
                        progress=lambda s: print(s, file=sys.stderr, flush=True)) as info:
        import django

        django.setup()
        if args.check:
            from salesledger.apps.core.invariants import check_company
            from salesledger.apps.core.selectors import company_resolve

            start = time.perf_counter()
            problems = check_company(company_resolve(COMPANY))
            info["check_seconds"] = round(time.perf_counter() - start, 1)
            info["problems"] = [str(p) for p in problems[:20]]
        info.update(counts_of_books())
        print(json.dumps(info))


if __name__ == "__main__":
    main()
