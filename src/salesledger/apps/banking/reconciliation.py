"""The book-to-bank reconciliation of a bank account on a day (docs/design/cash-application.md):
the balance the bank's statements give, the balance of the account's ledger account, and
what explains the difference, item by item. Reads, never writes.

The statement balance on a day is the opening balance of the account's first imported
statement plus every line booked up to that day. The book balance is the sum of the journal
lines on the account's ledger account up to that day, in the account's currency. They differ
by exactly three things:

- the **opening balance** of the first statement: money in the account before its first
  statement was imported, which the books never recorded;
- lines **on the statement, not in the books**: lines no receipt was made from (waiting for
  review, unmatched, or money out such as fees, transfers and payments to suppliers, which a
  receivables ledger does not record);
- movements **in the books, not on the statement**: receipts and refunds recorded on the account
  (by hand, by an import) that no statement line has been applied to yet — a receipt whose
  line has not arrived, or one recorded twice. A receipt and its reversal cancel out.

What the three do not explain is shown as ``unexplained``: zero when the books and the bank
agree; anything else is worth a look (a receipt recorded by hand whose line was also applied
is one such case)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Q, Sum

from salesledger.apps.core.models import Company
from salesledger.apps.ledger.banks import bank_account_get, bank_account_main
from salesledger.apps.ledger.models import BankAccount, JournalLine
from salesledger.apps.payments.models import Receipt

from .models import LineMatch, LineStatus, Statement, StatementLine


@dataclass(frozen=True)
class BankItem:
    """A line of the statement that is not in the books."""

    line: int
    day: date
    amount: int
    counterparty: str
    text: str
    status: str


@dataclass(frozen=True)
class BookItem:
    """A movement of the books that is not on the statement."""

    day: date
    amount: int
    kind: str
    reference: str
    memo: str


@dataclass
class Reconciliation:
    account: BankAccount
    as_of: date
    currency: str
    statement_balance: int
    book_balance: int
    opening_balance: int
    opening_known: bool
    first_statement_day: date | None
    on_statement_not_in_books: list[BankItem] = field(default_factory=list)
    in_books_not_on_statement: list[BookItem] = field(default_factory=list)
    other_currency_lines: int = 0  # book lines on the account in another currency, left out

    @property
    def difference(self) -> int:
        return self.statement_balance - self.book_balance

    @property
    def explained(self) -> int:
        return (self.opening_balance + sum(i.amount for i in self.on_statement_not_in_books)
                - sum(i.amount for i in self.in_books_not_on_statement))

    @property
    def unexplained(self) -> int:
        return self.difference - self.explained


# The most receipt ids one ``IN`` list names: SQLite refuses a statement of more than
# 32,766 parameters, and the account's receipts of a year may be ten times that.
IDS_PER_QUERY = 5000


def _receipt_numbers(ids: set[int], known: dict[int, str]) -> dict[int, str]:
    """The numbers of the receipts ``ids``: from ``known`` (the account's receipts up to the
    day, read with their numbers), the few others (a receipt of another account, or dated
    after the day, that a reversal on this account names) read a bounded list at a time."""
    out = {pk: known[pk] for pk in ids if pk in known}
    missing = sorted(ids - out.keys())
    for start in range(0, len(missing), IDS_PER_QUERY):
        out.update(Receipt.objects.filter(pk__in=missing[start:start + IDS_PER_QUERY])
                   .values_list("id", "number"))
    return out


def reconciliation(company: Company, *, as_of: date, account_code: str = "") -> Reconciliation:
    """The reconciliation of ``account_code`` (default the main account) on ``as_of``."""
    bank = bank_account_get(company, account_code) if account_code else \
        bank_account_main(company)
    first = (Statement.objects.filter(company=company, bank_account=bank)
             .order_by("first_date", "pk").values("opening", "first_date").first())
    opening = (first or {}).get("opening")
    lines = StatementLine.objects.filter(company=company, bank_account=bank,
                                         booking_date__lte=as_of)
    line_total = lines.aggregate(t=Sum("amount"))["t"] or 0
    # Lines no receipt was made from: no match row, or a match that is not applied.
    not_booked = (lines.filter(Q(match__isnull=True) | ~Q(match__status=LineStatus.APPLIED))
                  .order_by("booking_date", "pk")
                  .values_list("id", "booking_date", "amount", "counterparty_name", "text",
                               "match__status"))
    # The receipts the applied lines became (up to the day: a line applied is on the
    # statement from its booking date).
    applied = set(LineMatch.objects.filter(
        company=company, line__bank_account=bank, line__booking_date__lte=as_of,
        status=LineStatus.APPLIED, receipt__isnull=False).values_list("receipt_id", flat=True))
    posted = set(LineMatch.objects.filter(
        company=company, line__bank_account=bank, line__booking_date__lte=as_of,
        status=LineStatus.APPLIED, entry__isnull=False).values_list("line_id", flat=True))
    book = JournalLine.objects.filter(company=company, account_id=bank.account_id,
                                      date__lte=as_of)
    other_currency = book.exclude(currency=bank.currency).count()
    book = book.filter(currency=bank.currency)
    book_balance = book.aggregate(t=Sum("amount_currency"))["t"] or 0
    # The movements of the books, grouped so that a receipt and its reversal cancel out.
    # A receipt's own entry is found from the receipt (``Receipt.journal_entry``); its reversal's
    # names the receipt as its source.
    receipt_of_entry: dict[int | None, int] = {}
    number_of: dict[int, str] = {}
    for entry_id, pk, number in Receipt.objects.filter(
            company=company, bank_account=bank, date__lte=as_of).values_list(
            "journal_entry_id", "id", "number"):
        receipt_of_entry[entry_id] = pk
        number_of[pk] = number
    groups: dict[tuple[str, int], dict[str, Any]] = defaultdict(
        lambda: {"amount": 0, "day": None, "memo": ""})
    for day, amount, kind, source_type, source_id, entry_id, memo in book.values_list(
            "date", "amount_currency", "entry__kind", "entry__source_type",
            "entry__source_id", "entry_id", "entry__memo"):
        if kind == "receipt" and entry_id in receipt_of_entry:
            key = ("receipt", receipt_of_entry[entry_id])
        elif kind == "receipt_reversal" and source_type == "receipt" and source_id:
            key = ("receipt", source_id)
        elif kind == "bank_line" and source_id:  # a line posted by a rule (and unposted)
            key = ("bank_line", source_id)
        else:
            key = (kind, entry_id)
        g = groups[key]
        g["amount"] += amount
        g["day"] = min(day, g["day"]) if g["day"] else day
        g["memo"] = g["memo"] or memo
    numbers = _receipt_numbers({k[1] for k in groups if k[0] == "receipt"}, number_of)
    result = Reconciliation(
        account=bank, as_of=as_of, currency=bank.currency,
        statement_balance=(opening or 0) + line_total, book_balance=book_balance,
        opening_balance=opening or 0, opening_known=opening is not None,
        first_statement_day=(first or {}).get("first_date"),
        other_currency_lines=other_currency)
    result.on_statement_not_in_books = [
        BankItem(pk, day, amount, name, text, status or LineStatus.UNMATCHED)
        for pk, day, amount, name, text, status in not_booked]
    for (kind, ident), g in sorted(groups.items(), key=lambda kv: (kv[1]["day"], kv[0])):
        if g["amount"] == 0 or (kind == "receipt" and ident in applied) or (
                kind == "bank_line" and ident in posted):
            continue
        result.in_books_not_on_statement.append(BookItem(
            g["day"], g["amount"], kind, numbers.get(ident, "") if kind == "receipt" else "",
            g["memo"]))
    return result

