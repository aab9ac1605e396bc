"""Editing a dunning policy (docs/design/dunning.md, "Editing a policy").

A level is known to the ledger by its number: an item reminded at a level is recorded once per
(item, level number), and that record is what keeps a run from reminding or charging twice.
So an edit may change anything of a level (its days, name, channels, fee, options) and add or
remove levels, as long as every level that customers have been reminded at keeps its number:
it stays in its place among the others by days. Otherwise the items reminded at it would be
found "not yet reminded" at the level that took its number, and reminded and charged again.

A fee is typed as a customer reads it: an amount in the company's currency (``15.00``) or a
percentage of the overdue amount (``2%``); blank is no fee.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from decimal import Decimal, InvalidOperation

from salesledger.domain.amounts import amount_minor
from salesledger.domain.dunning import Level, check_levels
from salesledger.domain.errors import ValidationFailed


def parse_fee(text: str, currency: str) -> tuple[int, Decimal]:
    """(fixed fee in minor units, percentage) from ``15.00``, ``2%`` or blank."""
    raw = text.strip()
    if not raw:
        return 0, Decimal(0)
    number = raw[:-1].strip() if raw.endswith("%") else raw
    try:
        value = Decimal(number)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise ValidationFailed(f"fee: {text!r} is neither an amount (15.00) nor a percentage "
                               "(2%)", field="fee")
    if value < 0:
        raise ValidationFailed("fee: a fee cannot be negative", field="fee")
    if raw.endswith("%"):
        if value >= 100:
            raise ValidationFailed(f"fee: {text!r} is not a percentage under 100", field="fee")
        return 0, value
    return amount_minor(value, currency, field="fee"), Decimal(0)


def check_policy_edit(old: Sequence[Level], new: Sequence[Level],
                      reminded: Collection[int]) -> tuple[Level, ...]:
    """The levels of a policy after an edit, numbered in order of their days (as
    ``check_levels`` numbers them). ``old``: the levels before; ``new``: the levels wanted,
    each with the number of the level it edits, or 0 for a level added; ``reminded``: the
    numbers customers have been reminded at. Refused (naming the row of ``new``, from 1, and
    its field) when a reminded level is removed or would change its number."""
    checked = check_levels(new)
    by_days = sorted(range(len(new)), key=lambda i: new[i].days)
    place = {new[i].number: n for n, i in enumerate(by_days, start=1) if new[i].number}
    names = {lv.number: lv.name for lv in old}
    for number in sorted(reminded):
        if number not in names:
            continue
        if number not in place:
            raise ValidationFailed(
                f"level {number} ({names[number]}) cannot be removed: customers have been "
                "reminded at it", field="level", level=number)
        if place[number] != number:
            row = next(i for i in range(len(new)) if new[i].number == number)
            raise ValidationFailed(
                f"level {number} ({names[number]}) must stay level {number}: customers have "
                "been reminded at it, so its days must stay between those of the levels "
                "before and after it (add new levels after it)", field="level",
                row=row + 1, attr="days")
    return checked
