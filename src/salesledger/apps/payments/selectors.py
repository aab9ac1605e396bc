"""Open items and balances, derived from posted documents and allocations.

A customer's open items are: the unsettled part of each invoice instalment (a debit), the
unapplied part of each credit note and of each receipt (credits). The balance is their sum,
which equals invoices - credit notes - receipts - adjustments + refunds + reversed receipts
(docs/design/adjustments.md): allocations move amounts between open items but never change
the balance. Everything here is set-based SQL; with no ``as_of`` the
cached ``settled``/``allocated`` columns are read, with ``as_of`` the allocations dated up
to that day are summed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator
from datetime import date, timedelta
from typing import Any

from django.db.models import F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from salesledger.apps.core.models import Company
from salesledger.apps.customers.selectors import customer_detail, customer_family, survivors
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice
from salesledger.apps.invoicing.selectors import invoice_get
from salesledger.domain.errors import NotFound
from salesledger.domain.lifecycle import settlement
from salesledger.money import Money

from .models import Adjustment, Allocation, Receipt, ReceiptReversal, Refund


def _alloc_sum(as_of: date, value: Any = "amount", **match: Any) -> Subquery:
    qs = (Allocation.objects.filter(date__lte=as_of, **match).order_by()
          .values(*match.keys()).annotate(s=Sum(value)).values("s"))
    return Coalesce(Subquery(qs, output_field=IntegerField()), Value(0))


# What an allocation took from its receipt, in the receipt's currency (``source_amount``
# when it paid an instalment in another currency, docs/design/multi-currency.md).
TAKEN_FROM_RECEIPT = Coalesce(F("source_amount"), F("amount"))


def _used_otherwise(as_of: date) -> Any:
    """What a receipt gave up other than by allocation up to ``as_of``: refunds (reversals
    netted) and its reversal, if the bank returned it (refunds.py)."""
    refunds = (Refund.objects.filter(receipt=OuterRef("pk"), date__lte=as_of).order_by()
               .values("receipt").annotate(s=Sum("amount")).values("s"))
    returned = (ReceiptReversal.objects.filter(receipt=OuterRef("pk"), date__lte=as_of)
                .values("amount"))
    return (Coalesce(Subquery(refunds, output_field=IntegerField()), Value(0))
            + Coalesce(Subquery(returned, output_field=IntegerField()), Value(0)))


def moved_after(company: Company, day: date) -> bool:
    """Whether anything that settles an open item or gives up a receipt is dated after
    ``day``: an allocation (reversals and adjustments are allocation rows too), a refund, a
    receipt returned by the bank. When nothing is, the amounts kept on the rows
    (``Instalment.settled``, ``Invoice.allocated``, ``Receipt.allocated``, which `salesledger
    check` holds to those rows) are those of the day. One query, each part read on an index
    and stopped at its first row."""
    later = [model.objects.filter(company=company, date__gt=day).order_by().values_list("date")
             for model in (Allocation, Refund, ReceiptReversal)]
    return bool(later[0].union(*later[1:], all=True)[:1])


def _customer_scope(company: Company, customer_id: int | None) -> Q:
    """The company's rows, or those of one customer: with the survivor and the aliases of a
    merge (``customer_family``), whose documents one customer's figures take in."""
    if not customer_id:
        return Q(company=company)
    family = customer_family(company, customer_id)
    return Q(company=company) & (Q(customer_id=family[0]) if len(family) == 1
                                 else Q(customer_id__in=family))


def open_items(company: Company, *, customer_id: int | None = None, as_of: date | None = None,
               overdue_only: bool = False, customer_ids: Collection[int] | None = None
               ) -> Iterator[dict[str, Any]]:
    """Yield open items as dicts ordered by customer, due date; streamed, not loaded. The
    items of an alias are the survivor's (``customer``), with the customer they were issued
    to (``issued_to``) (docs/design/customer-records.md). ``customer_ids``: only the items
    of these customers (as issued: a caller that wants an alias's items names it too)."""
    scope = _customer_scope(company, customer_id)
    if customer_ids is not None:
        scope &= Q(customer_id__in=sorted(customer_ids))
    inst = Instalment.objects.filter(scope)
    cn = Invoice.objects.filter(scope, kind=DocKind.CREDIT_NOTE, status="posted")
    rc = Receipt.objects.filter(scope)
    # The whole company's items on a day: one look-up decides whether the kept amounts are
    # the day's (a customer's few items are rolled back as cheaply as that look-up costs).
    kept = as_of is None or (customer_id is None and customer_ids is None
                             and not moved_after(company, as_of))
    if kept:
        # What is kept on the rows is what was open on the day: nothing that settles or
        # gives up an item is dated after it. Only what is dated after it is left out, and
        # the instalments are read from the index of open ones (its very condition).
        inst = inst.filter(settled__lt=F("amount")).annotate(open=F("amount") - F("settled"))
        cn = cn.annotate(open=F("total") - F("allocated"))
        rc = rc.annotate(open=F("amount") - F("allocated"))
        if as_of is not None:
            inst = inst.filter(issue_date__lte=as_of)
            cn = cn.filter(issue_date__lte=as_of)
            rc = rc.filter(date__lte=as_of)
    else:
        assert as_of is not None
        inst = inst.filter(invoice__issue_date__lte=as_of).annotate(
            open=F("amount") - _alloc_sum(as_of, instalment=OuterRef("pk")))
        cn = cn.filter(issue_date__lte=as_of).annotate(
            open=F("total") - _alloc_sum(as_of, credit_note=OuterRef("pk")))
        rc = rc.filter(date__lte=as_of).annotate(
            open=F("amount") - _alloc_sum(as_of, TAKEN_FROM_RECEIPT, receipt=OuterRef("pk"))
            - _used_otherwise(as_of))
    if overdue_only and as_of:
        inst = inst.filter(due_date__lt=as_of)
    if not kept:
        inst = inst.filter(open__gt=0)
    inst_rows = (inst.order_by("customer_id", "due_date", "id")
                 .values("id", "customer_id", "customer__code", "due_date", "currency", "open",
                         "amount", "seq", "invoice__number", "invoice__issue_date",
                         survivor=F("customer__merged_into__code")))
    for r in inst_rows.iterator(chunk_size=2000):
        yield {"type": "instalment", "id": r["id"],
               "customer": r["survivor"] or r["customer__code"],
               "issued_to": r["customer__code"],
               "document": r["invoice__number"], "seq": r["seq"],
               "date": r["invoice__issue_date"], "due_date": r["due_date"],
               "currency": r["currency"], "amount": r["amount"], "open": r["open"]}
    if overdue_only:
        return
    for r in (cn.filter(open__gt=0).order_by("customer_id", "issue_date", "id")
              .values("id", "customer__code", "number", "issue_date", "currency", "total", "open",
                      survivor=F("customer__merged_into__code"))
              .iterator(chunk_size=2000)):
        yield {"type": "credit_note", "id": r["id"],
               "customer": r["survivor"] or r["customer__code"],
               "issued_to": r["customer__code"],
               "document": r["number"], "seq": None, "date": r["issue_date"],
               "due_date": r["issue_date"], "currency": r["currency"], "amount": -r["total"],
               "open": -r["open"]}
    for r in (rc.filter(open__gt=0).order_by("customer_id", "date", "id")
              .values("id", "customer__code", "number", "date", "currency", "amount", "open",
                      survivor=F("customer__merged_into__code"))
              .iterator(chunk_size=2000)):
        yield {"type": "receipt", "id": r["id"],
               "customer": r["survivor"] or r["customer__code"],
               "issued_to": r["customer__code"],
               "document": r["number"], "seq": None, "date": r["date"], "due_date": r["date"],
               "currency": r["currency"], "amount": -r["amount"], "open": -r["open"]}


def allocations_across(company_id: int, a: int, b: int) -> list[int]:
    """The allocations, not reversed, of a payment or credit note of customer ``a`` to a
    document of ``b`` or the other way round (possible while one is merged into the other)."""
    return list(Allocation.objects.filter(
        Q(customer_id=a, instalment__customer_id=b) | Q(customer_id=b, instalment__customer_id=a),
        company_id=company_id, amount__gt=0, reversed_by__isnull=True)
        .order_by("pk").values_list("pk", flat=True))


def customer_balances(company: Company, *, as_of: date | None = None,
                      customer_id: int | None = None,
                      customer_ids: Collection[int] | None = None
                      ) -> dict[tuple[int, str], int]:
    """Balance per (customer id, currency) in minor units: invoices - credit notes -
    receipts dated up to ``as_of``; of one customer, of ``customer_ids``, or of all. Three
    grouped aggregates, whatever the data size. An alias's figures are its survivor's: keyed
    by the survivor, and ``customer_id`` (or a survivor among ``customer_ids``) takes in the
    whole family (docs/design/customer-records.md)."""
    scope = _customer_scope(company, customer_id)
    merged = survivors(company)
    if customer_ids is not None:
        wanted = set(customer_ids)
        wanted |= {alias for alias, survivor in merged.items() if survivor in wanted}
        scope &= Q(customer_id__in=sorted(wanted))
    raw = _raw_balances(company, as_of=as_of, scope=scope)
    if not merged:
        return raw
    out: dict[tuple[int, str], int] = defaultdict(int)
    for (cid, cur), v in raw.items():
        out[(merged.get(cid, cid), cur)] += v
    return dict(out)


def _raw_balances(company: Company, *, as_of: date | None, scope: Q
                  ) -> dict[tuple[int, str], int]:
    docs = Invoice.objects.filter(scope, status="posted")
    rc = Receipt.objects.filter(scope)
    if as_of:
        docs = docs.filter(issue_date__lte=as_of)
        rc = rc.filter(date__lte=as_of)
    out: dict[tuple[int, str], int] = defaultdict(int)
    for r in docs.values("customer_id", "currency", "kind").annotate(s=Sum("total")).order_by():
        sign = -1 if r["kind"] == DocKind.CREDIT_NOTE else 1
        out[(r["customer_id"], r["currency"])] += sign * r["s"]
    # Receipts, and in the same query the allocations that moved value between currencies
    # (a receipt in one paying an instalment in another): the receipt's currency owes less
    # by what was taken from it, the instalment's by what it was settled with.
    cross = Allocation.objects.filter(scope, source_amount__isnull=False)
    if as_of:
        cross = cross.filter(date__lte=as_of)
    receipts = rc.values("customer_id", "currency").annotate(s=Sum("amount")).order_by()
    taken = (cross.values("customer_id", "source_currency").annotate(s=-Sum("source_amount"))
             .order_by())
    settled = cross.values("customer_id", "currency").annotate(s=Sum("amount")).order_by()
    # Adjustments settle without money (the balance falls); refunds and reversed receipts
    # give back what a receipt took off it (docs/design/adjustments.md).
    adjusted, refunded, returned = (
        Adjustment.objects.filter(scope), Refund.objects.filter(scope),
        ReceiptReversal.objects.filter(scope))
    if as_of:
        adjusted, refunded, returned = (adjusted.filter(date__lte=as_of),
                                        refunded.filter(date__lte=as_of),
                                        returned.filter(date__lte=as_of))
    more = (adjusted.values("customer_id", "currency").annotate(s=Sum("amount")).order_by(),
            refunded.values("customer_id", "currency").annotate(s=-Sum("amount")).order_by(),
            returned.values("customer_id", "receipt__currency").annotate(s=-Sum("amount"))
            .order_by())
    for r in receipts.union(taken, settled, *more, all=True):
        out[(r["customer_id"], r["currency"])] -= r["s"]
    return dict(out)


def open_item_totals(company: Company) -> dict[tuple[int, str], dict[str, int]]:
    """Per (customer, currency): instalments open, credit notes open, receipts unapplied,
    from the cached columns (used by the ledger check)."""
    out: dict[tuple[int, str], dict[str, int]] = defaultdict(
        lambda: {"instalments": 0, "credit_notes": 0, "receipts": 0})
    for r in (Instalment.objects.filter(company=company).values("customer_id", "currency")
              .annotate(s=Sum(F("amount") - F("settled"))).order_by()):
        out[(r["customer_id"], r["currency"])]["instalments"] = r["s"]
    for r in (Invoice.objects.filter(company=company, kind=DocKind.CREDIT_NOTE, status="posted")
              .values("customer_id", "currency").annotate(s=Sum(F("total") - F("allocated")))
              .order_by()):
        out[(r["customer_id"], r["currency"])]["credit_notes"] = r["s"]
    for r in (Receipt.objects.filter(company=company).values("customer_id", "currency")
              .annotate(s=Sum(F("amount") - F("allocated"))).order_by()):
        out[(r["customer_id"], r["currency"])]["receipts"] = r["s"]
    return dict(out)


def customer_account(company: Company, code: str, *, as_of: date | None = None
                     ) -> dict[str, Any]:
    """The customer's record with its balance per currency on ``as_of``."""
    detail = customer_detail(company, code)
    balances = customer_balances(company, as_of=as_of, customer_id=detail["id"])
    detail["balances"] = [Money.from_minor(v, cur).to_json()
                          for (_, cur), v in sorted(balances.items())]
    return detail


def receipt_list(company: Company, *, customer_id: int | None = None, limit: int = 100,
                 offset: int = 0) -> list[dict[str, Any]]:
    """A page of receipts, newest first, with what is left unapplied of each (the cached
    ``allocated`` counts allocations, refunds and a reversal). One query."""
    qs = Receipt.objects.filter(company=company)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    rows = qs.order_by("-date", "-id").values(
        "id", "number", "date", "customer__code", "currency", "amount", "allocated", "method",
        "payer_reference")[offset: offset + limit]
    return [{"id": r["id"], "number": r["number"], "date": r["date"],
             "customer": r["customer__code"], "currency": r["currency"],
             "amount": _money_json(r["amount"], r["currency"]),
             "unapplied": _money_json(r["amount"] - r["allocated"], r["currency"]),
             "has_unapplied": r["amount"] > r["allocated"],
             "method": r["method"], "payer_reference": r["payer_reference"]} for r in rows]


# A receipt left unapplied this many days is an alert: cash nobody has matched to a debt.
OLD_UNAPPLIED_DAYS = 30


def old_unapplied_count(company: Company, *, as_of: date) -> int:
    """How many receipts dated ``OLD_UNAPPLIED_DAYS`` days or more before ``as_of`` still
    hold cash not applied (the dashboard's alert; what is applied is read as it stands now,
    ``Receipt.allocated``): one count on the unapplied receipts' (company, date) index,
    never over the receipts applied in full."""
    return Receipt.objects.filter(
        company=company, allocated__lt=F("amount"),
        date__lte=as_of - timedelta(days=OLD_UNAPPLIED_DAYS)).count()


def receipt_detail(company: Company, number: str) -> dict[str, Any]:
    """A receipt with what is left unapplied of it, its allocations (each with the invoice
    it paid, whether it was reversed, and whether an adjustment owns it), its refunds and its
    reversal. Four queries whatever the receipt's size."""
    r = (Receipt.objects.filter(company=company, number=number)
         .select_related("customer", "bank_account").first())
    if r is None:
        raise NotFound(f"no receipt {number!r}", receipt=number)
    cur = r.currency
    rows = list(Allocation.objects.filter(company=company, receipt=r).order_by("id").values(
        "id", "date", "currency", "amount", "source_amount", "adjustment_id",
        "instalment__invoice__number", "instalment__seq", "reversal_of_id"))
    reversed_ids = {a["reversal_of_id"] for a in rows if a["reversal_of_id"]}
    allocations = [{"id": a["id"], "date": a["date"], "invoice": a["instalment__invoice__number"],
                    "seq": a["instalment__seq"], "amount": _money_json(a["amount"], a["currency"]),
                    "from_receipt": _money_json(a["amount"] if a["source_amount"] is None
                                                else a["source_amount"], cur),
                    "reversal": a["amount"] < 0, "reversed": a["id"] in reversed_ids,
                    "adjustment": a["adjustment_id"]} for a in rows]
    made = list(Refund.objects.filter(company=company, receipt=r).order_by("id"))
    undone = {f.reversal_of_id for f in made if f.reversal_of_id is not None}
    refunds = [{"number": f.number, "date": f.date, "amount": _money_json(f.amount, f.currency),
                "reversal": f.reversal_of_id is not None, "reversed": f.pk in undone}
               for f in made]
    reversal = ReceiptReversal.objects.filter(receipt=r).values("date", "reason").first()
    return {"id": r.pk, "number": r.number, "date": r.date, "customer": r.customer.code,
            "customer_id": r.customer_id, "customer_name": r.customer.name, "currency": cur,
            "amount": _money_json(r.amount, cur), "unapplied_minor": r.amount - r.allocated,
            "unapplied": _money_json(r.amount - r.allocated, cur), "method": r.method,
            "payer_reference": r.payer_reference, "bank_reference": r.bank_reference,
            "memo": r.memo, "bank_account": r.bank_account.code if r.bank_account else "",
            "allocations": allocations, "refunds": refunds, "reversal": reversal}


# ---------------------------------------------------------------------------- documents
def invoice_detail(
    company: Company, ref: str | int, *, as_of: date | None = None
) -> dict[str, Any]:
    """An invoice or credit note with its lines, instalments and what settled it, as of
    ``as_of`` (the allocations and adjustments dated up to that day) or now."""
    inv = invoice_get(company, ref)
    cur = inv.currency
    settled_on: dict[int, int] = {}
    if as_of is not None:
        settled_on = dict(Allocation.objects.filter(instalment__invoice=inv, date__lte=as_of)
                          .values("instalment_id").annotate(s=Sum("amount"))
                          .values_list("instalment_id", "s").order_by())
    instalments = []
    for i in inv.instalments.order_by("seq"):
        settled = i.settled if as_of is None else settled_on.get(i.pk, 0)
        instalments.append(
            {
                "seq": i.seq,
                "due_date": i.due_date,
                "amount": _money_json(i.amount, cur),
                "open": _money_json(i.amount - settled, cur),
                "_settled": settled,
                "discount_date": i.discount_date,
                "discount": _money_json(i.discount_amount, cur),
            }
        )
    if inv.kind == "credit_note":
        settled_total, open_total = inv.allocated, inv.total - inv.allocated
    else:
        settled_total = sum(i.pop("_settled") for i in instalments)
        open_total = inv.total - settled_total if inv.status == "posted" else 0
    for i in instalments:
        i.pop("_settled", None)
    adjusted = _adjusted(inv, as_of)
    return {
        "id": inv.pk,
        "number": inv.number,
        "kind": inv.kind,
        # An opening item of a migration (docs/design/opening-items.md).
        "opening": inv.opening,
        "status": inv.status,
        "settlement": _settlement_state(inv, settled_total, open_total, adjusted),
        "customer": inv.customer.code,
        "issue_date": inv.issue_date,
        "due_date": inv.due_date,
        "currency": cur,
        "rate": str(inv.rate),
        "po_number": inv.po_number,
        "buyer_reference": inv.buyer_reference,
        "notes": inv.notes,
        "terms": inv.terms.code if inv.terms_id and inv.terms else "",
        "corrects": inv.corrects.number if inv.corrects_id and inv.corrects else None,
        # What it says about the supply (EN 16931 BT-72, BG-14, BT-12, BT-11; the nature
        # of the operation): dates or None, text or "".
        "supply": {"delivery_date": inv.delivery_date, "period_start": inv.period_start,
                   "period_end": inv.period_end, "contract_reference": inv.contract_reference,
                   "project_reference": inv.project_reference,
                   "supply_type": inv.supply_type},
        "net": _money_json(inv.net, cur),
        "tax": _money_json(inv.tax, cur),
        "total": _money_json(inv.total, cur),
        "open": _money_json(open_total, cur),
        "snapshot_hash": inv.snapshot_hash,
        "lines": [
            {
                "description": li.description,
                "quantity": str(li.quantity),
                "unit_price": str(li.unit_price),
                "discount_percent": str(li.discount_percent),
                "tax_rate": str(li.tax_rate),
                "tax_category": li.tax_category,
                "exemption_reason": li.exemption_reason,
                "unit_code": li.unit_code,
                "net": _money_json(li.net, cur),
                "tax": _money_json(li.tax, cur),
            }
            for li in inv.lines.all()
        ],
        # Document-level allowances and charges (EN 16931 BG-20/BG-21).
        "charges": [
            {
                "kind": "charge" if c.is_charge else "allowance",
                "reason": c.reason,
                "reason_code": c.reason_code,
                "amount": _money_json(c.amount, cur),
                "tax_rate": str(c.tax_rate),
                "tax_category": c.tax_category,
                # given as a percentage of its category's lines (BT-94, BT-101), else None
                "percent": None if c.percent is None else str(c.percent),
            }
            for c in inv.charges.all()
        ],
        "instalments": instalments,
        # What adjustments settled, net of reversals, per kind (docs/design/adjustments.md).
        "adjustments": {k: _money_json(v, cur) for k, v in sorted(adjusted.items())},
        "written_off": _money_json(adjusted.get("bad_debt", 0), cur),
    }


def _adjusted(inv: Invoice, as_of: date | None) -> dict[str, int]:
    """Net amount settled by each kind of adjustment on the invoice, as of a day."""
    if inv.kind != "invoice" or inv.status != "posted":
        return {}
    qs = Adjustment.objects.filter(invoice=inv)
    if as_of is not None:
        qs = qs.filter(date__lte=as_of)
    rows = qs.values("kind").annotate(s=Sum("amount")).order_by()
    return {r["kind"]: r["s"] for r in rows if r["s"]}


def _settlement_state(inv: Invoice, settled: int, open_total: int,
                      adjusted: dict[str, int]) -> str | None:
    """Derived: open, partially paid, paid, or written off (nothing open and part of it
    written off as a bad debt)."""
    if inv.status != "posted":
        return None
    if inv.kind == "invoice" and open_total == 0 and adjusted.get("bad_debt", 0) > 0:
        return "written_off"
    return settlement(inv.total, settled).value


def _money_json(minor: int, currency: str) -> dict[str, str]:
    return Money.from_minor(minor, currency).to_json()
