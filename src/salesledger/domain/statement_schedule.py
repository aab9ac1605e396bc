"""When a statement of account is due on a schedule (docs/design/dunning.md, "Statements on a
schedule").

A schedule sends every month on a day of the month (a day past the month's end is its last
day: 31 is the last day of every month) or every week on a day of the week (1 Monday .. 7
Sunday). Each scheduled day opens a **period**; a customer receives one statement per period,
dated the period's day, whatever the number of runs: the day is the key of the statement's
notice, so a run repeated, resumed after a crash, or late (the worker was down on the day) finds
it and sends nothing twice. A late run sends the latest period only: a statement of account is
the state of the account on a day, and last month's adds nothing to this month's.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from enum import StrEnum

from .errors import ValidationFailed


class Every(StrEnum):
    MONTH = "monthly"
    WEEK = "weekly"


def check_schedule(every: str, day: int) -> tuple[Every, int]:
    """The schedule's frequency and day, or a refusal that says what is allowed."""
    try:
        freq = Every(every)
    except ValueError:
        raise ValidationFailed(f"a statement schedule is monthly or weekly, not {every!r}",
                               field="every") from None
    top = 31 if freq == Every.MONTH else 7
    if not 1 <= day <= top:
        what = ("a day of the month, 1 to 31 (31: the last day)" if freq == Every.MONTH
                else "a day of the week, 1 (Monday) to 7 (Sunday)")
        raise ValidationFailed(f"--day {day}: a {freq.value} schedule takes {what}",
                               field="day")
    return freq, day


def _in_month(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def period_day(every: Every, day: int, as_of: date) -> date:
    """The latest scheduled day on or before ``as_of``."""
    if every == Every.WEEK:
        return as_of - timedelta(days=(as_of.isoweekday() - day) % 7)
    this = _in_month(as_of.year, as_of.month, day)
    if this <= as_of:
        return this
    year, month = (as_of.year, as_of.month - 1) if as_of.month > 1 else (as_of.year - 1, 12)
    return _in_month(year, month, day)


def due_day(every: Every, day: int, *, starts_on: date, as_of: date) -> date | None:
    """The period a run on ``as_of`` sends statements for: the latest scheduled day on or
    before it, if the schedule had started by then (None otherwise)."""
    if as_of < starts_on:
        return None
    latest = period_day(every, day, as_of)
    return latest if latest >= starts_on else None
