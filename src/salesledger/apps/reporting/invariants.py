"""Reporting's invariant (registered with ``core.invariants``): the aging summary is what the
aging's query gives on its day (docs/design/reporting.md, "The aging summary")."""

from __future__ import annotations

from collections.abc import Callable

from salesledger.apps.core.invariants import Problem, register
from salesledger.apps.core.models import Company

from .aging_summary import summary_drift

# at most this many differences are named
SHOWN = 20


def aging_summary(company: Company, add: Callable[[Problem], None]) -> None:
    for line in summary_drift(company)[:SHOWN]:
        add(Problem("aging summary", line))


def register_checks() -> None:
    register(14, aging_summary)
