"""The Money value type.

Money is an exact decimal amount in one ISO 4217 currency. It refuses floats (binary
floating point cannot hold 0.10 exactly), refuses to mix currencies, and multiplies only by
exact numbers. Persistence uses integer minor units (:meth:`Money.minor`) so that sums in
SQL are exact on every database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .currency import get_currency
from .rounding import Rounding, quantize


class CurrencyMismatchError(ValueError):
    def __init__(self, left: str, right: str) -> None:
        super().__init__(f"cannot combine amounts in {left} and {right}")
        self.left = left
        self.right = right


def _to_decimal(value: object) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError("Money does not accept floats or booleans; pass a Decimal, int or str")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("Money amount must be finite")
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not a decimal amount: {value!r}") from None
        if not parsed.is_finite():
            raise ValueError(f"not a finite amount: {value!r}")
        return parsed
    raise TypeError(f"Money amount must be Decimal, int or str, not {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", _to_decimal(self.amount))
        get_currency(self.currency)

    # construction -----------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str) -> Money:
        return cls(_to_decimal(amount), currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        if isinstance(minor, bool) or not isinstance(minor, int):
            raise TypeError("minor units must be an int")
        exponent = get_currency(currency).exponent
        return cls(Decimal(minor).scaleb(-exponent), currency)

    # conversion -------------------------------------------------------------------
    @property
    def exponent(self) -> int:
        return get_currency(self.currency).exponent

    def minor(self) -> int:
        """The amount as integer minor units; refuses an amount with more digits."""
        scaled = self.amount.scaleb(self.exponent)
        if scaled != scaled.to_integral_value():
            raise ValueError(
                f"{self.amount} {self.currency} has more than {self.exponent} decimals; "
                "round it with a named policy first"
            )
        return int(scaled)

    def round(self, rounding: Rounding = Rounding.HALF_UP) -> Money:
        return Money(quantize(self.amount, self.exponent, rounding), self.currency)

    def is_rounded(self) -> bool:
        return self.amount == quantize(self.amount, self.exponent, Rounding.DOWN)

    def to_json(self) -> dict[str, str]:
        return {"amount": self.format_plain(), "currency": self.currency}

    def format_plain(self) -> str:
        """Decimal string with exactly the currency's number of decimals when it fits."""
        value = self.amount
        if self.is_rounded():
            value = quantize(value, self.exponent, Rounding.DOWN)
        return f"{value:f}"

    def __str__(self) -> str:
        return f"{self.format_plain()} {self.currency}"

    # arithmetic -------------------------------------------------------------------
    def _check(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"expected Money, got {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatchError(self.currency, other.currency)
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._check(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._check(other).amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, (Decimal, int)):
            raise TypeError("Money multiplies only by Decimal or int")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._check(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._check(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._check(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._check(other).amount

    def __bool__(self) -> bool:
        return bool(self.amount)

    # allocation -------------------------------------------------------------------
    def split(self, parts: int) -> list[Money]:
        """Split into ``parts`` equal parts; the remainder goes to the last parts, one minor
        unit each, so that the parts sum to the whole and differ by at most one minor unit
        (0.05 in three is 0.01, 0.02, 0.02, not 0.01, 0.01, 0.03)."""
        if parts < 1:
            raise ValueError("parts must be at least 1")
        whole = self.round().minor()
        sign = -1 if whole < 0 else 1
        each, remainder = divmod(abs(whole), parts)
        units = [each] * (parts - remainder) + [each + 1] * remainder
        return [Money.from_minor(sign * u, self.currency) for u in units]

    def split_by(self, weights: Sequence[Decimal | int]) -> list[Money]:
        """Split in proportion to ``weights``; each part but the last is rounded down to
        the minor unit and the last takes the remainder, so the parts sum to the whole."""
        if not weights:
            raise ValueError("at least one weight is needed")
        ws = [_to_decimal(w) for w in weights]
        if any(w < 0 for w in ws) or sum(ws) == 0:
            raise ValueError("weights must be non-negative and not all zero")
        total = sum(ws)
        whole = self.round()
        parts: list[Money] = []
        for w in ws[:-1]:
            share = quantize(whole.amount * w / total, self.exponent, Rounding.DOWN)
            parts.append(Money(share, self.currency))
        used = sum((p.amount for p in parts), Decimal(0))
        parts.append(Money(whole.amount - used, self.currency))
        return parts


def format_minor(minor: int, currency: str) -> str:
    """An amount kept in minor units as people read it: major units and the currency
    (``format_minor(50000, "EUR") == "500.00 EUR"``). Every message that names an amount
    says it this way."""
    return str(Money.from_minor(minor, currency))


def major_text(minor: int, currency: str) -> str:
    """The amount alone in major units (``"500.00"``), for a field beside its currency."""
    return Money.from_minor(minor, currency).format_plain()


def major_texter(currency: str) -> Callable[[int], str]:
    """``major_text`` for one currency, for streams of many amounts: the currency is looked up
    once and each amount is cut into its major and minor parts with integers, not a
    ``Decimal`` per amount. It writes what ``major_text`` writes (tested on every sign and
    size of amount)."""
    exponent = get_currency(currency).exponent
    if exponent == 0:
        return str
    unit = 10 ** exponent

    def text(minor: int) -> str:
        if minor < 0:
            whole, part = divmod(-minor, unit)
            return f"-{whole}.{part:0{exponent}d}"
        whole, part = divmod(minor, unit)
        return f"{whole}.{part:0{exponent}d}"

    return text


def money_sum(items: Iterable[Money], currency: str) -> Money:
    total = Money.zero(currency)
    for item in items:
        total = total + item
    return total
