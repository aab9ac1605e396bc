"""The benchmark's fast books (``bench/books.py``) are the books the services write.

Given the same customers, one company made entirely by the bulk services and another whose
first block was made by them and the rest copied: every ledger invariant holds on the copy,
and the two agree on what the reports read (the aging of "today" and of a past day, per
customer and bucket, unapplied cash included), on every customer's open instalments and
journal lines, and on the journal entries' memos.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import books  # noqa: E402

from salesledger.apps.core.invariants import check_company  # noqa: E402
from salesledger.apps.core.models import Company  # noqa: E402
from salesledger.apps.invoicing.models import Instalment  # noqa: E402
from salesledger.apps.ledger.models import JournalEntry, JournalLine  # noqa: E402
from salesledger.apps.reporting.selectors import aging_report  # noqa: E402

pytestmark = pytest.mark.django_db

PERIOD, COPIES, SEED, HISTORY = 5, 2, 7, 600  # 15 customers, ~600 lines of history


def _books(company: Company) -> dict[str, Any]:
    items = Counter(Instalment.objects.filter(company=company).values_list(
        "customer__code", "due_date", "amount", "settled"))
    lines = Counter(JournalLine.objects.filter(company=company).values_list(
        "customer__code", "account__role", "date", "amount"))
    # Numbers are taken in the order documents are posted, which differs between the two
    # (gapless numbering itself is one of check_company's invariants): memos without them.
    memos = Counter((kind, day, re.sub(r"(INV|RCT)(\d{4})-\d+", r"\1\2-#", memo))
                    for kind, day, memo in JournalEntry.objects.filter(
                        company=company).values_list("kind", "date", "memo"))
    return {"aging": [aging_report(company, as_of=day) for day in
                      (date(2025, 12, 31), date(2025, 7, 1), date(2024, 6, 30))],
            "items": items, "lines": lines, "memos": memos}


def test_copied_books_are_the_services_books() -> None:
    customers = PERIOD * (COPIES + 1)
    books.make_block(customers, period=PERIOD, seed=SEED, history_lines=HISTORY,
                     company_code="made", migrate=False)
    books.make_block(PERIOD, period=PERIOD, seed=SEED, history_lines=HISTORY,
                     total_customers=customers, company_code="copied", migrate=False)
    done = books.copy_block(COPIES, company_code="copied", progress=lambda _: None)

    made, copied = Company.objects.get(code="made"), Company.objects.get(code="copied")
    assert done["rows"] > 0
    assert [str(p) for p in check_company(copied)] == []
    expected, actual = _books(made), _books(copied)
    assert len(actual["aging"][0].customers) == customers
    assert actual["aging"][0].items > 0 and actual["aging"][0].unapplied
    assert sum(actual["lines"].values()) > HISTORY
    for key in ("items", "lines", "memos"):
        assert actual[key] == expected[key], (key, _differ(actual[key], expected[key]))
    for got, want in zip(actual["aging"], expected["aging"], strict=True):
        assert got.customers == want.customers, _differ(got.customers, want.customers)
        assert got == want


def _differ(got: Any, want: Any) -> Any:
    """The first few differences, to read when the books disagree."""
    if isinstance(got, Counter):
        return list((got - want).items())[:5], list((want - got).items())[:5]
    return [(g, w) for g, w in zip(got, want, strict=False) if g != w][:3]
