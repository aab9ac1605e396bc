"""Bank statement readers (pure: no Django). :func:`read_statement` detects the format from
the content and reads it (docs/design/bank-statements.md)."""

from __future__ import annotations

from . import camt, coda, mt940, ofx, qif
from .csvmap import ColumnMapping, read_csv
from .model import Balance, Statement, StatementFile, StatementLine, StatementUnreadable

__all__ = ["Balance", "ColumnMapping", "Statement", "StatementFile", "StatementLine",
           "StatementUnreadable", "decode", "detect", "read_statement"]

MAX_BYTES = 50 * 1024 * 1024


def decode(data: bytes) -> str:
    """Text files from banks are UTF-8, else Latin-1 (CODA, old MT940 and OFX 1.x)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def detect(data: bytes) -> str:
    """The format of ``data``, from its content: camt, ofx, mt940, coda, qif; or "" when
    none (a CSV file needs a mapping)."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \r\n\t")
    if camt.sniff(data):
        return "camt"
    text = decode(data[:65536])
    if ofx.sniff(text):
        return "ofx"
    if qif.sniff(text):
        return "qif"
    if coda.sniff(text):
        return "coda"
    if mt940.sniff(text) or head.startswith(b"{1:"):
        return "mt940"
    if head.startswith(b"<"):
        return "xml"
    return ""


def read_statement(data: bytes, mapping: ColumnMapping | None = None) -> StatementFile:
    """Read a statement file of any format this product knows; a CSV needs ``mapping``."""
    if len(data) > MAX_BYTES:
        raise StatementUnreadable(f"the file has {len(data):,} bytes; at most "
                                  f"{MAX_BYTES:,} are read", where="file")
    if not data.strip():
        raise StatementUnreadable("the file is empty", where="line 1")
    kind = detect(data)
    if kind == "camt":
        return camt.read_camt(data)
    if kind == "xml":
        camt.parse_xml(data, "XML file")
        raise StatementUnreadable("an XML file that is not an ISO 20022 camt.052, camt.053 or "
                                  "camt.054 message", where="line 1")
    if mapping is not None and kind == "":
        return read_csv(decode(data), mapping)
    text = decode(data)
    if kind == "ofx":
        return ofx.read_ofx(text)
    if kind == "qif":
        return qif.read_qif(text)
    if kind == "coda":
        return coda.read_coda(text)
    if kind == "mt940":
        return mt940.read_mt940(text)
    raise StatementUnreadable("not a statement format this product reads (camt.052/053/054, "
                              "MT940/MT942, OFX/QFX, CODA, QIF); for a CSV file give a column "
                              "mapping (--mapping, see `bank mapping add`)", where="line 1")
