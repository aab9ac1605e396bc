"""The audit trail: every service writes an event in its transaction; events are
append-only in the database and hash-chained, so that tampering is detected."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from conftest import DAY
from django.db import DatabaseError, connection

from salesledger.apps.core.audit import audit_verify
from salesledger.apps.core.guards import install_guards
from salesledger.apps.core.invariants import check_company
from salesledger.apps.core.models import AuditEvent
from salesledger.apps.core.services import company_close_period
from salesledger.apps.customers.services import customer_update
from salesledger.apps.invoicing.services import invoice_delete_draft
from salesledger.apps.payments.services import allocation_reverse
from salesledger.domain.errors import AllocationExceedsUnallocated, PostedIsImmutable
from tests.support import events, raw_sql


def test_every_service_writes_an_event(company, owner, customer, create_invoice, post_invoice,
                                       record_receipt, allocate_to):
    inv = post_invoice()
    receipt = record_receipt(amount="50.00")
    [row] = allocate_to(receipt.number, {inv.number: "50.00"})
    allocation_reverse(actor=owner, company=company, allocation_id=row.pk, day=DAY)
    post_invoice(kind="credit_note", corrects=inv.number, lines=[("x", 1, "10.00", "0")])
    draft = create_invoice()
    invoice_delete_draft(actor=owner, company=company, invoice_id=draft.pk)
    customer_update(actor=owner, company=company, code="C001", email="ap@dupont.example")
    company_close_period(actor=owner, company=company, through=date(2025, 2, 28))

    evs = events(company)
    assert [e.action for e in evs] == [
        "company.create", "customer.create", "invoice.create", "invoice.post",
        "receipt.record", "allocation.create", "allocation.reverse",
        "credit_note.create", "credit_note.post", "allocation.create",
        "invoice.create", "invoice.delete_draft", "customer.update", "period.close"]
    assert [e.seq for e in evs] == list(range(1, len(evs) + 1))
    assert all(e.actor_id == owner.pk and e.actor_name == "owner" for e in evs)
    assert all(b.prev_hash == a.hash for a, b in zip(evs, evs[1:], strict=False))
    assert evs[0].prev_hash == "0" * 64
    update = evs[12]
    # the event names the one field that changed, and snapshots no unchanged one
    assert update.data["fields"] == ["email"]
    assert "name" not in update.data["before"] and "name" not in update.data["after"]
    assert audit_verify(company) == []


def test_a_refused_service_writes_no_event(company, owner, customer, post_invoice,
                                           record_receipt, allocate_to):
    inv = post_invoice()
    receipt = record_receipt(amount="10.00")
    count = AuditEvent.objects.count()
    with pytest.raises(AllocationExceedsUnallocated):
        allocate_to(receipt.number, {inv.number: "20.00"})
    assert AuditEvent.objects.count() == count


def test_audit_events_are_append_only_in_the_model_and_the_database(company, owner):
    ev = AuditEvent.objects.get(company=company, seq=1)
    ev.action = "company.delete"
    with pytest.raises(PostedIsImmutable):
        ev.save()
    with pytest.raises(PostedIsImmutable):
        AuditEvent.objects.filter(pk=ev.pk).update(action="x")
    with pytest.raises(PostedIsImmutable):
        AuditEvent.objects.filter(pk=ev.pk).delete()
    with pytest.raises(DatabaseError, match="posted_is_immutable"):
        raw_sql("UPDATE core_auditevent SET data = %s WHERE id = %s", ['{"forged": 1}', ev.pk])
    with pytest.raises(DatabaseError, match="posted_is_immutable"):
        raw_sql("DELETE FROM core_auditevent WHERE id = %s", [ev.pk])
    assert audit_verify(company) == []


def _drop_audit_guards() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER guard_core_auditevent ON core_auditevent")
        else:
            cursor.execute("DROP TRIGGER guard_core_auditevent_update")
            cursor.execute("DROP TRIGGER guard_core_auditevent_delete")


def test_audit_verify_detects_tampering_once_the_trigger_is_gone(company, owner, customer,
                                                                 post_invoice):
    post_invoice()
    post_invoice(lines=[("Other", "1", "5.00", "20")])
    assert audit_verify(company) == []
    target = AuditEvent.objects.get(company=company, action="invoice.post", seq=4)
    forged = {**target.data, "after": {**target.data["after"], "total": "1.00"}}
    _drop_audit_guards()
    try:
        # with the trigger gone, someone with database access rewrites an amount...
        raw_sql("UPDATE core_auditevent SET data = %s WHERE id = %s",
                [json.dumps(forged), target.pk])
        # ... and the chain shows it
        assert audit_verify(company) == [
            "audit event 4: content does not match its hash (tampered)"]
        assert [p.check for p in check_company(company)] == ["audit_chain"]
        # removing the last event breaks the link to the chain's head
        last = AuditEvent.objects.filter(company=company).order_by("-seq").first()
        raw_sql("DELETE FROM core_auditevent WHERE id = %s", [last.pk])
        assert ("audit chain head does not match the last event (events removed?)"
                in audit_verify(company))
    finally:
        install_guards()
    with pytest.raises(DatabaseError, match="posted_is_immutable"):
        raw_sql("UPDATE core_auditevent SET action = 'x' WHERE id = %s", [target.pk])


def test_amounts_in_events_are_strings(company, owner, customer, post_invoice, record_receipt):
    post_invoice(lines=[("a", "1", "0.10", "0")] * 3)
    record_receipt(amount=Decimal("0.30"))
    posted, recorded = events(company)[-2:]
    assert posted.data["after"]["total"] == "0.30"
    assert recorded.data["after"]["amount"] == "0.30"
