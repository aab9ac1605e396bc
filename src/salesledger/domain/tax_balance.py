"""Per-line VAT kept within what EN 16931 accepts of a VAT group.

A company that rounds tax per line (``TaxRounding.PER_LINE``) states each line's VAT rounded
to the minor unit, and a VAT group's tax is the sum of them. EN 16931 checks a group's tax
(BT-117) against its taxable amount (BT-116) times its rate (BT-119): rules BR-CO-17 and
BR-S-09 (and their cousins for the other categories) accept it only strictly within one unit
of the currency (1 EUR, 1 JPY, 1 KWD) of that product rounded to two decimals. The rounding
errors of many lines add up: three lines of 105 JPY at 10 % are 11 JPY each, 33 JPY in all,
where the group's 315 JPY x 10 % is 31.50 JPY; two hundred lines of 1.05 EUR at 10 % are
22.00 EUR of VAT against 21.00 EUR.

When the sum of the line taxes of a group breaks that bound, the group's tax becomes what
rounding per document would give (its taxable amount x rate, rounded with the company's
policy), and the lines take the difference: one minor unit off (or onto) each of as many of
the group's items (lines, then document allowances and charges) as the difference needs,
those whose own rounding moved them furthest in the direction of the drift first, the
largest first among equals. Each item's tax stays its net x rate rounded, up or down, to the
minor unit, and the items of a group always add up to the group's tax: what a receiver reads
on the lines of the PDF agrees with the VAT breakdown of the e-invoice (which has no VAT per
line). Groups that keep within the bound are left as the company rounds them. See
docs/design/e-invoicing.md ("Rounding VAT per line").
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from ..money import Rounding, quantize

HUNDRED = Decimal(100)


def tax_within_bound(taxable: int, rate: Decimal, tax: int, exponent: int) -> bool:
    """Whether a VAT group's ``tax`` (minor units) passes EN 16931's check of it against its
    ``taxable`` amount (minor units) at ``rate`` percent, computed as the official Schematron
    computes BR-CO-17 (UBL): ``|tax| - 1 < round(|taxable| x rate / 100, 2) < |tax| + 1``,
    in units of the currency, with XPath's rounding (half up for these positive values);
    a group whose rate rounds to 0 % must carry a tax that rounds to 0."""
    unit = Decimal(10) ** exponent
    amount = abs(Decimal(tax)) / unit
    if Decimal(rate).quantize(Decimal(1), rounding=decimal.ROUND_HALF_UP) == 0:
        return amount.quantize(Decimal(1), rounding=decimal.ROUND_HALF_UP) == 0
    product = abs(Decimal(taxable)) / unit * Decimal(rate)
    expected = quantize(product, 0, Rounding.HALF_UP) / HUNDRED
    return amount - 1 < expected < amount + 1


@dataclass(frozen=True, slots=True)
class TaxItem:
    """One line, document allowance (negative ``amount``) or charge of a VAT group: its
    amount in minor units and its tax as rounded on its own."""

    amount: int
    tax: int


def group_tax(amount: int, rate: Decimal, rounding: Rounding, exponent: int) -> int:
    """A group's tax rounded once, as per-document rounding computes it: ``amount`` x rate
    with the company's policy; with half-up rounding instead in the one case where the
    policy's own result would fail the bound (a currency without decimals, a rate with
    more than two decimals and rounding that is not to the nearest)."""
    exact = Decimal(amount) * rate / HUNDRED
    tax = int(quantize(exact, 0, rounding))
    if not tax_within_bound(amount, rate, tax, exponent):
        tax = int(quantize(exact, 0, Rounding.HALF_UP))
    return tax


def balance_group(items: Sequence[TaxItem], rate: Decimal, rounding: Rounding,
                  exponent: int) -> list[int]:
    """The taxes of a group's items rounded per line, corrected when their sum breaks the
    bound: the sum is then the group's tax rounded once (:func:`group_tax`), each item at
    most one minor unit from its own rounding (see the module docstring). Items are in
    order: lines first, then document allowances and charges."""
    taxes = [i.tax for i in items]
    amount = sum(i.amount for i in items)
    if tax_within_bound(amount, rate, sum(taxes), exponent):
        return taxes
    drift = sum(taxes) - group_tax(amount, rate, rounding, exponent)
    step = 1 if drift > 0 else -1
    # How far each item's rounding moved it in the drift's direction (exact tax to rounded).
    moved = [(Decimal(t) - Decimal(i.amount) * rate / HUNDRED) * step
             for i, t in zip(items, taxes, strict=True)]
    order = sorted((n for n in range(len(items)) if moved[n] > 0),
                   key=lambda n: (-moved[n], -abs(items[n].amount), n))
    # Always enough: the group's tax lies between the sums of the items' taxes rounded
    # down and rounded up, so as many items as the drift rounded the other way.
    for n in order[:abs(drift)]:
        taxes[n] -= step
    return taxes
