"""The documents app's invariant (registered with ``core.invariants``)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from salesledger.apps.core.invariants import Problem, register
from salesledger.apps.core.models import AuditEvent, Company
from salesledger.apps.invoicing.models import DocumentFile


def frozen_hashes(company: Company) -> dict[tuple[int, str], str]:
    """The hash of each frozen file as the audit chain recorded it when it was frozen:
    ``(document id, kind)`` → SHA-256 (``<kind>.pdf`` and ``<kind>.einvoice`` events)."""
    out: dict[tuple[int, str], str] = {}
    for ev in AuditEvent.objects.filter(company=company, entity="invoice").filter(
            action__regex=r"\.(pdf|einvoice)$").values("entity_id", "action", "data"):
        data = ev["data"] or {}
        kind = "pdf" if ev["action"].endswith(".pdf") else str(data.get("format", ""))
        out[(int(ev["entity_id"]), kind)] = str(data.get("sha256", ""))
    return out


def frozen_files(company: Company, add: Callable[[Problem], None]) -> None:
    """11. Every frozen file (PDF, UBL, CII, Factur-X) is the one issued: its bytes hash to
    its stored hash and to the hash the audit chain recorded when it was frozen."""
    recorded = frozen_hashes(company)
    for f in (DocumentFile.objects.filter(company=company).order_by("pk")
              .values("invoice_id", "invoice__number", "kind", "sha256", "content")
              .iterator(chunk_size=200)):
        name = f"{f['invoice__number']} {f['kind']}"
        if hashlib.sha256(bytes(f["content"])).hexdigest() != f["sha256"]:
            add(Problem("frozen_files", f"{name}: content changed since it was frozen"))
        was = recorded.get((f["invoice_id"], f["kind"]))
        if was is None:
            add(Problem("frozen_files", f"{name}: not recorded in the audit trail"))
        elif was != f["sha256"]:
            add(Problem("frozen_files", f"{name}: hash differs from the one recorded"))


def register_checks() -> None:
    register(11, frozen_files)
