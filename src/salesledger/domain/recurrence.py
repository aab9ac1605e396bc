"""Recurring invoices: the periods of a schedule and which of them are due.

A schedule repeats every N days, weeks or months (monthly = 1 month, quarterly = 3 months,
yearly = 12 months) from a start date, until an end date (inclusive), for a number of
periods, or without end. Period ``k`` (0-based) starts on the start date plus ``k`` times
the step; its invoice is dated on that day and covers it up to the day before the next
period starts.

Months are counted from the start date, never from the previous period, so that a
schedule starting on 31 January bills on 28 (or 29) February, 31 March, 30 April, 31 May:
the day is the start day, clamped to the length of the month, with no drift (the same rule
as Python's ``dateutil.relativedelta`` and the calendar arithmetic of ISO 8601 durations).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from .errors import ValidationFailed


class Unit(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class Recurrence:
    unit: Unit
    interval: int
    start: date
    end: date | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        if self.interval < 1:
            raise ValidationFailed("a schedule repeats every 1 or more days, weeks or months",
                                   field="every")
        if self.end is not None and self.count is not None:
            raise ValidationFailed("give an end date or a number of periods, not both",
                                   field="end")
        if self.end is not None and self.end < self.start:
            raise ValidationFailed(
                f"the end date {self.end.isoformat()} is before the start date "
                f"{self.start.isoformat()}", field="end")
        if self.count is not None and self.count < 1:
            raise ValidationFailed("the number of periods must be at least 1", field="count")


@dataclass(frozen=True, slots=True)
class Period:
    index: int
    start: date
    end: date  # the day before the next period starts


_NAMED = {
    "daily": (Unit.DAY, 1),
    "weekly": (Unit.WEEK, 1),
    "fortnightly": (Unit.WEEK, 2),
    "biweekly": (Unit.WEEK, 2),
    "monthly": (Unit.MONTH, 1),
    "quarterly": (Unit.MONTH, 3),
    "half-yearly": (Unit.MONTH, 6),
    "semiannually": (Unit.MONTH, 6),
    "yearly": (Unit.MONTH, 12),
    "annually": (Unit.MONTH, 12),
}
_UNITS = {
    "day": (Unit.DAY, 1), "week": (Unit.WEEK, 1), "month": (Unit.MONTH, 1),
    "quarter": (Unit.MONTH, 3), "year": (Unit.MONTH, 12),
}
_EVERY = re.compile(r"^(?:every\s+)?(\d+)?\s*([a-z]+?)s?$")


def parse_every(text: str) -> tuple[Unit, int]:
    """``"1 month"``, ``"3 months"``, ``"2 weeks"``, ``"14 days"``, ``"monthly"``,
    ``"quarterly"``, ``"yearly"``, ``"every 2 years"`` -> (unit, interval)."""
    cleaned = " ".join(text.strip().lower().split())
    if cleaned in _NAMED:
        return _NAMED[cleaned]
    match = _EVERY.match(cleaned)
    if match is None or match.group(2) not in _UNITS:
        raise ValidationFailed(
            f"--every {text!r}: write a number and a unit (days, weeks, months, quarters, "
            "years), e.g. '1 month', or monthly, quarterly, yearly", field="every")
    n = int(match.group(1) or 1)
    if n < 1 or n > 1000:
        raise ValidationFailed(f"--every {text!r}: the number must be 1 to 1000", field="every")
    unit, factor = _UNITS[match.group(2)]
    return unit, n * factor


def describe(unit: Unit, interval: int) -> str:
    """The inverse of :func:`parse_every`, for display: ``"3 months"``, ``"1 week"``."""
    return f"{interval} {unit.value}{'' if interval == 1 else 's'}"


def add_months(day: date, months: int, anchor_day: int | None = None) -> date:
    """``day`` plus ``months`` calendar months, on ``anchor_day`` (default: ``day.day``)
    clamped to the length of the target month."""
    total = day.year * 12 + (day.month - 1) + months
    year, month = divmod(total, 12)
    want = anchor_day or day.day
    return date(year, month + 1, min(want, calendar.monthrange(year, month + 1)[1]))


def period_start(rule: Recurrence, index: int) -> date:
    """The first day of period ``index`` (0-based), computed from the start date."""
    if index < 0:
        raise ValueError("period index must be >= 0")
    if rule.unit is Unit.MONTH:
        return add_months(rule.start, index * rule.interval)
    days = rule.interval * (7 if rule.unit is Unit.WEEK else 1)
    return rule.start + timedelta(days=index * days)


def period(rule: Recurrence, index: int) -> Period:
    return Period(index, period_start(rule, index),
                  period_start(rule, index + 1) - timedelta(days=1))


def started_by(rule: Recurrence, day: date) -> int:
    """How many periods have started on or before ``day`` (ignoring end and count)."""
    if day < rule.start:
        return 0
    if rule.unit is Unit.MONTH:
        months = (day.year - rule.start.year) * 12 + day.month - rule.start.month
        k = months // rule.interval
        # Clamping can only move a start earlier in its month, never past ``day``'s month,
        # so the guess is right or one too high.
        while k > 0 and period_start(rule, k) > day:
            k -= 1
        return k + 1
    days = rule.interval * (7 if rule.unit is Unit.WEEK else 1)
    return (day - rule.start).days // days + 1


def total_periods(rule: Recurrence) -> int | None:
    """How many periods the schedule has in all (None: it never ends)."""
    if rule.count is not None:
        return rule.count
    if rule.end is not None:
        return started_by(rule, rule.end)
    return None


def due_count(rule: Recurrence, as_of: date) -> int:
    """How many periods are due on ``as_of``: started by then and within end and count."""
    started = started_by(rule, as_of)
    total = total_periods(rule)
    return started if total is None else min(started, total)


def due_periods(rule: Recurrence, as_of: date, *, issued: int = 0,
                limit: int | None = None) -> Iterator[Period]:
    """The periods due on ``as_of`` from index ``issued`` on (those before are issued),
    at most ``limit`` of them."""
    stop = due_count(rule, as_of)
    if limit is not None:
        stop = min(stop, issued + limit)
    for index in range(max(issued, 0), stop):
        yield period(rule, index)


def next_start(rule: Recurrence, issued: int) -> date | None:
    """The start of the next period to issue after ``issued`` periods (None: finished)."""
    total = total_periods(rule)
    if total is not None and issued >= total:
        return None
    return period_start(rule, issued)


def periods_to_come(rule: Recurrence, *, after: date, until: date,
                    issued: int) -> list[Period]:
    """The periods whose invoices are still to come, seen from the day ``after``, dated up to
    ``until``: every period starting after ``after``, and those started by then that the
    schedule has not issued yet (index ``issued`` on: a run that is late), within its end
    and count. What the cash-flow forecast adds to the open items of ``after``."""
    stop = due_count(rule, until)
    first = min(max(issued, 0), started_by(rule, after))
    return [period(rule, index) for index in range(first, stop)]
