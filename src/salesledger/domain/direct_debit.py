"""Whether and how an instalment is collected by SEPA direct debit, from what was collected
before (docs/design/direct-debit.md). Pure: the banking app reads the history, this decides.

The rules, from the EPC's SEPA Core Direct Debit rulebook and its implementation guidelines:

- **Re-presentation.** A debit the debtor's bank returned (an R-transaction after
  settlement, with its ISO 20022 reason code) leaves the instalment open; the next run asks
  for it again under a new end-to-end id, up to :data:`MAX_ATTEMPTS` presentations in all.
  A return whose reason says that asking again is pointless or not allowed (the account is
  closed or wrong, there is no mandate, the debtor died, the debtor refused or asked for a
  refund: :data:`FINAL_REASONS`) stops the collection at once.
- **Sequence type.** ``FRST`` for the first collection under a mandate; ``RCUR`` for every
  later one, a re-presentation included (the money of the first one was settled before it
  came back, so the mandate has been used; since the 2016 rulebook an amendment, even to an
  account at another bank, does not call for ``FRST`` again).
- **Amendment.** A mandate keeps its identity when the creditor changes its reference or
  the debtor its account: the next collection says so (the amendment indicator, with the
  original mandate id or the original account). A new signature date is a new mandate, not
  an amendment: it starts again with ``FRST``.
- **Expiry.** A mandate under which nothing was collected for 36 months expires (rulebook
  4.5, "a mandate ... expires 36 months after the last collection"); one never used expires
  36 months after it was signed. An expired mandate is not collected: the customer signs a
  new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .recurrence import add_months

MAX_ATTEMPTS = 3
EXPIRY_MONTHS = 36
# ISO 20022 external return reason codes after which a debit is not presented again.
FINAL_REASONS = {
    "AC01": "account identifier incorrect",
    "AC04": "account closed",
    "AC06": "account blocked",
    "AG01": "transaction forbidden on this account",
    "MD01": "no valid mandate",
    "MD06": "refund requested by the debtor",
    "MD07": "debtor deceased",
    "MS02": "refused by the debtor",
}
REASONS = {**FINAL_REASONS,
           "AM04": "insufficient funds",
           "MS03": "reason not specified",
           "SL01": "specific service offered by the debtor's bank",
           "AM05": "duplicate collection",
           "BE05": "creditor identifier incorrect",
           "FF01": "invalid file format",
           "RR01": "debtor identification missing",
           "RR04": "regulatory reason"}


def reason_text(code: str) -> str:
    """A return reason code as a person reads it: ``AM04 (insufficient funds)``."""
    what = REASONS.get(code.upper())
    return f"{code} ({what})" if what else code or "no reason given"


@dataclass(frozen=True)
class PastDebit:
    """A debit asked for before, of the same customer."""

    instalment_id: int
    attempt: int
    mandate_reference: str
    mandate_signed: date | None
    debtor_iban: str  # blank when not kept (debits from before it was)
    collection_date: date
    returned_on: date | None
    return_reason: str


@dataclass(frozen=True)
class Mandate:
    reference: str
    signed: date
    debtor_iban: str


@dataclass(frozen=True)
class Plan:
    """How to collect one instalment: its attempt, sequence type and amendment, or why not
    (``refused``). ``previous_reason``: the return reason of the attempt before."""

    attempt: int = 1
    sequence: str = "FRST"
    original_reference: str = ""
    original_iban: str = ""
    previous_reason: str = ""
    refused: str = ""


def plan_debit(mandate: Mandate, instalment_id: int, history: list[PastDebit],
               collect_on: date) -> Plan:
    """The plan for one instalment, given every debit of its customer (any order)."""
    mine = sorted((d for d in history if d.instalment_id == instalment_id),
                  key=lambda d: d.attempt)
    previous_reason = ""
    if mine:
        last = mine[-1]
        if last.returned_on is None:
            return Plan(refused="already asked for and not returned")
        previous_reason = last.return_reason
        if last.return_reason.upper() in FINAL_REASONS:
            return Plan(refused=f"the debit was returned {reason_text(last.return_reason)}, "
                                "which does not allow presenting it again: collect it "
                                "another way")
        if len(mine) >= MAX_ATTEMPTS:
            return Plan(refused=f"returned {len(mine)} times, the last "
                                f"{reason_text(last.return_reason)}: no more than "
                                f"{MAX_ATTEMPTS} presentations; collect it another way")
    # the debits under this mandate: the same signature (a reference or account changed
    # since is an amendment of it)
    same = sorted((d for d in history if d.mandate_signed in (None, mandate.signed)
                   and (d.mandate_signed is not None or d.mandate_reference == mandate.reference)),
                  key=lambda d: (d.collection_date, d.attempt))
    used_until = same[-1].collection_date if same else mandate.signed
    if collect_on >= add_months(used_until, EXPIRY_MONTHS):
        what = f"nothing collected since {used_until}" if same else \
            f"signed {mandate.signed} and never used"
        return Plan(refused=f"mandate {mandate.reference} expired: {what} "
                            f"({EXPIRY_MONTHS} months); the customer must sign a new mandate "
                            "(customer update CODE --mandate REF --mandate-signed DAY)")
    original_reference = original_iban = ""
    if same:
        last_used = same[-1]
        if last_used.mandate_reference != mandate.reference:
            original_reference = last_used.mandate_reference
        if last_used.debtor_iban and last_used.debtor_iban != mandate.debtor_iban:
            original_iban = last_used.debtor_iban
    return Plan(attempt=len(mine) + 1, sequence="RCUR" if same else "FRST",
                original_reference=original_reference, original_iban=original_iban,
                previous_reason=previous_reason)
