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

from .actors import Actor, actor_id, actor_name
from .bulkinsert import insert_rows
from .models import AuditChain, AuditEvent, Company


@dataclass(frozen=True)
class EventSpec:
    action: str
    entity: str
    entity_id: str
    data: dict[str, Any]


# One encoder for every event (``json.dumps`` with these options builds one per call): the
# same text as ``json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)``.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def _canonical(company_id: int, seq: int, at: datetime, actor: str, spec: EventSpec,
               at_text: str | None = None) -> bytes:
    body = {
        "company": company_id,
        "seq": seq,
        "at": at.isoformat() if at_text is None else at_text,
        "actor": actor,
        "action": spec.action,
        "entity": spec.entity,
        "entity_id": spec.entity_id,
        "data": spec.data,
    }
    return _ENCODER.encode(body).encode()


def chain_hash(
    prev: str, company_id: int, seq: int, at: datetime, actor: str, spec: EventSpec,
    at_text: str | None = None,
) -> str:
    return hashlib.sha256(
        prev.encode() + _canonical(company_id, seq, at, actor, spec, at_text)).hexdigest()


_COLUMNS = ("company_id", "seq", "at", "actor_id", "actor_name", "action", "entity",
            "entity_id", "data", "prev_hash", "hash")


def _head(company: Company) -> tuple[int, str]:
    """The company's chain head (last seq and hash), locked until the transaction ends; made
    on the company's first event."""
    locked = AuditChain.objects.select_for_update().filter(pk=company.pk)
    head = locked.values_list("last_seq", "last_hash").first()
    if head is None:
        AuditChain.objects.get_or_create(company=company)
        head = locked.values_list("last_seq", "last_hash").get()
    return head


def audit_many(company: Company, actor: Actor, specs: Iterable[EventSpec]) -> int:
    """Append events to the company's chain, in order; return how many. Call inside the
    service's transaction. Three queries whatever the number of events (the head locked
    and read, the events inserted, the head moved on), more only for thousands of events
    (``insert_rows`` statements) or for the company's very first event."""
    specs = list(specs)
    if not specs:
        return 0
    seq, prev = _head(company)
    at = timezone.now().replace(microsecond=0)
    at_text = at.isoformat()
    name, user_id, cid = actor_name(actor), actor_id(actor), company.pk
    rows = []
    for spec in specs:
        seq += 1
        digest = chain_hash(prev, cid, seq, at, name, spec, at_text)
        # Multi-row INSERTs: a bulk import appends one event per document (bulkinsert.py).
        rows.append((cid, seq, at, user_id, name, spec.action, spec.entity, spec.entity_id,
                     spec.data, prev, digest))
        prev = digest
    insert_rows(AuditEvent, _COLUMNS, rows)
    AuditChain.objects.filter(pk=company.pk).update(last_seq=seq, last_hash=prev)
    return len(rows)


def audit(
    company: Company, actor: Actor, action: str, entity: str, entity_id: Any, **data: Any
) -> None:
    audit_many(company, actor, [EventSpec(action, entity, str(entity_id or ""), data)])


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
