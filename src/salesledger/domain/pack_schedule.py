"""When the monthly receivables pack is due on a schedule (docs/design/reporting.md, "The pack
on a schedule").

A company sends its pack once a month, on a day of the month (31: the last day of every
month, as a statement schedule's day: ``statement_schedule.py``). The pack sent on a day is
the pack of the **last whole month** on that day: on 3 December, November's; on 31 December
(the month's last day), December's. A run late (the worker was down on the day) sends the
latest month due, and a month is sent once, whatever the number of runs: the month is the key
of what was sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from .errors import ValidationFailed
from .statement_schedule import Every, due_day


@dataclass(frozen=True)
class PackDue:
    day: date  # the scheduled day the run sends for
    month: date  # the first day of the month whose pack it sends


def check_pack_day(day: int) -> int:
    """A day of the month, 1 to 31 (31: the last day), or a refusal that says so."""
    if not 1 <= day <= 31:
        raise ValidationFailed(f"--day {day}: the pack goes out on a day of the month, 1 to 31 "
                               "(31: the last day)", field="day")
    return day


def pack_month(day: date) -> date:
    """The first day of the last whole month on ``day``."""
    after = day + timedelta(days=1)
    return (after.replace(day=1) - timedelta(days=1)).replace(day=1)


def pack_due(day: int, *, starts_on: date, as_of: date) -> PackDue | None:
    """What a run on ``as_of`` sends for a schedule on ``day`` that started on
    ``starts_on``: the latest scheduled day on or before ``as_of`` and its month, or None
    when the schedule had not started by then."""
    latest = due_day(Every.MONTH, check_pack_day(day), starts_on=starts_on, as_of=as_of)
    return None if latest is None else PackDue(latest, pack_month(latest))


# The languages the pack and its e-mail are written in (the reporting app's catalogues).
PACK_LANGUAGES = ("en", "fr", "de")


def parse_recipient(text: str) -> tuple[str, str]:
    """``USER`` or ``USER:LANGUAGE`` (``bea:fr``): the user's name and the language the pack
    goes to them in (``""`` when not given), or a refusal that names the languages."""
    name, _, language = text.strip().partition(":")
    language = language.strip().lower()
    if language and language not in PACK_LANGUAGES:
        raise ValidationFailed(f"--to {text.strip()}: the pack is written in "
                               + ", ".join(PACK_LANGUAGES) + f", not {language!r}",
                               field="users", user=name.strip())
    return name.strip(), language
