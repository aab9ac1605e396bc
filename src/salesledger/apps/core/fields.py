"""Model fields shared by the apps."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models


class DecimalText(models.CharField):
    """A Decimal stored as its exact text.

    Unit prices, quantities, percentages and exchange rates need more digits than money and
    are never summed in SQL, so they are kept as text: exact on SQLite (which has no decimal
    type) and on PostgreSQL alike.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 40)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Decimal | None:
        return None if value is None else Decimal(value)

    def to_python(self, value: Any) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        try:
            return Decimal(str(value).strip())
        except InvalidOperation:
            raise ValidationError(f"{value!r} is not a decimal number") from None

    def run_validators(self, value: Any) -> None:
        # CharField's max_length validator measures text, not a Decimal.
        super().run_validators(format(value, "f") if isinstance(value, Decimal) else value)

    def get_prep_value(self, value: Any) -> str | None:
        value = self.to_python(value)
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("floats are not accepted; use Decimal")
        return format(value, "f")
