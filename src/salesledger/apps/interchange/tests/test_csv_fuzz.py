"""Hostile files: every CSV reader, fed what Hypothesis makes up, either imports or refuses
with a clear error; it never crashes, never hangs, and writes nothing when it refuses.

Two kinds of input: raw bytes (binary junk, wrong encodings, stray quotes and NULs), and
files that look right, with the format's real header and rows made of the cells users and
systems get wrong (huge and signed numbers, other scripts' digits, formulas, separators,
dates that do not exist, quotes, blanks). Each example must be done within two seconds.

CI runs a bounded number of examples; ``SALESLEDGER_FUZZ_EXAMPLES`` searches more (``bench/``
records the latest large run).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesledger.apps.core.services import company_profile_update
from salesledger.apps.interchange.csvio import import_file
from salesledger.apps.invoicing.tests.books import make_company, make_customer, make_owner
from salesledger.domain.errors import ImportFailed, LedgerError
from salesledger.formats.csv_rows import FORMATS

EXAMPLES = int(os.environ.get("SALESLEDGER_FUZZ_EXAMPLES", "40"))
DEADLINE_SECONDS = 2.0

CELLS = st.one_of(
    st.sampled_from([
        "", " ", "C001", "C002", "nobody", "2025-03-10", "2025-02-30", "10/03/2025", "0",
        "-0", "1", "-1", "100.00", "1,5", "1e400", "NaN", "Infinity", "١٢", "92233720368547758.07",
        "92233720368547758.08", "999999999999999999999999", "0.001", "20", "-20", "EUR", "eur",
        "XXX", "S", "Z", "AE", "=1+1", "+SUM(A1)", "@cmd", "-2+3", '"', '""', "a\"b",
        "line\nbreak", "\x00", "\ufeff", "bank_transfer", "cash", "30-60-90", "FR", "ZZ",
        "FR40303265045", "DE89370400440532013000", "x" * 600,
        # identifiers (legal_id, endpoint, mandate_reference, standard_item_id): valid, with
        # a wrong check digit, an unknown or e-mail scheme, a scheme and nothing else
        "732829320", "732829321", "0002:732829320", "0009:73282932000074", "0009:",
        "0088:5790000435951", "9925:BE0403170701", "EM:a@b.example", "9999:1", ":", "0160:",
        "4006381333931", "4006381333932", "0160:4006381333931", "0088:4006381333931",
        "MD-0042", "MD#1", "m" * 36, "FR1420041010050500013M02606",
        # the supply (dates, nature of the operation, references)
        "goods", "services", "mixed", "Goods", "barter", "2025-02-01", "2025-02-28",
        "2024-02-29", "CT-2024-17", "c" * 61,
    ]),
    st.text(max_size=30),
)


def _csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n\r') else text


@st.composite
def looks_right(draw: Any, kind: str) -> bytes:
    fmt = FORMATS[kind]
    columns = draw(st.lists(st.sampled_from(fmt.columns), min_size=1, max_size=len(fmt.columns),
                            unique=True))
    if draw(st.booleans()):
        columns = sorted(fmt.required) + [c for c in columns if c not in fmt.required]
    # Mostly rows of the header's width, so that the cells themselves are read; sometimes
    # one cell short or one too many.
    width = st.sampled_from([len(columns)] * 4 + [len(columns) - 1, len(columns) + 1])
    rows = draw(st.lists(width.flatmap(lambda n: st.lists(CELLS, min_size=n, max_size=n)),
                         max_size=6))
    text = "\n".join([",".join(columns)] + [",".join(map(_csv_cell, r)) for r in rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    return text.encode(encoding, errors="replace")


def _files(kind: str) -> Any:
    return st.one_of(st.binary(max_size=300), looks_right(kind))


def _try(kind: str, data: bytes, books: Any, tmp: Path) -> None:
    company, owner = books
    path = tmp / f"{kind}.csv"
    path.write_bytes(data)
    started = time.monotonic()
    try:
        with transaction.atomic():
            import_file(kind=kind, path=path, company=company, actor=owner, force=True)
            transaction.set_rollback(True)  # keep the books as they were for the next example
    except ImportFailed as failed:
        assert failed.problems, "an import that fails names its problems"
        for p in failed.problems:
            assert p.reason and p.line >= 1, p
    except LedgerError as error:
        assert str(error), "a refusal says why"
    assert time.monotonic() - started < DEADLINE_SECONDS, f"{kind} took too long on {data!r}"


@pytest.mark.parametrize("kind", ["customers", "invoices", "receipts"])
def test_a_reader_refuses_hostile_files_cleanly(kind: str, db: None, tmp_path: Path) -> None:
    # One company for all the examples: each import is rolled back after it.
    owner = make_owner("fuzz-owner")
    company = make_company(owner, "fuzzco", country="FR")
    # with a creditor id: a mandate in a customers file can be imported (or refused for
    # something else than the company's missing identifier)
    company_profile_update(actor=owner, company=company, creditor_id="FR72ZZZ123456")
    company.refresh_from_db()
    make_customer(company, owner, "C001")

    @settings(max_examples=EXAMPLES, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=_files(kind))
    def run(data: bytes) -> None:
        _try(kind, data, (company, owner), tmp_path)

    run()


def test_a_nul_character_is_a_clear_problem_and_writes_nothing(db: None, tmp_path: Path) -> None:
    """Found by the fuzzing above on PostgreSQL, which refuses NUL in text with a traceback."""
    owner = make_owner("nul-owner")
    company = make_company(owner, "nulco", country="FR")
    path = tmp_path / "customers.csv"
    path.write_bytes(b"code,name\nK1,Caf\x00\n")
    with pytest.raises(ImportFailed) as failed:
        import_file(kind="customers", path=path, company=company, actor=owner)
    assert [(p.line, p.reason) for p in failed.value.problems] == [
        (2, "the row contains a NUL character (byte 0), which is not text; is the file "
            "binary, or in another encoding than UTF-8?")]
