"""What every file import shares, whichever app reads the file (customers, invoices and
receipts in CSV, exchange rates in CSV or the ECB's XML): the checks that the file can be read
at all, and its identity. A file is known by the SHA-256 of its bytes, which is what an
``ImportBatch`` records, so that the same file imported twice is recognised."""

from __future__ import annotations

import codecs
import hashlib
from pathlib import Path

from salesledger.domain.errors import ImportFailed, ValidationFailed
from salesledger.formats.csv_rows import RowProblem


def file_digest(path: Path) -> str:
    """SHA-256 of the file, after checking that it exists, is not empty and is UTF-8."""
    name = path.name
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise ValidationFailed(f"cannot read {path}: {exc.strerror}", file=str(path)) from None
    digest, size = hashlib.sha256(), 0
    decoder = codecs.getincrementaldecoder("utf-8")()
    with fh:
        try:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise _not_utf8(path) from None
    if size == 0:
        raise ImportFailed(f"{name} is empty", [RowProblem(1, None, (
            "the file is empty: a CSV import needs a header line naming the columns, then "
            "one line per row"))])
    return digest.hexdigest()


def _not_utf8(path: Path) -> ImportFailed:
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                problem = RowProblem(number, None, (
                    f"byte 0x{raw[exc.start]:02x} (character {len(raw[:exc.start].decode())+1}) "
                    "is not UTF-8; save the file as UTF-8 (\"CSV UTF-8\" in a spreadsheet)"))
                break
        else:
            problem = RowProblem(number, None, "the file ends in the middle of a character")
    return ImportFailed(f"{path.name} is not UTF-8 text", [problem])
