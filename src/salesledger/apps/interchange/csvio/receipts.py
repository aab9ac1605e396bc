"""Receipts from and to CSV, and the open items export.

Each row is a receipt, recorded as ``receipt_record`` records one (through the two halves
of the one receipts writer, ``payments/receipts.py``). A row that names an ``invoice`` also
allocates ``min(amount, what is still open on the invoice)`` to it, oldest instalment first,
dated the receipt's date; the rest stays unapplied cash. Rows are applied in file order, so two
receipts for one invoice settle it in turn.

An instalment that a row leaves open by exactly its early-payment discount, when every
payment on it (those already in the books and the file's) was received on or before the
discount's last day, earns the discount as allocating the receipt on its own would
(``domain.adjustments.discount_earned``; written, dated the receipt's date, with its journal
entry and audit event, when the allocation writer publishes ``AllocationsMade``): later rows
leave it alone.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from typing import Any, TextIO

from django.db.models import F, Sum

from salesledger.apps.customers.models import Customer
from salesledger.apps.invoicing.issuing import resolve_rate
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice
from salesledger.apps.ledger.models import BankAccount
from salesledger.apps.payments.bulk import BulkAllocation, allocations_apply_bulk
from salesledger.apps.payments.models import Adjustment, Allocation, Receipt
from salesledger.apps.payments.receipts import receipts_plan, receipts_write
from salesledger.apps.payments.selectors import open_items
from salesledger.domain.adjustments import AdjustmentKind, discount_earned
from salesledger.domain.amounts import amount_minor
from salesledger.domain.errors import (
    AllocationCustomerMismatch,
    CurrencyMismatch,
    DocumentNotPosted,
    LedgerError,
    NotFound,
    UnknownCustomer,
)
from salesledger.domain.receipts import ReceiptRequest
from salesledger.domain.settlement import (
    OpenInstalment,
    check_allocation_date,
    settle_oldest_first,
)
from salesledger.formats.csv_rows import (
    RECEIPTS,
    CsvWriter,
    ReceiptRow,
    neutralise_cell,
    receipt_row,
)
from salesledger.money import Money, is_currency, major_texter

from .common import CsvSource, ImportContext, in_chunks, limits

LIMITS = limits({
    "customer": (Customer, "code"), "method": (Receipt, "method"),
    "payer_reference": (Receipt, "payer_reference"),
    "bank_reference": (Receipt, "bank_reference"), "memo": (Receipt, "memo"),
    "invoice": (Invoice, "number"), "bank_account": (BankAccount, "code"),
})


def import_rows(ctx: ImportContext, source: CsvSource) -> dict[str, Any]:
    with source.read() as reader:
        return _import(ctx, reader)


def _import(ctx: ImportContext, reader: Any) -> dict[str, Any]:
    company = ctx.company
    rows = [r for line, cells in reader if (r := receipt_row(line, cells, ctx.problems))]
    ctx.rows_read(reader)
    customers: dict[str, tuple[int, str]] = {}
    for chunk in in_chunks(r.customer for r in rows):
        customers.update((c["code"], (c["id"], c["currency"])) for c in Customer.objects.filter(
            company=company, code__in=chunk).values("id", "code", "currency"))
    targets = _Targets(company, {r.invoice for r in rows if r.invoice})
    receipts: list[ReceiptRequest] = []
    lines: list[ReceiptRow] = []
    for r in rows:
        receipt = _receipt(ctx, r, customers)
        if receipt is not None:
            receipts.append(receipt)
            lines.append(r)
    # The receipt's own rules, then what it pays: every problem of a row is reported.
    prepared = receipts_plan(company=company, requests=receipts)
    for index, exc in prepared.problems:
        ctx.error(lines[index].line, exc)
    for r, receipt in zip(lines, receipts, strict=True):
        if r.invoice:
            targets.check(ctx, r, receipt)
    ctx.fail_if_problems()

    batch = ctx.batch(reader.rows)
    ids = receipts_write(actor=ctx.actor, company=company, plan=prepared, import_batch=batch)
    plan: list[BulkAllocation] = []
    for r, receipt, pk in zip(lines, receipts, ids, strict=True):
        if r.invoice:
            plan.extend(targets.take(r.invoice, receipt.amount, r.date, pk))
    # The allocation writer takes the discounts they earn (``AllocationsMade``), which the
    # plan foresaw.
    allocated = allocations_apply_bulk(actor=ctx.actor, company=company, allocations=plan)
    return {"rows": reader.rows, "batch": batch.pk, "receipts": len(ids),
            "allocations": allocated, "discounts": sum(map(len, targets.earned.values()))}


def _receipt(ctx: ImportContext, r: ReceiptRow, customers: dict[str, tuple[int, str]]
             ) -> ReceiptRequest | None:
    customer = customers.get(r.customer)
    if customer is None:
        ctx.problem(r.line, "customer", f"no customer with code {r.customer!r}",
                    code=UnknownCustomer.code)
        return None
    currency = r.currency or customer[1]
    if not is_currency(currency):
        ctx.problem(r.line, "currency", f"unknown currency {currency!r}")
        return None
    try:
        minor = amount_minor(r.amount, currency)
        rate = r.rate if r.rate is not None else resolve_rate(ctx.company, currency, None,
                                                              r.date)
    except LedgerError as exc:
        ctx.error(r.line, exc)
        return None
    return ReceiptRequest(r.date, minor, customer_id=customer[0], currency=currency, rate=rate,
                          method=r.method, payer_reference=r.payer_reference,
                          bank_reference=r.bank_reference, memo=r.memo,
                          bank_account=r.bank_account)


class _Targets:
    """The invoices that receipts name, with their open instalments as rows take them, and
    the early-payment discounts that the rows earn."""

    def __init__(self, company: Any, numbers: set[str]) -> None:
        self.invoices: dict[str, dict[str, Any]] = {}
        for chunk in in_chunks(numbers):
            self.invoices.update((i["number"], i) for i in Invoice.objects.filter(
                company=company, number__in=chunk).values(
                    "id", "number", "kind", "status", "customer_id", "currency",
                    "issue_date"))
        self.open: dict[int, list[OpenInstalment]] = defaultdict(list)
        # Instalment id -> (discount, last day) for each that can still earn one, and the
        # days of the live payments on it (in the books, then the file's rows).
        self.discounts: dict[int, tuple[int, date]] = {}
        self.paid_on: dict[int, set[date]] = defaultdict(set)
        # Receipt id -> the allocations that earn a discount (taken after they are applied).
        self.earned: dict[int, list[BulkAllocation]] = defaultdict(list)
        for chunk in in_chunks(i["id"] for i in self.invoices.values()):
            for r in (Instalment.objects.filter(invoice_id__in=chunk, settled__lt=F("amount"))
                      .order_by("due_date", "id")
                      .values("id", "invoice_id", "due_date", "amount", "settled",
                              "discount_amount", "discount_date")):
                self.open[r["invoice_id"]].append(
                    OpenInstalment(r["id"], r["due_date"], r["amount"] - r["settled"]))
                if r["discount_amount"] > 0 and r["discount_date"] is not None:
                    self.discounts[r["id"]] = (r["discount_amount"], r["discount_date"])
        self._discount_history()

    def _discount_history(self) -> None:
        """What the books say of the discounted instalments, as ``discounts_earned`` reads
        it: the days of their live payments, and those whose discount is already taken."""
        for chunk in in_chunks(self.discounts):
            per: dict[tuple[int, date], int] = defaultdict(int)
            for inst_id, day, amount in (Allocation.objects
                                         .filter(instalment_id__in=chunk, receipt__isnull=False)
                                         .values_list("instalment_id", "receipt__date",
                                                      "amount")):
                per[(inst_id, day)] += amount
            for (inst_id, day), amount in per.items():
                if amount > 0:
                    self.paid_on[inst_id].add(day)
            for inst_id in (Adjustment.objects.filter(
                    allocations__instalment_id__in=chunk, kind=AdjustmentKind.DISCOUNT,
                    amount__gt=0, reversed_by__isnull=True)
                    .values_list("allocations__instalment_id", flat=True)):
                self.discounts.pop(inst_id, None)

    def check(self, ctx: ImportContext, r: ReceiptRow, receipt: ReceiptRequest) -> bool:
        inv = self.invoices.get(r.invoice)
        if inv is None or inv["kind"] != DocKind.INVOICE:
            ctx.problem(r.line, "invoice", f"no invoice {r.invoice!r}", code=NotFound.code)
        elif inv["status"] != "posted":
            ctx.problem(r.line, "invoice", f"invoice {r.invoice} is a draft; post it first",
                        code=DocumentNotPosted.code)
        elif inv["customer_id"] != receipt.customer_id:
            ctx.error(r.line, AllocationCustomerMismatch(
                f"{r.invoice} belongs to another customer than {r.customer}"), column="invoice")
        elif inv["currency"] != receipt.currency:
            ctx.error(r.line, CurrencyMismatch(
                f"{r.invoice} is in {inv['currency']} but the receipt is in "
                f"{receipt.currency}"), column="currency")
        else:
            try:
                check_allocation_date(r.date, source=f"the receipt of line {r.line}",
                                      source_date=r.date, invoice=r.invoice,
                                      issue_date=inv["issue_date"])
            except LedgerError as exc:
                ctx.error(r.line, exc)
                return False
            return True
        return False

    def take(self, number: str, amount: int, day: date, receipt_id: int
             ) -> list[BulkAllocation]:
        items = self.open[self.invoices[number]["id"]]
        shares = settle_oldest_first(min(amount, sum(i.open for i in items)), items)
        taken = {s.instalment_id: s.amount for s in shares}
        out = [BulkAllocation(instalment_id=s.instalment_id, amount=s.amount, date=day,
                              receipt_id=receipt_id) for s in shares]
        closed = set()
        for a in out:
            left = next(i.open for i in items if i.id == a.instalment_id) - a.amount
            self.paid_on[a.instalment_id].add(day)
            discount, last_day = self.discounts.get(a.instalment_id, (0, None))
            if discount and discount_earned(open_after=left, discount_amount=discount,
                                            discount_date=last_day,
                                            payment_dates=sorted(self.paid_on[a.instalment_id])):
                # Settled by the discount once this receipt is allocated: nothing is left
                # for later rows.
                self.earned[receipt_id].append(a)
                self.discounts.pop(a.instalment_id)
                closed.add(a.instalment_id)
        self.open[self.invoices[number]["id"]] = [
            OpenInstalment(i.id, i.due_date,
                           0 if i.id in closed else i.open - taken.get(i.id, 0))
            for i in items]
        return out


# ---------------------------------------------------------------------------- export
def export_receipts(*, company: Any, out: TextIO, as_of: date | None = None) -> int:
    """One row per receipt, in the import's columns; ``invoice`` names the invoice the
    receipt is allocated to when it is exactly one (else it is left empty)."""
    writer = CsvWriter(out)
    writer.writerow(RECEIPTS.columns)
    qs = Receipt.objects.filter(company=company)
    if as_of is not None:
        qs = qs.filter(date__lte=as_of)
    count, last = 0, 0
    while True:
        page = list(qs.filter(pk__gt=last).order_by("pk").values(
            "id", "customer__code", "date", "amount", "currency", "rate", "method",
            "payer_reference", "bank_reference", "memo", "bank_account__code")[:2000])
        if not page:
            return count
        targets: dict[int, set[str]] = defaultdict(set)
        for a in (Allocation.objects.filter(receipt_id__in=[p["id"] for p in page])
                  .values("receipt_id", "instalment__invoice__number")
                  .annotate(s=Sum("amount")).filter(s__gt=0).order_by()):
            targets[a["receipt_id"]].add(a["instalment__invoice__number"])
        for p in page:
            invoice = targets.get(p["id"], set())
            writer.writerow([
                p["customer__code"], p["date"].isoformat(),
                Money.from_minor(p["amount"], p["currency"]).format_plain(), p["currency"],
                format(p["rate"], "f"), p["method"], p["payer_reference"],
                p["bank_reference"], p["memo"], next(iter(invoice)) if len(invoice) == 1 else "",
                p["bank_account__code"],
            ])
            count += 1
        last = page[-1]["id"]


OPEN_ITEM_COLUMNS = ("customer", "type", "document", "seq", "date", "due_date", "currency",
                     "amount", "open", "days_overdue")


def export_open_items(*, company: Any, out: TextIO, as_of: date | None = None) -> int:
    """Every open item as of ``as_of`` (export only): instalments owed, and credit notes and
    receipts not yet applied (negative). Streamed: a row is written as its item is read, so
    memory does not grow with the rows. A million rows are a million lines: the amounts'
    text is made by one formatter per currency (``major_texter``, integer arithmetic) and
    only the cells of free text (customer codes, document numbers) can hold what a
    spreadsheet would run, so only they are neutralised; the bytes are those of
    ``CsvWriter`` over every cell (dates, numbers and codes pass it unchanged)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(OPEN_ITEM_COLUMNS)
    texts: dict[str, Callable[[int], str]] = {}
    count = 0
    for i in open_items(company, as_of=as_of):
        cur = i["currency"]
        text = texts.get(cur) or texts.setdefault(cur, major_texter(cur))
        overdue = ""
        if i["type"] == "instalment" and as_of is not None:
            overdue = str(max((as_of - i["due_date"]).days, 0))
        writer.writerow([
            neutralise_cell(i["customer"]), i["type"], neutralise_cell(i["document"]),
            i["seq"] or "", i["date"].isoformat(), i["due_date"].isoformat(), cur,
            text(i["amount"]), text(i["open"]), overdue,
        ])
        count += 1
    return count
