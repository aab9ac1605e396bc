"""OFX and QFX (Open Financial Exchange): 1.x (SGML, closing tags optional) and 2.x (XML),
bank and credit-card statements (``STMTRS``, ``CCSTMTRS``). Investment statements are not
bank statements: refused with a message.

Written here rather than taken from a library: ofxtools is GPL-3.0 and strict about the
header and element order that real banks break; ofxparse has had no release since 2021.
What a statement needs is small: the account, the currency, the ledger balance and each
``STMTTRN``; both syntaxes are read by one tokenizer of tags and text (an XML 2.x file is
never given to an XML parser, so no entity is ever expanded)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from .details import creditor_reference
from .model import (
    Balance,
    Statement,
    StatementFile,
    StatementLine,
    StatementUnreadable,
    statement_amount,
)

_TOKEN = re.compile(r"<(/?)([A-Za-z0-9_.]+)[^>]*>([^<]*)")
_AGGREGATES = {"STMTRS", "CCSTMTRS", "BANKACCTFROM", "CCACCTFROM", "BANKTRANLIST",
               "STMTTRN", "LEDGERBAL", "AVAILBAL", "PAYEE", "BANKACCTTO", "CCACCTTO",
               "CURRENCY", "ORIGCURRENCY", "INVSTMTRS"}


def sniff(text: str) -> bool:
    head = text[:2048].upper()
    return "OFXHEADER" in head or "<OFX>" in head or "<OFX " in head


class _Node:
    def __init__(self, tag: str) -> None:
        self.tag, self.children, self.fields = tag, [], {}  # type: ignore[var-annotated]

    def get(self, name: str) -> str:
        return str(self.fields.get(name, ""))

    def find(self, tag: str) -> list[_Node]:
        out = []
        for c in self.children:
            if c.tag == tag:
                out.append(c)
            out.extend(c.find(tag))
        return out


def _tree(body: str) -> _Node:
    root = _Node("")
    stack = [root]
    for m in _TOKEN.finditer(body):
        closing, tag, value = m.group(1), m.group(2).upper(), m.group(3).strip()
        if closing:
            for i in range(len(stack) - 1, 0, -1):
                if stack[i].tag == tag:
                    del stack[i:]
                    break
            continue
        if tag in _AGGREGATES:
            node = _Node(tag)
            stack[-1].children.append(node)
            stack.append(node)
        elif len(stack) > 200:
            raise StatementUnreadable("elements nested too deep", where=f"<{tag}>")
        else:
            stack[-1].fields.setdefault(tag, _unescape(value))
    return root


def _unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&nbsp;", " ").replace("&amp;", "&"))


def _day(text: str, where: str) -> date:
    digits = text[:8]
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise StatementUnreadable(f"date {text!r} is not YYYYMMDD", where=where) from None


def _amount(text: str, where: str) -> Decimal:
    value = text.replace(",", ".").replace(" ", "")
    if value.count(".") > 1:  # 1.234.56: thousands dots
        head, _, tail = value.rpartition(".")
        value = head.replace(".", "") + "." + tail
    return statement_amount(value, text, where)


def read_ofx(text: str) -> StatementFile:
    start = text.upper().find("<OFX")
    if start < 0:
        raise StatementUnreadable("no <OFX> element", where="line 1")
    header = text[:start]
    version = (re.search(r"VERSION[:=]\s*\"?(\d)(\d)(\d)", header) or
               re.search(r"(\d)(\d)(\d)", "102"))
    assert version is not None
    ver = f"{version.group(1)}.{version.group(2)}{version.group(3)}"
    root = _tree(text[start:])
    if root.find("INVSTMTRS") and not (root.find("STMTRS") or root.find("CCSTMTRS")):
        raise StatementUnreadable("an investment statement, not a bank or card statement",
                                  where="<INVSTMTRS>")
    rss = root.find("STMTRS") + root.find("CCSTMTRS")
    if not rss:
        raise StatementUnreadable("no bank or card statement (STMTRS, CCSTMTRS) in the file",
                                  where="<OFX>")
    return StatementFile("ofx", ver, tuple(_statement(rs) for rs in rss))


def _statement(rs: _Node) -> Statement:
    where = f"<{rs.tag}>"
    acct = (rs.find("BANKACCTFROM") or rs.find("CCACCTFROM") or [_Node("")])[0]
    number = acct.get("ACCTID").replace(" ", "")
    if not number:
        raise StatementUnreadable("a statement without an account (ACCTID)", where=where)
    currency = rs.get("CURDEF").upper()
    lines = []
    for index, trn in enumerate(rs.find("STMTTRN")):
        w = f"<STMTTRN> {trn.get('FITID') or index + 1}"
        if not trn.get("TRNAMT") or not (trn.get("DTPOSTED") or trn.get("DTUSER")):
            raise StatementUnreadable("a transaction without TRNAMT or DTPOSTED", where=w)
        payee = (trn.find("PAYEE") or [_Node("")])[0]
        to = (trn.find("BANKACCTTO") or [_Node("")])[0]
        memo = trn.get("MEMO")
        orig = (trn.find("ORIGCURRENCY") or [_Node("")])[0]
        lines.append(StatementLine(
            booking_date=_day(trn.get("DTPOSTED") or trn.get("DTUSER"), w),
            value_date=_day(trn.get("DTAVAIL"), w) if trn.get("DTAVAIL") else None,
            amount=_amount(trn.get("TRNAMT"), w), currency=currency,
            original_currency=orig.get("CURSYM").upper(),
            counterparty_name=trn.get("NAME") or payee.get("NAME"),
            counterparty_iban=to.get("ACCTID").replace(" ", ""),
            counterparty_bic=to.get("BANKID") if len(to.get("BANKID")) in (8, 11) else "",
            bank_reference=trn.get("FITID"), end_to_end_id=trn.get("REFNUM"),
            creditor_reference=creditor_reference(memo), text=memo,
            bank_code=trn.get("TRNTYPE"), entry_index=index))
    bals = rs.find("LEDGERBAL")
    bal = bals[0] if bals else None
    closing = Balance(_amount(bal.get("BALAMT"), "<LEDGERBAL>"),
                      _day(bal.get("DTASOF"), "<LEDGERBAL>") if bal.get("DTASOF") else None,
                      currency) if bal is not None and bal.get("BALAMT") else None
    tl = (rs.find("BANKTRANLIST") or [_Node("")])[0]
    iban = number.upper() if re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", number.upper()) \
        else ""
    return Statement(iban, "" if iban else number, currency, opening=None, closing=closing,
                     lines=tuple(lines), bic=acct.get("BANKID") if len(acct.get("BANKID"))
                     in (8, 11) and not acct.get("BANKID").isdigit() else "",
                     from_date=_day(tl.get("DTSTART"), "<DTSTART>") if tl.get("DTSTART")
                     else None,
                     to_date=_day(tl.get("DTEND"), "<DTEND>") if tl.get("DTEND") else None)
