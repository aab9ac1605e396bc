"""The aging's item-by-item exports stream: the memory they take does not grow with the
number of open items (docs/design/reporting.md, "Performance").

The books grow fourfold between two measures; the Python memory at its peak while the CSV
rows and the JSON of ``report aging --detail`` are written (``tracemalloc``) must stay within
a small bound of the first measure. The stream reads ``DETAIL_CHUNK`` rows at a time, set
small here so that both sizes span many chunks; a version that gathered the rows (a list of
them, or of their text) grows by about a kilobyte an item and fails.
"""

from __future__ import annotations

import csv
import io
import tracemalloc
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from salesledger.apps.customers.models import PaymentTerms
from salesledger.apps.invoicing.posting.check import BulkDoc
from salesledger.apps.invoicing.services import documents_post_bulk
from salesledger.apps.reporting import aging as aging_module
from salesledger.apps.reporting.exports import aging_detail_rows
from salesledger.apps.reporting.selectors import ReportFilters, aging_items, aging_items_page
from salesledger.cli.report import _stream_json
from salesledger.domain.invoicing import LineInput

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 6, 30)
N = 600  # instalments at the first measure; 4 × N at the second
BOUND = 48 * 1024  # bytes the peak may grow by between the two


class _Sink(io.TextIOBase):
    """Takes what is written and keeps nothing."""

    def write(self, text: str) -> int:
        return len(text)


def _post(company: Any, owner: Any, customers: list[Any], invoices: int, first: int) -> None:
    thirds = PaymentTerms.objects.get(company=company, code="30-60-90").pk
    documents_post_bulk(actor=owner, company=company, docs=[BulkDoc(
        customer_id=customers[n % len(customers)].pk, kind="invoice", currency="EUR",
        terms_id=thirds, issue_date=date(2026, 1, 2) + timedelta(days=n % 150),
        lines=[LineInput("Goods", Decimal(1), Decimal(100 + n).scaleb(-1), Decimal(20))])
        for n in range(first, first + invoices)])


def _peak(company: Any) -> tuple[int, int]:
    """(items written, peak bytes) of writing the CSV rows and the JSON of the detail."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        buckets, items = aging_items(company, as_of=AS_OF)
        writer = csv.writer(_Sink())
        n = 0
        for row in aging_detail_rows(buckets, items, company.base_currency):
            writer.writerow(row)
            n += 1
        buckets, items = aging_items(company, as_of=AS_OF)
        _stream_json(_Sink(), AS_OF, company.base_currency, buckets, items,
                     company.base_currency)
        return n, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_detail_streams_in_memory_that_does_not_grow_with_the_items(
        company: Any, owner: Any, make_customer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aging_module, "DETAIL_CHUNK", 50)
    customers = [make_customer(f"S{k:02d}") for k in range(8)]
    _post(company, owner, customers, N // 3, 0)
    _peak(company)  # once first, so that what is loaded once (modules, caches) is loaded
    small, small_peak = _peak(company)
    _post(company, owner, customers, N, N // 3)
    large, large_peak = _peak(company)
    assert (small, large) == (N, 4 * N)
    assert large_peak - small_peak < BOUND, (small_peak, large_peak)


def test_a_page_of_the_detail_is_the_same_slice_of_every_item(
        company: Any, owner: Any, make_customer: Any) -> None:
    """The web's page of the detail, read customer by customer from their counts, is the
    slice of the whole ordered detail, at every offset, across customers' boundaries."""
    customers = [make_customer(f"P{k:02d}") for k in (5, 1, 3, 7, 2)]
    _post(company, owner, customers, 23, 0)  # 69 instalments, 12 to 15 a customer
    _, items = aging_items(company, as_of=AS_OF)
    every = list(items)
    assert len(every) == 69
    for size in (1, 7, 20):
        for offset in range(0, 75, 4):
            _, page = aging_items_page(company, as_of=AS_OF, size=size, offset=offset)
            assert page == every[offset:offset + size], (size, offset)
    _, page = aging_items_page(company, as_of=AS_OF, size=5, offset=3,
                               filters=ReportFilters(customer="P03"))
    assert page == [i for i in every if i["customer"] == "P03"][3:8]
