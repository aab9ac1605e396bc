"""Invoice and credit-note arithmetic.

A line's net is quantity x unit price less its discount, rounded to the currency's minor
unit at the line (EN 16931 BT-131 is a line net amount with two decimals at most). Tax is
computed either per line and summed, or once per tax rate on the sum of the nets of that
rate ("per document", as EN 16931 computes BT-117 per VAT breakdown). Which of the two a
company uses is its tax-rounding setting; the rounding rule is its rounding policy.

Document-level allowances and charges (EN 16931 BG-20, BG-21: a discount on the whole
invoice, freight, packing) carry their own VAT category and rate and enter the VAT breakdown
of that category and rate, exactly as EN 16931 computes it: the taxable amount of a
category and rate (BT-116) is the sum of its line nets, plus its charges, less its
allowances (BR-S-08 and the like); the sum of line nets (BT-106) less all allowances
(BT-107) plus all charges (BT-108) is the total without VAT (BT-109, BR-CO-13), and the
total with VAT (BT-112) adds the sum of the VAT of every category (BT-110, BR-CO-14/15).
Per line, a charge is taxed like a line and an allowance like a negative line.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from ..money import Money, Rounding, get_currency, quantize
from .errors import EmptyInvoice, NegativeQuantity, PurchaseOrderRequired, ValidationFailed
from .party_ids import parse_item_id
from .tax_balance import TaxItem, balance_group, group_tax

HUNDRED = Decimal(100)


class TaxRounding(StrEnum):
    PER_LINE = "per_line"
    PER_DOCUMENT = "per_document"


class VatCategory(StrEnum):
    """UNCL 5305 VAT category codes used by EN 16931 (BT-95, BT-102, BT-118, BT-151): the
    categories of the ledger's lines and document allowances and charges, and of its
    e-invoices (``domain/einvoice.py``)."""

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
    tax_category: str = VatCategory.STANDARD.value
    # Why a line bears no VAT (EN 16931 BT-120): needed for exempt (E) lines.
    exemption_reason: str = ""
    # UN/ECE Recommendation 20 unit of measure (EN 16931 BT-130); C62 is "one" (a unit).
    unit_code: str = "C62"
    # The item's identifiers: the seller's own code (EN 16931 BT-155) and a standard one
    # (BT-157) with its ISO 6523 scheme (0160: a GTIN), checked by ``domain/party_ids.py``.
    seller_item_id: str = ""
    standard_item_id: str = ""
    standard_item_scheme: str = ""


@dataclass(frozen=True, slots=True)
class DocumentChargeInput:
    """A document-level allowance (``is_charge=False``: a discount on the whole document,
    EN 16931 BG-20) or charge (freight, packing: BG-21) with its own VAT category and rate.
    ``amount`` is positive, in the document currency, at most its number of decimals."""

    is_charge: bool
    amount: Decimal
    reason: str = ""
    reason_code: str = ""
    tax_rate: Decimal = Decimal(0)
    tax_category: str = VatCategory.STANDARD.value
    # Given as a percentage (EN 16931 BT-94, BT-101) of the lines of its category and rate:
    # ``compute_totals`` computes the amount (``amount`` is then not read).
    percent: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ChargeTotal:
    """A document allowance or charge in minor units, with the VAT it adds (a charge) or
    takes off (an allowance, negative) when tax is rounded per line; ``base``: the line nets
    a percentage was taken of (BT-93, BT-100), for one given as a percentage."""

    amount: int
    tax: int
    base: int | None = None


SUPPLY_TYPES = ("goods", "services", "mixed")


@dataclass(frozen=True, slots=True)
class SupplyDetails:
    """What a document says about the supply beyond its lines (EN 16931): when it was
    delivered (BT-72) or the period it covers (BG-14: BT-73, BT-74), the contract (BT-12) and
    project (BT-11) it belongs to, and whether it is of goods, services or both (the nature
    of the operation the French reform asks for, BT-23 in CII)."""

    delivery_date: date | None = None
    period_start: date | None = None
    period_end: date | None = None
    contract_reference: str = ""
    project_reference: str = ""
    supply_type: str = ""

    def as_json(self) -> dict[str, str]:
        """As a snapshot keeps it: only what is given, dates in ISO form."""
        out = {"delivery_date": self.delivery_date, "period_start": self.period_start,
               "period_end": self.period_end, "contract_reference": self.contract_reference,
               "project_reference": self.project_reference, "supply_type": self.supply_type}
        return {k: v.isoformat() if isinstance(v, date) else v for k, v in out.items() if v}


def check_supply(details: SupplyDetails) -> SupplyDetails:
    """The supply details of a document, checked where they are typed: a period that ends
    before it starts is refused (EN 16931 BR-29), references are one line of at most 60
    characters, the nature of the operation is goods, services or mixed."""
    start, end = details.period_start, details.period_end
    if start and end and end < start:
        raise ValidationFailed(f"the invoicing period ends ({end}) before it starts ({start}) "
                               "(EN 16931 rule BR-29)", field="period")
    refs = {}
    for name in ("contract_reference", "project_reference"):
        value = " ".join(getattr(details, name).split())
        if len(value) > 60:
            raise ValidationFailed(f"the {name.replace('_', ' ')} is longer than 60 characters",
                                   field=name)
        refs[name] = value
    kind = details.supply_type.strip().lower()
    if kind not in ("", *SUPPLY_TYPES):
        raise ValidationFailed(f"nature of the operation {details.supply_type!r}: use goods, "
                               "services or mixed", field="supply_type")
    return SupplyDetails(details.delivery_date, start, end, refs["contract_reference"],
                         refs["project_reference"], kind)


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
    # Document-level allowances and charges (BT-107, BT-108), each in input order.
    allowance_total: int = 0
    charge_total: int = 0
    charges: tuple[ChargeTotal, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "total", self.net + self.tax)

    @property
    def line_net(self) -> int:
        """The sum of line nets (EN 16931 BT-106); ``net`` is the total without VAT
        (BT-109), after document allowances and charges."""
        return self.net + self.allowance_total - self.charge_total

    def money(self, minor: int) -> Money:
        return Money.from_minor(minor, self.currency)


# UN/ECE Recommendation 20 units of measure that documents may use (BT-130). The
# recommendation has some two thousand codes; these are the ones a sales ledger meets, and
# every one is valid in the EN 16931 code list, so an e-invoice never carries a unit its
# receiver's validator refuses.
UNIT_CODES: dict[str, str] = {
    "C62": "one (unit)", "H87": "piece", "EA": "each", "SET": "set", "PR": "pair",
    "DZN": "dozen", "LS": "lump sum", "E48": "service unit",
    "SEC": "second", "MIN": "minute", "HUR": "hour", "DAY": "day", "WEE": "week",
    "MON": "month", "ANN": "year",
    "GRM": "gram", "KGM": "kilogram", "TNE": "tonne",
    "MMT": "millimetre", "CMT": "centimetre", "MTR": "metre", "KMT": "kilometre",
    "MTK": "square metre", "MTQ": "cubic metre", "MLT": "millilitre", "LTR": "litre",
    "KWH": "kilowatt hour",
}

# UNCL 5189 allowance reason codes allowed by EN 16931 (BT-98, BT-140).
ALLOWANCE_REASON_CODES: dict[str, str] = {
    "41": "Bonus for works ahead of schedule", "42": "Other bonus",
    "60": "Manufacturer's consumer discount", "62": "Due to military status",
    "63": "Due to work accident", "64": "Special agreement", "65": "Production error discount",
    "66": "New outlet discount", "67": "Sample discount", "68": "End-of-range discount",
    "70": "Incoterm discount", "71": "Point of sales threshold allowance",
    "88": "Material surcharge/deduction", "95": "Discount", "100": "Special rebate",
    "102": "Fixed long term", "103": "Temporary", "104": "Standard",
    "105": "Yearly turnover",
}

# UNCL 7161 charge reason codes (BT-105, BT-145) a sales ledger meets; the full list is
# long and a code outside it is better written as a reason text.
CHARGE_REASON_CODES: dict[str, str] = {
    "AAT": "Rush delivery", "ABK": "Miscellaneous", "ABL": "Additional packaging",
    "ADR": "Other services", "FC": "Freight service", "FI": "Financing", "LA": "Labelling",
    "PC": "Packing", "SH": "Special handling", "ZZZ": "Mutually defined",
}


# The largest quantity, unit price and line amount one line may carry (a trillion), and the
# decimals a quantity or price may have: enough for any sale, and far from the 64-bit limit of
# the amounts stored in minor units.
LINE_LIMIT = Decimal(10) ** 12
MAX_LINE_DECIMALS = 10


def validate_line(line: LineInput, index: int, *, allow_negative: bool = False) -> None:
    where = f"line {index + 1}"
    if line.unit_code not in UNIT_CODES:
        raise ValidationFailed(
            f"{where}: unknown unit {line.unit_code!r}; use one of {', '.join(UNIT_CODES)}",
            line=index + 1)
    if len(line.exemption_reason) > 200:
        raise ValidationFailed(f"{where}: the VAT exemption reason is longer than 200 "
                               "characters", line=index + 1)
    for name, value in (("quantity", line.quantity), ("unit price", line.unit_price),
                        ("discount", line.discount_percent), ("tax rate", line.tax_rate)):
        if not value.is_finite() or value.as_tuple().exponent < -MAX_LINE_DECIMALS:  # type: ignore[operator]
            raise ValidationFailed(f"{where}: {name} {value} is not a number with at most "
                                   f"{MAX_LINE_DECIMALS} decimals", line=index + 1)
    if abs(line.quantity) >= LINE_LIMIT or abs(line.unit_price) >= LINE_LIMIT or (
            abs(line.quantity * line.unit_price) >= LINE_LIMIT):
        raise ValidationFailed(f"{where}: quantity {line.quantity} x unit price "
                               f"{line.unit_price} is beyond what one line can carry "
                               f"(under {LINE_LIMIT:,} each and in total)", line=index + 1)
    if line.quantity < 0 and not allow_negative:
        raise NegativeQuantity(f"{where}: quantity {line.quantity} is negative", line=index + 1)
    if line.unit_price < 0 and not allow_negative:
        raise NegativeQuantity(f"{where}: unit price {line.unit_price} is negative", line=index + 1)
    if not (Decimal(0) <= line.discount_percent <= HUNDRED):
        raise ValidationFailed(f"{where}: discount must be between 0 and 100 %", line=index + 1)
    if not (Decimal(0) <= line.tax_rate <= HUNDRED):
        raise ValidationFailed(f"{where}: tax rate must be between 0 and 100 %", line=index + 1)
    if line.tax_category not in VatCategory._value2member_map_:
        raise ValidationFailed(
            f"{where}: unknown tax category {line.tax_category!r}", line=index + 1
        )
    if line.tax_category != VatCategory.STANDARD and line.tax_rate != 0:
        raise ValidationFailed(
            f"{where}: tax category {line.tax_category} takes a 0 % rate", line=index + 1
        )
    _check_item_ids(line, where, index)


def _check_item_ids(line: LineInput, where: str, index: int) -> None:
    """The item's identifiers (BT-155, BT-157): one word each, a standard one in its scheme
    and with its check digits (a GTIN's), as ``party_ids`` checks them when typed."""
    seller = line.seller_item_id
    if seller and (len(seller) > 40 or seller != seller.strip() or "\n" in seller):
        raise ValidationFailed(f"{where}: the seller's item id is one line of at most 40 "
                               "characters", line=index + 1)
    if line.standard_item_id or line.standard_item_scheme:
        try:
            given = (line.standard_item_scheme, line.standard_item_id)
            if not all(given) or parse_item_id(":".join(given)) != given:
                raise ValidationFailed(f"item identifier {':'.join(given)!r} is not in its "
                                       "compact form SCHEME:ID", field="standard_id")
        except ValidationFailed as exc:
            raise ValidationFailed(f"{where}: {exc.message}", line=index + 1) from None


def validate_charge(charge: DocumentChargeInput, index: int, exponent: int) -> int:
    """Check a document allowance or charge; return its amount in minor units."""
    kind = "charge" if charge.is_charge else "allowance"
    where = f"document {kind} {index + 1}"
    scaled = charge.amount.scaleb(exponent)
    if not charge.amount.is_finite() or scaled != scaled.to_integral_value():
        raise ValidationFailed(f"{where}: amount {charge.amount} has more decimals than the "
                               "currency has", charge=index + 1)
    if charge.amount <= 0:
        raise ValidationFailed(f"{where}: the amount must be more than zero", charge=index + 1)
    if not (charge.reason.strip() or charge.reason_code):
        raise ValidationFailed(f"{where}: give a reason (EN 16931 rules BR-33 and BR-38)",
                               charge=index + 1)
    if len(charge.reason) > 200:
        raise ValidationFailed(f"{where}: the reason is longer than 200 characters",
                               charge=index + 1)
    codes = CHARGE_REASON_CODES if charge.is_charge else ALLOWANCE_REASON_CODES
    if charge.reason_code and charge.reason_code not in codes:
        raise ValidationFailed(
            f"{where}: unknown reason code {charge.reason_code!r}; use one of "
            f"{', '.join(codes)} or write the reason as text", charge=index + 1)
    if not (Decimal(0) <= charge.tax_rate <= HUNDRED):
        raise ValidationFailed(f"{where}: tax rate must be between 0 and 100 %",
                               charge=index + 1)
    if charge.percent is not None and not (
            charge.percent.is_finite() and Decimal(0) < charge.percent <= HUNDRED
            and charge.percent.as_tuple().exponent >= -4):  # type: ignore[operator]
        raise ValidationFailed(f"{where}: a percentage is more than 0 and at most 100, with "
                               "at most four decimals", charge=index + 1)
    if charge.tax_category not in VatCategory._value2member_map_:
        raise ValidationFailed(f"{where}: unknown tax category {charge.tax_category!r}",
                               charge=index + 1)
    if charge.tax_category != VatCategory.STANDARD and charge.tax_rate != 0:
        raise ValidationFailed(
            f"{where}: tax category {charge.tax_category} takes a 0 % rate", charge=index + 1)
    return int(scaled)


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
    charges: Sequence[DocumentChargeInput] = (),
) -> Totals:
    """Compute line nets, tax per rate and document totals in minor units.

    ``charges`` are the document-level allowances and charges: each enters the VAT group of
    its category and rate (see the module docstring)."""
    if not lines:
        raise EmptyInvoice("a document needs at least one line")
    exponent = get_currency(currency).exponent
    for i, line in enumerate(lines):
        validate_line(line, i, allow_negative=allow_negative)
    nets = [line_net(line, exponent, rounding) for line in lines]
    bases = [_percent_base(c, lines, nets) for c in charges]
    charges = [c if b is None else _at_percent(c, b, exponent, rounding)
               for c, b in zip(charges, bases, strict=True)]
    amounts = [validate_charge(c, i, exponent) for i, c in enumerate(charges)]
    line_taxes = [_tax(n, line.tax_rate, rounding) for n, line in zip(nets, lines, strict=True)]
    # An allowance is a negative amount of its group; its tax is rounded like a line's.
    signed = [a if c.is_charge else -a for a, c in zip(amounts, charges, strict=True)]
    charge_taxes = [_signed_tax(a, c.tax_rate, rounding)
                    for a, c in zip(signed, charges, strict=True)]

    group_net: dict[tuple[str, Decimal], int] = defaultdict(int)
    group_line_tax: dict[tuple[str, Decimal], int] = defaultdict(int)
    # Which items (index into lines, then charges) make each group, in that order.
    members: dict[tuple[str, Decimal], list[int]] = defaultdict(list)
    for k, (n, line) in enumerate(zip(nets, lines, strict=True)):
        key = (line.tax_category, line.tax_rate.normalize())
        group_net[key] += n
        members[key].append(k)
    for i, (a, c) in enumerate(zip(signed, charges, strict=True)):
        key = (c.tax_category, c.tax_rate.normalize())
        if key not in group_net and a < 0:
            raise ValidationFailed(
                f"document allowance {i + 1}: no line is in tax category {c.tax_category} at "
                f"{c.tax_rate} %, so there is nothing for it to reduce", charge=i + 1)
        group_net[key] += a
        members[key].append(len(lines) + i)
    # Rounded per line, each group's tax stays within what EN 16931 accepts of it
    # (BR-CO-17, BR-S-09): domain/tax_balance.py.
    amounts_all, taxes_all = [*nets, *signed], [*line_taxes, *charge_taxes]
    for key, items in members.items() if tax_rounding is TaxRounding.PER_LINE else ():
        balanced = balance_group([TaxItem(amounts_all[k], taxes_all[k]) for k in items],
                                 key[1], rounding, exponent)
        for k, t in zip(items, balanced, strict=True):
            taxes_all[k] = t
        group_line_tax[key] = sum(balanced)
    line_taxes, charge_taxes = taxes_all[:len(lines)], taxes_all[len(lines):]

    groups = []
    for (category, rate), net in sorted(group_net.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        if net < 0 and not allow_negative and any(not c.is_charge for c in charges):
            raise ValidationFailed(
                f"the document allowances at {category} {rate} % are more than the lines "
                "they reduce", category=category, rate=rate)
        if tax_rounding is TaxRounding.PER_LINE:
            tax = group_line_tax[(category, rate)]
        else:
            tax = group_tax(net, rate, rounding, exponent)
        groups.append(TaxGroup(category, rate, net, tax))

    # Per-document tax lives on the groups; line (and charge) tax is informative only.
    line_totals = tuple(LineTotal(n, t) for n, t in zip(nets, line_taxes, strict=True))
    allowance_total = sum(a for a, c in zip(amounts, charges, strict=True) if not c.is_charge)
    charge_total = sum(a for a, c in zip(amounts, charges, strict=True) if c.is_charge)
    return Totals(
        currency=currency,
        lines=line_totals,
        tax_groups=tuple(groups),
        net=sum(nets) - allowance_total + charge_total,
        tax=sum(g.tax for g in groups),
        allowance_total=allowance_total,
        charge_total=charge_total,
        charges=tuple(ChargeTotal(a, t, b)
                      for a, t, b in zip(amounts, charge_taxes, bases, strict=True)),
    )


def _percent_base(charge: DocumentChargeInput, lines: Sequence[LineInput],
                  nets: list[int]) -> int | None:
    """The line nets (minor units) a percentage allowance or charge is taken of: those of
    its VAT category and rate (the group it enters); None for one given as an amount."""
    if charge.percent is None:
        return None
    key = (charge.tax_category, charge.tax_rate.normalize())
    return sum(n for n, li in zip(nets, lines, strict=True)
               if (li.tax_category, li.tax_rate.normalize()) == key)


def _at_percent(charge: DocumentChargeInput, base: int, exponent: int,
                rounding: Rounding) -> DocumentChargeInput:
    """The allowance or charge with the amount its percentage of ``base`` comes to, rounded
    to the currency (EN 16931: BT-92 = BT-93 x BT-94 / 100)."""
    assert charge.percent is not None
    minor = quantize(Decimal(base) * charge.percent / HUNDRED, 0, rounding)
    return replace(charge, amount=minor.scaleb(-exponent))


def _signed_tax(amount: int, rate: Decimal, rounding: Rounding) -> int:
    # Round the magnitude, so that an allowance takes off exactly the tax an equal charge
    # would add (half-up rounding of -0.5 would otherwise give -0 and of 0.5 give 1).
    tax = _tax(abs(amount), rate, rounding)
    return tax if amount >= 0 else -tax


def check_purchase_order(*, is_invoice: bool, po_required: bool, po_number: str,
                         customer_code: str) -> None:
    """An invoice (not a credit note) for a customer who requires purchase orders carries a
    purchase-order number; blanks alone are no number. The one rule for every posting path."""
    if is_invoice and po_required and not po_number.strip():
        raise PurchaseOrderRequired(
            f"customer {customer_code} requires a purchase order number on every invoice",
            customer=customer_code)
