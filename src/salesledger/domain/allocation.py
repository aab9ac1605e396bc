"""Allocating: what one allocation takes off each side, and the journal lines it writes
(docs/design/ledger-model.md, docs/design/multi-currency.md).

An allocation moves an amount from a source (a receipt's unapplied cash, or a credit note) to
an open instalment. Both sides are relieved at their own booking rate, the last part of each
taking whatever base is left, so that a fully settled document leaves no base residue; the
difference between the two base amounts is the realised exchange gain or loss. Every path that
allocates (one command, a bulk run, an import) goes through :func:`allocation_step`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..money import format_minor, major_text
from .errors import AllocationExceedsUnallocated, CurrencyMismatch
from .journal import AccountRole, Line, allocation_entry, cross_allocation_entry, to_base
from .settlement import check_allocation


@dataclass(slots=True)
class OpenSide:
    """One side of an allocation while allocations accumulate: an instalment, or the receipt or
    credit note that settles it. ``open`` is what is still open (or unallocated), in minor
    units of the document currency; ``relieved`` is the base-currency amount that earlier
    allocations have already taken off ``base_whole``."""

    open: int
    base_whole: int
    rate: Decimal
    relieved: int

    def relieve(self, amount: int, currency: str, base_currency: str) -> int:
        """Take ``amount`` off and return the base amount it relieves, at the booking rate.
        The last part takes whatever base is left, so a fully settled item leaves no base
        residue (the difference is the realised exchange gain or loss)."""
        self.open -= amount
        if self.open == 0:
            base = self.base_whole - self.relieved
        else:
            base = to_base(amount, currency, base_currency, Decimal(self.rate))
        self.relieved += base
        return base


def allocation_step(*, base_currency: str, is_receipt: bool, customer_id: int, currency: str,
                    amount: int, source: OpenSide, instalment: OpenSide,
                    source_currency: str | None = None, source_amount: int | None = None
                    ) -> tuple[int, int, list[Line] | None]:
    """Check one allocation against what is open and unallocated, relieve both sides and
    return (base unapplied, base receivable, journal lines or None).

    With ``source_currency`` other than ``currency``, a receipt pays an instalment in
    another currency: ``amount`` leaves the instalment, ``source_amount`` the receipt, each
    relieved at its own booking rate (``cross_allocation_entry``)."""
    if source_currency is not None and source_currency != currency:
        if not is_receipt or source_amount is None:
            raise CurrencyMismatch("only a receipt pays an instalment in another currency, "
                                   "with the amount it takes in its own")
        check_allocation(amount, open_amount=instalment.open, unallocated=amount,
                         currency=currency)
        if not 0 <= source_amount <= source.open:
            raise AllocationExceedsUnallocated(
                f"allocating {format_minor(source_amount, source_currency)} exceeds the "
                f"{format_minor(source.open, source_currency)} still unallocated",
                amount=major_text(source_amount, source_currency),
                unallocated=major_text(source.open, source_currency),
                currency=source_currency)
        base_recv = instalment.relieve(amount, currency, base_currency)
        base_src = source.relieve(source_amount, source_currency, base_currency)
        return base_src, base_recv, cross_allocation_entry(
            customer_id=customer_id, currency=currency, amount=amount,
            base_receivable=base_recv, source_currency=source_currency,
            source_amount=source_amount, base_unapplied=base_src)
    check_allocation(amount, open_amount=instalment.open, unallocated=source.open,
                     currency=currency)
    base_recv = instalment.relieve(amount, currency, base_currency)
    base_src = source.relieve(amount, currency, base_currency)
    if not is_receipt and base_src == base_recv:
        # A credit note and an invoice both sit on the receivable account: nothing moves.
        return base_src, base_recv, None
    lines = allocation_entry(customer_id=customer_id, currency=currency, amount=amount,
                             base_unapplied=base_src, base_receivable=base_recv)
    if not is_receipt:
        lines = [Line(AccountRole.RECEIVABLE, li.amount, li.amount_currency, li.currency,
                      li.customer_id) if li.role == AccountRole.UNAPPLIED else li
                 for li in lines]
    return base_src, base_recv, lines
