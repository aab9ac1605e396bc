"""Returned payments (docs/design/cash-application.md): money that goes back out of the
account because a payment we applied did not stand — a direct debit the customer's bank
returned, a transfer recalled. Such a line is matched to the receipt it undoes, and confirming
it (or applying it, when sure) reverses that receipt through the payment service: what it paid
is open again, and the line and the reversal reconcile each other.

Two ways to find the receipt, among the lines applied earlier on the same bank account:

- the **end-to-end id**: the return carries the id of the payment it returns (always for a
  direct debit, whose id we gave), with the same amount: sure;
- for a line the bank marks as a return (a return reason, ISO 20022 ``RtrInf``), the **same
  amount from the same IBAN** within 120 days before: sure when only one fits, a suggestion
  for each when several do.

A payment we send (a refund) has an end-to-end id of its own and no return reason, so it is
never taken for a return."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q

from salesledger.apps.core.actors import Actor
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company
from salesledger.apps.payments.models import Receipt
from salesledger.apps.payments.refunds import receipt_reverse

from .direct_debits import debit_returned
from .locks import line_match_to_apply
from .models import LineMatch, LineStatus, StatementLine

BY_END_TO_END = 0.99
BY_AMOUNT_AND_IBAN = 0.96
SEVERAL_FIT = 0.6
LOOK_BACK = timedelta(days=120)


@dataclass(frozen=True)
class ReturnProposal:
    receipt_id: int
    receipt: str
    customer_id: int
    confidence: float
    evidence: tuple[str, ...]

    def signature(self) -> str:
        return f"reverse:{self.receipt}"

    def as_json(self) -> dict[str, object]:
        """The shape of a suggestion kept on the line (``LineMatch.suggestions``)."""
        return {"customer": self.customer_id, "allocations": [], "confidence": self.confidence,
                "evidence": list(self.evidence), "write_off": False,
                "signature": self.signature(), "reverse": self.receipt}


def _reason(line: StatementLine) -> str:
    return f" (return reason {line.return_reason})" if line.return_reason else ""


def returns_proposed(company: Company, rows: Sequence[StatementLine]
                     ) -> dict[int, list[ReturnProposal]]:
    """For each line of money out among ``rows``, the receipts it may return, best first."""
    out: dict[int, list[ReturnProposal]] = {}
    money_out = [r for r in rows if r.amount < 0]
    if not money_out:
        return out
    e2e = {r.end_to_end_id.strip() for r in money_out if r.end_to_end_id.strip()}
    ibans = {r.counterparty_iban for r in money_out if r.return_reason and r.counterparty_iban}
    earliest = min(r.booking_date for r in money_out) - LOOK_BACK
    applied = (LineMatch.objects.filter(
        company=company, status=LineStatus.APPLIED, receipt__isnull=False,
        receipt__reversal__isnull=True, line__amount__gt=0,
        line__bank_account_id__in={r.bank_account_id for r in money_out},
        line__booking_date__gte=earliest)
        .values_list("line_id", "line__bank_account_id", "line__end_to_end_id",
                     "line__counterparty_iban", "line__amount", "line__currency",
                     "line__booking_date", "receipt_id", "receipt__number",
                     "receipt__customer_id"))
    if e2e or ibans:
        applied = applied.filter(Q(line__end_to_end_id__in=e2e)
                                 | Q(line__counterparty_iban__in=ibans))
    else:
        return out
    paid = list(applied)
    for r in money_out:
        key = r.end_to_end_id.strip()
        same_id = [p for p in paid if key and p[2].strip() == key and p[1] == r.bank_account_id
                   and p[4] == -r.amount and p[5] == r.currency and p[6] <= r.booking_date]
        if same_id:
            p = same_id[0]
            out[r.pk] = [ReturnProposal(p[7], p[8], p[9], BY_END_TO_END, (
                f"returns the payment of line {p[0]}: same end-to-end id {key}{_reason(r)}",
                f"receipt reverse {p[8]}"))]
            continue
        if not r.return_reason or not r.counterparty_iban:
            continue
        fits = [p for p in paid if p[3] == r.counterparty_iban and p[1] == r.bank_account_id
                and p[4] == -r.amount and p[5] == r.currency
                and r.booking_date - LOOK_BACK <= p[6] <= r.booking_date]
        fits.sort(key=lambda p: (-p[6].toordinal(), p[0]))  # the latest first
        strength = BY_AMOUNT_AND_IBAN if len(fits) == 1 else SEVERAL_FIT
        out[r.pk] = [ReturnProposal(p[7], p[8], p[9], strength, (
            f"returns the payment of line {p[0]} of {p[6]}: same amount from the same IBAN"
            f"{_reason(r)}", f"receipt reverse {p[8]}")) for p in fits[:3]] if fits else []
        if not out[r.pk]:
            del out[r.pk]
    return out


def reverse_for_line(*, company: Company, actor: Actor, line: StatementLine,
                     proposal: ReturnProposal, decided_by: str) -> str:
    """Reverse the receipt ``line`` returns, on the line's booking date, and mark the line
    applied with it, in one transaction. Returns the receipt's number."""
    with transaction.atomic():
        m = line_match_to_apply(company, line)
        rc = Receipt.objects.get(company=company, pk=proposal.receipt_id)
        receipt_reverse(actor=actor, company=company, number=rc.number,
                        day=max(line.booking_date, rc.date),
                        reason=f"returned by the bank, statement line {line.pk}"
                               f"{_reason(line)}")
        # a direct debit of ours that came back: its instalment may be collected again
        paid_with = LineMatch.objects.filter(company=company, receipt_id=rc.pk).exclude(
            line=line).values_list("line__end_to_end_id", flat=True)
        debits = debit_returned(company=company,
                                end_to_end_ids=[*paid_with, line.end_to_end_id],
                                day=line.booking_date, reason=line.return_reason)
        m.status, m.receipt_id, m.customer_id = LineStatus.APPLIED, rc.pk, rc.customer_id
        m.confidence, m.evidence = proposal.confidence, list(proposal.evidence)
        m.suggestions = []
        m.decided_by = "return" if decided_by == "auto" else "return-c"
        m.save()
        audit(company, actor, "bank_line.return", "bank_line", line.pk, receipt=rc.number,
              decided_by=decided_by, confidence=proposal.confidence,
              evidence=list(proposal.evidence), direct_debits_returned=debits)
    return rc.number


def is_return(m: LineMatch) -> bool:
    """Whether an applied line is a return (its receipt was reversed by it)."""
    return m.decided_by.startswith("return")


def proposal_of(company: Company, suggestion: dict[str, object]) -> ReturnProposal | None:
    """The return a kept suggestion proposes, if it is one."""
    number = suggestion.get("reverse")
    if not number:
        return None
    rc = (Receipt.objects.filter(company=company, number=str(number))
          .values_list("id", "customer_id").first())
    if rc is None:
        return None
    conf = suggestion.get("confidence")
    return ReturnProposal(rc[0], str(number), rc[1], float(conf) if isinstance(
        conf, (int, float)) else 0.0, tuple(str(e) for e in suggestion.get("evidence") or ()))
