"""Returned payments: a direct debit the customer's bank returned and a transfer recalled are
matched to the receipt they undo; when sure, the receipt is reversed (what it paid is open
again); when not, the reversal waits for review; money we pay out is never taken for one."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from salesledger.apps.banking.direct_debits import direct_debit_collect
from salesledger.apps.banking.matching import bank_confirm, bank_match, bank_unmatch
from salesledger.apps.banking.reconciliation import reconciliation
from salesledger.apps.banking.services import statement_import
from salesledger.apps.banking.tests.support import IBAN
from salesledger.apps.banking.tests.test_direct_debit import DEBTOR_IBAN
from salesledger.apps.banking.tests.test_direct_debit import books as dd_books  # noqa: F401
from salesledger.apps.invoicing.models import Instalment
from salesledger.apps.invoicing.tests.books import DAY, ledger_problems
from salesledger.apps.payments.models import ReceiptReversal
from salesledger.domain.errors import ValidationFailed

pytestmark = pytest.mark.django_db(transaction=False)


def statement(lines: list[tuple[str, str, str, str, str]], number: str = "1",
              opening: Decimal = Decimal(0)) -> bytes:
    """An MT940 file: (day, C or D and amount, payer IBAN, name, text) per line."""
    def balance(mark: str, day: str, amount: Decimal) -> str:
        sign = "C" if amount >= 0 else "D"
        return f":{mark}:{sign}{day}EUR{str(abs(amount)).replace('.', ',')}"

    body = [":20:STMT", f":25:{IBAN}", f":28C:{number}/1", balance("60F", "250101", opening)]
    total = opening
    for day, mark_amount, iban, name, text in lines:
        mark, amount = mark_amount[0], mark_amount[1:]
        total += Decimal(amount.replace(",", ".")) * (1 if mark == "C" else -1)
        body += [f":61:{day}{day[2:]}{mark}{amount}NTRFNONREF",
                 f":86:/NAME/{name}/IBAN/{iban}/REMI/{text}"]
    body += [balance("62F", lines[-1][0], total), "-"]
    return "\r\n".join(body).encode()


def open_of(invoice: Any) -> int:
    i = Instalment.objects.get(invoice=invoice)
    return i.amount - i.settled


def test_a_returned_direct_debit_reverses_its_receipt(dd_books):  # noqa: F811
    b = dd_books
    a1, a2 = b["inv"]["a1"], b["inv"]["a2"]
    direct_debit_collect(actor=b["owner"], company=b["company"],
                         due_by=a1.instalments.get().due_date, today=DAY)
    statement_import(actor=b["owner"], company=b["company"], data=statement([
        ("250401", "C100,00", DEBTOR_IBAN, "ACME", f"SEPA/EREF/{a1.number}-1"),
        ("250401", "C250,40", DEBTOR_IBAN, "ACME", f"SEPA/EREF/{a2.number}-1")]))
    bank_match(actor=b["owner"], company=b["company"], auto_apply=True)
    assert open_of(a1) == 0
    # a week later the debtor's bank sends the first one back: no funds (AM04)
    statement_import(actor=b["owner"], company=b["company"], data=statement([
        ("250408", "D100,00", DEBTOR_IBAN, "ACME",
         f"SEPA RETURN/EREF/{a1.number}-1/RTRN/AM04")], number="2"))
    [r] = bank_match(actor=b["owner"], company=b["company"], auto_apply=True)
    assert r.decision == "applied"
    assert any("same end-to-end id" in e for e in r.evidence)
    rev = ReceiptReversal.objects.get()
    assert rev.receipt.number == r.receipt and rev.date == date(2025, 4, 8)
    assert "AM04" in rev.reason
    assert open_of(a1) == 10000 and open_of(a2) == 0
    rec = reconciliation(b["company"], as_of=date(2025, 4, 30))
    assert rec.unexplained == 0 and rec.on_statement_not_in_books == []
    with pytest.raises(ValidationFailed, match="returned a payment"):
        bank_unmatch(actor=b["owner"], company=b["company"], line_id=r.line.pk,
                     day=date(2025, 4, 30))
    assert ledger_problems(b["company"]) == []


def test_a_recalled_transfer_found_by_amount_and_iban(dd_books):  # noqa: F811
    b = dd_books
    t1 = b["inv"]["t1"]
    payer = "FR1420041010050500013M02606"
    statement_import(actor=b["owner"], company=b["company"], data=statement([
        ("250402", "C60,00", payer, "Pays By Transfer", t1.payment_reference)]))
    bank_match(actor=b["owner"], company=b["company"], auto_apply=True)
    assert open_of(t1) == 0
    statement_import(actor=b["owner"], company=b["company"], data=statement([
        ("250405", "D60,00", payer, "Pays By Transfer", "RECALL/RTRN/FOCR"),
        ("250406", "D60,00", payer, "Pays By Transfer", "our refund to them")], number="2"))
    recall, refund = bank_match(actor=b["owner"], company=b["company"], auto_apply=True)
    assert recall.decision == "applied" and open_of(t1) == 6000
    assert any("same amount from the same IBAN" in e for e in recall.evidence)
    assert refund.decision == "other"


def test_a_return_that_several_payments_fit_waits_and_confirm_reverses(dd_books):  # noqa: F811
    b = dd_books
    a1, a2 = b["inv"]["a1"], b["inv"]["a2"]
    payer = "FR1420041010050500013M02606"
    statement_import(actor=b["owner"], company=b["company"], data=statement([
        ("250402", "C100,00", payer, "ACME", a1.payment_reference),
        ("250403", "C100,00", payer, "ACME", a2.payment_reference)]))
    first, second = bank_match(actor=b["owner"], company=b["company"], auto_apply=True)
    assert first.decision == "applied"
    if second.decision != "applied":  # a part payment is confirmed by a clerk
        bank_confirm(actor=b["owner"], company=b["company"], line_id=second.line.pk)
    statement_import(actor=b["owner"], company=b["company"], data=statement([
        ("250410", "D100,00", payer, "ACME", "RETURN/RTRN/AC04")], number="2"))
    [r] = bank_match(actor=b["owner"], company=b["company"], auto_apply=True)
    assert r.decision == "suggested" and len(r.suggestions) == 2
    # the latest payment first: the second suggestion is the payment of a1
    assert [p.evidence[0].split(" of 2025")[0] for p in r.suggestions] == [
        f"returns the payment of line {second.line.pk}",
        f"returns the payment of line {first.line.pk}"]
    number = bank_confirm(actor=b["owner"], company=b["company"], line_id=r.line.pk, choice=2)
    assert ReceiptReversal.objects.get().receipt.number == number == first.receipt
    assert open_of(a1) == 10000 and open_of(a2) == 25040 - 10000
    assert ledger_problems(b["company"]) == []


def test_nothing_is_returned_after_the_look_back(dd_books):  # noqa: F811
    b = dd_books
    t1 = b["inv"]["t1"]
    payer = "FR1420041010050500013M02606"
    statement_import(actor=b["owner"], company=b["company"], data=statement([
        ("250402", "C60,00", payer, "Pays By Transfer", t1.payment_reference)]))
    [paid] = bank_match(actor=b["owner"], company=b["company"], auto_apply=True)
    assert paid.decision == "applied"
    late = date(2025, 4, 2) + timedelta(days=121)
    statement_import(actor=b["owner"], company=b["company"], data=statement([
        (late.strftime("%y%m%d"), "D60,00", payer, "Pays By Transfer", "X/RTRN/FOCR")],
        number="2"))
    [r] = bank_match(actor=b["owner"], company=b["company"], auto_apply=True)
    assert r.decision == "other"
