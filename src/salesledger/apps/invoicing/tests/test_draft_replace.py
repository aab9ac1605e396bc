"""Saving a draft again (``invoice_draft_replace``, the web's draft editor): the draft keeps
its id and takes the new head and lines, checked as a new draft is; a posted document is
refused, and so is a change of kind; every save is audited with the totals before and
after."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from salesledger.apps.core.models import AuditEvent
from salesledger.apps.invoicing.models import Invoice
from salesledger.apps.invoicing.services import (
    InvoiceInput,
    invoice_create,
    invoice_draft_replace,
    invoice_post,
)
from salesledger.apps.invoicing.tests.books import line, make_company, make_customer
from salesledger.domain.errors import InvalidTransition, ValidationFailed

DAY = date(2025, 3, 1)


@pytest.fixture
def draft(owner: Any) -> Invoice:
    company = make_company(owner, code="edit", country="FR", base_currency="EUR")
    make_customer(company, owner, "C1")
    make_customer(company, owner, "C2")
    return invoice_create(actor=owner, company=company, data=InvoiceInput(
        customer_code="C1", issue_date=DAY, lines=[line("Consulting", "1", "100.00", "20")]))


@pytest.mark.django_db
def test_a_draft_takes_its_new_lines_and_head_and_keeps_its_id(owner: Any,
                                                                draft: Invoice) -> None:
    saved = invoice_draft_replace(actor=owner, company=draft.company, invoice_id=draft.pk,
                                  data=InvoiceInput(
                                      customer_code="C2", issue_date=date(2025, 3, 5),
                                      po_number=" PO-9 ",
                                      lines=[line("Audit", "2", "250.00", "20"),
                                             line("Travel", "1", "80.00", "10")]))
    assert saved.pk == draft.pk
    stored = Invoice.objects.get(pk=draft.pk)
    assert (stored.customer.code, stored.issue_date, stored.po_number) == (
        "C2", date(2025, 3, 5), "PO-9")
    assert [(li.position, li.description, li.net) for li in stored.lines.order_by("position")
            ] == [(1, "Audit", 50000), (2, "Travel", 8000)]
    assert (stored.net, stored.tax, stored.total) == (58000, 10800, 68800)
    event = AuditEvent.objects.filter(action="invoice.update", entity_id=str(draft.pk)).get()
    assert event.data["before"]["total"] == {"amount": "120.00", "currency": "EUR"}
    assert event.data["after"]["total"] == {"amount": "688.00", "currency": "EUR"}
    # and it posts as any draft does
    posted = invoice_post(actor=owner, company=draft.company, invoice_id=draft.pk)
    assert posted.total == 68800 and posted.number


@pytest.mark.django_db
def test_a_refused_save_changes_nothing(owner: Any, draft: Invoice) -> None:
    with pytest.raises(ValidationFailed, match="line 1: tax rate"):
        invoice_draft_replace(actor=owner, company=draft.company, invoice_id=draft.pk,
                              data=InvoiceInput(customer_code="C1", issue_date=DAY,
                                                lines=[line("Bad", "1", "10", "120")]))
    with pytest.raises(ValidationFailed, match="keeps its kind"):
        invoice_draft_replace(actor=owner, company=draft.company, invoice_id=draft.pk,
                              data=InvoiceInput(customer_code="C1", issue_date=DAY,
                                                kind="credit_note",
                                                lines=[line("Note", "1", "10", "20")]))
    stored = Invoice.objects.get(pk=draft.pk)
    assert stored.total == 12000 and [li.description for li in stored.lines.all()] == [
        "Consulting"]


@pytest.mark.django_db
def test_a_posted_document_is_not_saved_again(owner: Any, draft: Invoice) -> None:
    invoice_post(actor=owner, company=draft.company, invoice_id=draft.pk)
    with pytest.raises(InvalidTransition):
        invoice_draft_replace(actor=owner, company=draft.company, invoice_id=draft.pk,
                              data=InvoiceInput(customer_code="C1", issue_date=DAY,
                                                lines=[line("Other", "1", "1.00", "20")]))


@pytest.mark.django_db
def test_a_draft_takes_its_supply_details_checked_as_the_command_line_checks_them(
        owner: Any, draft: Invoice) -> None:
    from salesledger.domain.invoicing import SupplyDetails

    def save(supply: SupplyDetails) -> Invoice:
        return invoice_draft_replace(actor=owner, company=draft.company, invoice_id=draft.pk,
                                     data=InvoiceInput(
                                         customer_code="C1", issue_date=DAY, supply=supply,
                                         lines=[line("Consulting", "1", "100.00", "20")]))

    save(SupplyDetails(date(2025, 2, 27), date(2025, 2, 1), date(2025, 2, 28),
                       " CT  7 ", "", "Services"))
    stored = Invoice.objects.get(pk=draft.pk)
    assert (stored.delivery_date, stored.period_start, stored.period_end,
            stored.contract_reference, stored.supply_type) == (
        date(2025, 2, 27), date(2025, 2, 1), date(2025, 2, 28), "CT 7", "services")
    event = AuditEvent.objects.filter(action="invoice.update", entity_id=str(draft.pk)).get()
    assert event.data["before"]["supply"] == {}
    assert event.data["after"]["supply"]["period_end"] == "2025-02-28"
    # the rules of ``check_supply``, and nothing written when refused
    with pytest.raises(ValidationFailed, match="BR-29"):
        save(SupplyDetails(None, date(2025, 2, 1), date(2025, 1, 31)))
    with pytest.raises(ValidationFailed, match="goods, services or mixed"):
        save(SupplyDetails(supply_type="rent"))
    assert Invoice.objects.get(pk=draft.pk).period_end == date(2025, 2, 28)
    # not given: cleared (the editor sends every field it shows)
    save(SupplyDetails())
    stored = Invoice.objects.get(pk=draft.pk)
    assert (stored.delivery_date, stored.period_start, stored.contract_reference,
            stored.supply_type) == (None, None, "", "")
