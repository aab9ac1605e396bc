"""A direct debit returned is collected again; a mandate amended says so in the file; a
mandate unused for 36 months is not collected (docs/design/direct-debit.md)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import xmlschema
from lxml import etree

from salesledger.apps.banking.direct_debits import debit_returned, direct_debit_collect
from salesledger.apps.banking.matching import bank_match
from salesledger.apps.banking.models import DirectDebit
from salesledger.apps.banking.services import statement_import
from salesledger.apps.banking.tests.test_direct_debit import (
    DEBTOR_IBAN,
    NS,
    SCHEMA,
)
from salesledger.apps.banking.tests.test_direct_debit import books as dd_books  # noqa: F401
from salesledger.apps.banking.tests.test_returns import open_of, statement
from salesledger.apps.core.models import AuditEvent
from salesledger.apps.customers.models import BankAccount
from salesledger.apps.customers.services import (
    BankAccountInput,
    bank_account_add,
    customer_update,
)
from salesledger.apps.invoicing.tests.books import DAY, ledger_problems, line, post_single
from salesledger.domain.direct_debit import (
    MAX_ATTEMPTS,
    Mandate,
    PastDebit,
    plan_debit,
)

pytestmark = pytest.mark.django_db(transaction=False)

SAME_BANK_IBAN = "DE62370400440532013001"  # Commerzbank, like DEBTOR_IBAN
OTHER_BANK_IBAN = "DE02120300000000202051"


def collect(b: dict[str, Any], due_by: date, today: date = DAY) -> Any:
    return direct_debit_collect(actor=b["owner"], company=b["company"], due_by=due_by,
                                today=today)


def txs(content: bytes) -> list[Any]:
    xmlschema.XMLSchema(str(SCHEMA)).validate(content.decode())
    return etree.fromstring(content).findall(".//p:DrctDbtTxInf", namespaces=NS)


def test_a_returned_debit_is_collected_again_under_a_new_id_as_recurring(dd_books):  # noqa: F811
    b = dd_books
    a1 = b["inv"]["a1"]
    due = a1.instalments.get().due_date
    first = collect(b, due)
    assert [(d.invoice, d.sequence, d.attempt) for d in first.debits][0] == (
        a1.number, "FRST", 1)
    statement_import(actor=b["owner"], company=b["company"], data=statement([
        ("250401", "C100,00", DEBTOR_IBAN, "ACME", f"SEPA/EREF/{a1.number}-1"),
        ("250401", "C250,40", DEBTOR_IBAN, "ACME", f"SEPA/EREF/{b['inv']['a2'].number}-1")]))
    bank_match(actor=b["owner"], company=b["company"], auto_apply=True)
    # nothing to collect while the money stands
    assert collect(b, due).debits == []
    statement_import(actor=b["owner"], company=b["company"], data=statement([
        ("250408", "D100,00", DEBTOR_IBAN, "ACME",
         f"SEPA RETURN/EREF/{a1.number}-1/RTRN/AM04")], number="2"))
    [r] = bank_match(actor=b["owner"], company=b["company"], auto_apply=True)
    assert r.decision == "applied" and open_of(a1) == 10000
    debit = DirectDebit.objects.get(end_to_end_id=f"{a1.number}-1")
    assert (debit.returned_on, debit.return_reason) == (date(2025, 4, 8), "AM04")
    assert AuditEvent.objects.filter(action="bank_line.return").get().data[
        "direct_debits_returned"] == 1
    again = collect(b, due, today=date(2025, 4, 10))
    [d] = again.debits
    assert (d.invoice, d.end_to_end_id, d.sequence, d.attempt, d.previous_reason) == (
        a1.number, f"{a1.number}-1-R2", "RCUR", 2, "AM04")
    assert "AM04 (insufficient funds)" in d.note
    [tx] = txs(again.content)
    assert tx.findtext(".//p:EndToEndId", namespaces=NS) == f"{a1.number}-1-R2"
    assert tx.getparent().findtext("p:PmtTpInf/p:SeqTp", namespaces=NS) == "RCUR"
    # the money of the second attempt comes back with its own id and pays the instalment
    statement_import(actor=b["owner"], company=b["company"], data=statement([
        ("250415", "C100,00", DEBTOR_IBAN, "ACME", f"SEPA/EREF/{a1.number}-1-R2")],
        number="3"))
    [paid] = bank_match(actor=b["owner"], company=b["company"], auto_apply=True)
    assert paid.decision == "applied" and open_of(a1) == 0
    assert ledger_problems(b["company"]) == []


def test_presentations_stop_at_the_limit_and_at_a_final_reason(dd_books):  # noqa: F811
    b = dd_books
    a1, a2 = b["inv"]["a1"], b["inv"]["a2"]
    due = a1.instalments.get().due_date
    today = DAY
    for attempt in range(1, MAX_ATTEMPTS + 1):
        result = collect(b, due, today=today)
        by_invoice = {d.invoice: d for d in result.debits}
        assert by_invoice[a1.number].attempt == attempt
        today += timedelta(days=7)
        debit_returned(company=b["company"], end_to_end_ids=[
            by_invoice[a1.number].end_to_end_id], day=today, reason="AM04")
        if attempt == 1:  # the other one is closed for good
            debit_returned(company=b["company"], end_to_end_ids=[
                by_invoice[a2.number].end_to_end_id], day=today, reason="AC04")
    result = collect(b, due, today=today)
    assert result.debits == []
    reasons = {s.invoice: s.reason for s in result.skipped}
    assert reasons[a1.number].startswith(f"returned {MAX_ATTEMPTS} times, the last AM04 "
                                         "(insufficient funds)")
    assert "AC04 (account closed)" in reasons[a2.number]
    assert "collect it another way" in reasons[a2.number]


@pytest.mark.parametrize("iban, element, expected", [
    (SAME_BANK_IBAN, "p:OrgnlDbtrAcct/p:Id/p:IBAN", DEBTOR_IBAN),
    (OTHER_BANK_IBAN, "p:OrgnlDbtrAgt/p:FinInstnId/p:Othr/p:Id", "SMNDA")])
def test_an_amended_mandate_is_flagged_with_its_original_details(dd_books, iban, element,  # noqa: F811
                                                                 expected):
    b = dd_books
    due = b["inv"]["a1"].instalments.get().due_date
    collect(b, due)
    # the creditor renames the mandate and the debtor moves to another account
    customer_update(actor=b["owner"], company=b["company"], code="ACME",
                    mandate_reference="MANDATE-ACME-2")
    BankAccount.objects.filter(company=b["company"], iban=DEBTOR_IBAN).delete()
    bank_account_add(actor=b["owner"], company=b["company"], code="ACME",
                     account=BankAccountInput(iban=iban))
    later = post_single(b["company"], b["owner"], "ACME", [line("a3", "1", "30")],
                        issue_date=DAY + timedelta(days=5))
    result = collect(b, due + timedelta(days=10))
    [d] = result.debits
    assert (d.invoice, d.sequence) == (later.number, "RCUR")
    assert "was MANDATE-ACME-1" in d.amended_from
    [tx] = txs(result.content)
    mandate = tx.find(".//p:MndtRltdInf", namespaces=NS)
    assert [etree.QName(e).localname for e in mandate] == [
        "MndtId", "DtOfSgntr", "AmdmntInd", "AmdmntInfDtls"]
    assert mandate.findtext("p:AmdmntInd", namespaces=NS) == "true"
    details = mandate.find("p:AmdmntInfDtls", namespaces=NS)
    assert details.findtext("p:OrgnlMndtId", namespaces=NS) == "MANDATE-ACME-1"
    assert details.findtext(element, namespaces=NS) == expected
    stored = DirectDebit.objects.get(invoice=later)
    assert (stored.amended_from_reference, stored.amended_from_iban) == (
        "MANDATE-ACME-1", DEBTOR_IBAN)
    # the amendment is said once: the collection after it is plain
    post_single(b["company"], b["owner"], "ACME", [line("a4", "1", "40")],
                issue_date=DAY + timedelta(days=6))
    [tx] = txs(collect(b, due + timedelta(days=20)).content)
    assert tx.find(".//p:AmdmntInd", namespaces=NS) is None


def test_a_mandate_unused_for_36_months_expires(dd_books):  # noqa: F811
    b = dd_books
    a1 = b["inv"]["a1"]
    due = a1.instalments.get().due_date
    # signed 2024-11-02, never used: collectable until 2027-11-01
    late = date(2027, 11, 2)
    result = collect(b, late, today=late - timedelta(days=1))
    assert result.debits == []
    [reason] = {s.reason for s in result.skipped if s.customer == "ACME"}
    assert reason.startswith("mandate MANDATE-ACME-1 expired: signed 2024-11-02 and never "
                             "used (36 months)")
    assert collect(b, due).debits  # in time, it is collected
    # a new signature is a new mandate: first again, and in force
    customer_update(actor=b["owner"], company=b["company"], code="ACME",
                    mandate_reference="MANDATE-ACME-9", mandate_signed=date(2027, 10, 1))
    post_single(b["company"], b["owner"], "ACME", [line("a9", "1", "30")],
                issue_date=DAY + timedelta(days=1))
    [d] = collect(b, late, today=late - timedelta(days=1)).debits
    assert (d.sequence, d.amended_from) == ("FRST", "")


def test_the_plan_counts_expiry_from_the_last_collection():
    mandate = Mandate("M1", date(2020, 1, 1), "DE89370400440532013000")
    used = PastDebit(1, 1, "M1", date(2020, 1, 1), "DE89370400440532013000",
                     date(2023, 6, 1), None, "")
    assert plan_debit(mandate, 2, [used], date(2026, 5, 31)).sequence == "RCUR"
    assert "nothing collected since 2023-06-01" in plan_debit(
        mandate, 2, [used], date(2026, 6, 1)).refused
    assert plan_debit(mandate, 1, [used], date(2024, 1, 1)).refused == \
        "already asked for and not returned"
