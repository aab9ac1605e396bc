"""References found in a bank's free text (MT940 :86:, CODA communication, OFX memo): the
creditor reference (ISO 11649 RF, Belgian OGM), the end-to-end id and the counterparty,
where the bank writes them in one of the common conventions: Dutch ``/EREF/.../IBAN/...``
tags, German ``?20``..``?63`` subfields with ``EREF+``/``SVWZ+``, or plain text; and the
original amount and currency of a converted payment, SWIFT's ``/OCMT/EUR12,50/`` code word
(MT940 field 61's supplementary details, or field 86 in the tagged convention)."""

from __future__ import annotations

import re

_RF = re.compile(r"\bRF\d{2}[A-Z0-9]{1,21}\b")
_OGM = re.compile(r"\+\+\+(\d{3})/(\d{4})/(\d{5})\+\+\+|\*\*\*(\d{3})/(\d{4})/(\d{5})\*\*\*")
_SLASH_TAG = re.compile(
    r"/(TRCD|EREF|IBAN|BIC|NAME|REMI|CSID|MARF|RTRN|ORDP|BENM|ID|OCMT|CHGS|EXCH)/")
# SWIFT's original amount: a currency code and an amount with a decimal comma (or a dot)
_OCMT = re.compile(r"/OCMT/\s*([A-Z]{3})\s*([0-9]+(?:[.,][0-9]*)?)(?=/|\s|$)")
_QMARK = re.compile(r"\?(\d{2})")


def ogm(digits: str) -> str:
    """A Belgian structured communication (12 digits, the last two a mod 97 check) written
    the usual way, or "" when the check digits do not hold."""
    if len(digits) != 12 or not digits.isdigit():
        return ""
    check = int(digits[:10]) % 97 or 97
    if check != int(digits[10:]):
        return ""
    return f"+++{digits[:3]}/{digits[3:7]}/{digits[7:]}+++"


def creditor_reference(text: str) -> str:
    """An RF creditor reference or an OGM found in ``text``, else ""."""
    compact = text.upper().replace(" ", "")
    m = _RF.search(compact)
    if m:
        return m.group(0)
    m = _OGM.search(compact)
    if m:
        return ogm("".join(g for g in m.groups() if g))
    return ""


def parse_details(text: str) -> dict[str, str]:
    """The fields a bank wrote into a line's free text: keys ``name``, ``iban``, ``bic``,
    ``e2e``, ``text``, ``return_reason`` (those found; the code words of amounts, ``/OCMT/``
    and ``/CHGS/``, end the field before them: :func:`original_amount` reads the first)."""
    out: dict[str, str] = {}
    flat = text.replace("\r", "").replace("\n", "")
    if _SLASH_TAG.search(flat):
        parts = _SLASH_TAG.split(flat)
        tags = dict(zip(parts[1::2], (p.strip() for p in parts[2::2]), strict=False))
        out.update(name=tags.get("NAME", ""), iban=tags.get("IBAN", ""),
                   bic=tags.get("BIC", ""), e2e=tags.get("EREF", ""),
                   return_reason=tags.get("RTRN", ""),
                   text=tags.get("REMI", "").replace("/USTD//", "").replace("/STRD/", ""))
    elif _QMARK.search(flat):
        fields: dict[str, list[str]] = {}
        parts = _QMARK.split(flat)
        for code, value in zip(parts[1::2], parts[2::2], strict=False):
            fields.setdefault(code, []).append(value)
        purpose = "".join(v for c in sorted(fields) if "20" <= c <= "29" or "60" <= c <= "63"
                          for v in fields[c])
        m = re.search(r"EREF\+(.*?)(?=(?:KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE)\+|$)", purpose)
        s = re.search(r"SVWZ\+(.*?)(?=(?:ABWA|ABWE)\+|$)", purpose)
        out.update(name="".join(fields.get("32", []) + fields.get("33", [])),
                   iban="".join(fields.get("31", [])), bic="".join(fields.get("30", [])),
                   e2e=m.group(1).strip() if m else "",
                   text=(s.group(1) if s else purpose).strip())
    else:
        out["text"] = " ".join(text.split())
    out = {k: v.strip() for k, v in out.items() if v and v.strip()}
    if out.get("e2e", "").upper() == "NOTPROVIDED":
        del out["e2e"]
    return out


def original_amount(text: str) -> tuple[str, str] | None:
    """The original currency and amount (as written, ``("USD", "1000,00")``) of SWIFT's
    ``/OCMT/`` code word in ``text`` (a field 61's supplementary details, or a field 86), or
    None when there is none."""
    m = _OCMT.search(text.upper().replace("\r", "").replace("\n", ""))
    return (m.group(1), m.group(2)) if m else None
