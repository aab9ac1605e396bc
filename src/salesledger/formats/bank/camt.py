"""ISO 20022 bank-to-customer cash management messages: camt.053 (statement), camt.052
(intraday report) and camt.054 (debit/credit notification), every version (001.01 to
001.13): the element names this reader uses are the same in all of them.

Read with lxml, safely: no entity is resolved, no DTD loaded, nothing fetched from the
network, no huge tree; a document that declares an entity is refused (billion laughs,
external entities). The schema is not enforced: real bank files often break their XSD, so
the message is validated against the schema of its version, where this product has it, and
what the schema says is a warning (``camt_schema_warnings``), never a refusal.

An entry (``Ntry``) that is a batch carries one ``TxDtls`` per transaction: it is split into
one line per transaction, each with the amount of its transaction (the batch's when only one).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from lxml import etree

from .model import (
    Balance,
    Statement,
    StatementFile,
    StatementLine,
    StatementUnreadable,
    statement_amount,
)

_NS = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.(05[234])\.(\d{3}\.\d{2})")
_OPENING = ("OPBD", "PRCD", "ITBD", "OPAV")
_CLOSING = ("CLBD", "ITBD", "CLAV")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                           load_dtd=False, dtd_validation=False, remove_comments=True)


def parse_xml(data: bytes, what: str) -> Any:
    """The root of an XML document, read without entities, DTDs or network."""
    if b"<!ENTITY" in data or b"<!DOCTYPE" in data[:4096]:
        raise StatementUnreadable(f"the {what} declares a DTD or entities, which a bank "
                                  "statement never needs: refused", where="line 1")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or (exc.position[0] if exc.position else 0)
        raise StatementUnreadable(f"not well-formed XML: {exc.msg}",
                                  where=f"line {line}") from None
    except ValueError as exc:
        raise StatementUnreadable(f"not XML: {exc}", where="line 1") from None
    if root is None:
        raise StatementUnreadable("empty document", where="line 1")
    return root


def sniff(data: bytes) -> bool:
    return b"urn:iso:std:iso:20022:tech:xsd:camt.05" in data[:4096]


class _Reader:
    def __init__(self, root: Any, ns: str) -> None:
        self.root, self.ns = root, ns

    def q(self, path: str) -> str:
        return "/".join(f"c:{p}" if p and p[0].isupper() else p for p in path.split("/"))

    def all(self, el: Any, path: str) -> list[Any]:
        return list(el.xpath(self.q(path), namespaces={"c": self.ns}))

    def one(self, el: Any, path: str) -> Any:
        found = self.all(el, path)
        return found[0] if found else None

    def text(self, el: Any, path: str) -> str:
        node = self.one(el, path) if el is not None else None
        return (node.text or "").strip() if node is not None else ""


def _where(el: Any) -> str:
    return f"line {el.sourceline} <{etree.QName(el).localname}>"


def _amount(el: Any) -> tuple[Decimal, str]:
    value = statement_amount((el.text or "").strip(), el.text or "", _where(el))
    if value < 0:  # camt gives the sign in CdtDbtInd, never in the amount
        raise StatementUnreadable(f"amount {el.text!r} is not an amount", where=_where(el))
    return value, (el.get("Ccy") or "").upper()


def _day(r: _Reader, el: Any, path: str) -> date | None:
    text = r.text(el, path + "/Dt") or r.text(el, path + "/DtTm")
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise StatementUnreadable(f"date {text!r} is not a date",
                                  where=_where(r.one(el, path))) from None


def _signed(r: _Reader, el: Any, amount: Decimal) -> Decimal:
    ind = r.text(el, "CdtDbtInd")
    if ind not in ("CRDT", "DBIT"):
        raise StatementUnreadable(f"credit/debit indicator {ind!r} is neither CRDT nor DBIT",
                                  where=_where(el))
    return amount if ind == "CRDT" else -amount


def read_camt(data: bytes) -> StatementFile:
    root = parse_xml(data, "camt message")
    match = _NS.match(etree.QName(root).namespace or "")
    if match is None:
        raise StatementUnreadable("not an ISO 20022 camt.052/053/054 message "
                                  f"(namespace {etree.QName(root).namespace!r})",
                                  where=_where(root))
    kind, version = match.group(1), match.group(2)
    r = _Reader(root, etree.QName(root).namespace or "")
    # Version 1 names its message element after the version (BkToCstmrStmtV01).
    record = {"053": "Stmt", "052": "Rpt", "054": "Ntfctn"}[kind]
    container = record
    records = [el for msg in root for el in msg
               if isinstance(el.tag, str) and etree.QName(el).localname == record]
    if not records:
        raise StatementUnreadable(f"no {container.split('/')[-1]} in the message",
                                  where=_where(root))
    warnings: list[str] = []
    statements = tuple(_statement(r, rec, warnings) for rec in records)
    warnings += camt_schema_warnings(root, kind, version)
    return StatementFile(f"camt.{kind}", version, statements, tuple(warnings))


# The ISO 20022 schemas of the versions this product has (formats/bank/xsd/, from the
# genkgo/camt project's test files, MIT): a file of another version is read unvalidated.
_XSD = Path(__file__).parent / "xsd"
SCHEMA_WARNINGS_SHOWN = 3


@lru_cache(maxsize=16)
def _schema(kind: str, version: str) -> etree.XMLSchema | None:
    path = _XSD / f"camt.{kind}.{version}.xsd"
    if not path.is_file():
        return None
    return etree.XMLSchema(etree.parse(str(path), _parser()))


def camt_schema_warnings(root: Any, kind: str, version: str) -> list[str]:
    """What the message's XSD says of it, as warnings (the first few, and how many more):
    real bank files often break their schema, and a file that reads is imported anyway."""
    schema = _schema(kind, version)
    if schema is None or schema.validate(root):
        return []
    errors = list(schema.error_log)
    out = [f"camt.{kind}.{version} schema: line {e.line}: {e.message}"
           for e in errors[:SCHEMA_WARNINGS_SHOWN]]
    if len(errors) > SCHEMA_WARNINGS_SHOWN:
        out.append(f"camt.{kind}.{version} schema: {len(errors) - SCHEMA_WARNINGS_SHOWN} "
                   "more problem(s)")
    return out


def _balance(r: _Reader, rec: Any, codes: tuple[str, ...]) -> Balance | None:
    by_code: dict[str, Balance] = {}
    for bal in r.all(rec, "Bal"):
        code = r.text(bal, "Tp/CdOrPrtry/Cd") or r.text(bal, "Tp/CdOrPrtry/Prtry")
        amt_el = r.one(bal, "Amt")
        if amt_el is None:
            raise StatementUnreadable("a balance without an amount", where=_where(bal))
        amount, ccy = _amount(amt_el)
        by_code.setdefault(code, Balance(_signed(r, bal, amount), _day(r, bal, "Dt"), ccy))
    return next((by_code[c] for c in codes if c in by_code), None)


def _statement(r: _Reader, rec: Any, warnings: list[str]) -> Statement:
    acct = r.one(rec, "Acct")
    if acct is None:
        raise StatementUnreadable("no account (Acct)", where=_where(rec))
    iban = r.text(acct, "Id/IBAN").replace(" ", "").upper()
    number = r.text(acct, "Id/Othr/Id").replace(" ", "")
    currency = r.text(acct, "Ccy").upper()
    opening, closing = _balance(r, rec, _OPENING), _balance(r, rec, _CLOSING)
    if opening is not None and closing is not None and opening.day and closing.day \
            and r.one(rec, "Bal[c:Tp/c:CdOrPrtry/c:Cd='ITBD']") is not None \
            and opening.day == closing.day and len(r.all(rec, "Bal")) == 1:
        opening = None  # a lone interim balance is the closing one
    lines: list[StatementLine] = []
    created = _iso_day(r.text(rec, "CreDtTm"))
    for index, ntry in enumerate(r.all(rec, "Ntry")):
        lines.extend(_entry_lines(r, ntry, index, currency, warnings, created))
    if not currency:
        currency = next((x.currency for x in (opening, closing) if x and x.currency),
                        lines[0].currency if lines else "")
    return Statement(
        iban, number, currency, statement_id=r.text(rec, "Id"), opening=opening,
        closing=closing, lines=tuple(lines), bic=r.text(acct, "Svcr/FinInstnId/BIC")
        or r.text(acct, "Svcr/FinInstnId/BICFI"), account_name=r.text(acct, "Nm"),
        from_date=_iso_day(r.text(rec, "FrToDt/FrDtTm")),
        to_date=_iso_day(r.text(rec, "FrToDt/ToDtTm")))


def _iso_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _party(r: _Reader, tx: Any, credit: bool) -> tuple[str, str, str]:
    """The other party: the debtor of money in, the creditor of money out."""
    side, agent = ("Dbtr", "DbtrAgt") if credit else ("Cdtr", "CdtrAgt")
    name = (r.text(tx, f"RltdPties/{side}/Nm") or r.text(tx, f"RltdPties/{side}/Pty/Nm")
            or r.text(tx, f"RltdPties/Ultmt{side}/Nm"))
    iban = (r.text(tx, f"RltdPties/{side}Acct/Id/IBAN")
            or r.text(tx, f"RltdPties/{side}Acct/Id/Othr/Id")).replace(" ", "").upper()
    bic = (r.text(tx, f"RltdAgts/{agent}/FinInstnId/BIC")
           or r.text(tx, f"RltdAgts/{agent}/FinInstnId/BICFI"))
    return name, iban, bic


def _bank_code(r: _Reader, el: Any) -> str:
    dom = r.text(el, "BkTxCd/Domn/Cd")
    if dom:
        return "/".join(x for x in (dom, r.text(el, "BkTxCd/Domn/Fmly/Cd"),
                                    r.text(el, "BkTxCd/Domn/Fmly/SubFmlyCd")) if x)
    return r.text(el, "BkTxCd/Prtry/Cd")


def _entry_lines(r: _Reader, ntry: Any, index: int, currency: str,
                 warnings: list[str], created: date | None) -> list[StatementLine]:
    amt_el = r.one(ntry, "Amt")
    if amt_el is None:
        raise StatementUnreadable("an entry without an amount (Amt)", where=_where(ntry))
    amount, ccy = _amount(amt_el)
    total = _signed(r, ntry, amount)
    credit = total >= 0
    ccy = ccy or currency
    booked = _day(r, ntry, "BookgDt") or _day(r, ntry, "ValDt")
    if booked is None and created is not None:
        warnings.append(f"{_where(ntry)}: no booking or value date; the message's creation "
                        f"date {created} is taken")
        booked = created
    if booked is None:
        raise StatementUnreadable("an entry without a booking or value date",
                                  where=_where(ntry))
    base: dict[str, Any] = {
        "booking_date": booked, "value_date": _day(r, ntry, "ValDt"), "currency": ccy,
        "bank_reference": r.text(ntry, "AcctSvcrRef"),
        "entry_reference": r.text(ntry, "NtryRef"), "entry_index": index}
    entry_text = r.text(ntry, "AddtlNtryInf")
    txs = r.all(ntry, "NtryDtls/TxDtls")
    if len(txs) > 1 and any(r.one(tx, "Amt") is None and r.one(tx, "AmtDtls/TxAmt/Amt") is None
                            for tx in txs):
        warnings.append(f"{_where(ntry)}: a batch of {len(txs)} transactions without their "
                        "own amounts: kept as one line with the first one's details")
        txs = txs[:1]
    if not txs:
        return [StatementLine(amount=total, bank_code=_bank_code(r, ntry), text=entry_text,
                              return_reason=r.text(ntry, "RtrInf/Rsn/Cd"), **base)]
    out = []
    amounts: list[Decimal] = []
    for tx in txs:
        tx_amt = r.one(tx, "Amt")
        if tx_amt is None:
            tx_amt = r.one(tx, "AmtDtls/TxAmt/Amt")
        if len(txs) == 1 or tx_amt is None:
            value = amount
        else:
            value = _amount(tx_amt)[0]
        ind = r.text(tx, "CdtDbtInd") if len(txs) > 1 else ""
        signed = (-value if ind == "DBIT" else value) if ind else (
            value if credit else -value)
        amounts.append(signed)
        instd = r.one(tx, "AmtDtls/InstdAmt/Amt")
        original = _amount(instd) if instd is not None else None
        name, iban, bic = _party(r, tx, signed >= 0)
        ustrd = " ".join(n.text.strip() for n in r.all(tx, "RmtInf/Ustrd") if n.text)
        cref = (r.text(tx, "RmtInf/Strd/CdtrRefInf/Ref")
                or r.text(tx, "RmtInf/Strd/CdtrRefInf/CdtrRef"))
        out.append(StatementLine(
            amount=signed,
            original_amount=original[0] if original else None,
            original_currency=original[1] if original else "",
            counterparty_name=name, counterparty_iban=iban, counterparty_bic=bic,
            end_to_end_id=_e2e(r.text(tx, "Refs/EndToEndId")),
            creditor_reference=cref, text=ustrd or r.text(tx, "AddtlTxInf") or entry_text,
            bank_code=_bank_code(r, tx) or _bank_code(r, ntry),
            return_reason=r.text(tx, "RtrInf/Rsn/Cd") or r.text(tx, "RtrInf/Rsn/Prtry"),
            **{**base, "bank_reference": r.text(tx, "Refs/AcctSvcrRef")
               or base["bank_reference"]}))
    if len(txs) > 1 and sum(amounts) != total:
        warnings.append(f"{_where(ntry)}: its transactions add up to {sum(amounts)}, the entry "
                        f"says {total}")
    return out


def _e2e(text: str) -> str:
    return "" if text.upper() == "NOTPROVIDED" else text
