"""Peppol BIS Billing 3.0 (release 3.0.19): the Schematron compiled here is the official one,
and a company that sends through Peppol posts only what Peppol accepts.

- The compiled 3.0.19 rules give, on every unit test OpenPEPPOL publishes with them, the
  verdict the test expects; the older compiled stylesheet differs exactly on the rules the
  validator leaves out when it falls back to it (``PEPPOL_OLD_DIFFERS``).
- For a Peppol-sending company, every scenario of ``scenarios.py`` is either posted, and its
  UBL passes CEN and Peppol 3.0.19 with 0 fatal errors, or refused with the Peppol rule that
  the official validator reports on the document refused.
- Each refusal of the Peppol rules at posting names the rule the validator reports, and
  nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from salesledger.apps.core.models import AuditEvent, Company, NumberCounter
from salesledger.apps.customers.models import Customer
from salesledger.apps.invoicing.einvoice import einvoice_build, einvoice_preview
from salesledger.apps.invoicing.models import Invoice
from salesledger.apps.invoicing.services import invoice_post
from salesledger.domain.errors import EInvoiceRuleBroken
from salesledger.formats.einvoice import write_ubl

from .scenarios import DAY, SCENARIOS, Books, line
from .validator import (
    PEPPOL_OLD_DIFFERS,
    PEPPOL_OLD_XSL,
    PEPPOL_RULES,
    PEPPOL_SCH,
    Validator,
)

pytestmark = pytest.mark.django_db

UNIT = "{http://difi.no/xsd/vefa/validator/1.0}"
SVRL = "{http://purl.oclc.org/dsdl/svrl}"


# ---------------------------------------------------------------- the compiled rules
def _unit_tests() -> list[tuple[str, bytes, list[tuple[str, str]]]]:
    """(file, document, [(success|error|warning, rule)]) of each official unit test."""
    tests = []
    for path in sorted((PEPPOL_RULES / "unit-UBL-PEPPOL").glob("*.xm*")):
        for test in etree.parse(str(path)).getroot().iter(f"{UNIT}test"):
            doc = next(c for c in test if isinstance(c.tag, str)
                       and not c.tag.startswith(UNIT))
            expect = [(etree.QName(a).localname, (a.text or "").strip())
                      for a in test.find(f"{UNIT}assert") if isinstance(a.tag, str)
                      and etree.QName(a).localname in ("success", "error", "warning")]
            tests.append((path.name, etree.tostring(doc), expect))
    return tests


def _mismatches(stylesheet: Any, processor: Any) -> list[tuple[str, str, str]]:
    wrong = []
    for name, doc, expect in _unit_tests():
        svrl = etree.fromstring(stylesheet.transform_to_string(
            xdm_node=processor.parse_xml(xml_text=doc.decode())).encode())
        fired: dict[str, set[str]] = {}
        for failed in svrl.iter(f"{SVRL}failed-assert"):
            fired.setdefault(failed.get("id") or "?", set()).add(failed.get("flag") or "")
        for kind, rule in expect:
            ok = rule not in fired if kind == "success" else \
                ("fatal" if kind == "error" else "warning") in fired.get(rule, set())
            if not ok:
                wrong.append((name, kind, rule))
    return wrong


def test_the_compiled_rules_give_every_verdict_of_the_official_unit_tests(
        validator: Validator) -> None:
    from saxonche import PySaxonProcessor

    if not PEPPOL_SCH.is_file():
        pytest.skip(f"the Peppol {PEPPOL_SCH.name} source is not there; the validator uses "
                    "the older stylesheet")
    assert validator.peppol_release == "3.0.19"
    tests = _unit_tests()
    assert len(tests) > 200 and sum(k == "error" for _, _, e in tests for k, _ in e) > 90
    processor = PySaxonProcessor(license=False)
    xslt = processor.new_xslt30_processor()
    from .schematron import compile_schematron

    compiled = xslt.compile_stylesheet(
        stylesheet_text=compile_schematron(PEPPOL_SCH).decode("utf-8"))
    assert _mismatches(compiled, processor) == []
    # The older stylesheet, our fallback, differs from 3.0.19 on exactly the rules the
    # validator leaves out when it has to use it.
    if PEPPOL_OLD_XSL.is_file():
        old = xslt.compile_stylesheet(stylesheet_file=str(PEPPOL_OLD_XSL))
        assert {rule for _, _, rule in _mismatches(old, processor)} == PEPPOL_OLD_DIFFERS


def test_the_compiler_refuses_what_it_does_not_implement(tmp_path: Path) -> None:
    from .schematron import UnsupportedSchematron, compile_schematron

    sch = tmp_path / "abstract.sch"
    sch.write_text('<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt2">'
                   '<pattern abstract="true" id="a"><rule context="x"><assert test="y">'
                   'z</assert></rule></pattern></schema>')
    with pytest.raises(UnsupportedSchematron):
        compile_schematron(sch)
    sch.write_text('<schema xmlns="http://purl.oclc.org/dsdl/schematron"/>')  # XPath 1.0
    with pytest.raises(UnsupportedSchematron):
        compile_schematron(sch)


# ---------------------------------------------------------------- a Peppol sender
@pytest.fixture
def peppol(seller: Any, owner: Any) -> Books:
    Company.objects.filter(pk=seller.pk).update(sends_peppol=True)
    seller.refresh_from_db()
    return Books(seller, owner)


# Scenarios a Peppol sender cannot post, by nature of the customer: the rule refused.
PEPPOL_REFUSES = {
    "export_in_usd": "PEPPOL-EN16931-CL008",  # a US buyer known only by its e-mail
    "not_subject_to_vat": "PEPPOL-EN16931-R010",  # a buyer with no identifier at all
    "yen_invoice": "PEPPOL-EN16931-R010",  # idem, in Japan
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_a_peppol_sender_posts_only_what_peppol_accepts(scenario: str, peppol: Books,
                                                        validator: Validator) -> None:
    try:
        inv = SCENARIOS[scenario](peppol)
    except EInvoiceRuleBroken as refused:
        # refused, with the rule the official Peppol validation reports on that draft
        assert refused.fields["rule"] == PEPPOL_REFUSES.get(scenario), scenario
        draft = Invoice.objects.filter(company=peppol.company, status="draft").last()
        ubl = write_ubl(einvoice_preview(company=peppol.company, invoice=draft))
        assert refused.fields["rule"] in validator.peppol(ubl).fatal
        return
    assert scenario not in PEPPOL_REFUSES
    ubl = write_ubl(einvoice_build(company=peppol.company, invoice=inv))
    report = validator.ubl(ubl, peppol=True)
    assert report.ok, f"UBL of {scenario}:\n{report}"


def _no_reference(b: Books) -> Any:
    b.customer("P1", tax_id="FR44732829320")
    return b.draft("P1", [line("Service", "1", "100.00")])


def _no_identifier(b: Books) -> Any:
    b.customer("P2")
    return b.draft("P2", [line("Service", "1", "100.00")], po_number="PO-1")


def _only_an_email(b: Books) -> Any:
    b.customer("P3", country="US", currency="USD", email="ap@p3.example")
    return b.draft("P3", [line("Machine", "1", "100.00", "0", category="G")],
                   po_number="PO-1", rate=Decimal("0.92"))


def _swedish_number_without_its_check_digit(b: Books) -> Any:
    c = b.customer("P4", country="SE", tax_id="SE556036079301")
    Customer.objects.filter(pk=c.pk).update(tax_id="SE556036079401")  # as legacy data may be
    return b.draft("P4", [line("Parts", "1", "100.00", "0", category="K")], po_number="PO-1")


def _norwegian_number_without_its_check_digit(b: Books) -> Any:
    c = b.customer("P5", country="NO", tax_id="NO923609016MVA")
    Customer.objects.filter(pk=c.pk).update(tax_id="NO923609017MVA")
    return b.draft("P5", [line("Survey", "1", "100.00", "0", category="G")], po_number="PO-1")


def _company_without_endpoint(b: Books) -> Any:
    Company.objects.filter(pk=b.company.pk).update(tax_id="", email="")
    b.company.refresh_from_db()
    b.customer("P6", tax_id="FR44732829320")
    return b.draft("P6", [line("Court fees", "1", "10.00", "0", category="O")], po_number="1")


def _company_with_only_an_email(b: Books) -> Any:
    Company.objects.filter(pk=b.company.pk).update(tax_id="")
    b.company.refresh_from_db()
    b.customer("P7", tax_id="FR44732829320")
    return b.draft("P7", [line("Court fees", "1", "10.00", "0", category="O")], po_number="1")


def _belgian_registration_without_its_check_digits(b: Books) -> Any:
    Company.objects.filter(pk=b.company.pk).update(country="BE", tax_id="BE0403170701",
                                                   registration_id="0403170702")
    b.company.refresh_from_db()
    b.customer("P8", tax_id="FR44732829320")
    return b.draft("P8", [line("Service", "1", "100.00")], po_number="PO-1")


PEPPOL_REFUSALS: dict[str, tuple[str, Callable[[Books], Any]]] = {
    "PEPPOL-EN16931-R003": ("The document has neither a buyer reference nor a purchase order "
                            "number", _no_reference),
    "PEPPOL-EN16931-R010": ("The customer has no electronic address", _no_identifier),
    "PEPPOL-EN16931-CL008": ("The customer's only electronic address is an e-mail address "
                             "(ap@p3.example)", _only_an_email),
    "PEPPOL-COMMON-R049": ("The customer's VAT number SE556036079401 does not hold a valid "
                           "Swedish organisation number", _swedish_number_without_its_check_digit),
    "PEPPOL-COMMON-R041": ("The customer's VAT number NO923609017MVA does not hold a valid "
                           "Norwegian organisation number",
                           _norwegian_number_without_its_check_digit),
    "PEPPOL-EN16931-R020": ("The company has no electronic address", _company_without_endpoint),
    "PEPPOL-EN16931-CL008 ": ("The company's only electronic address is an e-mail address",
                              _company_with_only_an_email),
    "PEPPOL-COMMON-R043": ("The company's registration number 0403170702 is not a valid "
                           "Belgian enterprise number",
                           _belgian_registration_without_its_check_digits),
}


@pytest.mark.parametrize("key", list(PEPPOL_REFUSALS))
def test_a_peppol_sender_is_refused_what_peppol_refuses_with_the_rule(
        key: str, peppol: Books, validator: Validator) -> None:
    rule = key.strip()
    words, make = PEPPOL_REFUSALS[key]
    # given a draft of a Peppol-sending company that Peppol would refuse
    draft = make(peppol)
    events, counters = AuditEvent.objects.count(), list(NumberCounter.objects.values("last"))
    # when it is posted
    with pytest.raises(EInvoiceRuleBroken) as refused:
        invoice_post(actor=peppol.owner, company=peppol.company, invoice_id=draft.pk)
    # then it is refused with the Peppol rule and what to do
    assert refused.value.fields["rule"] == rule, refused.value.message
    assert refused.value.message.startswith(words), refused.value.message
    assert f"(Peppol rule {rule}): " in refused.value.message
    # and nothing was written
    draft.refresh_from_db()
    assert (draft.status, draft.number) == ("draft", None)
    assert list(NumberCounter.objects.values("last")) == counters
    assert AuditEvent.objects.count() == events
    # and the official Peppol 3.0.19 validation reports that rule on the refused document
    ubl = write_ubl(einvoice_preview(company=peppol.company, invoice=draft))
    assert rule in validator.peppol(ubl).fatal
    # and the same company, not sending through Peppol, posts it (valid EN 16931)
    if rule in ("PEPPOL-EN16931-R003", "PEPPOL-EN16931-R010", "PEPPOL-EN16931-CL008"):
        Company.objects.filter(pk=peppol.company.pk).update(sends_peppol=False)
        peppol.company.refresh_from_db()
        posted = invoice_post(actor=peppol.owner, company=peppol.company, invoice_id=draft.pk)
        assert posted.status == "posted"


def test_every_posting_path_refuses_it_with_the_same_message(peppol: Books,
                                                              tmp_path: Path) -> None:
    """One pure check, one checker: by hand, in bulk, by CSV import, by a recurring run."""
    from salesledger.apps.interchange.csvio import import_file
    from salesledger.apps.invoicing.posting.check import BulkDoc
    from salesledger.apps.invoicing.services import documents_post_bulk
    from salesledger.apps.recurring.services import ScheduleInput, recurring_add, recurring_run
    from salesledger.domain.errors import ImportFailed

    company, owner = peppol.company, peppol.owner
    customer = peppol.customer("P1", tax_id="FR44732829320")
    service = [line("Service", "1", "100.00")]
    with pytest.raises(EInvoiceRuleBroken) as by_hand:
        invoice_post(actor=owner, company=company, invoice_id=peppol.draft("P1", service).pk)
    message = by_hand.value.message
    assert "(Peppol rule PEPPOL-EN16931-R003)" in message
    with pytest.raises(EInvoiceRuleBroken) as bulk:
        documents_post_bulk(actor=owner, company=company, docs=[BulkDoc(
            customer_id=customer.pk, kind="invoice", issue_date=DAY, currency="EUR",
            lines=service)])
    assert bulk.value.message == message
    path = tmp_path / "invoices.csv"
    path.write_text("customer,issue_date,description,quantity,unit_price,tax_rate\n"
                    "P1,2025-03-10,Service,1,100.00,20\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as imported:
        import_file(kind="invoices", path=path, company=company, actor=owner)
    assert [p["reason"] for p in imported.value.as_dict()["problems"]] == [message]
    recurring_add(actor=owner, company=company, as_of=DAY, data=ScheduleInput(
        customer_code="P1", lines=service, every="month", start=DAY, count=1))
    run = recurring_run(actor=owner, company=company, as_of=DAY)
    assert [(p["code"], p["message"]) for p in run.problems] == [
        ("einvoice_rule_broken", message)]
    assert not Invoice.objects.filter(company=company, status="posted").exists()
    # and with a PO number, every path posts
    Invoice.objects.filter(company=company, status="draft").update(po_number="PO-1")
    invoice_post(actor=owner, company=company, invoice_id=Invoice.objects.filter(
        company=company, status="draft").order_by("pk").first().pk)
