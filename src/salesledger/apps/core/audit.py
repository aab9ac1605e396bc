"""The audit trail: every service writes one event in its own transaction.

Events form a hash chain per company: an event's hash is SHA-256 over the previous hash and
the event's canonical JSON. Changing, inserting or removing any stored event breaks every
hash after it, which ``audit_verify`` (and ``salesledger check``) detects. Rows are also
append-only at the database level (see ``guards.py``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from .actors import Actor, actor_id, actor_name, actor_row
from .bulkinsert import insert_rows
from .models import AuditChain, AuditEvent, Company


@dataclass(frozen=True)
class EventSpec:
    action: str
    entity: str
    entity_id: str
    data: dict[str, Any]


def _canonical(company_id: int, seq: int, at: datetime, actor: str, spec: EventSpec) -> bytes:
    body = {
        "company": company_id,
        "seq": seq,
        "at": at.isoformat(),
        "actor": actor,
        "action": spec.action,
        "entity": spec.entity,
        "entity_id": spec.entity_id,
        "data": spec.data,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


def chain_hash(
    prev: str, company_id: int, seq: int, at: datetime, actor: str, spec: EventSpec
) -> str:
    return hashlib.sha256(prev.encode() + _canonical(company_id, seq, at, actor, spec)).hexdigest()


_COLUMNS = ("company_id", "seq", "at", "actor_id", "actor_name", "action", "entity",
            "entity_id", "data", "prev_hash", "hash")


def audit_many(company: Company, actor: Actor, specs: Iterable[EventSpec]) -> list[AuditEvent]:
    """Append events to the company's chain. Call inside the service's transaction."""
    chain, _ = AuditChain.objects.get_or_create(company=company)
    chain = AuditChain.objects.select_for_update().get(pk=chain.pk)
    at = timezone.now().replace(microsecond=0)
    name, actor_obj = actor_name(actor), actor_row(actor)
    events = []
    prev, seq = chain.last_hash, chain.last_seq
    for spec in specs:
        seq += 1
        digest = chain_hash(prev, company.pk, seq, at, name, spec)
        events.append(
            AuditEvent(
                company=company,
                seq=seq,
                at=at,
                actor=actor_obj,
                actor_name=name,
                action=spec.action,
                entity=spec.entity,
                entity_id=spec.entity_id,
                data=spec.data,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    # Multi-row INSERTs: a bulk import appends one event per document (see bulkinsert.py).
    ids = insert_rows(AuditEvent, _COLUMNS, [
        (company.pk, e.seq, at, actor_id(actor), name, e.action,
         e.entity, e.entity_id, e.data, e.prev_hash, e.hash) for e in events], returning=True)
    for event, pk in zip(events, ids, strict=True):
        event.pk = pk
        event._state.adding, event._state.db = False, AuditEvent.objects.db
    AuditChain.objects.filter(pk=chain.pk).update(last_seq=seq, last_hash=prev)
    return events


def audit(
    company: Company, actor: Actor, action: str, entity: str, entity_id: Any, **data: Any
) -> AuditEvent:
    return audit_many(company, actor, [EventSpec(action, entity, str(entity_id or ""), data)])[0]


def audit_verify(company: Company) -> list[str]:
    """Return a list of problems in the company's audit chain (empty when intact)."""
    problems = []
    prev, expected_seq = "0" * 64, 1
    rows = AuditEvent.objects.filter(company=company).order_by("seq").iterator(chunk_size=5000)
    for ev in rows:
        if ev.seq != expected_seq:
            problems.append(f"audit event {expected_seq} is missing (found {ev.seq})")
        if ev.prev_hash != prev:
            problems.append(f"audit event {ev.seq}: previous-hash link is broken")
        spec = EventSpec(ev.action, ev.entity, ev.entity_id, ev.data)
        if chain_hash(ev.prev_hash, company.pk, ev.seq, ev.at, ev.actor_name, spec) != ev.hash:
            problems.append(f"audit event {ev.seq}: content does not match its hash (tampered)")
        prev, expected_seq = ev.hash, ev.seq + 1
    head = AuditChain.objects.filter(company=company).first()
    if head and (head.last_seq != expected_seq - 1 or head.last_hash != prev):
        problems.append("audit chain head does not match the last event (events removed?)")
    return problems
