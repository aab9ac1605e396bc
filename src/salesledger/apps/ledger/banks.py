"""The company's bank accounts: where its customers pay and whose statements it imports
(docs/design/bank-statements.md).

Each bank account has its own ledger account (role ``bank``, a code in the 12xx range), so
the journal shows the cash in each. The main account is the one printed on invoices: the
company's IBAN and BIC (``company set --iban/--bic``) are its details, kept in step by
:func:`main_bank_account_sync` when they change. A receipt that names no bank account
arrived in the main one.

They live in the ledger app, not in the banking app that imports statements, because a
receipt (payments) and an invoice (invoicing) point at one, and those apps are below banking
(docs/decisions.md, "Bank accounts live in the ledger app").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from salesledger.apps.core.actors import Actor
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import require_role
from salesledger.domain.errors import DuplicateCode, NotFound, ValidationFailed
from salesledger.domain.identifiers import normalise_bic, normalise_iban
from salesledger.domain.journal import AccountRole
from salesledger.money import is_currency

from .models import Account, BankAccount

MAIN_CODE = "MAIN"
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$")


@dataclass(frozen=True)
class BankAccountSpec:
    """A bank account to add: ``code`` one word; an IBAN (checked, BIC filled in when the
    IBAN tells it) or the bank's own ``number``; ``currency`` empty for the base currency."""

    code: str
    name: str
    iban: str = ""
    bic: str = ""
    number: str = ""
    currency: str = ""


def _compact(text: str) -> str:
    return "".join(text.split()).upper()


def bank_account_check(spec: BankAccountSpec, base_currency: str) -> BankAccountSpec:
    """The spec with its IBAN, BIC, number and currency in compact form, or the rule it
    breaks. One check for every path (the command, ``bank import --new-account``)."""
    if not _CODE.match(spec.code):
        raise ValidationFailed(f"bank account code {spec.code!r}: one word of letters, digits, "
                               "- or _ (at most 20)", field="code")
    if not spec.name.strip():
        raise ValidationFailed("a bank account needs a name", field="name")
    iban, bic = (normalise_iban(spec.iban, spec.bic) if spec.iban.strip()
                 else ("", normalise_bic(spec.bic)))
    number = _compact(spec.number)
    if not iban and not number:
        raise ValidationFailed("give the account's IBAN (--iban) or, where it has none, the "
                               "bank's account number (--number)", field="iban")
    currency = (spec.currency or base_currency).upper()
    if not is_currency(currency):
        raise ValidationFailed(f"unknown currency {spec.currency!r}", field="currency")
    return BankAccountSpec(spec.code, spec.name.strip(), iban, bic, number[:40], currency)


def _ledger_code(company: Company) -> str:
    taken = set(Account.objects.filter(company=company).values_list("code", flat=True))
    return next(c for c in (*(str(n) for n in range(1201, 1300)),
                            *(str(n) for n in range(12000, 13000))) if c not in taken)


def bank_account_add(*, actor: Actor, company: Company, spec: BankAccountSpec) -> BankAccount:
    """Add a bank account and its own ledger account; audited."""
    require_role(company, actor, Role.MANAGER)
    spec = bank_account_check(spec, company.base_currency)
    with transaction.atomic():
        Company.objects.select_for_update().get(pk=company.pk)
        clash = BankAccount.objects.filter(company=company, code__iexact=spec.code).first()
        if clash is not None:
            raise DuplicateCode(f"bank account {clash.code} exists already", field="code")
        same = (BankAccount.objects.filter(company=company, currency=spec.currency)
                .filter(iban=spec.iban) if spec.iban else
                BankAccount.objects.filter(company=company, currency=spec.currency,
                                           number=spec.number)).first()
        if same is not None:
            raise DuplicateCode(f"the account {spec.iban or spec.number} in {spec.currency} is "
                           f"bank account {same.code} already", field="iban")
        ledger = Account.objects.create(company=company, code=_ledger_code(company),
                                        name=f"Bank {spec.name}"[:120],
                                        role=AccountRole.BANK.value, kind="asset")
        try:
            with transaction.atomic():
                row = BankAccount.objects.create(
                    company=company, code=spec.code, name=spec.name, iban=spec.iban,
                    bic=spec.bic, number=spec.number, currency=spec.currency, account=ledger)
        except IntegrityError:
            raise DuplicateCode(f"bank account {spec.code} exists already", field="code") from None
        audit(company, actor, "bank_account.add", "bank_account", row.pk, after={
            "code": row.code, "name": row.name, "iban": row.iban, "bic": row.bic,
            "number": row.number, "currency": row.currency, "ledger_account": ledger.code})
    return row


def main_bank_account_sync(*, company_id: int, iban: str, bic: str) -> None:
    """The company's IBAN and BIC changed: they are the main bank account's (called in
    the transaction that changed them)."""
    BankAccount.objects.filter(company_id=company_id, is_main=True).update(iban=iban, bic=bic)


def main_bank_account_create(*, company_id: int, currency: str, iban: str = "",
                             bic: str = "") -> BankAccount:
    """A new company's first bank account, on the chart's bank account (1200)."""
    ledger = Account.objects.get(company_id=company_id, role=AccountRole.BANK.value)
    return BankAccount.objects.create(company_id=company_id, code=MAIN_CODE,
                                      name="Main account", iban=iban, bic=bic,
                                      currency=currency, account=ledger, is_main=True)


# ---------------------------------------------------------------------------- selectors

def bank_accounts(company: Company) -> list[BankAccount]:
    """The company's bank accounts, the main one first."""
    return list(BankAccount.objects.filter(company=company).select_related("account")
                .order_by("-is_main", "code"))


def bank_account_get(company: Company, code: str) -> BankAccount:
    """The bank account with ``code`` (any case), or :class:`NotFound` naming the codes."""
    row = (BankAccount.objects.filter(company=company, code__iexact=code)
           .select_related("account").first())
    if row is None:
        codes = ", ".join(b.code for b in bank_accounts(company)) or "none yet"
        raise NotFound(f"no bank account {code!r} (the company has: {codes}; add one with "
                       "`salesledger bank account add`)", field="bank_account")
    return row


def bank_account_main(company: Company) -> BankAccount:
    row = BankAccount.objects.filter(company=company, is_main=True).first()
    if row is None:
        raise NotFound("the company has no main bank account", field="bank_account")
    return row


def bank_account_find(company: Company, *, iban: str = "", number: str = "",
                      currency: str = "") -> BankAccount | None:
    """The bank account a statement is of: by IBAN (or, without one, by the bank's account
    number, compared without spaces and leading zeros) and currency."""
    rows = BankAccount.objects.filter(company=company)
    if currency:
        rows = rows.filter(currency=currency.upper())
    if iban:
        found = rows.filter(iban=_compact(iban)).first()
        if found is not None:
            return found
    key = _compact(number).lstrip("0")
    if not key and iban:
        key = _compact(iban).lstrip("0")
    if not key:
        return None
    for row in rows.exclude(number=""):
        if row.number.lstrip("0") == key:
            return row
    # A statement that gives the account number alone, of an account known by its IBAN
    # (the IBAN ends with the domestic number).
    for row in rows.exclude(iban=""):
        if len(key) >= 6 and row.iban.endswith(key):
            return row
    return None
