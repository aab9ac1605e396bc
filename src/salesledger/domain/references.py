"""Structured creditor references (ISO 11649 "RF" references) for issued documents.

A customer who pays by bank transfer copies the reference into the remittance information;
the bank passes it on unchanged, so that bank matching can find the document it pays
without guessing from free text. ISO 11649 writes it ``RF`` + two check digits + up to 21
letters and digits; the check digits are ISO 7064 MOD 97-10 over the reference followed by
``RF`` and ``00`` (the same scheme as the IBAN), so that a mistyped character is detected.

python-stdnum validates such references (``stdnum.iso11649``) but does not compute them.
``creditor_reference`` and ``is_creditor_reference`` compute the MOD 97-10 here, in one
integer operation: bank matching turns every number-like word of a statement's text into the
reference it would have (tens of thousands per statement), where stdnum's character-by-
character loop was a third of the matching time. The tests check both against stdnum's.

The reference part is derived from the document number, which is unique within a company:
its letters and digits, upper-cased (``INV2025-00042`` gives ``RF..INV202500042``), so that a
clerk who reads the reference sees the number. A number with no letters or digits, or with
more than 21 (long numbers kept from another system), gets a digest of the whole number
instead: 21 base-36 characters of its SHA-256, still unique in practice and still stable.
"""

from __future__ import annotations

import hashlib
import re

from stdnum import iso11649

MAX_REFERENCE = 21  # characters after "RF" and the check digits
_NOT_ALNUM = re.compile(r"[^A-Z0-9]")
_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def reference_part(number: str) -> str:
    """The reference a document number gives (without ``RF`` and check digits)."""
    part = _NOT_ALNUM.sub("", number.upper())
    if 1 <= len(part) <= MAX_REFERENCE:
        return part
    value = int.from_bytes(hashlib.sha256(number.encode()).digest(), "big")
    digits = []
    for _ in range(MAX_REFERENCE):
        value, rest = divmod(value, 36)
        digits.append(_BASE36[rest])
    return "".join(digits)


_DIGITS = str.maketrans({ch: str(n) for n, ch in enumerate(_BASE36) if n >= 10})
_SEPARATORS = re.compile(r"[ \-.,/:]")
_REFERENCE = re.compile(r"RF[0-9]{2}[A-Z0-9]{1,21}")


def _mod97(text: str) -> int:
    """ISO 7064 MOD 97-10 of upper-case letters and digits: letters as 10..35."""
    return int(text.translate(_DIGITS)) % 97


def creditor_reference(number: str) -> str:
    """The ISO 11649 reference of a document number, e.g. ``RF41INV202500042``."""
    if not number.strip():
        raise ValueError("a creditor reference needs a document number")
    part = reference_part(number)
    return f"RF{98 - _mod97(part + 'RF00'):02d}{part}"


def is_creditor_reference(text: str) -> bool:
    """Whether ``text`` is a well-formed RF reference with correct check digits (spaces,
    dashes, dots, commas, slashes and colons allowed, any case)."""
    compact = _SEPARATORS.sub("", text).upper().strip()
    return bool(_REFERENCE.fullmatch(compact)) and _mod97(compact[4:] + compact[:4]) == 1


def format_reference(reference: str) -> str:
    """The reference in groups of four, as printed on a document (``RF41 INV2 0250 0042``)."""
    return str(iso11649.format(reference)) if reference else ""
