"""What invoicing offers the apps above it: posting asks the vetoes registered for
``DocumentPosting`` after its own rules and before it writes anything
(docs/design/events.md)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from salesledger.apps.core import events
from salesledger.apps.invoicing.services import InvoiceInput, invoice_create, invoice_post
from salesledger.apps.invoicing.tests.books import line, make_company, make_customer, post_single
from salesledger.domain.errors import LedgerError


class Refused(LedgerError):
    code = "refused_by_test"


@pytest.mark.django_db
def test_a_veto_refuses_posting_before_anything_is_written(owner: Any) -> None:
    company = make_company(owner, code="veto", country="FR", base_currency="EUR")
    make_customer(company, owner, "C1")
    draft = invoice_create(actor=owner, company=company, data=InvoiceInput(
        customer_code="C1", issue_date=date(2025, 3, 1),
        lines=[line("Consulting", "1", "100.00", "20")]))
    proposals: list[events.DocumentPosting] = []

    def hold(proposal: events.DocumentPosting) -> None:
        proposals.append(proposal)
        raise Refused("customer C1 is on hold")

    with events.subscribed(events.DocumentPosting, hold), pytest.raises(Refused):
        invoice_post(actor=owner, company=company, invoice_id=draft.pk)
    assert [(p.customer_id, p.total, p.base_total, p.kind) for p in proposals] == [
        (draft.customer_id, 12000, 12000, "invoice")]
    draft.refresh_from_db()
    assert draft.status == "draft" and draft.number is None
    assert post_single(company, owner, "C1", [line("Consulting", "1", "10.00")]).number
