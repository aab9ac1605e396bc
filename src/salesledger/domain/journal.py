"""Double-entry journal entries for sales-ledger events.

Every event that changes what a customer owes writes a journal entry whose lines sum to
exactly zero in the company's base currency, and to zero per document currency. Debits are
positive, credits negative, in integer minor units. The receivable control account carries
the customer on each line, so that a customer's share of it can be summed; unapplied cash
(payments received but not yet allocated) is kept on its own account, also per customer.

    invoice posted      Dr receivable total    Cr revenue net     Cr tax payable tax
    credit note posted  Dr revenue net         Dr tax payable tax Cr receivable total
    receipt recorded    Dr bank amount         Cr unapplied cash amount
    receipt allocated   Dr unapplied cash      Cr receivable      (+/- exchange difference)
    ... across currencies: the same two lines, each in its own currency, and a pair of
                        exchange lines (see ``cross_allocation_entry``)
    credit allocated    no entry: both sides already sit on the receivable control account
    opening item        Dr receivable total    Cr opening balances total
                        (an invoice of another system brought in by a migration: its sale
                        and VAT were booked there; see docs/design/opening-items.md)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from ..money import Rounding, format_minor, get_currency, quantize
from .errors import UnbalancedEntry


class AccountRole(StrEnum):
    RECEIVABLE = "receivable"
    REVENUE = "revenue"
    TAX = "tax_payable"
    BANK = "bank"
    UNAPPLIED = "unapplied_cash"
    WRITE_OFF = "write_off"
    DISCOUNT = "discounts"
    FX = "exchange_differences"
    FEES = "fee_income"
    INTEREST = "interest_income"
    UNREALISED_FX = "unrealised_fx_differences"
    OPENING = "opening_balances"
    # Where bank rules post the statement lines that are not customer payments.
    BANK_CHARGES = "bank_charges"
    BANK_SUSPENSE = "bank_suspense"


# The chart every new company starts with: (code, name, role, kind).
DEFAULT_CHART: tuple[tuple[str, str, AccountRole, str], ...] = (
    ("1100", "Trade receivables (control)", AccountRole.RECEIVABLE, "asset"),
    ("1200", "Bank", AccountRole.BANK, "asset"),
    ("2100", "Unapplied cash received", AccountRole.UNAPPLIED, "liability"),
    ("2200", "Output tax payable", AccountRole.TAX, "liability"),
    ("2900", "Opening balances (suspense)", AccountRole.OPENING, "equity"),
    ("4000", "Sales revenue", AccountRole.REVENUE, "income"),
    ("4900", "Fee income", AccountRole.FEES, "income"),
    ("4910", "Interest income", AccountRole.INTEREST, "income"),
    ("6800", "Bad debts written off", AccountRole.WRITE_OFF, "expense"),
    ("6810", "Settlement discounts allowed", AccountRole.DISCOUNT, "expense"),
    ("6900", "Exchange differences", AccountRole.FX, "expense"),
    ("6910", "Unrealised exchange differences", AccountRole.UNREALISED_FX, "expense"),
    ("6270", "Bank charges", AccountRole.BANK_CHARGES, "expense"),
    ("4710", "Other bank movements (suspense)", AccountRole.BANK_SUSPENSE, "asset"),
)


@dataclass(frozen=True, slots=True)
class Line:
    role: AccountRole
    amount: int  # base currency, debit positive
    amount_currency: int  # document currency, debit positive
    currency: str
    customer_id: int | None = None


def to_base(amount: int, currency: str, base: str, rate: Decimal) -> int:
    """Convert minor units of ``currency`` into minor units of ``base`` at ``rate``
    (units of base per unit of currency), rounding half up."""
    if currency == base:
        return amount
    src, dst = get_currency(currency).exponent, get_currency(base).exponent
    value = Decimal(amount).scaleb(-src) * rate
    return int(quantize(value, dst, Rounding.HALF_UP).scaleb(dst))


def check_balanced(lines: Iterable[Line]) -> None:
    """Refuse an entry that does not balance in the base currency and in each currency.

    The journal writers (``journal_write``, ``journal_write_many``) call it on every entry they
    write, so it is the one place the rule is checked; the builders below make entries that
    balance by construction. One pass, no sorting unless something is off: it runs once per
    journal entry of a bulk run."""
    base = 0
    per_currency: dict[str, int] = {}
    for line in lines:
        base += line.amount
        per_currency[line.currency] = per_currency.get(line.currency, 0) + line.amount_currency
    if base != 0:
        raise UnbalancedEntry(
            f"journal entry does not balance: off by {base} minor units of the base currency")
    if any(per_currency.values()):
        off = [format_minor(v, c) for c, v in sorted(per_currency.items()) if v]
        raise UnbalancedEntry(f"journal entry does not balance per currency: off by "
                              f"{', '.join(off)}")


def document_entry(
    *,
    credit_note: bool,
    customer_id: int,
    currency: str,
    base_currency: str,
    rate: Decimal,
    net: int,
    tax: int,
    opening: bool = False,
) -> list[Line]:
    """Lines for posting an invoice (or, with ``credit_note``, a credit note). An opening
    item (``opening``: an invoice of another system, known by its total) is carried over,
    not sold: the receivable is set against the opening-balances account, with no VAT."""
    sign = -1 if credit_note else 1
    total = net + tax
    base_total = to_base(total, currency, base_currency, rate)
    if opening:
        if credit_note or tax:
            raise ValueError("an opening item is an invoice with no VAT of its own")
        lines = [
            Line(AccountRole.RECEIVABLE, base_total, total, currency, customer_id),
            Line(AccountRole.OPENING, -base_total, -total, currency),
        ]
        return lines
    base_tax = to_base(tax, currency, base_currency, rate)
    lines = [
        Line(AccountRole.RECEIVABLE, sign * base_total, sign * total, currency, customer_id),
        Line(AccountRole.REVENUE, -sign * (base_total - base_tax), -sign * net, currency),
    ]
    if tax:
        lines.append(Line(AccountRole.TAX, -sign * base_tax, -sign * tax, currency))
    return lines


def receipt_entry(*, customer_id: int, currency: str, amount: int, base_amount: int) -> list[Line]:
    lines = [
        Line(AccountRole.BANK, base_amount, amount, currency),
        Line(AccountRole.UNAPPLIED, -base_amount, -amount, currency, customer_id),
    ]
    return lines


def allocation_entry(
    *, customer_id: int, currency: str, amount: int, base_unapplied: int, base_receivable: int,
    receivable_customer_id: int | None = None,
) -> list[Line]:
    """Move ``amount`` from unapplied cash to the receivable it settles. The two base
    amounts differ when the receipt and the invoice were booked at different rates; the
    difference is a realised exchange gain or loss. ``receivable_customer_id``: the
    customer the invoice was issued to, when a payment of its survivor (or of one of the
    survivor's aliases) pays it (docs/design/customer-records.md); each side stays on the
    share of its own customer."""
    owner = customer_id if receivable_customer_id is None else receivable_customer_id
    lines = [
        Line(AccountRole.UNAPPLIED, base_unapplied, amount, currency, customer_id),
        Line(AccountRole.RECEIVABLE, -base_receivable, -amount, currency, owner),
    ]
    diff = base_receivable - base_unapplied
    if diff:
        lines.append(Line(AccountRole.FX, diff, 0, currency))
    return lines


def cross_allocation_entry(
    *, customer_id: int, currency: str, amount: int, base_receivable: int,
    source_currency: str, source_amount: int, base_unapplied: int,
    receivable_customer_id: int | None = None,
) -> list[Line]:
    """A receipt in ``source_currency`` pays ``amount`` of an instalment in ``currency``.

    Four lines that balance in base and in each currency (docs/design/multi-currency.md):

        Dr unapplied cash    source_amount (source currency)  base_unapplied  customer
        Cr receivable        amount (instalment currency)     base_receivable customer
        Cr exchange diffs    source_amount (source currency)  base_unapplied
        Dr exchange diffs    amount (instalment currency)     base_receivable

    The pair on the exchange-differences account is the conversion: the receipt's money
    leaves at the base amount it was booked at and arrives as the invoice's currency at the
    base amount the receivable is carried at. Their net, ``base_receivable -
    base_unapplied``, is the realised exchange difference (a debit is a loss), exactly as in
    :func:`allocation_entry`.
    """
    if currency == source_currency:
        raise ValueError("a cross-currency allocation needs two different currencies")
    owner = customer_id if receivable_customer_id is None else receivable_customer_id
    lines = [
        Line(AccountRole.UNAPPLIED, base_unapplied, source_amount, source_currency, customer_id),
        Line(AccountRole.RECEIVABLE, -base_receivable, -amount, currency, owner),
        Line(AccountRole.FX, -base_unapplied, -source_amount, source_currency),
        Line(AccountRole.FX, base_receivable, amount, currency),
    ]
    return lines


def negate(lines: Iterable[Line]) -> list[Line]:
    return [
        Line(li.role, -li.amount, -li.amount_currency, li.currency, li.customer_id) for li in lines
    ]
