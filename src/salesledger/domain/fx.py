"""Exchange rates and exchange differences: the pure rules (see docs/design/multi-currency.md).

A **rate** is the number of units of the company's base currency that one unit of a foreign
currency is worth on a day (for a EUR company, USD 0.92 means 1 USD = 0.92 EUR), the same
convention as the ``rate`` of an invoice or a receipt. The European Central Bank quotes the
other way round (1 EUR = 1.0870 USD), so its quotes are inverted for a EUR company and
crossed through the euro for any other base currency. Derived rates keep
:data:`RATE_DIGITS` significant digits, rounded half-even: more than any bank quotes, few
enough to store and read back exactly.

A receipt in one currency that pays an instalment in another uses a **cross rate**: units
of the instalment's currency per unit of the receipt's (``rate_receipt / rate_instalment``
of the rate table). What is taken from the receipt for a share is the share converted back
at that rate, rounded half up, except that a share which uses up everything the receipt
still has converts to exactly that remainder: a receipt that pays exactly is used exactly,
to the minor unit, on both sides.

**Revaluation** (at a period end): a customer's open foreign-currency items are carried in
base currency at their booking rates (what is left of their base amounts after allocations
relieved their share). Their value at the closing rate differs; the difference is an
unrealised gain or loss, booked on the customer's receivable or unapplied-cash account (base
amount only: ``amount_currency`` 0, the open amounts in document currency do not change)
against the unrealised exchange differences account, and reversed the next day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from enum import StrEnum

from ..money import Rounding, format_minor, get_currency, major_text, quantize
from .errors import AllocationExceedsUnallocated, ValidationFailed
from .journal import AccountRole, Line, check_balanced, to_base

RATE_DIGITS = 12
_CTX = Context(prec=RATE_DIGITS, rounding=ROUND_HALF_EVEN)
# A rate outside this range is a typing mistake, not a currency (the widest real pair, a
# strong base against a hyperinflated currency, stays well inside).
_MIN_RATE, _MAX_RATE = Decimal("1e-9"), Decimal("1e9")


class RateSource(StrEnum):
    MANUAL = "manual"
    CSV = "csv"
    ECB = "ecb"


# When several sources give a rate for the same day, the one entered by hand wins over an
# imported file, and a company's own file over the central bank's reference rate.
SOURCE_PRIORITY: tuple[RateSource, ...] = (RateSource.MANUAL, RateSource.CSV, RateSource.ECB)


def parse_rate(value: object, *, field: str = "rate") -> Decimal:
    """A rate as a positive, finite Decimal in a sensible range; refuses floats."""
    if isinstance(value, bool) or isinstance(value, float):
        raise ValidationFailed("an exchange rate is a decimal, not a float", field=field)
    try:
        rate = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationFailed(f"{value!r} is not a number", field=field) from None
    if not rate.is_finite() or rate <= 0:
        raise ValidationFailed(f"an exchange rate must be positive, not {value}", field=field)
    if not _MIN_RATE <= rate <= _MAX_RATE:
        raise ValidationFailed(f"{value} is not a plausible exchange rate", field=field)
    return rate


def normalise(rate: Decimal) -> Decimal:
    """``rate`` with at most :data:`RATE_DIGITS` significant digits, no trailing zeros."""
    return _CTX.plus(rate).normalize(_CTX)


def invert(rate: Decimal) -> Decimal:
    return _CTX.divide(Decimal(1), rate).normalize(_CTX)


def cross_rate(rate_from: Decimal, rate_to: Decimal) -> Decimal:
    """Units of currency *to* per unit of currency *from*, given both rates to the base."""
    return _CTX.divide(rate_from, rate_to).normalize(_CTX)


def ecb_rates_for_base(quotes: Mapping[str, Decimal], base: str) -> dict[str, Decimal]:
    """The rates of one day for a company in ``base``, from ECB quotes (units of each
    currency per 1 EUR). Currencies are crossed through the euro; the base itself is left
    out. Raises ``ValidationFailed`` when the base is neither EUR nor quoted that day."""
    if base == "EUR":
        return {cur: invert(q) for cur, q in quotes.items() if cur != "EUR"}
    per_eur = quotes.get(base)
    if per_eur is None:
        raise ValidationFailed(f"the reference rates give no rate for {base}, the base "
                               "currency, so no cross rate can be derived", field="currency")
    out = {"EUR": normalise(per_eur)}
    for cur, q in quotes.items():
        if cur not in (base, "EUR"):
            out[cur] = cross_rate(per_eur, q)
    return out


# ---------------------------------------------------------------------------- conversion
def convert(amount: int, from_currency: str, to_currency: str, rate: Decimal,
            rounding: Rounding = Rounding.HALF_UP) -> int:
    """Minor units of ``from_currency`` into minor units of ``to_currency`` at ``rate``
    (units of *to* per unit of *from*)."""
    src, dst = get_currency(from_currency).exponent, get_currency(to_currency).exponent
    value = Decimal(amount).scaleb(-src) * rate
    return int(quantize(value, dst, rounding).scaleb(dst))


def convert_back(amount: int, currency: str, source_currency: str, rate: Decimal) -> int:
    """The inverse of :func:`convert`: minor units of ``source_currency`` worth ``amount``
    of ``currency`` at ``rate`` (units of ``currency`` per unit of the source), half up."""
    dst, src = get_currency(currency).exponent, get_currency(source_currency).exponent
    value = Decimal(amount).scaleb(-dst) / rate
    return int(quantize(value, src, Rounding.HALF_UP).scaleb(src))


def available_in(remaining: int, source_currency: str, currency: str, rate: Decimal) -> int:
    """How much of ``currency`` what remains of a source (a receipt) can pay."""
    return convert(remaining, source_currency, currency, rate)


def payable(remaining: int, source_currency: str, currency: str, rate: Decimal) -> int:
    """The most of ``currency`` that ``remaining`` (in ``source_currency``) pays: what it
    converts to, or more where the source's minor unit is the coarser one and a larger
    amount still costs no more than ``remaining`` (:func:`convert_back`). KWD 30.090 at
    0.33 KWD per EUR costs EUR 91.1818, 91.18 to the cent, which converts to 30.089: a
    customer who pays EUR 91.18 has paid the 30.090 exactly."""
    most = available_in(remaining, source_currency, currency, rate)
    src, dst = get_currency(source_currency).exponent, get_currency(currency).exponent
    # Every amount below (remaining + half a minor unit) x rate rounds back to at most
    # ``remaining``; the loops only correct the last digit of the Decimal arithmetic.
    bound = ((Decimal(remaining) + Decimal("0.5")).scaleb(-src) * rate).scaleb(dst)
    candidate = max(most, int(bound.to_integral_value(rounding="ROUND_CEILING")) - 1)
    while candidate > most and convert_back(candidate, currency, source_currency,
                                            rate) > remaining:
        candidate -= 1
    while convert_back(candidate + 1, currency, source_currency, rate) <= remaining:
        candidate += 1
    return candidate


def source_share(amount: int, *, remaining: int, source_currency: str, currency: str,
                 rate: Decimal) -> int:
    """What a share of ``amount`` (in ``currency``) takes from a source that still has
    ``remaining`` (in ``source_currency``): the converted amount, or the whole remainder
    when the share uses up all it can pay (:func:`payable`). Raises when the source cannot
    pay the share."""
    can_pay = available_in(remaining, source_currency, currency, rate)
    if amount > can_pay:
        most = payable(remaining, source_currency, currency, rate)
        if amount > most:
            raise AllocationExceedsUnallocated(
                f"allocating {format_minor(amount, currency)} exceeds the "
                f"{format_minor(most, currency)} that the "
                f"{format_minor(remaining, source_currency)} still unallocated pay at {rate}",
                amount=major_text(amount, currency), currency=currency,
                unallocated=major_text(remaining, source_currency),
                unallocated_currency=source_currency)
    if amount >= can_pay:
        return remaining
    return min(convert_back(amount, currency, source_currency, rate), remaining)


def source_amounts(shares: Sequence[tuple[int, str, Decimal]], *, remaining: int,
                   source_currency: str) -> list[int]:
    """What each share, ``(amount, currency, rate)`` in order, takes from a source that has
    ``remaining`` in ``source_currency``. A share in the source's own currency takes its
    amount. Consecutive shares in one other currency are converted together: the group's
    running total is converted and each share takes the difference, so paying three
    instalments of an invoice takes from the receipt what paying the invoice as one would
    (no rounding per instalment). Raises ``AllocationExceedsUnallocated`` when the source
    cannot pay them all."""
    out: list[int] = []
    i = 0
    while i < len(shares):
        _, currency, rate = shares[i]
        j = i
        while j < len(shares) and shares[j][1:] == (currency, rate):
            j += 1
        group = [a for a, _, _ in shares[i:j]]
        if currency == source_currency:
            if sum(group) > remaining:
                raise AllocationExceedsUnallocated(
                    f"allocating {format_minor(sum(group), currency)} exceeds the "
                    f"{format_minor(remaining, currency)} still unallocated",
                    amount=major_text(sum(group), currency),
                    unallocated=major_text(remaining, currency), currency=currency)
            out.extend(group)
            remaining -= sum(group)
        else:
            taken = running = 0
            for amount in group:
                running += amount
                upto = source_share(running, remaining=remaining, source_currency=source_currency,
                                    currency=currency, rate=rate)
                out.append(upto - taken)
                taken = upto
            remaining -= taken
        i = j
    return out


# ---------------------------------------------------------------------------- revaluation
@dataclass(frozen=True, slots=True)
class CarriedBalance:
    """What a customer's open items in one foreign currency amount to on one control
    account (receivable: instalments less credit notes; unapplied cash: receipts not yet
    used) on a day: ``amount_currency`` in that currency and ``base``, the base amount they
    are carried at (their booking rates, less what allocations relieved), both debit
    positive, as the journal holds them."""

    role: AccountRole
    customer_id: int
    currency: str
    amount_currency: int
    base: int


@dataclass(frozen=True, slots=True)
class RevaluationResult:
    lines: list[Line]
    balances: int  # balances restated (customer, account, currency)
    # Net effect per currency on profit and loss, in base minor units: positive = gain.
    by_currency: dict[str, int]

    @property
    def net(self) -> int:
        return sum(self.by_currency.values())


def revalue(balances: Iterable[CarriedBalance], closing: Mapping[str, Decimal],
            base: str) -> RevaluationResult:
    """The unrealised differences of ``balances`` at the ``closing`` rates: a line per
    balance that brings its base amount to its value at the closing rate (base only:
    ``amount_currency`` 0, nothing changes in document currency) and, per currency, the
    counterpart on the unrealised exchange differences account. Valuing each customer's
    balance (not each item) makes the control account equal, to the minor unit, to the
    closing value of what it holds. The lines balance in base and per currency."""
    per_line: dict[tuple[AccountRole, int, str], int] = defaultdict(int)
    for b in balances:
        if b.currency == base:
            continue
        value = to_base(b.amount_currency, b.currency, base, closing[b.currency])
        per_line[(b.role, b.customer_id, b.currency)] += value - b.base
    lines: list[Line] = []
    by_currency: dict[str, int] = defaultdict(int)
    for (role, customer_id, currency), amount in sorted(per_line.items()):
        if amount:
            lines.append(Line(role, amount, 0, currency, customer_id))
            by_currency[currency] += amount
    for currency, amount in sorted(by_currency.items()):
        if amount:
            lines.append(Line(AccountRole.UNREALISED_FX, -amount, 0, currency))
    check_balanced(lines)
    return RevaluationResult(lines, sum(1 for v in per_line.values() if v),
                             {c: v for c, v in by_currency.items() if v})
