"""Editing a dunning policy (pure): a level customers were reminded at keeps its number; a fee
is read as the command line and the form read it; refusals name the row and the field."""

from __future__ import annotations

from decimal import Decimal

import pytest

from salesledger.domain.dunning import Level, check_levels
from salesledger.domain.dunning_policy import check_policy_edit, parse_fee
from salesledger.domain.errors import ValidationFailed

OLD = check_levels([Level(0, -3, "Friendly", ("email",)), Level(0, 5, "Reminder"),
                    Level(0, 30, "Final", ("email", "call"), fee_fixed=1500)])


def test_a_fee_is_an_amount_a_percentage_or_nothing() -> None:
    assert parse_fee("15.00", "EUR") == (1500, Decimal(0))
    assert parse_fee(" 2% ", "EUR") == (0, Decimal(2))
    assert parse_fee("", "EUR") == (0, Decimal(0))
    assert parse_fee("500", "JPY") == (500, Decimal(0))
    for bad in ("ten", "1.001", "-5", "150%", "nan"):
        with pytest.raises(ValidationFailed) as caught:
            parse_fee(bad, "EUR")
        assert caught.value.fields["field"] == "fee", bad


def test_a_refusal_names_the_row_and_the_field() -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_levels([Level(0, 10), Level(0, 20, channels=("fax",))])
    assert (caught.value.fields["row"], caught.value.fields["attr"]) == (2, "channels")
    with pytest.raises(ValidationFailed) as caught:
        check_levels([Level(0, 20), Level(0, 5, agency=True)])
    assert (caught.value.fields["row"], caught.value.fields["attr"]) == (2, "agency")
    with pytest.raises(ValidationFailed) as caught:
        check_levels([Level(0, 20), Level(0, 10), Level(0, 20)])
    assert caught.value.fields["attr"] == "days" and caught.value.fields["row"] in (1, 3)


def test_levels_nobody_was_reminded_at_change_freely() -> None:
    new = [Level(0, 1, "First"), Level(2, 40, "Reminder"), Level(3, 10, "Final")]
    assert [(lv.number, lv.days, lv.name) for lv in check_policy_edit(OLD, new, set())] == [
        (1, 1, "First"), (2, 10, "Final"), (3, 40, "Reminder")]


def test_a_level_reminded_at_keeps_its_number() -> None:
    keep = [Level(1, -5, "Friendly"), Level(2, 7, "Reminder"), Level(3, 30, "Final"),
            Level(0, 60, "Agency", ("letter",), agency=True)]
    checked = check_policy_edit(OLD, keep, {2, 3})
    assert [(lv.number, lv.days) for lv in checked] == [(1, -5), (2, 7), (3, 30), (4, 60)]
    with pytest.raises(ValidationFailed, match="cannot be removed"):
        check_policy_edit(OLD, [Level(1, -3), Level(2, 5)], {3})
    # level 3 moved before level 2: refused on its row's days
    with pytest.raises(ValidationFailed, match="must stay level 3") as caught:
        check_policy_edit(OLD, [Level(1, -3), Level(2, 5), Level(3, 4)], {3})
    assert (caught.value.fields["row"], caught.value.fields["attr"]) == (3, "days")
    # level 1 removed: level 2 would become 1
    with pytest.raises(ValidationFailed, match="must stay level 2"):
        check_policy_edit(OLD, [Level(2, 5), Level(3, 30)], {2})
    # a new level before a reminded one shifts it: refused too
    with pytest.raises(ValidationFailed, match="must stay level 2"):
        check_policy_edit(OLD, [Level(1, -3), Level(0, 1), Level(2, 5), Level(3, 30)], {2})
