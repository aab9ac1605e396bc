"""Recording receipts: the rules a payment received must meet, for one or for a whole file
(docs/design/ledger-model.md, "Receipts and unapplied cash").

Every path that records receipts (the ``receipt record`` command, the bulk service, the CSV
import, the demo) plans them here over plain values read beforehand, and one writer
(``payments/receipts.py``) writes the plan. Each receipt is checked in the order the command
has always checked it, and the first broken rule is that receipt's problem (a file reports
every receipt's):

1. the customer exists;
2. the currency (the one given, else the customer's, else the company's base currency) is an
   ISO 4217 currency;
3. its rate to the base currency is 1 for the base currency, else the one given or the rate
   table's on the day;
4. the amount has no more decimals than the currency, and is positive and not beyond any
   amount recorded here;
5. the payment method is known, the bank account named (else the main one) is the
   company's, and the day is in an open period.

The receipt is booked Dr the bank account's ledger account / Cr unapplied cash at its
amount converted at its rate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from ..money import Money, is_currency
from .amounts import amount_minor, check_recordable
from .errors import LedgerError, NegativeAmount, NotFound, UnknownCustomer, ValidationFailed
from .journal import Line, receipt_entry, to_base


class ReceiptRequest(NamedTuple):
    """A receipt to record: its customer by code (the command) or by id (the bulk paths);
    ``amount`` in major units (a Decimal, the command) or in minor units (an int, the bulk
    paths); ``currency`` empty for the customer's; ``rate`` None for the rate table's."""

    day: date
    amount: Decimal | int
    customer_code: str | None = None
    customer_id: int | None = None
    currency: str = ""
    rate: Decimal | None = None
    method: str = "bank_transfer"
    payer_reference: str = ""
    bank_reference: str = ""
    memo: str = ""
    bank_account: str = ""  # its code; empty for the company's main bank account


class Payer(NamedTuple):
    id: int
    code: str
    name: str
    currency: str  # the customer's own currency, or empty


@dataclass(frozen=True)
class ReceiptBooks:
    """What :func:`plan_receipts` needs, read for a batch: the customers named; the rate of
    each (currency, rate given, day) a receipt needs (or why there is none); the check of
    the day against the closed periods; the payment methods."""

    base_currency: str
    customers_by_code: Mapping[str, Payer]
    customers_by_id: Mapping[int, Payer]
    rates: Mapping[tuple[str, Decimal | None, date], Decimal | LedgerError]
    period: Callable[[date], None]
    methods: Sequence[str]
    # The company's bank accounts by code (upper case): (id, id of its ledger account);
    # ``main_bank_account`` the code of the main one.
    bank_accounts: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    main_bank_account: str = ""


class PlannedReceipt(NamedTuple):
    position: int  # in the batch
    request: ReceiptRequest
    customer: Payer
    currency: str
    amount: int  # minor units
    rate: Decimal
    base_amount: int
    lines: list[Line]
    bank_account: tuple[int, int] = (0, 0)  # (id, ledger account id)


@dataclass
class ReceiptsPlan:
    """The receipts to write, in input order, and the problem of each refused one."""

    receipts: list[PlannedReceipt]
    problems: list[tuple[int, LedgerError]]


def document_currency_of(given: str, customer_currency: str, base_currency: str) -> str:
    """The currency of a document: the one given, else the customer's, else the base."""
    currency = (given or customer_currency or base_currency).upper()
    if not is_currency(currency):
        raise ValidationFailed(f"unknown currency {given!r}", field="currency")
    return currency


def plan_receipts(requests: Sequence[ReceiptRequest], books: ReceiptBooks) -> ReceiptsPlan:
    """Check every receipt (see the module docstring); plan those that pass."""
    out = ReceiptsPlan([], [])
    for index, r in enumerate(requests):
        try:
            out.receipts.append(_plan(index, r, books))
        except LedgerError as exc:
            out.problems.append((index, exc))
    return out


def _plan(index: int, r: ReceiptRequest, books: ReceiptBooks) -> PlannedReceipt:
    if r.customer_id is not None:
        customer = books.customers_by_id.get(r.customer_id)
        if customer is None:
            raise UnknownCustomer(f"no customer with id {r.customer_id}",
                                  customer=r.customer_id)
    else:
        customer = books.customers_by_code.get(r.customer_code or "")
        if customer is None:
            raise UnknownCustomer(f"no customer with code {r.customer_code!r}",
                                  customer=r.customer_code)
    currency = document_currency_of(r.currency, customer.currency, books.base_currency)
    rate = books.rates[(currency, r.rate, r.day)]
    if isinstance(rate, LedgerError):
        raise rate
    if isinstance(r.amount, Decimal):
        amount = amount_minor(r.amount, currency)
    elif isinstance(r.amount, int) and not isinstance(r.amount, bool):
        amount = r.amount
    else:
        raise ValidationFailed("a receipt amount is a Decimal, or an int of minor units",
                               field="amount")
    if amount <= 0:
        raise NegativeAmount(
            f"a receipt must be positive, not {Money.from_minor(amount, currency)}",
            field="amount")
    check_recordable(amount, currency)
    if r.method not in books.methods:
        raise ValidationFailed(f"unknown payment method {r.method!r}; use one of "
                               f"{', '.join(books.methods)}", field="method")
    bank = books.bank_accounts.get((r.bank_account or books.main_bank_account).upper())
    if bank is None:
        raise NotFound(f"no bank account {r.bank_account!r}; the company has "
                       f"{', '.join(sorted(books.bank_accounts)) or 'none'}",
                       field="bank_account")
    books.period(r.day)
    base = to_base(amount, currency, books.base_currency, rate)
    return PlannedReceipt(index, r, customer, currency, amount, rate, base, receipt_entry(
        customer_id=customer.id, currency=currency, amount=amount, base_amount=base), bank)
