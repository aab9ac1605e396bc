"""How far ahead a document may be dated.

A document posted with a date far in the future (a typing slip: 2099 for 2029) cannot be taken
back: it is posted for good and takes a number of that year's series, which then starts there.
So a new document dated beyond a horizon (the company's setting, in days after today in its
time zone; one year by default) is refused unless the date is confirmed. Every posting path
(one document, a bulk post, a CSV import of new documents) calls the same check. Documents
migrated with the number they already have are history, not checked here.
"""

from __future__ import annotations

from datetime import date, timedelta

from .errors import DateBeyondHorizon, ValidationFailed

DEFAULT_HORIZON_DAYS = 365
MAX_HORIZON_DAYS = 3660  # ten years: beyond it the check would mean nothing


def horizon_limit(today: date, horizon_days: int) -> date:
    """The last date a document may carry without confirmation."""
    return today + timedelta(days=horizon_days)


def check_horizon_days(days: int) -> int:
    if not 0 <= days <= MAX_HORIZON_DAYS:
        raise ValidationFailed(f"the future-date horizon must be between 0 and "
                               f"{MAX_HORIZON_DAYS} days, not {days}", field="horizon_days")
    return days


def check_document_date(day: date, *, today: date, horizon_days: int,
                        confirmed: bool = False) -> None:
    """Refuse ``day`` for a new document when it is after ``today`` plus ``horizon_days``,
    unless ``confirmed``."""
    if confirmed:
        return
    limit = horizon_limit(today, horizon_days)
    if day > limit:
        raise DateBeyondHorizon(
            f"{day.isoformat()} is more than {horizon_days} days ahead of today "
            f"({today.isoformat()}): posted, the document would keep that date and a number of "
            f"its year's series for good; correct the date, or confirm it "
            f"(--allow-future-date)",
            date=day, today=today, horizon=limit)
