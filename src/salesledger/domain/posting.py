"""The rules of posting an invoice or credit note, and what posting one writes, over plain
values.

Posting is one writer for every path (docs/design/posting-and-numbering.md): a draft posted
from the command line is a batch of one, an import a batch of thousands. Each path checks its
documents with these functions, in the order a draft is written and then posted, so that a
document that breaks several rules gets the same first refusal everywhere:

- what writing a draft checks: a credit note corrects an invoice of its own customer and
  currency (``check_correction``), an opening item is an invoice of lines of category O with
  its own number (``check_opening``), due dates given instead of terms (``given_due_dates``);
- what posting checks: the period, the future-date horizon (``domain/dating.py``), the
  purchase-order number (``domain/invoicing.py``), then that the corrected invoice is posted
  and has room left for the credit (``check_credit_room``);
- numbers kept from another system (series ``IMP``, or continuing an own series without a gap:
  ``own_number``, ``kept_number_series``, ``kept_numbers_continue``).

``plan_document`` then computes what posting writes for one numbered document: instalments
(by its terms, or its given due dates) with their base-currency amounts, the payment reference
(ISO 11649), the frozen snapshot and its hash, and the balanced journal lines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ..money import Money, Rounding
from .bank_accounts import Payee
from .errors import (
    CreditExceedsInvoice,
    CurrencyMismatch,
    DocumentNotPosted,
    LedgerError,
    NotFound,
    ValidationFailed,
)
from .invoicing import DocumentChargeInput, LineInput, SupplyDetails, Totals, VatCategory
from .journal import Line, document_entry, to_base
from .lifecycle import DocStatus
from .numbering import format_number
from .references import creditor_reference
from .snapshot import build_snapshot, snapshot_hash, snapshot_json
from .terms import NET_30, ScheduledInstalment, Terms, build_schedule, given_schedule

INVOICE, CREDIT_NOTE = "invoice", "credit_note"
# The series a document numbered here takes, by kind; kept numbers of another system go to
# ``KEPT_SERIES``, outside every counter.
SERIES = {INVOICE: "INV", CREDIT_NOTE: "CN"}
KEPT_SERIES = "IMP"


# ---------------------------------------------------------------------------- the draft's rules
def check_correction(*, kind: str, corrects_id: int, original: Mapping[str, Any] | None,
                     customer_id: int, currency: str) -> str:
    """A credit note corrects an invoice (``original``: its id, kind, status, number,
    customer_id, currency and total, or None if there is none) of the same customer and
    currency. Returns the invoice's number."""
    if kind != CREDIT_NOTE:
        raise ValidationFailed("only a credit note can correct an invoice", field="corrects")
    if original is None or original["kind"] != INVOICE:
        raise NotFound(f"no invoice with id {corrects_id}", field="corrects")
    if original["customer_id"] != customer_id:
        raise ValidationFailed(f"{original['number']} belongs to another customer",
                               field="corrects")
    if original["currency"] != currency:
        raise CurrencyMismatch(f"the credit note is in {currency} but {original['number']} "
                               f"is in {original['currency']}", field="currency")
    return str(original["number"])


def check_opening(*, kind: str, number: str | None, lines: Sequence[LineInput],
                  currency: str) -> None:
    """An opening item is an invoice with a kept number, lines of category O at 0 % whose
    amounts are exact in the currency (its stated total is not rounded;
    docs/design/opening-items.md)."""
    if kind != INVOICE:
        raise ValidationFailed("an opening item is an invoice; bring an open credit of the "
                               "old system in as a credit note", field="kind")
    if number is None or not number.strip():
        raise ValidationFailed("an opening item keeps the number its own system gave it; "
                               "give its number", field="number")
    for li in lines:
        if li.tax_category != VatCategory.NOT_SUBJECT or li.tax_rate or li.discount_percent:
            raise ValidationFailed("an opening item carries no VAT of its own: its lines are "
                                   "of VAT category O at 0 %", field="tax_category")
        try:
            Money.of(li.quantity * li.unit_price, currency).minor()
        except ValueError:
            raise ValidationFailed(f"total {li.quantity * li.unit_price} has more decimals "
                                   f"than {currency} has", field="total") from None


def given_due_dates(*, kind: str, terms_id: int | None,
                    due: Sequence[tuple[date, Decimal | None]], currency: str, issue: date,
                    total: int) -> list[ScheduledInstalment]:
    """The instalments of due dates given with an invoice instead of payment terms (amounts
    in the document currency; a single date may come without one: the whole total)."""
    if kind != INVOICE:
        raise ValidationFailed("a credit note falls due at once; it has no due dates",
                               field="due_date")
    if terms_id:
        raise ValidationFailed("give payment terms or due dates, not both", field="due_date")
    parts: list[tuple[date, int | None]] = []
    for day, amount in due:
        minor = None
        if amount is not None:
            try:
                minor = Money.of(amount, currency).minor()
            except ValueError:
                raise ValidationFailed(f"amount due {amount} has more decimals than {currency} "
                                       "has", field="due_amount") from None
        parts.append((day, minor))
    return given_schedule(total, currency, issue, parts)


# ---------------------------------------------------------------------------- posting's rules
def check_credit_room(*, original: Mapping[str, Any], credited: int, total: int) -> None:
    """The corrected invoice is posted, and the credit notes posted against it
    (``credited``, minor units) and this one together do not exceed its total."""
    if original["status"] != DocStatus.POSTED:
        raise DocumentNotPosted(f"{original['number'] or 'draft #' + str(original['id'])} is "
                                "not posted; delete or edit the draft instead", field="corrects")
    if credited + total > original["total"]:
        left = Money.from_minor(original["total"] - credited, original["currency"])
        raise CreditExceedsInvoice(
            f"credit notes would exceed {original['number']}: at most {left} can still be "
            "credited", invoice=original["number"], field="corrects")


# ---------------------------------------------------------------------------- kept numbers
def own_number(number: str, prefix_of: Callable[[str, int], str]
               ) -> tuple[str, int, int] | None:
    """(series, fiscal year, seq) when ``number`` is written exactly as this company's own
    invoice or credit-note series would write it (``prefix_of(series, fiscal year)``: the
    prefix the series writes that year, which a company may have changed), else None."""
    head, sep, tail = number.rpartition("-")
    if not sep or not tail.isdigit() or len(head) < 5 or not head[-4:].isdigit():
        return None
    prefix, year = head[:-4], int(head[-4:])
    for series in SERIES.values():
        if prefix == prefix_of(series, year) and format_number(prefix, year, int(tail)) == number:
            return series, year, int(tail)
    return None


def kept_number_series(number: str, *, kind: str, series: str, fiscal_year: int,
                       prefix_of: Callable[[str, int], str]) -> tuple[str, int | None]:
    """The series and seq of a number kept from another system: series ``IMP`` without a
    seq, or, for a number written like this company's own, that series and seq. It must
    then be the document's own series and fiscal year, and continue it without a gap
    (``kept_numbers_continue``): otherwise it would collide with a number given later."""
    own = own_number(number, prefix_of)
    if own is None:
        return KEPT_SERIES, None
    own_series, year, seq = own
    if own_series != series or year != fiscal_year:
        raise ValidationFailed(
            f"{number} is written like this company's own {own_series} numbers of {year}, but "
            f"this {kind.replace('_', ' ')} belongs to series {series} of {fiscal_year}; it "
            "would collide with a number given later. Leave the number empty to take a new "
            "one, or rename it", field="number")
    return series, seq


def kept_numbers_continue(series: str, year: int, kept: Sequence[tuple[int, int, str]],
                          last: int, prefix: str) -> list[tuple[int, LedgerError]]:
    """Kept numbers of an own series (``kept``: index, seq, number) must be exactly the next
    ones after its counter's ``last``. Returns a problem per number that is not."""
    expected = set(range(last + 1, last + len(kept) + 1))
    nxt = format_number(prefix, year, last + 1)
    return [(index, ValidationFailed(
        f"{number} is written like this company's own {series} numbers but does not "
        f"continue that series without a gap (its next number is {nxt}); it would collide "
        "with a number given later. Leave the number empty to take a new one, or rename it",
        field="number")) for index, seq, number in kept if seq not in expected]


# ---------------------------------------------------------------------------- what is written
def document_terms(term_ids: tuple[int | None, ...], load: Callable[[int], Terms]) -> Terms:
    """The terms a document falls due by: the first of its own terms, the customer's and the
    company's default that is set (``term_ids`` in that order), else 30 days net."""
    for term_id in term_ids:
        if term_id:
            return load(term_id)
    return NET_30


def split_base(base_total: int, amounts: list[int]) -> list[int]:
    """Base-currency amounts of the instalments, in proportion, summing to ``base_total``."""
    if not amounts:
        return []
    total = sum(amounts)
    parts = [base_total * a // total for a in amounts[:-1]]
    return parts + [base_total - sum(parts)]


@dataclass(frozen=True, slots=True)
class DocumentToWrite:
    """What posting writes for one numbered document (``plan_document``)."""

    base_total: int
    instalments: list[ScheduledInstalment]
    base_amounts: list[int]  # of each instalment, summing to ``base_total``
    due_date: date  # the last instalment's, else the issue date
    payment_reference: str
    snapshot: dict[str, Any]
    snapshot_text: str  # its canonical JSON, which ``snapshot_hash`` is of
    snapshot_hash: str
    entry: list[Line]  # the balanced journal lines


def plan_document(*, number: str, kind: str, issue_date: date, currency: str, rate: Decimal,
                  base_currency: str, customer_id: int, customer: dict[str, Any],
                  po_number: str, buyer_reference: str, corrects: str | None,
                  lines: Sequence[LineInput], charges: Sequence[DocumentChargeInput],
                  totals: Totals, terms: Terms, given: list[ScheduledInstalment] | None,
                  rounding: Rounding, opening: bool = False,
                  supply: SupplyDetails | None = None,
                  payee: Payee | None = None) -> DocumentToWrite:
    """What posting writes for a checked document numbered ``number``. A credit note, or an
    invoice of zero, has no instalment: it is an open item as a whole."""
    credit = kind == CREDIT_NOTE
    base_total = to_base(totals.total, currency, base_currency, rate)
    if given is not None:
        schedule = given
    elif credit or totals.total <= 0:
        schedule = []
    else:
        schedule = build_schedule(Money.from_minor(totals.total, currency), issue_date, terms,
                                  rounding)
    reference = creditor_reference(number)
    snapshot = build_snapshot(
        number=number, kind=kind, issue_date=issue_date, currency=currency, rate=rate,
        customer=customer, po_number=po_number, buyer_reference=buyer_reference,
        corrects=corrects, lines=lines, totals=totals, charges=charges,
        payment_reference=reference, supply=supply, payee=payee)
    text = snapshot_json(snapshot)
    return DocumentToWrite(
        base_total=base_total, instalments=schedule,
        base_amounts=split_base(base_total, [s.amount for s in schedule]),
        due_date=schedule[-1].due_date if schedule else issue_date,
        payment_reference=reference, snapshot=snapshot, snapshot_text=text,
        snapshot_hash=snapshot_hash(text),
        entry=document_entry(credit_note=credit, customer_id=customer_id, currency=currency,
                             base_currency=base_currency, rate=rate, net=totals.net,
                             tax=totals.tax, opening=opening))
