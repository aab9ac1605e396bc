"""Importing bank statements (docs/design/bank-statements.md): read the file (any format
``formats.bank`` knows, detected from its content), find the account each statement is of,
check its balances and its continuity with the account's previous statement, and keep each
line the account has not had yet. One transaction per file: a file that cannot be read, or
a statement of an unknown account, imports nothing.

Every path (the command, later the web page and the worker) calls :func:`statement_import`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from salesledger.apps.core.actors import Actor, actor_row
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import require_role
from salesledger.apps.ledger.banks import (
    BankAccountSpec,
    bank_account_add,
    bank_account_find,
    bank_account_get,
)
from salesledger.apps.ledger.models import BankAccount
from salesledger.domain.bank_statements import (
    LineKey,
    balance_difference,
    continuity_difference,
    line_identities,
)
from salesledger.domain.errors import DuplicateCode, NotFound, ValidationFailed
from salesledger.formats.bank import (
    ColumnMapping as Mapping,
)
from salesledger.formats.bank import (
    Statement as ReadStatement,
)
from salesledger.formats.bank import (
    StatementFile,
    StatementUnreadable,
    read_statement,
)
from salesledger.formats.bank.csvmap import FIELDS
from salesledger.money import Money, is_currency

from .models import ColumnMapping, Statement, StatementLine

_MAPPING_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")


class UnknownStatementAccount(NotFound):
    code = "unknown_bank_account"


@dataclass
class StatementResult:
    statement: Statement
    account: BankAccount
    duplicates: int
    created_account: bool = False


@dataclass
class ImportResult:
    format: str
    version: str
    statements: list[StatementResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _minor(value: Decimal, currency: str, where: str) -> int:
    money = Money.of(value, currency)
    if not money.is_rounded():
        raise StatementUnreadable(f"amount {value} has more decimals than {currency} has",
                                  where=where)
    return money.minor()


def _account(company: Company, actor: Actor, st: ReadStatement, *, code: str,
             new_account: bool, index: int) -> tuple[BankAccount, bool]:
    if code:
        account = bank_account_get(company, code)
        if st.currency and st.currency != account.currency:
            raise ValidationFailed(f"the statement is in {st.currency}; bank account "
                                   f"{account.code} is in {account.currency}",
                                   field="account")
        return account, False
    ident = st.account_iban or st.account_number
    if not ident:
        raise ValidationFailed("the file does not say which account it is of: name it with "
                               "--account CODE (see `bank account list`)", field="account")
    found = bank_account_find(company, iban=st.account_iban, number=st.account_number,
                              currency=st.currency)
    if found is not None:
        return found, False
    if not new_account:
        option = f"--iban {ident}" if st.account_iban else f"--number {ident}"
        raise UnknownStatementAccount(
            f"statement {index + 1} is of account {ident} ({st.currency or 'no currency'}), "
            "which is not one of the company's bank accounts: add it with `salesledger bank "
            f"account add CODE --name NAME {option} --currency {st.currency or 'CCY'}`, "
            "or import with --new-account to add it from the file", field="account")
    base = "".join(ch for ch in (ident[-6:] or "BANK") if ch.isalnum()).upper()
    taken = {b.upper() for b in BankAccount.objects.filter(company=company)
             .values_list("code", flat=True)}
    code_new = next(c for c in (f"B{base}", *(f"B{base}-{n}" for n in range(2, 100)))
                    if c.upper() not in taken)
    created = bank_account_add(actor=actor, company=company, spec=BankAccountSpec(
        code=code_new, name=st.account_name or f"Account {ident}", iban=st.account_iban,
        bic=st.bic, number=st.account_number, currency=st.currency))
    return created, True


# Lines written in one INSERT; a progress listener is told after each.
LINES_PER_WRITE = 2000


def statement_import(*, actor: Actor, company: Company, data: bytes, file_name: str = "",
                     account: str = "", new_account: bool = False, mapping: str = "",
                     progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Import a statement file; see the module docstring. ``progress(done, total)``, when
    given, is told how many of the file's lines are done (written, or skipped as ones the
    account has) after each write of ``LINES_PER_WRITE`` lines: the import is one
    transaction, so nothing of it can be counted in the database before it ends."""
    require_role(company, actor, Role.CLERK)
    column_mapping = mapping_get(company, mapping) if mapping else None
    read = read_statement(data, column_mapping)
    if column_mapping is None and read.format == "csv":
        raise ValidationFailed("a CSV statement needs --mapping NAME", field="mapping")
    digest = hashlib.sha256(data).hexdigest()
    result = ImportResult(read.format, read.version, warnings=list(read.warnings))
    total = sum(len(st.lines) for st in read.statements)
    done = 0

    def lines_done(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress(done, total)

    with transaction.atomic():
        for index, st in enumerate(read.statements):
            result.statements.append(_import_one(
                company, actor, read, st, index, digest=digest, file_name=file_name,
                code=account, new_account=new_account, lines_done=lines_done))
        for sr in result.statements:
            s = sr.statement
            if s.balance_difference:
                result.warnings.append(
                    f"statement {s.statement_id or s.pk} of {sr.account.code}: opening "
                    f"balance + lines differs from the closing balance by "
                    f"{Money.from_minor(s.balance_difference, s.currency)}")
            if s.continuity_difference:
                result.warnings.append(
                    f"statement {s.statement_id or s.pk} of {sr.account.code}: its opening "
                    "balance differs from the previous statement's closing balance by "
                    f"{Money.from_minor(s.continuity_difference, s.currency)}")
            s.warnings = result.warnings
            s.save(update_fields=["warnings"])
    return result


def _import_one(company: Company, actor: Actor, read: StatementFile, st: ReadStatement,
                index: int, *, digest: str, file_name: str, code: str,
                new_account: bool, lines_done: Callable[[int], None]) -> StatementResult:
    account, created = _account(company, actor, st, code=code, new_account=new_account,
                                index=index)
    currency = st.currency or account.currency
    if not is_currency(currency):
        raise StatementUnreadable(f"unknown currency {currency!r}",
                                  where=f"statement {index + 1}")
    rows: list[StatementLine] = []
    for n, li in enumerate(st.lines, start=1):
        where = f"statement {index + 1}, line {n}"
        ccy = li.currency or currency
        if ccy != currency:
            raise StatementUnreadable(f"a line in {ccy} on a statement in {currency}",
                                      where=where)
        original = (_minor(li.original_amount, li.original_currency, where)
                    if li.original_amount is not None and is_currency(li.original_currency)
                    else None)
        rows.append(StatementLine(
            company=company, bank_account=account, booking_date=li.booking_date,
            value_date=li.value_date, amount=_minor(li.amount, currency, where),
            currency=currency, original_amount=original,
            original_currency=li.original_currency if original is not None else "",
            counterparty_name=li.counterparty_name[:140],
            counterparty_iban=li.counterparty_iban[:40], counterparty_bic=li.counterparty_bic[:11],
            end_to_end_id=li.end_to_end_id[:80], bank_reference=li.bank_reference[:80],
            creditor_reference=li.creditor_reference[:40], text=li.text,
            bank_code=li.bank_code[:40], return_reason=li.return_reason[:8],
            entry_reference=li.entry_reference[:80]))
    ids = line_identities([LineKey(r.booking_date, r.value_date, r.amount, r.currency,
                                   r.bank_reference, r.end_to_end_id, r.counterparty_iban,
                                   r.counterparty_name, r.text) for r in rows])
    for r, ident in zip(rows, ids, strict=True):
        r.identity = ident
    existing = set(StatementLine.objects.filter(
        company=company, bank_account=account, identity__in=ids).values_list(
        "identity", flat=True))
    new_rows = [r for r in rows if r.identity not in existing]
    opening = (_minor(st.opening.amount, currency, f"statement {index + 1} opening balance")
               if st.opening else None)
    closing = (_minor(st.closing.amount, currency, f"statement {index + 1} closing balance")
               if st.closing else None)
    total = sum(r.amount for r in rows)
    days = [r.booking_date for r in rows]
    first = st.from_date or (st.opening.day if st.opening else None) or min(days, default=None)
    previous = (Statement.objects.filter(company=company, bank_account=account,
                                         closing__isnull=False)
                .exclude(file_sha256=digest, statement_id=st.statement_id)
                .filter(**({"closing_date__lte": first} if first else {}))
                .order_by("-closing_date", "-pk").first())
    statement = Statement.objects.create(
        company=company, bank_account=account, format=read.format, version=read.version,
        statement_id=st.statement_id[:80], currency=currency, opening=opening, closing=closing,
        opening_date=st.opening.day if st.opening else None,
        closing_date=(st.closing.day if st.closing and st.closing.day else
                      max(days, default=None)),
        first_date=first, last_date=st.to_date or max(days, default=None),
        line_count=len(rows), imported_lines=len(new_rows), lines_total=total,
        balance_difference=balance_difference(opening, total, closing),
        continuity_difference=continuity_difference(
            previous.closing if previous else None, opening),
        file_sha256=digest, file_name=file_name[:255], imported_by=actor_row(actor))
    for r in new_rows:
        r.statement = statement
    lines_done(len(rows) - len(new_rows))  # the lines the account has: nothing to write
    for at in range(0, len(new_rows), LINES_PER_WRITE):
        chunk = new_rows[at:at + LINES_PER_WRITE]
        StatementLine.objects.bulk_create(chunk)
        lines_done(len(chunk))
    audit(company, actor, "bank_statement.import", "bank_statement", statement.pk, after={
        "account": account.code, "format": read.format, "statement_id": st.statement_id,
        "lines": len(rows), "imported": len(new_rows), "sha256": digest})
    return StatementResult(statement, account, len(rows) - len(new_rows), created)


# ---------------------------------------------------------------------------- mappings

def mapping_add(*, actor: Actor, company: Company, name: str, columns: dict[str, str],
                date_format: str = "%Y-%m-%d", decimal: str = ".", delimiter: str = "",
                skip_lines: int = 0, currency: str = "") -> ColumnMapping:
    """Save a CSV column mapping (checked as the reader will use it); audited."""
    require_role(company, actor, Role.MANAGER)
    if not _MAPPING_NAME.fullmatch(name):
        raise ValidationFailed(f"a mapping's name is 1 to 40 letters, digits, - or _, not "
                               f"{name!r}", field="name")
    try:
        Mapping(columns, date_format, decimal, delimiter, skip_lines, currency.upper()).check()
    except StatementUnreadable as exc:
        raise ValidationFailed(exc.message.removeprefix("mapping: "), field="mapping") from None
    if currency and not is_currency(currency.upper()):
        raise ValidationFailed(f"unknown currency {currency!r}", field="currency")
    with transaction.atomic():
        if ColumnMapping.objects.filter(company=company, name=name).exists():
            raise DuplicateCode(f"mapping {name} exists already", field="name")
        row = ColumnMapping.objects.create(
            company=company, name=name, columns=columns, date_format=date_format,
            decimal=decimal, delimiter=delimiter, skip_lines=skip_lines,
            currency=currency.upper())
        audit(company, actor, "bank_mapping.add", "bank_mapping", row.pk,
              after={"name": name, "columns": columns, "date_format": date_format,
                     "decimal": decimal, "delimiter": delimiter, "skip_lines": skip_lines,
                     "currency": currency.upper()})
    return row


def mapping_remove(*, actor: Actor, company: Company, name: str) -> None:
    """Remove a CSV column mapping by name (a manager's); audited with what it said. A
    statement imported through it keeps its lines: nothing refers to the mapping once it
    was read, and an import queued with it and not yet run is refused by name."""
    require_role(company, actor, Role.MANAGER)
    with transaction.atomic():
        row = ColumnMapping.objects.select_for_update().filter(company=company,
                                                               name=name).first()
        if row is None:
            raise NotFound(f"no column mapping {name!r}", field="name")
        before = {"name": row.name, "columns": row.columns, "date_format": row.date_format,
                  "decimal": row.decimal, "delimiter": row.delimiter,
                  "skip_lines": row.skip_lines, "currency": row.currency}
        audit(company, actor, "bank_mapping.remove", "bank_mapping", row.pk, before=before)
        row.delete()


def mapping_get(company: Company, name: str) -> Mapping:
    row = ColumnMapping.objects.filter(company=company, name=name).first()
    if row is None:
        raise NotFound(f"no column mapping {name!r} (add one with `bank mapping add`)",
                       field="mapping")
    return Mapping(dict(row.columns), row.date_format, row.decimal, row.delimiter,
                   row.skip_lines, row.currency)


__all__ = ["FIELDS", "ImportResult", "StatementResult", "mapping_add", "mapping_get",
           "mapping_remove", "statement_import"]
