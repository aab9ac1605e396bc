"""Invoice and credit-note arithmetic.

A line's net is quantity x unit price less its discount, rounded to the currency's minor
unit at the line (EN 16931 BT-131 is a line net amount with two decimals at most). Tax is
computed either per line and summed, or once per tax rate on the sum of the nets of that
rate ("per document", as EN 16931 computes BT-117 per VAT breakdown). Which of the two a
company uses is its tax-rounding setting; the rounding rule is its rounding policy.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from ..money import Money, Rounding, get_currency, quantize
from .errors import EmptyInvoice, NegativeQuantity, ValidationFailed

HUNDRED = Decimal(100)


class TaxRounding(StrEnum):
    PER_LINE = "per_line"
    PER_DOCUMENT = "per_document"


class TaxCategory(StrEnum):
    """UNCL5305 VAT category codes used by EN 16931."""

    STANDARD = "S"
    ZERO = "Z"
    EXEMPT = "E"
    REVERSE_CHARGE = "AE"
    INTRA_COMMUNITY = "K"
    EXPORT = "G"
    NOT_SUBJECT = "O"


@dataclass(frozen=True, slots=True)
class LineInput:
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal = Decimal(0)
    discount_percent: Decimal = Decimal(0)
    tax_category: str = TaxCategory.STANDARD.value


@dataclass(frozen=True, slots=True)
class LineTotal:
    net: int
    tax: int


@dataclass(frozen=True, slots=True)
class TaxGroup:
    category: str
    rate: Decimal
    net: int
    tax: int


@dataclass(frozen=True, slots=True)
class Totals:
    currency: str
    lines: tuple[LineTotal, ...]
    tax_groups: tuple[TaxGroup, ...]
    net: int
    tax: int
    total: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "total", self.net + self.tax)

    def money(self, minor: int) -> Money:
        return Money.from_minor(minor, self.currency)


def validate_line(line: LineInput, index: int, *, allow_negative: bool = False) -> None:
    where = f"line {index + 1}"
    if line.quantity < 0 and not allow_negative:
        raise NegativeQuantity(f"{where}: quantity {line.quantity} is negative", line=index + 1)
    if line.unit_price < 0 and not allow_negative:
        raise NegativeQuantity(f"{where}: unit price {line.unit_price} is negative", line=index + 1)
    if not (Decimal(0) <= line.discount_percent <= HUNDRED):
        raise ValidationFailed(f"{where}: discount must be between 0 and 100 %", line=index + 1)
    if not (Decimal(0) <= line.tax_rate <= HUNDRED):
        raise ValidationFailed(f"{where}: tax rate must be between 0 and 100 %", line=index + 1)
    if line.tax_category not in TaxCategory._value2member_map_:
        raise ValidationFailed(
            f"{where}: unknown tax category {line.tax_category!r}", line=index + 1
        )
    if line.tax_category != TaxCategory.STANDARD and line.tax_rate != 0:
        raise ValidationFailed(
            f"{where}: tax category {line.tax_category} takes a 0 % rate", line=index + 1
        )


def line_net(line: LineInput, exponent: int, rounding: Rounding) -> int:
    gross = line.quantity * line.unit_price
    net = gross * (HUNDRED - line.discount_percent) / HUNDRED
    return int(quantize(net, exponent, rounding).scaleb(exponent))


def _tax(net_minor: int, rate: Decimal, rounding: Rounding) -> int:
    # net is already in minor units: tax in minor units is net * rate / 100 rounded to 0 places.
    return int(quantize(Decimal(net_minor) * rate / HUNDRED, 0, rounding))


def compute_totals(
    lines: list[LineInput],
    currency: str,
    *,
    tax_rounding: TaxRounding = TaxRounding.PER_LINE,
    rounding: Rounding = Rounding.HALF_UP,
    allow_negative: bool = False,
) -> Totals:
    """Compute line nets, tax per rate and document totals in minor units."""
    if not lines:
        raise EmptyInvoice("a document needs at least one line")
    exponent = get_currency(currency).exponent
    for i, line in enumerate(lines):
        validate_line(line, i, allow_negative=allow_negative)
    nets = [line_net(line, exponent, rounding) for line in lines]
    line_taxes = [_tax(n, line.tax_rate, rounding) for n, line in zip(nets, lines, strict=True)]

    group_net: dict[tuple[str, Decimal], int] = defaultdict(int)
    group_line_tax: dict[tuple[str, Decimal], int] = defaultdict(int)
    for n, t, line in zip(nets, line_taxes, lines, strict=True):
        key = (line.tax_category, line.tax_rate.normalize())
        group_net[key] += n
        group_line_tax[key] += t

    groups = []
    for (category, rate), net in sorted(group_net.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        if tax_rounding is TaxRounding.PER_LINE:
            tax = group_line_tax[(category, rate)]
        else:
            tax = _tax(net, rate, rounding)
        groups.append(TaxGroup(category, rate, net, tax))

    if tax_rounding is TaxRounding.PER_LINE:
        line_totals = tuple(LineTotal(n, t) for n, t in zip(nets, line_taxes, strict=True))
    else:
        # Per-document tax: the tax lives on the groups; line tax is informative only.
        line_totals = tuple(LineTotal(n, t) for n, t in zip(nets, line_taxes, strict=True))
    return Totals(
        currency=currency,
        lines=line_totals,
        tax_groups=tuple(groups),
        net=sum(nets),
        tax=sum(g.tax for g in groups),
    )
