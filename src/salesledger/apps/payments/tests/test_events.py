"""What payments does when invoicing posts: a credit note is applied to the invoice it
corrects, inside the posting's transaction (``handlers.apply_credit_notes``,
docs/design/events.md)."""

from __future__ import annotations

from typing import Any

import pytest

from salesledger.apps.core import events
from salesledger.apps.invoicing.models import Invoice
from salesledger.apps.invoicing.tests.books import line, make_company, make_customer, post_single


@pytest.mark.django_db
def test_posting_a_credit_note_applies_it_in_the_same_transaction(owner: Any) -> None:
    company = make_company(owner, code="cn", country="FR", base_currency="EUR")
    make_customer(company, owner, "C1")
    inv = post_single(company, owner, "C1", [line("Consulting", "1", "100.00", "20")])
    posted: list[events.DocumentsPosted] = []
    with events.subscribed(events.DocumentsPosted, posted.append):
        cn = post_single(company, owner, "C1", [line("Consulting", "1", "50.00", "20")],
                         kind="credit_note", corrects_number=inv.number)
    assert [d.corrects_id for e in posted for d in e.documents] == [inv.pk]
    inv = Invoice.objects.get(pk=inv.pk)
    assert (cn.allocated, inv.instalments.get().settled) == (6000, 6000)
