"""Adjustments: what settles an invoice without money coming in, and money that goes back.

The rules of docs/design/adjustments.md, as pure functions over integer minor units:

* the four kinds of adjustment and the account each one debits: a payment difference written
  off within the company's tolerance and an early-payment discount are reductions of the
  price (IFRS 15 variable consideration, settlement discounts account); a deduction the
  customer took for a reason (pricing, damaged goods, freight, promotional allowance, tax,
  other) reduces revenue directly (IFRS 15.70, consideration payable to a customer); a bad
  debt is a credit loss, presented on its own line (IAS 1.82(ba), bad debts account);
* the write-off tolerance: a residual may be written off as a payment difference only if it
  is within both the company's amount limit (in base currency) and its percentage of the
  invoice total;
* the VAT share of a discount or of a bad debt, when the taxable amount is reduced (EU VAT
  directive 2006/112/EC art. 90: "in the case of cancellation, refusal or total or partial
  non-payment, or where the price is reduced after the supply takes place, the taxable
  amount shall be reduced accordingly"), split in proportion to the invoice's tax;
* when an early-payment discount is earned;
* how a later payment on a written-off invoice splits into what it recovers and what stays
  written off;
* the journal entries of an adjustment, a refund and the reclassification of a returned-
  payment fee to fee income.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from ..money import format_minor, major_text
from .errors import NegativeAmount, ValidationFailed, WriteOffExceedsTolerance
from .journal import AccountRole, Line, check_balanced


class AdjustmentKind(StrEnum):
    WRITE_OFF = "write_off"  # a small payment difference, within tolerance
    DEDUCTION = "deduction"  # the customer deducted an amount, for a reason
    DISCOUNT = "discount"  # an early-payment discount earned under the payment terms
    BAD_DEBT = "bad_debt"  # a debt that will not be paid


class DeductionReason(StrEnum):
    PRICING = "pricing"
    DAMAGED_GOODS = "damaged_goods"
    FREIGHT = "freight"
    PROMOTIONAL_ALLOWANCE = "promotional_allowance"
    TAX = "tax"
    OTHER = "other"


class DiscountTaxPolicy(StrEnum):
    GROSS = "gross"  # the whole discount to the settlement discounts account
    ADJUST_VAT = "adjust_vat"  # its VAT share reduces the output tax (art. 90)


# The account each kind debits; the receivable is credited.
ACCOUNT_FOR_KIND: dict[AdjustmentKind, AccountRole] = {
    AdjustmentKind.WRITE_OFF: AccountRole.DISCOUNT,
    AdjustmentKind.DISCOUNT: AccountRole.DISCOUNT,
    AdjustmentKind.DEDUCTION: AccountRole.REVENUE,
    AdjustmentKind.BAD_DEBT: AccountRole.WRITE_OFF,
}


def parse_kind(text: str) -> AdjustmentKind:
    try:
        return AdjustmentKind(text.strip().lower().replace("-", "_"))
    except ValueError:
        raise ValidationFailed(
            f"unknown adjustment kind {text!r}; use one of "
            f"{', '.join(k.value for k in AdjustmentKind)}", field="kind") from None


def parse_reason(text: str) -> DeductionReason:
    try:
        return DeductionReason(text.strip().lower().replace("-", "_").replace(" ", "_"))
    except ValueError:
        raise ValidationFailed(
            f"unknown deduction reason {text!r}; use one of "
            f"{', '.join(r.value for r in DeductionReason)}", field="reason_code") from None


def parse_tax_policy(text: str) -> DiscountTaxPolicy:
    try:
        return DiscountTaxPolicy(text.strip().lower().replace("-", "_"))
    except ValueError:
        raise ValidationFailed(
            f"unknown discount tax policy {text!r}; use gross or adjust_vat",
            field="discount_tax_policy") from None


# ---------------------------------------------------------------- tolerance
@dataclass(frozen=True, slots=True)
class Tolerance:
    """A company's write-off tolerance: an amount in minor units of its base currency and a
    percentage of the invoice total. A residual is within it when it is within both; a limit
    of zero allows nothing."""

    amount: int
    percent: Decimal

    def __post_init__(self) -> None:
        if self.amount < 0:
            raise ValidationFailed("the write-off tolerance amount cannot be negative",
                                   field="writeoff_tolerance_amount")
        if not Decimal(0) <= self.percent <= Decimal(100):
            raise ValidationFailed("the write-off tolerance percentage must be between 0 and "
                                   "100", field="writeoff_tolerance_percent")


def percent_limit(invoice_total: int, percent: Decimal) -> int:
    """The largest residual (minor units, rounded down) within ``percent`` of the total."""
    return int((Decimal(invoice_total) * percent / 100).to_integral_value(rounding="ROUND_DOWN"))


def check_tolerance(residual: int, *, base_residual: int, invoice_total: int,
                    tolerance: Tolerance, currency: str, base_currency: str,
                    where: str = "") -> None:
    """Refuse writing off ``residual`` (minor units of the document's ``currency``;
    ``base_residual`` of ``base_currency``) as a payment difference when it is outside the
    tolerance."""
    if residual <= 0:
        raise NegativeAmount("a write-off must be a positive amount")
    by_percent = percent_limit(invoice_total, tolerance.percent)
    if base_residual > tolerance.amount or residual > by_percent:
        amount = format_minor(residual, currency)
        if currency != base_currency:
            amount += f", {format_minor(base_residual, base_currency)} in the base currency"
        raise WriteOffExceedsTolerance(
            f"the residual{' of ' + where if where else ''} ({amount}) is outside the "
            f"write-off tolerance (at most {format_minor(tolerance.amount, base_currency)} and "
            f"{tolerance.percent} % of the invoice, {format_minor(by_percent, currency)}); "
            "leave it open, record a deduction, or write it off as a bad debt",
            residual=major_text(residual, currency), currency=currency,
            limit_amount=major_text(tolerance.amount, base_currency),
            base_currency=base_currency, limit_percent=tolerance.percent)


# ---------------------------------------------------------------- VAT share
def tax_share(amount: int, *, invoice_tax: int, invoice_total: int) -> int:
    """The VAT part of ``amount`` taken off an invoice of ``invoice_total`` carrying
    ``invoice_tax``: in proportion, rounded half up to the minor unit. The rest is net."""
    if invoice_total <= 0 or invoice_tax == 0 or amount == 0:
        return 0
    share = (Decimal(amount) * invoice_tax / invoice_total).quantize(Decimal(1), ROUND_HALF_UP)
    return int(share)


def vat_shares(amount: int, base_amount: int, *, invoice_tax: int, invoice_total: int
               ) -> tuple[int, int]:
    """The VAT share of an adjustment of ``amount`` (``base_amount`` in base currency) on an
    invoice, and its base amount in the same proportion: none when there is no VAT share,
    the whole base when the whole amount is VAT."""
    tax = tax_share(amount, invoice_tax=invoice_tax, invoice_total=invoice_total)
    base_tax = (0 if tax == 0 else base_amount if tax == amount
                else tax_share(base_amount, invoice_tax=invoice_tax, invoice_total=invoice_total))
    return tax, base_tax


# ---------------------------------------------------------------- early-payment discount
def discount_earned(*, open_after: int, discount_amount: int, discount_date: date | None,
                    payment_dates: list[date]) -> bool:
    """Whether an instalment has earned its early-payment discount: what is left open after
    the payments is exactly the discount, and every payment on it was made (the receipt's
    date, the day the money arrived) on or before the discount's last day."""
    if discount_date is None or discount_amount <= 0 or open_after != discount_amount:
        return False
    return bool(payment_dates) and all(d <= discount_date for d in payment_dates)


# ---------------------------------------------------------------- bad-debt recovery
@dataclass(frozen=True, slots=True)
class Recovery:
    """A payment of ``paid`` on an invoice with ``open_before`` still open and ``written_off``
    written off: the payment pays what is open first, then recovers; what it does not
    recover is written off again."""

    paid: int
    recovered: int
    written_off_again: int


def split_recovery(*, paid: int, open_before: int, written_off: int, currency: str
                   ) -> Recovery:
    if paid <= 0:
        raise NegativeAmount("a recovery must be a positive amount")
    if written_off <= 0:
        raise ValidationFailed("the invoice has nothing written off to recover")
    if paid > open_before + written_off:
        raise ValidationFailed(
            f"the payment ({format_minor(paid, currency)}) is more than is open "
            f"({format_minor(open_before, currency)}) and written off "
            f"({format_minor(written_off, currency)}) on the invoice")
    recovered = max(0, paid - open_before)
    return Recovery(paid, recovered, written_off - recovered)


# ---------------------------------------------------------------- journal entries
def adjustment_entry(*, kind: AdjustmentKind, customer_id: int, currency: str, amount: int,
                     base_amount: int, tax: int = 0, base_tax: int = 0) -> list[Line]:
    """Settle ``amount`` of a receivable without money:

        Dr <account of the kind>   amount - tax
        Dr output tax              tax            (only when the taxable amount is reduced)
        Cr receivable              amount         customer

    Base amounts: the receivable is relieved at its carrying amount (``base_amount``), so an
    adjustment realises no exchange difference."""
    if amount <= 0:
        raise NegativeAmount("an adjustment must be a positive amount")
    if not 0 <= tax <= amount:
        raise ValidationFailed("the VAT share of an adjustment lies between 0 and its amount")
    lines = [Line(ACCOUNT_FOR_KIND[kind], base_amount - base_tax, amount - tax, currency)]
    if tax:
        lines.append(Line(AccountRole.TAX, base_tax, tax, currency))
    lines.append(Line(AccountRole.RECEIVABLE, -base_amount, -amount, currency, customer_id))
    check_balanced(lines)
    return lines


def refund_entry(*, customer_id: int, currency: str, amount: int,
                 base_amount: int) -> list[Line]:
    """Money paid back out of a receipt's unapplied cash: Dr unapplied cash / Cr bank."""
    if amount <= 0:
        raise NegativeAmount("a refund must be a positive amount")
    lines = [Line(AccountRole.UNAPPLIED, base_amount, amount, currency, customer_id),
             Line(AccountRole.BANK, -base_amount, -amount, currency)]
    check_balanced(lines)
    return lines


def fee_reclass_entry(*, currency: str, net: int, base_net: int) -> list[Line]:
    """Move a returned-payment fee invoice's revenue to fee income: Dr revenue / Cr fees."""
    lines = [Line(AccountRole.REVENUE, base_net, net, currency),
             Line(AccountRole.FEES, -base_net, -net, currency)]
    check_balanced(lines)
    return lines
