"""Importing statements through the one service: the account found from the file, the
balance and continuity checks reported, a duplicate or overlapping import adding no line,
an unknown account or a broken file importing nothing; receipts name their bank account."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from salesledger.apps.banking.models import Statement, StatementLine
from salesledger.apps.banking.services import mapping_add, statement_import
from salesledger.apps.core.services import company_profile_update
from salesledger.apps.invoicing.tests.books import make_company, make_customer, make_owner
from salesledger.apps.ledger.banks import BankAccountSpec, bank_account_add, bank_accounts
from salesledger.apps.ledger.models import JournalLine
from salesledger.apps.payments.services import ReceiptInput, receipt_record
from salesledger.domain.errors import LedgerError, NotFound
from salesledger.formats.bank import StatementUnreadable

pytestmark = pytest.mark.django_db(transaction=False)

IBAN = "NL26VAYB8060476890"


def mt940(opening: str, closing: str, lines: list[tuple[str, str, str]], number: str = "1"
          ) -> bytes:
    body = [":20:STMT", f":25:{IBAN}", f":28C:{number}/1", f":60F:C{opening}"]
    for day, amount, ref in lines:
        body += [f":61:{day}{day[2:]}C{amount}NTRF{ref}", f":86:/NAME/ACME SA/REMI/{ref}"]
    body += [f":62F:C{closing}", "-"]
    return "\r\n".join(body).encode()


@pytest.fixture
def books() -> dict[str, Any]:
    owner = make_owner("bank-owner")
    company = make_company(owner, "bankco")
    company = company_profile_update(actor=owner, company=company, iban=IBAN)
    return {"owner": owner, "company": company}


def test_the_main_account_is_the_one_invoices_print(books: dict[str, Any]) -> None:
    [main] = bank_accounts(books["company"])
    assert (main.code, main.iban, main.is_main, main.account.code) == ("MAIN", IBAN, True, "1200")


def test_a_statement_imports_once_and_overlaps_add_no_line(books: dict[str, Any]) -> None:
    first = mt940("240101EUR100,00", "240102EUR130,00",
                  [("240101", "10,00", "A1"), ("240102", "20,00", "A2")])
    r = statement_import(actor=books["owner"], company=books["company"], data=first)
    [s] = r.statements
    assert (r.format, s.account.code, s.statement.imported_lines, s.statement.balance_difference
            ) == ("mt940", "MAIN", 2, 0)
    again = statement_import(actor=books["owner"], company=books["company"], data=first)
    assert again.statements[0].duplicates == 2
    overlap = mt940("240102EUR120,00", "240103EUR160,00",
                    [("240102", "20,00", "A2"), ("240103", "30,00", "A3")], number="2")
    r3 = statement_import(actor=books["owner"], company=books["company"], data=overlap)
    assert (r3.statements[0].duplicates, r3.statements[0].statement.imported_lines) == (1, 1)
    assert StatementLine.objects.filter(company=books["company"]).count() == 3


def test_a_balance_mismatch_and_a_gap_are_reported_not_refused(books: dict[str, Any]) -> None:
    statement_import(actor=books["owner"], company=books["company"], data=mt940(
        "240101EUR100,00", "240101EUR110,00", [("240101", "10,00", "B1")]))
    r = statement_import(actor=books["owner"], company=books["company"], data=mt940(
        "240102EUR111,00", "240102EUR150,00", [("240102", "20,00", "B2")], number="2"))
    s = r.statements[0].statement
    assert (s.balance_difference, s.continuity_difference) == (1900, 100)
    assert len(r.warnings) == 2 and "19.00 EUR" in r.warnings[0]


def test_an_unknown_account_is_refused_saying_how_to_add_it(books: dict[str, Any]) -> None:
    data = mt940("240101EUR0,00", "240101EUR5,00", [("240101", "5,00", "C1")]).replace(
        IBAN.encode(), b"DE89370400440532013000")
    with pytest.raises(NotFound, match="bank account add"):
        statement_import(actor=books["owner"], company=books["company"], data=data)
    assert not Statement.objects.exists()
    r = statement_import(actor=books["owner"], company=books["company"], data=data,
                         new_account=True)
    assert r.statements[0].created_account
    assert r.statements[0].account.iban == "DE89370400440532013000"


def test_a_broken_file_imports_nothing(books: dict[str, Any]) -> None:
    good = mt940("240101EUR0,00", "240101EUR5,00", [("240101", "5,00", "D1")])
    broken = good + b"\r\n:20:X\r\n:25:" + IBAN.encode() + b"\r\n:61:2401XXC5,00NTRF\r\n"
    with pytest.raises(LedgerError):
        statement_import(actor=books["owner"], company=books["company"], data=broken)
    with pytest.raises(StatementUnreadable, match="line 1"):
        statement_import(actor=books["owner"], company=books["company"], data=b"hello")
    assert not StatementLine.objects.exists()


def test_a_csv_statement_reads_through_its_mapping(books: dict[str, Any]) -> None:
    mapping_add(actor=books["owner"], company=books["company"], name="mybank",
                columns={"date": "Date", "amount": "Amount", "text": "Text"},
                date_format="%d/%m/%Y", decimal=",", currency="EUR")
    data = b"Date;Amount;Text\n02/01/2024;12,50;RF18 5390 0754 7034\n"
    r = statement_import(actor=books["owner"], company=books["company"], data=data,
                         account="MAIN", mapping="mybank")
    line = StatementLine.objects.get()
    assert (r.format, line.amount, line.creditor_reference) == ("csv", 1250, "RF18539007547034")


def test_a_receipt_debits_the_bank_account_it_arrived_in(books: dict[str, Any]) -> None:
    company, owner = books["company"], books["owner"]
    make_customer(company, owner, "C1")
    savings = bank_account_add(actor=owner, company=company, spec=BankAccountSpec(
        code="SAVINGS", name="Savings", iban="DE89370400440532013000"))
    main = receipt_record(actor=owner, company=company, data=ReceiptInput(
        "C1", date(2025, 3, 1), Decimal("10.00")))
    other = receipt_record(actor=owner, company=company, data=ReceiptInput(
        "C1", date(2025, 3, 1), Decimal("20.00"), bank_account="savings"))
    assert (main.bank_account.code, other.bank_account.code) == ("MAIN", "SAVINGS")
    debit = JournalLine.objects.get(entry_id=other.journal_entry_id, amount__gt=0)
    assert debit.account_id == savings.account_id
    with pytest.raises(NotFound):
        receipt_record(actor=owner, company=company, data=ReceiptInput(
            "C1", date(2025, 3, 1), Decimal("1.00"), bank_account="NOPE"))
