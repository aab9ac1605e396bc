"""Which of the company's bank accounts an invoice is paid into (docs/design/bank-statements.md,
"The account an invoice names").

A company has several bank accounts, one of them main (the IBAN and BIC of its profile). An
invoice names the account its customer pays into: the main one when it holds the invoice's
currency, else the company's account in that currency (the lowest code) that has an IBAN or
a number, else the main one. Posting freezes the account chosen into the snapshot as
``pay_to``, so that a posted invoice names the same account forever, whatever the company
changes later. A credit note is paid into nothing: it names none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

CREDIT_NOTE = "credit_note"


@dataclass(frozen=True, slots=True)
class PayeeAccount:
    """One of the company's bank accounts, as an invoice may name it."""

    code: str
    currency: str
    iban: str = ""
    bic: str = ""
    number: str = ""  # the bank's own account number, where there is no IBAN
    is_main: bool = False

    @property
    def usable(self) -> bool:
        """A customer can pay into it: it has an IBAN or a number."""
        return bool(self.iban or self.number)


@dataclass(frozen=True, slots=True)
class Payee:
    """Who is paid (the company's legal name, else its name) and its bank accounts."""

    holder: str
    accounts: Sequence[PayeeAccount] = field(default_factory=tuple)


def pay_into(accounts: Sequence[PayeeAccount], currency: str) -> PayeeAccount | None:
    """The account a document in ``currency`` is paid into: the main account when it holds
    ``currency`` (and has an IBAN or a number); else the account in ``currency`` with the
    lowest code that has one; else the main account when it has one; else none."""
    main = next((a for a in accounts if a.is_main and a.usable), None)
    if main is not None and main.currency == currency:
        return main
    same = sorted((a for a in accounts if a.currency == currency and a.usable),
                  key=lambda a: a.code)
    return same[0] if same else main


def pay_to(payee: Payee | None, *, kind: str, currency: str) -> dict[str, Any] | None:
    """What a document of ``kind`` in ``currency`` freezes as ``pay_to``: the account's code,
    IBAN, BIC and holder (and its number when it has no IBAN); None for a credit note or a
    company without an account to pay into."""
    if payee is None or kind == CREDIT_NOTE:
        return None
    account = pay_into(payee.accounts, currency)
    if account is None:
        return None
    out = {"code": account.code, "iban": account.iban, "bic": account.bic,
           "holder": payee.holder}
    if not account.iban:
        out["number"] = account.number
    return out
