"""Remittance advice attached to a statement line (docs/design/cash-application.md): the
invoices and amounts a customer says a payment pays, read from a CSV or a text
(``formats/bank/remittance.py``), checked against the books, and kept as the line's
proposal, which ``bank match`` and ``bank confirm`` apply through the payment services like
any other. The only writer of ``Remittance``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, Sum

from salesledger.apps.core.actors import Actor, actor_row
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import require_role
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice
from salesledger.domain.amounts import amount_minor
from salesledger.domain.cash_matching import Proposal, normalize
from salesledger.domain.errors import NotFound, ValidationFailed
from salesledger.formats.bank.remittance import read_remittance
from salesledger.money import format_minor

from .models import LineMatch, LineStatus, Remittance, StatementLine

CONFIDENCE = 0.99


@dataclass(frozen=True)
class Advice:
    line: StatementLine
    customer_id: int
    allocations: tuple[tuple[str, int], ...]
    unapplied: int  # what the line brings beyond the invoices listed

    def proposal(self, file_name: str) -> Proposal:
        return proposal_of(self.customer_id, self.allocations, file_name, self.unapplied,
                           self.line.currency)


def proposal_of(customer_id: int, allocations: Sequence[Sequence[object]], file_name: str,
                unapplied: int, currency: str) -> Proposal:
    allocs = tuple((str(n), int(str(a))) for n, a in allocations)
    evidence = [f"remittance advice {file_name or ''}".strip()
                + f": {len(allocs)} invoice(s)"]
    if unapplied:
        evidence.append(f"{format_minor(unapplied, currency)} more than the advice lists "
                        "stays unapplied")
    return Proposal(customer_id, allocs, CONFIDENCE, tuple(evidence))


def _invoice_for(company: Company, reference: str) -> list[Invoice]:
    """The posted invoices a reference names: its RF reference, or its number however it is
    written (spaces, separators, case)."""
    key = normalize(reference)
    digits = re.findall(r"\d+", reference)
    q = Q(number__iexact=reference.strip())
    if key.startswith("RF"):
        q |= Q(payment_reference=key)
    if digits:
        q |= Q(number__endswith=digits[-1])
    found = Invoice.objects.filter(q, company=company, kind=DocKind.INVOICE, status="posted")
    exact = [i for i in found if normalize(i.number or "") == key
             or (i.payment_reference and normalize(i.payment_reference) == key)]
    return exact or [i for i in found if i.number and key.endswith(normalize(i.number))]


def advice_read(company: Company, line: StatementLine, data: bytes) -> Advice:
    """What ``data`` says ``line`` pays, checked: every reference one posted invoice of one
    customer, in the line's currency, no more than is open on it, no more than the line."""
    if line.amount <= 0:
        raise ValidationFailed(f"statement line {line.pk} is money out: a remittance advice "
                               "is for a payment received", field="line")
    rows = read_remittance(data)
    allocations: dict[str, int] = {}
    customers: dict[int, str] = {}
    for r in rows:
        found = _invoice_for(company, r.reference)
        if not found:
            raise NotFound(f"{r.where}: no posted invoice {r.reference!r}", where=r.where)
        if len(found) > 1:
            raise ValidationFailed(f"{r.where}: {r.reference!r} names several invoices ("
                                   + ", ".join(sorted(i.number or "" for i in found)) + ")",
                                   where=r.where)
        inv = found[0]
        if inv.currency != line.currency:
            raise ValidationFailed(f"{r.where}: {inv.number} is in {inv.currency}, the "
                                   f"payment in {line.currency}", where=r.where)
        customers[inv.customer_id] = inv.number or ""
        number = inv.number or ""
        allocations[number] = allocations.get(number, 0) + amount_minor(r.amount,
                                                                        line.currency)
    if len(customers) > 1:
        raise ValidationFailed("the advice lists invoices of several customers ("
                               + ", ".join(sorted(customers.values())) + "): one payment "
                               "pays one customer's invoices")
    open_by_number = dict(Instalment.objects.filter(
        company=company, invoice__number__in=list(allocations), invoice__kind=DocKind.INVOICE)
        .values("invoice__number").annotate(o=Sum("amount") - Sum("settled"))
        .values_list("invoice__number", "o"))
    for number, amount in allocations.items():
        if amount > (open_by_number.get(number) or 0):
            raise ValidationFailed(
                f"the advice pays {format_minor(amount, line.currency)} on {number}, which "
                f"has {format_minor(open_by_number.get(number) or 0, line.currency)} open",
                invoice=number)
    total = sum(allocations.values())
    if total > line.amount:
        raise ValidationFailed(f"the advice lists {format_minor(total, line.currency)}, more "
                               f"than the {format_minor(line.amount, line.currency)} of "
                               f"statement line {line.pk}", field="line")
    [customer_id] = customers
    return Advice(line, customer_id, tuple(allocations.items()), line.amount - total)


def bank_remittance(*, actor: Actor, company: Company, line_id: int, data: bytes,
                    file_name: str = "") -> tuple[Advice, Proposal]:
    """Attach a remittance advice to a line waiting to be applied: kept with the line, its
    allocations the line's proposal (``bank confirm`` or ``bank match --auto-apply`` applies
    it). Audited."""
    require_role(company, actor, Role.CLERK)
    line = (StatementLine.objects.filter(company=company, pk=line_id)
            .select_related("bank_account").first())
    if line is None:
        raise NotFound(f"no statement line {line_id}", field="line")
    advice = advice_read(company, line, data)
    proposal = advice.proposal(file_name)
    with transaction.atomic():
        m = LineMatch.objects.select_for_update().filter(line=line).first()
        if m is not None and m.status == LineStatus.APPLIED:
            raise ValidationFailed(f"statement line {line_id} is applied already",
                                   field="line")
        Remittance.objects.update_or_create(line=line, defaults={
            "company": company, "customer_id": advice.customer_id, "file_name": file_name,
            "content": data, "allocations": [list(a) for a in advice.allocations],
            "created_by": actor_row(actor)})
        if m is None:
            m = LineMatch(company=company, line=line)
        m.status, m.customer_id, m.confidence = (LineStatus.SUGGESTED, advice.customer_id,
                                                 proposal.confidence)
        m.evidence = list(proposal.evidence)
        m.suggestions = [{"customer": proposal.customer_id,
                          "allocations": [list(a) for a in proposal.allocations],
                          "confidence": proposal.confidence,
                          "evidence": list(proposal.evidence), "write_off": False,
                          "signature": proposal.signature()}]
        m.save()
        audit(company, actor, "bank_line.remittance", "bank_line", line.pk,
              file_name=file_name, allocations=[list(a) for a in advice.allocations])
    return advice, proposal


def advised(company: Company, line_ids: Sequence[int],
            currencies: dict[int, str]) -> dict[int, Proposal]:
    """The proposals of the remittance advice kept for these lines."""
    out = {}
    for line_id, customer_id, allocs, name, amount in Remittance.objects.filter(
            company=company, line_id__in=list(line_ids)).values_list(
            "line_id", "customer_id", "allocations", "file_name", "line__amount"):
        total = sum(int(a) for _, a in allocs)
        out[line_id] = proposal_of(customer_id, allocs, name, amount - total,
                                   currencies[line_id])
    return out
