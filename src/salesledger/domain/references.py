"""Structured creditor references (ISO 11649 "RF" references) for issued documents.

A customer who pays by bank transfer copies the reference into the remittance information;
the bank passes it on unchanged, so that bank matching can find the document it pays
without guessing from free text. ISO 11649 writes it ``RF`` + two check digits + up to 21
letters and digits; the check digits are ISO 7064 MOD 97-10 over the reference followed by
``RF`` and ``00`` (the same scheme as the IBAN), so that a mistyped character is detected.

python-stdnum validates such references (``stdnum.iso11649``) but does not compute them;
``creditor_reference`` does, with stdnum's MOD 97-10, and every reference it returns is
checked by stdnum's validator.

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
from stdnum.iso7064 import mod_97_10

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


def creditor_reference(number: str) -> str:
    """The ISO 11649 reference of a document number, e.g. ``RF41INV202500042``."""
    if not number.strip():
        raise ValueError("a creditor reference needs a document number")
    part = reference_part(number)
    reference = "RF" + mod_97_10.calc_check_digits(part + "RF") + part
    return str(iso11649.validate(reference))


def is_creditor_reference(text: str) -> bool:
    """Whether ``text`` is a well-formed RF reference with correct check digits."""
    return bool(iso11649.is_valid(text))


def format_reference(reference: str) -> str:
    """The reference in groups of four, as printed on a document (``RF41 INV2 0250 0042``)."""
    return str(iso11649.format(reference)) if reference else ""
