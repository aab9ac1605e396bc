"""A clock the worker tests set and move: ``timezone.now`` patched to read it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# 08:00 in Paris on 1 May 2025.
T0 = datetime(2025, 5, 1, 6, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
