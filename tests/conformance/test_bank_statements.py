"""The statement readers over every file in the shared bank conformance folder
(/work/shared/README.md, "Bank statements"): each file is read, or refused with a clear
error when it is broken on purpose or is not a bank statement; where its authors wrote the
expected result (genkgo-camt JSON dumps in minor units, mt-940 YAML dumps), counts, amounts
and balances are compared; the other files have their counts and sums written down below.

The product never needs the folder: without it these tests skip (fail in CI)."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from salesledger.formats.bank import StatementUnreadable, read_statement
from salesledger.money import get_currency, is_currency

from .validator import SHARED

BANK = Path(SHARED) / "conformance" / "bank"


def _files(pattern: str) -> list[Path]:
    return sorted(BANK.glob(pattern)) if BANK.is_dir() else []


@pytest.fixture(autouse=True)
def _shared_folder() -> None:
    if not BANK.is_dir():
        reason = f"the bank conformance files are not there ({BANK}; set SALESLEDGER_SHARED)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


def _minor(value: Decimal, currency: str = "EUR") -> int:
    return int(value.scaleb(get_currency(currency).exponent if is_currency(currency) else 2))


# Files that must be refused, and the words their error names.
REFUSED = {
    "genkgo-camt/samples/camt053.v2.wrong.xml": "no Stmt",
    "acsone-pycoda/Coda_faulty_version.txt": "version",
    "jseutter-ofxparse/fail_nice/date_missing.ofx": "without TRNAMT or DTPOSTED",
    "jseutter-ofxparse/fail_nice/decimal_error.ofx": "is not YYYYMMDD",
    "jseutter-ofxparse/account_listing_aggregation.ofx": "no bank or card statement",
    "jseutter-ofxparse/bank_small.ofx": "no bank or card statement",
    "jseutter-ofxparse/error_message.ofx": "no bank or card statement",
    "jseutter-ofxparse/signon_fail.ofx": "no bank or card statement",
    "jseutter-ofxparse/signon_success.ofx": "no bank or card statement",
    "jseutter-ofxparse/signon_success_no_message.ofx": "no bank or card statement",
    "jseutter-ofxparse/fidelity-savings.ofx": "investment statement",
    "jseutter-ofxparse/fidelity.ofx": "investment statement",
    "jseutter-ofxparse/investment_401k.ofx": "investment statement",
    "jseutter-ofxparse/investment_medium.ofx": "investment statement",
    "jseutter-ofxparse/td_ameritrade.ofx": "investment statement",
    "jseutter-ofxparse/tiaacref.ofx": "investment statement",
    "jseutter-ofxparse/vanguard.ofx": "investment statement",
    "jseutter-ofxparse/vanguard401k.ofx": "investment statement",
}

# Files that come with no expected result: (statements, lines, sum of lines, last closing
# balance or None), written down from reading each file.
TABLE = {
    "acsone-pycoda/Coda_v2_3_single_statement.txt": (1, 30, "0.000", "0.000"),
    "acsone-pycoda/Coda_v2_3_multi_statements.txt": (2, 41, "-8530.280", "10807.810"),
    "acsone-pycoda/Coda_v2_3_globalisation.txt": (1, 4, "275725.700", "275270.530"),
    "acsone-pycoda/Coda_foreign_account.txt": (1, 2, "-44.400", "443346.300"),
    "jseutter-ofxparse/bank_medium.ofx": (1, 3, "-345.27", "382.34"),
    "jseutter-ofxparse/checking.ofx": (1, 3, "-59.50", "100.99"),
    "jseutter-ofxparse/suncorp.ofx": (1, 1, "-16.85", "1234.12"),
    "jseutter-ofxparse/anzcc.ofx": (1, 1, "-5.50", "-123.45"),
    "jseutter-ofxparse/multiple_accounts.ofx": (2, 0, "0", "222"),
    "oca-bank-statement-import/ofx/test_ofx.ofx": (2, 4, "-360", "-562.00"),
    "oca-bank-statement-import/qif/test_qif.qif": (1, 5, "-1896.09", None),
    "oca-bank-statement-import/camt/test-camt053.xml": (1, 4, "-12.99", "15121.12"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_broken_or_foreign_file_is_refused_saying_why(name: str) -> None:
    with pytest.raises(StatementUnreadable) as caught:
        read_statement((BANK / name).read_bytes())
    assert REFUSED[name] in caught.value.message


@pytest.mark.parametrize("name", sorted(TABLE))
def test_counts_and_sums_as_written_down(name: str) -> None:
    read = read_statement((BANK / name).read_bytes())
    count, lines, total, closing = TABLE[name]
    assert len(read.statements) == count
    assert sum(len(s.lines) for s in read.statements) == lines
    assert sum(li.amount for s in read.statements for li in s.lines) == Decimal(total)
    last = read.statements[-1].closing
    assert (last.amount if last else None) == (Decimal(closing) if closing else None)


def test_oca_camt053_keeps_the_reversal_and_its_return_reason() -> None:
    """OCA's golden file: start 15568.27, end 15121.12, and a reversal with reason AC06."""
    [st] = read_statement((BANK / "oca-bank-statement-import/camt/test-camt053.xml")
                          .read_bytes()).statements
    assert st.opening and st.opening.amount == Decimal("15568.27")
    assert "AC06" in {li.return_reason for li in st.lines}


@pytest.mark.parametrize("path", _files("genkgo-camt/samples/*.json"), ids=lambda p: p.name)
def test_camt_against_the_expected_dumps(path: Path) -> None:
    expected = json.loads(path.read_text())
    xml = path.with_suffix(".xml")
    read = read_statement(xml.read_bytes())
    assert read.format == "camt." + xml.name[4:7].replace("53.", "053")[:3].zfill(3)
    lines = [li for s in read.statements for li in s.lines]
    for entry in expected.get("getEntries") or []:
        want = int(entry["getAmount"]["getAmount"])
        by_entry: dict[int, int] = {}
        for li in lines:
            by_entry[li.entry_index] = by_entry.get(li.entry_index, 0) + _minor(li.amount)
        # A batch whose transactions do not add up to the entry is read with a warning
        # (the transactions' own amounts are kept: they are what will be matched).
        assert want in by_entry.values() or want in {_minor(li.amount) for li in lines} or any(
            "add up to" in w for w in read.warnings), f"entry of {want} minor units not read"
        record = entry.get("getRecord") or {}
        theirs = {abs(int(b["getAmount"]["getAmount"])) for b in record.get("getBalances") or []}
        ours = [{abs(_minor(b.amount, b.currency)) for b in (s.opening, s.closing) if b is not None}
                for s in read.statements]
        if theirs and any(ours):
            # The dump keeps every balance of its record; ours are the opening and closing
            # ones chosen from them: one of our statements has its balances among the dump's.
            assert any(o and o <= theirs for o in ours)


def _yaml_expected(path: Path) -> tuple[int, list[Decimal]]:
    """(number of transactions, their amounts) from an mt-940 YAML dump, read with a safe
    loader that turns the library's Python objects into plain mappings."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def obj(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
        if isinstance(node, yaml.MappingNode):  # may be recursive (anchors): fill it later
            data: dict[Any, Any] = {}
            yield data
            data.update(loader.construct_mapping(node, deep=True))
        else:
            yield apply(loader, suffix, node)

    def apply(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> object:
        if isinstance(node, yaml.SequenceNode):
            values = loader.construct_sequence(node, deep=True)
            return Decimal(values[0]) if suffix == "decimal.Decimal" else values
        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node, deep=True)
        return loader.construct_scalar(node)  # type: ignore[arg-type]

    Loader.add_multi_constructor("tag:yaml.org,2002:python/object/apply:", apply)
    Loader.add_multi_constructor("tag:yaml.org,2002:python/object:", obj)
    Loader.add_multi_constructor("tag:yaml.org,2002:python/object/new:", obj)
    Loader.add_multi_constructor("tag:yaml.org,2002:python/name:", apply)
    data = yaml.load(path.read_text(), Loader=Loader)  # noqa: S506 - the safe loader above
    txs = data.get("transactions") or [] if isinstance(data, dict) else []
    amounts = []
    for tx in txs:
        amount = (tx.get("data") or {}).get("amount") if isinstance(tx, dict) else None
        if isinstance(amount, dict):
            amounts.append(Decimal(amount["amount"]))
    return len(txs), amounts


@pytest.mark.parametrize("path", [p for p in _files("wolph-mt940/**/*.yml")
                                  if p.with_suffix(".sta").exists()], ids=lambda p: p.stem)
def test_mt940_against_the_expected_dumps(path: Path) -> None:
    sta = path.with_suffix(".sta")
    count, amounts = _yaml_expected(path)
    try:
        read = read_statement(sta.read_bytes())
    except StatementUnreadable as exc:
        assert count == 0, f"{sta.name} refused ({exc}) but its dump has {count} lines"
        return
    got = [li.amount for s in read.statements for li in s.lines]
    assert len(got) == count
    assert sorted(got) == sorted(amounts)


@pytest.mark.parametrize("path", [p for p in _files("**/*") if p.is_file() and p.suffix not in (
    ".json", ".yml", ".pydata", ".xsd", ".csv", ".md") and "LICENSE" not in p.name],
    ids=lambda p: p.name)
def test_every_file_reads_or_says_where_and_why(path: Path) -> None:
    try:
        read = read_statement(path.read_bytes())
    except StatementUnreadable as exc:
        assert exc.message and exc.fields.get("where")
        return
    assert read.statements


@pytest.mark.parametrize("path", _files("genkgo-camt/samples/*.xml"), ids=lambda p: p.name)
def test_camt_samples_are_valid_against_their_schema(path: Path) -> None:
    try:
        read = read_statement(path.read_bytes())
    except StatementUnreadable:
        return  # broken on purpose: test_a_broken_or_foreign_file_is_refused_saying_why
    assert not [w for w in read.warnings if "schema" in w]


def test_a_camt_file_that_breaks_its_schema_is_read_with_a_warning() -> None:
    # a real bank's file: a country code of three characters, which its XSD refuses
    path = BANK / "oca-bank-statement-import" / "camt" / "test-camt053-txdtls.xml"
    if not path.is_file():
        pytest.skip(f"{path} is not there")
    read = read_statement(path.read_bytes())
    assert read.statements and read.statements[0].lines
    said = [w for w in read.warnings if "schema" in w]
    assert any(w.startswith("camt.053.001.04 schema: line 106: ") and "'CH1'" in w
               for w in said), said
