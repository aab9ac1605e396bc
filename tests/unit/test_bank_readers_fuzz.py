"""Hostile statement files: every bank statement reader, fed what Hypothesis makes up,
either reads the file or refuses it with :class:`StatementUnreadable` saying where; it never
crashes and never hangs (each example within two seconds). XML that declares entities
(billion laughs, external entities) is refused without being expanded.

CI runs a bounded number of examples; ``SALESLEDGER_FUZZ_EXAMPLES`` searches more."""

from __future__ import annotations

import os
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesledger.formats.bank import ColumnMapping, StatementUnreadable, read_statement

EXAMPLES = int(os.environ.get("SALESLEDGER_FUZZ_EXAMPLES", "60"))
DEADLINE_SECONDS = 2.0

SEEDS = {
    "camt": b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.'
            b'001.02"><BkToCstmrStmt><Stmt><Id>1</Id><Acct><Id><IBAN>NL26VAYB8060476890</IBAN>'
            b'</Id><Ccy>EUR</Ccy></Acct><Ntry><Amt Ccy="EUR">8.85</Amt><CdtDbtInd>CRDT'
            b'</CdtDbtInd><BookgDt><Dt>2024-01-02</Dt></BookgDt></Ntry></Stmt></BkToCstmrStmt>'
            b'</Document>',
    "mt940": b":20:STARTUMS\r\n:25:NL26VAYB8060476890\r\n:28C:1/1\r\n:60F:C240101EUR100,00\r\n"
             b":61:2401020102C8,85NTRFNONREF\r\n:86:/EREF/E1/NAME/ACME/REMI/RF18539007547034\r\n"
             b":62F:C240102EUR108,85\r\n-",
    # the original amount of a converted payment, in field 61's supplementary details
    "mt940-ocmt": b":20:S\r\n:25:NL26VAYB8060476890\r\n:28C:1/1\r\n:60F:C240101EUR0,00\r\n"
                  b":61:2401020102C8,85NTRFNONREF//B1\r\n/OCMT/USD9,60/\r\n"
                  b":86:/NAME/ACME/OCMT/USD9,60//REMI/X\r\n:62F:C240102EUR8,85\r\n-",
    "ofx": b"OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\n\n<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS>"
           b"<CURDEF>EUR<BANKACCTFROM><ACCTID>123<BANKTRANLIST><STMTTRN><TRNTYPE>CREDIT"
           b"<DTPOSTED>20240102<TRNAMT>8.85<FITID>1<NAME>ACME</STMTTRN></BANKTRANLIST>"
           b"<LEDGERBAL><BALAMT>108.85<DTASOF>20240102</LEDGERBAL></STMTRS></STMTTRNRS>"
           b"</BANKMSGSRSV1></OFX>",
    "qif": b"!Type:Bank\nD01/02/2024\nT8.85\nPACME\nMRF18539007547034\n^\n",
    "coda": (b"0" * 5 + b" " * 122 + b"2\n" + b"12001BE68539007547034".ljust(39) + b"EUR0"
             + b"0" * 15 + b"010124" + b" " * 64 + b"\n" + b"8001BE68539007547034".ljust(41)
             + b"0" + b"0" * 15 + b"020124" + b" " * 65 + b"\n9" + b" " * 127 + b"\n"),
}


def _check(data: bytes, mapping: ColumnMapping | None = None) -> None:
    start = time.monotonic()
    try:
        read = read_statement(data, mapping)
    except StatementUnreadable as exc:
        assert exc.message
    else:
        assert read.statements
    assert time.monotonic() - start < DEADLINE_SECONDS


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    seed = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["flip", "cut", "insert"]))
        pos = draw(st.integers(0, max(len(seed) - 1, 0)))
        if op == "flip" and seed:
            seed[pos] = draw(st.integers(0, 255))
        elif op == "cut":
            del seed[pos:pos + draw(st.integers(1, 40))]
        else:
            seed[pos:pos] = draw(st.sampled_from([
                b"<", b">", b"</Ntry>", b"&amp;", b"\x00", b"9" * 40, b":61:", b"\n", b"-",
                b"1e400", b"NaN", b",", b"<STMTTRN>", b"^", b"D", "é".encode(), b"/OCMT/",
                b"/CHGS/"]))
    return bytes(seed)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated())
def test_a_mutated_statement_reads_or_says_why(data: bytes) -> None:
    _check(data)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=2000))
def test_random_bytes_are_refused_or_read(data: bytes) -> None:
    _check(data)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(max_size=400))
def test_a_mapped_csv_reads_or_says_why(text: str) -> None:
    mapping = ColumnMapping({"date": "Date", "amount": "Amount", "text": "Text"},
                            date_format="%d/%m/%Y", decimal=",", currency="EUR")
    _check(("Date;Amount;Text\n" + text).encode(), mapping)


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_each_seed_reads(seed: str) -> None:
    assert read_statement(SEEDS[seed]).statements[0].lines or seed == "coda"


BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
                  b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
                  b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&lol3;'
                  b'</Document>')
EXTERNAL = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&x;</Document>')


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL], ids=["billion-laughs", "xxe"])
def test_xml_entities_are_refused_unexpanded(data: bytes) -> None:
    start = time.monotonic()
    with pytest.raises(StatementUnreadable, match="DTD or entities"):
        read_statement(data)
    assert time.monotonic() - start < 0.5


OTHER_DIGITS = "٨.٨٥"  # 8.85 in Arabic-Indic digits: Python's Decimal would read it


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_an_amount_in_another_scripts_digits_is_refused(seed: str) -> None:
    text = SEEDS[seed].decode("latin-1")
    if seed == "coda":  # fixed columns: the opening balance's fifteen digits
        at = text.index("EUR0") + 4
        text = text[:at] + "٠" * 15 + text[at + 15:]
    else:
        text = text.replace("8.85", OTHER_DIGITS).replace("8,85", OTHER_DIGITS.replace(".", ","))
    with pytest.raises(StatementUnreadable) as refused:
        read_statement(text.encode())
    assert "amount" in refused.value.message or "character set" in refused.value.message


def test_a_mapped_csv_amount_in_another_scripts_digits_is_refused() -> None:
    mapping = ColumnMapping({"date": "Date", "amount": "Amount", "text": "Text"},
                            date_format="%d/%m/%Y", decimal=",", currency="EUR")
    with pytest.raises(StatementUnreadable, match="is not a number"):
        read_statement("Date;Amount;Text\n02/01/2024;١٢,٠٠;x\n".encode(), mapping)
