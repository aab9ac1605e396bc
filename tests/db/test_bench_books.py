"""The benchmark's fast books (``bench/books.py``) are the books the services write.

Given the same customers, one company made entirely by the bulk services and another whose
first block was made by them and the rest copied: every ledger invariant holds on the copy,
and the two agree on what the reports read (the aging of "today" and of a past day, per
customer and bucket, unapplied cash included), on every customer's open instalments and
journal lines, and on the journal entries' memos. Each copy multiplies every amount by its
factor (``books.scale``), so they also agree on every document, line, snapshot, receipt and
allocation run, and on the money the audit events name: a copy's documents are the ones the
services write for amounts that large.
"""

from __future__ import annotations

import json
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
from salesledger.apps.core.models import AuditEvent, Company  # noqa: E402
from salesledger.apps.invoicing.models import Instalment, Invoice, InvoiceLine  # noqa: E402
from salesledger.apps.ledger.models import JournalEntry, JournalLine  # noqa: E402
from salesledger.apps.payments.models import Receipt  # noqa: E402
from salesledger.apps.reporting.selectors import aging_report  # noqa: E402
from salesledger.apps.runs.models import AllocationRun  # noqa: E402

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
    documents = Counter(Invoice.objects.filter(company=company).values_list(
        "customer__code", "issue_date", "net", "tax", "total", "base_total", "allocated"))
    sale_lines = Counter(InvoiceLine.objects.filter(company=company).values_list(
        "invoice__customer__code", "unit_price", "net", "tax"))
    # the snapshot as issued, but for the number (and the reference made from it)
    snapshots = Counter(json.dumps({**snap, "number": "#", "payment_reference": "#"},
                                   sort_keys=True)
                        for snap in Invoice.objects.filter(company=company).values_list(
                            "snapshot", flat=True))
    receipts = Counter(Receipt.objects.filter(company=company).values_list(
        "customer__code", "date", "amount", "base_amount", "allocated"))
    # the copies repeat the block's allocation runs: what each day's runs allocated in all
    runs: Counter[Any] = Counter()
    for day, totals in AllocationRun.objects.filter(company=company).values_list(
            "day", "totals"):
        runs.update({(day, currency): amount for currency, amount in totals.items()})
    audited = Counter(_audited_money(action, data) for action, data in
                      AuditEvent.objects.filter(company=company).exclude(
                          action__startswith="allocation_run.").values_list("action", "data"))
    return {"aging": [aging_report(company, as_of=day) for day in
                      (date(2025, 12, 31), date(2025, 7, 1), date(2024, 6, 30))],
            "items": items, "lines": lines, "memos": memos, "documents": documents,
            "sale_lines": sale_lines, "snapshots": snapshots, "receipts": receipts,
            "runs": runs, "audited": audited}


def _audited_money(action: str, data: dict[str, Any]) -> tuple[Any, ...]:
    """The money an audit event names, with whose it is where it says."""
    after = data.get("after", {})
    if action == "invoice.post":
        return action, after["customer"], after["total"]
    if action == "receipt.record":
        return action, after["customer"], after["amount"]
    if action == "allocation.create":
        return action, tuple(sorted(a["amount"] for a in data["allocations"]))
    return (action,)


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
    # no copy repeats the block's amounts: each is the block's times its factor
    totals: dict[str, list[int]] = {}
    for (code, _day, _net, _tax, total, *_), count in actual["documents"].items():
        totals.setdefault(code, []).extend([total] * count)
    for n in range(PERIOD, customers):
        factor = books.scale(n, PERIOD)
        assert factor == n // PERIOD + 1 > 1
        assert sorted(totals[f"B{n:06d}"]) == sorted(
            t * factor for t in totals[f"B{n % PERIOD:06d}"])
    for key in ("items", "lines", "memos", "documents", "sale_lines", "snapshots", "receipts",
                "runs", "audited"):
        assert actual[key] == expected[key], (key, _differ(actual[key], expected[key]))
    for got, want in zip(actual["aging"], expected["aging"], strict=True):
        assert got.customers == want.customers, _differ(got.customers, want.customers)
        assert got == want


def _differ(got: Any, want: Any) -> Any:
    """The first few differences, to read when the books disagree."""
    if isinstance(got, Counter):
        return list((got - want).items())[:5], list((want - got).items())[:5]
    return [(g, w) for g, w in zip(got, want, strict=False) if g != w][:3]
