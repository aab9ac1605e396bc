"""Belgian CODA (Febelfin "Coded statement of account", version 2.x; version 1 files are
read for what they share). Fixed-width records of 128 characters:

- ``0`` header (creation date, the bank's BIC, the version in position 128);
- ``1`` old balance (the account in the form its position 2 says, currency, sign, amount
  with three decimals, date);
- ``21``/``22``/``23`` a movement (reference, sign, amount, value and entry dates, the
  transaction code, the communication, structured when position 62 is 1 with a 101/102
  OGM, the counterparty's BIC, account and name, the return reason of an R-transaction);
- ``31``/``32``/``33`` information about a movement; ``4`` free communication;
- ``8`` new balance; ``9`` trailer.

A movement whose globalisation code (position 125) is set is the total of the detail
movements that follow it (same sequence number, detail number above zero): the batch is
split into those details. Written here: the one library (pycoda) is GPL-3.0 and unmaintained.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from .details import ogm
from .model import Balance, Statement, StatementFile, StatementLine, StatementUnreadable


def sniff(text: str) -> bool:
    first = text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    return len(first) >= 120 and first.startswith("0000")


def _day(s: str, where: str) -> date | None:
    if not s.strip() or s == "000000":
        return None
    try:
        return date(2000 + int(s[4:6]), int(s[2:4]), int(s[0:2]))
    except ValueError:
        raise StatementUnreadable(f"date {s!r} is not DDMMYY", where=where) from None


def _amount(sign: str, digits: str, where: str) -> Decimal:
    if not (digits.isascii() and digits.isdigit()) or sign not in "01":
        raise StatementUnreadable(f"amount {sign}{digits!r} is not a signed amount",
                                  where=where)
    value = Decimal(digits).scaleb(-3)
    return -value if sign == "1" else value


class _Movement:
    def __init__(self) -> None:
        self.fields: dict[str, object] = {}
        self.details: list[_Movement] = []


def read_coda(text: str) -> StatementFile:
    records = [r.rstrip("\r") for r in text.lstrip("\ufeff").split("\n") if r.strip()]
    if not records or not records[0].startswith("0"):
        raise StatementUnreadable("a CODA file starts with a header record (0)", where="line 1")
    version = records[0][127:128] if len(records[0]) >= 128 else ""
    if version not in ("1", "2"):
        raise StatementUnreadable(f"CODA version {version!r} in position 128 of the header: "
                                  "versions 1 and 2 are read", where="line 1")
    statements: list[Statement] = []
    bic = records[0][60:71].strip()
    state: dict[str, object] = {}
    moves: list[_Movement] = []
    for no, rec in enumerate(records, start=1):
        where = f"line {no}"
        if len(rec) < 128 and rec[0] in "0123489":
            rec = rec.ljust(128)
        kind = rec[0]
        if kind == "0":
            bic = rec[60:71].strip() or bic
        elif kind == "1":
            state, moves = _old_balance(rec, version, where), []
        elif kind == "2":
            if not state:
                raise StatementUnreadable("a movement before the old balance record (1)",
                                          where=where)
            _movement(rec, moves, where)
        elif kind == "3":
            if not moves:
                raise StatementUnreadable("an information record before any movement",
                                          where=where)
            _information(rec, moves[-1])
        elif kind == "8":
            if not state:
                raise StatementUnreadable("a new balance record (8) without an old balance (1)",
                                          where=where)
            closing = Balance(_amount(rec[41], rec[42:57], where), _day(rec[57:63], where),
                              str(state["currency"]))
            statements.append(_statement(state, moves, closing, bic))
            state, moves = {}, []
        elif kind not in "49":
            raise StatementUnreadable(f"unknown record type {kind!r}", where=where)
    if state:
        raise StatementUnreadable("the last statement has no new balance record (8)",
                                  where=f"line {len(records)}")
    if not statements:
        raise StatementUnreadable("no statement in the file", where="line 1")
    return StatementFile("coda", version, tuple(statements))


def _old_balance(rec: str, version: str, where: str) -> dict[str, object]:
    structure = rec[1]
    if version == "1":
        number, currency = rec[5:17], rec[18:21]
    elif structure == "0":
        number, currency = rec[5:17], rec[18:21]
    elif structure == "2":
        number, currency = rec[5:21], rec[39:42]
    elif structure in "13":
        number, currency = rec[5:39], rec[39:42]
    else:
        raise StatementUnreadable(f"account structure {structure!r} is not 0 to 3", where=where)
    number = number.strip().replace(" ", "")
    iban = number if structure in "23" and version == "2" else ""
    return {"iban": iban, "number": "" if iban else number, "currency": currency.strip(),
            "opening": Balance(_amount(rec[42], rec[43:58], where), _day(rec[58:64], where),
                               currency.strip()),
            "seq": rec[2:5], "name": rec[64:90].strip()}


def _movement(rec: str, moves: list[_Movement], where: str) -> None:
    part = rec[1]
    if part == "1":
        m = _Movement()
        comm_type = rec[61]
        comm = rec[62:115]
        m.fields = {"ref": rec[10:31].strip(), "amount": _amount(rec[31], rec[32:47], where),
                    "value": _day(rec[47:53], where), "code": rec[53:61].strip(),
                    "structured": comm_type == "1", "comm": comm,
                    "entry": _day(rec[115:121], where), "glob": rec[124],
                    "seq": rec[2:6], "detail": rec[6:10]}
        parent = next((p for p in reversed(moves) if p.fields["seq"] == rec[2:6]
                       and p.fields["glob"] not in (" ", "0")), None)
        if parent is not None and rec[6:10] != "0000":
            parent.details.append(m)
        else:
            moves.append(m)
        return
    target = moves[-1].details[-1] if moves and moves[-1].details and \
        moves[-1].details[-1].fields["seq"] == rec[2:6] and \
        moves[-1].details[-1].fields["detail"] == rec[6:10] else (moves[-1] if moves else None)
    if target is None:
        raise StatementUnreadable(f"movement record 2{part} before its record 21", where=where)
    if part == "2":
        target.fields["comm"] = str(target.fields["comm"]) + rec[10:63]
        target.fields["customer_ref"] = rec[63:98].strip()
        target.fields["bic"] = rec[98:109].strip()
        target.fields["return_reason"] = rec[116:120].strip()
    elif part == "3":
        target.fields["account"] = rec[10:47].strip()
        target.fields["name"] = rec[47:82].strip()
        target.fields["comm"] = str(target.fields["comm"]) + rec[82:125]


def _information(rec: str, move: _Movement) -> None:
    target = move.details[-1] if move.details else move
    if rec[1] == "1" and not target.fields.get("name"):
        info = rec[40:113] if rec[39] == "1" else ""
        target.fields.setdefault("info", info.strip())


def _line(m: _Movement, index: int, currency: str) -> StatementLine:
    f = m.fields
    comm = str(f["comm"])
    cref = ""
    text = " ".join(comm.split())
    if f["structured"] and comm[:3] in ("101", "102"):
        cref = ogm(comm[3:15])
        text = ""
    account = str(f.get("account", ""))
    iban = account[:34].split(" ")[0] if account else ""
    return StatementLine(
        booking_date=f["entry"] or f["value"], value_date=f["value"],  # type: ignore[arg-type]
        amount=f["amount"], currency=currency,  # type: ignore[arg-type]
        counterparty_name=str(f.get("name", "")), counterparty_iban=iban,
        counterparty_bic=str(f.get("bic", "")), end_to_end_id=str(f.get("customer_ref", "")),
        bank_reference=str(f["ref"]), creditor_reference=cref, text=text,
        bank_code=str(f["code"]), return_reason=str(f.get("return_reason", "")),
        entry_reference=str(f["seq"]), entry_index=index)


def _statement(state: dict[str, object], moves: list[_Movement], closing: Balance,
               bic: str) -> Statement:
    currency = str(state["currency"])
    lines: list[StatementLine] = []
    for index, m in enumerate(moves):
        if m.details and sum(d.fields["amount"] for d in m.details) == m.fields["amount"]:  # type: ignore[misc]
            lines.extend(_line(d, index, currency) for d in m.details)
        else:
            lines.append(_line(m, index, currency))
    opening = state["opening"]
    assert isinstance(opening, Balance)
    return Statement(str(state["iban"]), str(state["number"]), currency,
                     statement_id=str(state["seq"]), opening=opening, closing=closing,
                     lines=tuple(lines), bic=bic, account_name=str(state["name"]),
                     from_date=opening.day, to_date=closing.day)
