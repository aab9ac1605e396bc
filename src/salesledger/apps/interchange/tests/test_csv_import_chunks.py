"""The invoice import in bounded memory: documents are grouped one at a time, checked a chunk
at a time (every problem of the file, nothing written), then written a chunk at a time in
one transaction. The chunk size is made tiny here so that a few rows span many chunks."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from django.db import DatabaseError, connection

from salesledger.apps.core.models import AuditEvent, ImportBatch, NumberCounter
from salesledger.apps.interchange.csvio import invoices as invoice_import
from salesledger.apps.invoicing.models import Invoice
from salesledger.apps.invoicing.tests.books import ledger_problems
from salesledger.apps.ledger.models import JournalEntry
from salesledger.domain.errors import ImportFailed
from salesledger.formats.csv_rows import (
    DocumentRows,
    DocumentStream,
    InvoiceRow,
    RowProblem,
    Scattered,
    group_documents,
    invoice_row,
)

HEADER = ("ref,kind,number,customer,issue_date,notes,corrects,description,quantity,unit_price,"
          "tax_rate")


def _rows(spec: list[tuple[str, str]]) -> Iterator[tuple[int, dict[str, str]]]:
    """(number, ref) per row, as a reader yields them: line numbers from 2."""
    for n, (number, ref) in enumerate(spec):
        yield n + 2, {"number": number, "ref": ref, "customer": "K1",
                      "issue_date": "2025-03-01", "description": f"row {n}", "quantity": "1",
                      "unit_price": "10"}


def _parsed(spec: list[tuple[str, str]]) -> list[InvoiceRow]:
    problems: list[RowProblem] = []
    rows = [invoice_row(line, cells, problems) for line, cells in _rows(spec)]
    assert problems == []
    return rows


def _shape(docs: list[DocumentRows]) -> list[tuple[int, str, list[int]]]:
    return sorted((d.index, d.key, [r.line for r in d.rows]) for d in docs)


# ---------------------------------------------------------------------------- pure
def test_stream_gives_each_document_when_the_next_begins_and_keeps_none() -> None:
    spec = [(f"N{n}", "") for n in range(500) for _ in range(3)] + [("", "r1"), ("", "r1"),
                                                                     ("", ""), ("", "")]
    stream = DocumentStream([])
    returned: list[weakref.ref[DocumentRows]] = []
    sizes = []
    for r in _parsed(spec):
        done = stream.add(r)
        sizes.append(len(done))
        returned.extend(weakref.ref(d) for d in done)
        del done
    last = stream.close()
    # One document per change of document, and none held back: the stream keeps no
    # document it has given (only its number or ref), so memory does not grow with the file.
    assert sum(sizes) + len(last) == 500 + 1 + 2 and max(sizes) == 1
    del last
    gc.collect()
    assert all(ref() is None for ref in returned)
    assert stream.count == 503 and len(stream.numbers) == 500 and stream.refs == {"r1"}


def test_documents_whose_rows_are_apart_are_grouped_as_the_whole_file_would_be() -> None:
    spec = [("A", ""), ("B", ""), ("A", ""), ("", "x"), ("C", ""), ("B", ""), ("", ""),
            ("", "x"), ("A", ""), ("D", "")]
    rows = _parsed(spec)
    stream = DocumentStream([])
    with pytest.raises(Scattered):
        for r in rows:
            stream.add(r)
    # The import's scan finds these: each document whose rows are apart, and its last line.
    stream = DocumentStream([], scattered={"number:A": 10, "number:B": 7, "ref:x": 9})
    docs = [d for r in rows for d in stream.add(r)] + stream.close()
    assert _shape(docs) == _shape(group_documents(rows, []))
    # In order of completion: a document apart at its last row, the others when the next
    # document begins.
    assert [d.key for d in docs] == ["number:B", "number:C", "ref:x", "number:A", "row:6",
                                     "number:D"]


# ---------------------------------------------------------------------------- imports
@pytest.fixture
def chunk_of_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(invoice_import, "CHUNK", 2)


@pytest.fixture
def customers(csv_file: Any, csv_import: Any) -> None:
    csv_import("customers", csv_file("customers.csv", """
        code,name,country,currency
        K1,Kunde Eins GmbH,DE,EUR
        K2,Kunde Zwei GmbH,DE,EUR
    """))


def _nothing_written(company: Any, events: int) -> None:
    assert not Invoice.objects.filter(company=company).exists()
    assert not JournalEntry.objects.filter(company=company).exists()
    assert not NumberCounter.objects.filter(company=company, series__in=["INV", "CN"]).exists()
    assert not ImportBatch.objects.filter(company=company, kind="invoices").exists()
    assert AuditEvent.objects.filter(company=company).count() == events


def test_problems_early_and_late_are_all_reported_and_nothing_is_written(
        chunk_of_two: None, customers: None, csv_company: Any, csv_file: Any,
        csv_import: Any) -> None:
    events = AuditEvent.objects.filter(company=csv_company).count()
    rows = [f"r{n},,,K1,2025-03-{n + 1:02d},,,Item {n},1,10.00,20" for n in range(12)]
    rows[0] = "r0,,,K1,2025-03-01,,,Bad quantity,-1,10.00,20"  # line 2, the first chunk
    rows[6] = "r6,,,K9,2025-03-07,,,Unknown customer,1,10.00,20"  # line 9, after the insert
    rows.insert(3, "r2,,,K2,,,,Other customer on a later row,1,1,20")  # line 5
    rows += [
        ",invoice,OLD-1,K1,2025-03-20,,,Kept,1,100.00,0",  # line 15
        ",credit_note,CN-1,K1,2025-03-21,,OLD-1,Too much,2,60.00,0",  # line 16, 2 chunks on
        ",credit_note,CN-2,K1,2025-03-22,,OLD-9,Corrects nothing,1,1.00,0",  # line 17
        "r12,,,K1,2025-03-30,,,Late bad price,1,abc,20",  # line 18: the last row
    ]
    path = csv_file("many.csv", "\n".join([HEADER, *rows]) + "\n")
    with pytest.raises(ImportFailed) as failed:
        csv_import("invoices", path)
    assert [(p.line, p.column) for p in failed.value.problems] == [
        (2, "quantity"), (5, "customer"), (9, "customer"), (16, "corrects"),
        (17, "corrects"), (18, "unit_price")]
    assert "credit notes would exceed OLD-1" in str(failed.value.problems[3])
    assert "no invoice 'OLD-9' in this file or in the company" in str(failed.value.problems[4])
    _nothing_written(csv_company, events)


def test_new_numbers_follow_issue_dates_across_chunks_rows_apart_and_later_invoices(
        chunk_of_two: None, customers: None, csv_company: Any, csv_file: Any,
        csv_import: Any) -> None:
    path = csv_file("order.csv", f"""
        {HEADER}
        a,,,K1,2025-03-09,,,Ninth,1,10.00,20
        b,,,K1,2025-03-02,,,Second,1,20.00,20
        ,credit_note,CN-OLD,K1,2025-03-25,,OLD-7,Returns before the invoice row,1,5.00,0
        c,,,K2,2025-03-05,,,Fifth,1,30.00,20
        b,,,,,,,Second again: rows apart,2,1.00,20
        ,invoice,OLD-7,K1,2025-03-01,,,Kept number,1,50.00,0
        d,,,K1,2025-03-02,,,Second too,1,40.00,20
        e,credit_note,,K1,2025-03-03,,,New credit note,1,1.00,20
        f,credit_note,,K1,2025-03-26,,OLD-7,Corrects a kept invoice,1,3.00,0
    """)
    result = csv_import("invoices", path)
    assert result == {**result, "rows": 9, "documents": 8, "invoices": 5, "credit_notes": 3,
                      "allocations": 2}
    got = dict(Invoice.objects.filter(company=csv_company).values_list("number", "total"))
    # New numbers in order of issue date, then file order, whatever chunk a document is in;
    # credit notes of an invoice of the file after the others of their series, as always.
    assert got == {"INV2025-00001": 2640, "INV2025-00002": 4800, "INV2025-00003": 3600,
                   "INV2025-00004": 1200, "OLD-7": 5000, "CN-OLD": 500,
                   "CN2025-00001": 120, "CN2025-00002": 300}
    old = Invoice.objects.get(company=csv_company, number="OLD-7")
    assert old.allocated == 0 and old.instalments.get().settled == 800
    assert ledger_problems(csv_company) == []


def _refuse_notes(word: str) -> None:
    """A database rule the import does not know: no invoice whose notes are ``word``."""
    table = Invoice._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"CREATE TEMP TRIGGER refuse_notes BEFORE INSERT ON {table} "
                           f"WHEN NEW.notes = '{word}' BEGIN SELECT RAISE(ABORT, 'refused'); "
                           "END")
        else:
            cursor.execute("CREATE FUNCTION pg_temp.refuse_notes() RETURNS trigger AS $$ "
                           f"BEGIN IF NEW.notes = '{word}' THEN RAISE EXCEPTION 'refused'; "
                           "END IF; RETURN NEW; END $$ LANGUAGE plpgsql")
            cursor.execute(f"CREATE TRIGGER refuse_notes BEFORE INSERT ON {table} FOR EACH "
                           "ROW EXECUTE FUNCTION pg_temp.refuse_notes()")


def test_a_refusal_while_writing_a_later_chunk_undoes_the_earlier_chunks(
        chunk_of_two: None, customers: None, csv_company: Any, csv_file: Any,
        csv_import: Any) -> None:
    events = AuditEvent.objects.filter(company=csv_company).count()
    _refuse_notes("refuse me")
    rows = [f"r{n},,,K1,2025-03-{n + 1:02d},,,Item {n},1,10.00,20" for n in range(6)]
    rows[4] = "r4,,,K1,2025-03-05,refuse me,,Passes every check of the import,1,10.00,20"
    with pytest.raises(DatabaseError, match="refused"):
        csv_import("invoices", csv_file("late.csv", "\n".join([HEADER, *rows]) + "\n"))
    # The first two chunks (four invoices, their entries, numbers, audit events) are gone.
    _nothing_written(csv_company, events)
    assert csv_import("invoices", csv_file("ok.csv", "\n".join([HEADER, *rows[:4]]) + "\n"))[
        "documents"] == 4
    assert Invoice.objects.filter(company=csv_company).count() == 4
    assert max(Invoice.objects.values_list("issue_date", flat=True)) == date(2025, 3, 4)


def test_a_problem_found_after_chunks_were_written_undoes_them(
        chunk_of_two: None, customers: None, csv_company: Any, csv_file: Any,
        csv_import: Any) -> None:
    events = AuditEvent.objects.filter(company=csv_company).count()
    rows = [f"r{n},,,K1,2025-03-{n + 1:02d},,,Item {n},1,10.00,20" for n in range(7)]
    rows.append(",invoice,INV2025-00099,K1,2025-03-20,,,Own series with a gap,1,1.00,20")
    with pytest.raises(ImportFailed) as failed:  # the gap is known only at the end
        csv_import("invoices", csv_file("gap.csv", "\n".join([HEADER, *rows]) + "\n"))
    assert [(p.line, p.column) for p in failed.value.problems] == [(9, "number")]
    assert "does not continue that series without a gap" in str(failed.value.problems[0])
    _nothing_written(csv_company, events)  # the first three chunks were written, then undone
