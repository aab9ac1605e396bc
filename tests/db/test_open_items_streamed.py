"""The open items of a day, as `open-items --json` and `export open-items` give them, are
streamed: written as they are read, with the same bytes as before they were, and read from
the amounts kept on the rows whenever nothing that settles an item is dated after the day
(``payments.selectors.moved_after``), which must then give exactly what rolling the
allocations back gives."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest

from salesledger.apps.interchange.csvio import export_csv
from salesledger.apps.payments import selectors
from salesledger.apps.payments.refunds import receipt_refund
from salesledger.cli.main import main
from salesledger.cli.render import emit_json, emit_json_array
from salesledger.formats.csv_rows import CsvWriter


def _items(company: Any, day: Any) -> list[dict[str, Any]]:
    return list(selectors.open_items(company, as_of=day))


def test_kept_amounts_give_what_rolling_back_gives_on_every_day(
        mixed_books: Any, company: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    days = [*mixed_books.days, mixed_books.days[-1] + timedelta(days=40)]
    kept_days = [d for d in days if not selectors.moved_after(company, d)]
    assert kept_days and len(kept_days) < len(days)  # both paths are taken
    fast = {d: _items(company, d) for d in days}
    monkeypatch.setattr(selectors, "moved_after", lambda company, day: True)
    for d in days:
        assert fast[d] == _items(company, d), d
    assert fast[days[-1]] == list(selectors.open_items(company))  # and the kept, undated


def test_whether_anything_moved_after_a_day_is_one_query(
        mixed_books: Any, company: Any, django_assert_num_queries: Any) -> None:
    for day, moved in ((mixed_books.days[0], True), (mixed_books.days[-1], False)):
        with django_assert_num_queries(1):
            assert selectors.moved_after(company, day) is moved


def test_a_refund_or_an_allocation_after_the_day_is_rolled_back(
        mixed_books: Any, company: Any, owner: Any) -> None:
    last = mixed_books.days[-1]
    assert not selectors.moved_after(company, last)
    before = _items(company, last)
    receipt = next(i for i in before if i["type"] == "receipt")
    receipt_refund(actor=owner, company=company, number=receipt["document"],
                   day=last + timedelta(days=3))
    assert selectors.moved_after(company, last)
    assert _items(company, last) == before  # the refund is after the day
    after = _items(company, last + timedelta(days=3))
    assert receipt["document"] not in [i["document"] for i in after]


def test_json_array_streamed_is_the_text_of_the_whole_list() -> None:
    for items in ([], [{"a": 1}], [{"a": {"amount": "1.00", "currency": "EUR"}, "b": None},
                                   {"c": "é", "d": [1, 2]}]):
        whole, streamed = io.StringIO(), io.StringIO()
        emit_json(list(items), whole)
        assert emit_json_array(iter(items), streamed) == len(items)
        assert streamed.getvalue() == whole.getvalue()


def test_the_export_writes_the_bytes_of_every_cell_neutralised(
        mixed_books: Any, company: Any) -> None:
    day = mixed_books.days[-1]
    out = io.StringIO()
    n = export_csv(kind="open-items", company=company, out=out, as_of=day)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert n == len(rows) - 1 > 3
    again = io.StringIO()
    writer = CsvWriter(again)
    for row in rows:
        writer.writerow(row)
    assert again.getvalue() == out.getvalue()


def test_export_json_is_the_csv_rows_as_objects(mixed_books: Any, company: Any,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    day = mixed_books.days[-1].isoformat()
    for kind in ("customers", "invoices", "receipts", "open-items"):
        assert main(["export", kind, "--company", "acme", "--as-of", day]) == 0
        rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
        assert main(["export", kind, "--json", "--company", "acme", "--as-of", day]) == 0
        text = capsys.readouterr().out
        whole = io.StringIO()
        emit_json(rows, whole)
        assert text == whole.getvalue() and json.loads(text) == rows
