"""SEPA direct debit through the services: the instalments due of the customers with a
mandate collected in one pain.008 file that its schema accepts, each instalment once (a run
repeated asks for nothing), first and recurring collections told apart, what cannot be
collected said with the reason; the money collected, back on the statement with its
end-to-end id, is matched to the instalment and applied."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sepaxml
import xmlschema
from lxml import etree

from salesledger.apps.banking.direct_debits import direct_debit_collect
from salesledger.apps.banking.matching import bank_match
from salesledger.apps.banking.models import DirectDebit, DirectDebitCollection
from salesledger.apps.banking.services import statement_import
from salesledger.apps.banking.tests.test_matching import statement
from salesledger.apps.core.models import AuditEvent
from salesledger.apps.core.services import company_profile_update
from salesledger.apps.customers.services import BankAccountInput
from salesledger.apps.invoicing.tests.books import (
    DAY,
    ledger_problems,
    line,
    make_company,
    make_customer,
    make_owner,
    post_single,
)
from salesledger.apps.payments.models import Allocation
from salesledger.domain.errors import ValidationFailed

pytestmark = pytest.mark.django_db(transaction=False)

OUR_IBAN = "NL26VAYB8060476890"
CREDITOR_ID = "DE98ZZZ09999999999"
DEBTOR_IBAN = "DE89370400440532013000"
OTHER_IBAN = "GB29NWBK60161331926819"
SCHEMA = Path(sepaxml.__file__).parent / "schemas" / "pain.008.001.08.xsd"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"}


@pytest.fixture
def books() -> dict[str, Any]:
    owner = make_owner("dd-owner")
    company = make_company(owner, "ddco")
    company = company_profile_update(actor=owner, company=company, legal_name="Debits SAS",
                                     iban=OUR_IBAN,
                                     bic="ABNANL2A", creditor_id=CREDITOR_ID)
    make_customer(company, owner, "ACME", name="ACME Trading GmbH",
                  bank_accounts=[BankAccountInput(iban=DEBTOR_IBAN)],
                  mandate_reference="MANDATE-ACME-1", mandate_signed=date(2024, 11, 2))
    make_customer(company, owner, "UNSIGNED", name="Unsigned Ltd",
                  bank_accounts=[BankAccountInput(iban=OTHER_IBAN)],
                  mandate_reference="MANDATE-U-1")
    make_customer(company, owner, "TRANSFER", name="Pays By Transfer")
    inv = {key: post_single(company, owner, customer, [line(key, "1", price)])
           for key, customer, price in (("a1", "ACME", "100"), ("a2", "ACME", "250.40"),
                                        ("u1", "UNSIGNED", "80"), ("t1", "TRANSFER", "60"))}
    return {"owner": owner, "company": company, "inv": inv}


def collect(books: dict[str, Any], due_by: date, **kw: Any) -> Any:
    return direct_debit_collect(actor=books["owner"], company=books["company"], due_by=due_by,
                                today=kw.pop("today", DAY), **kw)


def test_the_instalments_due_are_collected_in_one_file_its_schema_accepts(books):
    a1, a2 = books["inv"]["a1"], books["inv"]["a2"]
    due = a1.instalments.get().due_date
    result = collect(books, due)
    assert [(d.customer, d.invoice, d.amount, d.sequence, d.collection_date)
            for d in result.debits] == [("ACME", a1.number, 10000, "FRST", due),
                                        ("ACME", a2.number, 25040, "FRST", due)]
    assert [(s.customer, s.reason.split(":")[0]) for s in result.skipped] == [
        ("UNSIGNED", "the mandate's signature date is not known")]
    xmlschema.XMLSchema(str(SCHEMA)).validate(result.content.decode())
    doc = etree.fromstring(result.content)
    assert doc.findtext(".//p:GrpHdr/p:NbOfTxs", namespaces=NS) == "2"
    assert doc.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=NS) == "350.40"
    assert doc.findtext(".//p:CdtrSchmeId//p:Othr/p:Id", namespaces=NS) == CREDITOR_ID
    txs = doc.findall(".//p:DrctDbtTxInf", namespaces=NS)
    assert [(t.findtext(".//p:EndToEndId", namespaces=NS),
             t.findtext(".//p:MndtId", namespaces=NS),
             t.findtext(".//p:DtOfSgntr", namespaces=NS),
             t.findtext(".//p:DbtrAcct//p:IBAN", namespaces=NS),
             t.find(".//p:InstdAmt", namespaces=NS).get("Ccy")) for t in txs] == [
        (f"{a1.number}-1", "MANDATE-ACME-1", "2024-11-02", DEBTOR_IBAN, "EUR"),
        (f"{a2.number}-1", "MANDATE-ACME-1", "2024-11-02", DEBTOR_IBAN, "EUR")]
    stored = DirectDebitCollection.objects.get()
    assert (stored.count, stored.total, bytes(stored.content)) == (2, 35040, result.content)
    event = AuditEvent.objects.get(action="direct_debit.collect")
    assert event.data["count"] == 2 and event.data["total"] == 35040


def test_an_instalment_is_collected_once_and_the_next_collection_is_recurring(books):
    due = books["inv"]["a1"].instalments.get().due_date
    assert len(collect(books, due).debits) == 2
    again = collect(books, due)
    assert again.debits == [] and again.content == b""
    assert DirectDebitCollection.objects.count() == 1
    later = post_single(books["company"], books["owner"], "ACME", [line("a3", "1", "30")],
                        issue_date=DAY + timedelta(days=5))
    [d] = collect(books, due + timedelta(days=10)).debits
    assert (d.invoice, d.sequence) == (later.number, "RCUR")


def test_a_dry_run_keeps_nothing_and_a_past_due_date_is_collected_tomorrow(books):
    due = books["inv"]["a1"].instalments.get().due_date
    result = collect(books, due, today=due + timedelta(days=3), dry_run=True)
    assert {d.collection_date for d in result.debits} == {due + timedelta(days=4)}
    assert result.content and DirectDebit.objects.count() == 0


def test_without_a_creditor_id_nothing_is_collected(books):
    company = company_profile_update(actor=books["owner"], company=books["company"],
                                     creditor_id="")
    books["company"] = company
    with pytest.raises(ValidationFailed, match="creditor identifier"):
        collect(books, DAY + timedelta(days=60))


def test_the_money_collected_is_matched_by_its_end_to_end_id_and_applied(books):
    a1, a2 = books["inv"]["a1"], books["inv"]["a2"]
    collect(books, a1.instalments.get().due_date)
    # The bank credits each debit with the end-to-end id it was given, the debtor's IBAN and
    # nothing else that names the invoice.
    data = statement([("250401", "C100,00", DEBTOR_IBAN, "ACME TRADING",
                       f"SEPA CORE/EREF/{a1.number}-1"),
                      ("250401", "C250,40", DEBTOR_IBAN, "ACME TRADING",
                       f"SEPA CORE/EREF/{a2.number}-1")])
    statement_import(actor=books["owner"], company=books["company"], data=data)
    results = bank_match(actor=books["owner"], company=books["company"], auto_apply=True)
    assert [r.decision for r in results] == ["applied", "applied"]
    assert all(any("our direct debit" in e for e in r.evidence) for r in results)
    paid = dict(Allocation.objects.values_list("instalment__invoice__number", "amount"))
    assert paid == {a1.number: 10000, a2.number: 25040}
    assert ledger_problems(books["company"]) == []
