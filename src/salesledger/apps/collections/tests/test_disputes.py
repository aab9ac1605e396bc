"""Disputes: opened on part of an invoice, resolved by a credit note or a write-off, rejected;
a deduction flagged for a dispute opens one, and rejecting it reverses the deduction. The
ledger is read back (open amounts, the credit note, the adjustment), not a status alone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from tests.support import events, last_seq, open_amount

from salesledger.apps.collections.models import Dispute
from salesledger.apps.collections.services import (
    Attachment,
    DisputeSpec,
    dispute_open,
    dispute_reject,
    dispute_resolve,
)
from salesledger.apps.core.invariants import check_company
from salesledger.apps.payments.adjustments.write_offs import invoice_adjust
from salesledger.apps.payments.models import Adjustment
from salesledger.domain.errors import InvalidTransition, ValidationFailed
from salesledger.domain.invoicing import LineInput

pytestmark = pytest.mark.django_db

DAY = date(2025, 4, 20)


@pytest.fixture
def invoice(company: Any, customer: Any, post_invoice: Callable[..., Any]) -> Any:
    return post_invoice("C001", lines=[("Pallets", 10, "100.00", "20")])  # 1200.00


def test_a_partial_dispute_is_checked_against_what_is_open_and_already_disputed(
        company: Any, owner: Any, invoice: Any) -> None:
    since = last_seq(company)
    d = dispute_open(actor=owner, company=company, day=DAY, spec=DisputeSpec(
        invoice=invoice.number, reason="Not-Received", amount=Decimal("700.00"),
        owner="owner", due_date=DAY + timedelta(days=14), notes="Two pallets missing",
        attachments=(Attachment("note.txt", "text/plain", b"delivery note"),)))
    assert (d.amount, d.open_at_opening, d.reason, d.status) == (70000, 120000, "not_received",
                                                                 "open")
    assert d.attachments.get().content == b"delivery note"
    [ev] = events(company, since)
    assert (ev.action, ev.data["amount"], ev.data["currency"]) == ("dispute.open", "700.00",
                                                                  "EUR")
    with pytest.raises(ValidationFailed, match="more than the 500.00 EUR open"):
        dispute_open(actor=owner, company=company, day=DAY, spec=DisputeSpec(
            invoice=invoice.number, reason="quality", amount=Decimal("500.01")))
    with pytest.raises(ValidationFailed, match="reason 'late' is not one of"):
        dispute_open(actor=owner, company=company, day=DAY, spec=DisputeSpec(
            invoice=invoice.number, reason="late"))
    # The disputed amount stays in receivables.
    assert open_amount(invoice) == 120000


def test_resolved_by_a_partial_credit_note_the_rest_is_owed(
        company: Any, owner: Any, invoice: Any) -> None:
    d = dispute_open(actor=owner, company=company, day=DAY, spec=DisputeSpec(
        invoice=invoice.number, reason="pricing", amount=Decimal("300.00")))
    d = dispute_resolve(actor=owner, company=company, dispute_id=d.pk, day=DAY + timedelta(5),
                        credit_note_lines=[LineInput("Price agreed", Decimal(1),
                                                     Decimal("100.00"), Decimal(20))])
    assert (d.status, d.resolution, d.closed_on) == ("resolved", "credit_note",
                                                     DAY + timedelta(5))
    cn = d.credit_note
    assert (cn.kind, cn.corrects_id, cn.total, cn.status) == ("credit_note", invoice.pk, 12000,
                                                              "posted")
    assert open_amount(invoice) == 120000 - 12000
    with pytest.raises(InvalidTransition, match="already resolved"):
        dispute_reject(actor=owner, company=company, dispute_id=d.pk, day=DAY)
    assert check_company(company) == []


def test_a_credit_note_for_more_than_the_dispute_is_refused_and_nothing_is_written(
        company: Any, owner: Any, invoice: Any) -> None:
    d = dispute_open(actor=owner, company=company, day=DAY, spec=DisputeSpec(
        invoice=invoice.number, reason="pricing", amount=Decimal("100.00")))
    with pytest.raises(ValidationFailed, match="more than the 100.00 EUR disputed"):
        dispute_resolve(actor=owner, company=company, dispute_id=d.pk, day=DAY,
                        credit_note_lines=[LineInput("Too much", Decimal(1),
                                                     Decimal("100.00"), Decimal(20))])
    assert open_amount(invoice) == 120000
    assert Dispute.objects.get(pk=d.pk).status == "open"


def test_resolved_by_a_write_off_the_amount_is_settled_as_a_deduction_accepted(
        company: Any, owner: Any, invoice: Any) -> None:
    d = dispute_open(actor=owner, company=company, day=DAY, spec=DisputeSpec(
        invoice=invoice.number, reason="quality", amount=Decimal("150.00")))
    d = dispute_resolve(actor=owner, company=company, dispute_id=d.pk, day=DAY, write_off=True)
    adj = d.write_off
    assert (adj.kind, adj.reason_code, adj.amount) == ("deduction", "damaged_goods", 15000)
    assert open_amount(invoice) == 120000 - 15000
    assert check_company(company) == []


def test_a_deduction_flagged_for_a_dispute_opens_one_and_rejecting_it_reverses_it(
        company: Any, owner: Any, invoice: Any) -> None:
    adj = invoice_adjust(actor=owner, company=company, number=invoice.number,
                         kind="deduction", day=DAY, amount=Decimal("80.00"),
                         reason_code="damaged_goods", memo="broken pallet",
                         dispute_requested=True)
    d = Dispute.objects.get(adjustment=adj)
    assert (d.amount, d.reason, d.opened_on, d.notes, d.invoice_id) == (
        8000, "quality", DAY, "broken pallet", invoice.pk)
    assert open_amount(invoice) == 120000 - 8000
    with pytest.raises(ValidationFailed, match="resolving it keeps the deduction"):
        dispute_resolve(actor=owner, company=company, dispute_id=d.pk, day=DAY, write_off=True)
    dispute_reject(actor=owner, company=company, dispute_id=d.pk, day=DAY + timedelta(3),
                   notes="pallet was fine")
    assert Adjustment.objects.get(reversal_of=adj).amount == -8000
    assert open_amount(invoice) == 120000
    assert check_company(company) == []


def test_a_deduction_without_the_flag_opens_no_dispute(
        company: Any, owner: Any, invoice: Any) -> None:
    invoice_adjust(actor=owner, company=company, number=invoice.number, kind="deduction",
                   day=DAY, amount=Decimal("80.00"), reason_code="freight")
    assert not Dispute.objects.exists()
