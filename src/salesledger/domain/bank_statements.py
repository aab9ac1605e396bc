"""The checks of an imported bank statement and the identity of its lines (pure; every
import path uses these: docs/design/bank-statements.md).

- **Balance**: opening balance + the sum of the lines = closing balance. A difference is
  reported with the import and kept on the statement, never hidden and never a refusal:
  banks do send files that do not add up, and the lines are still what happened.
- **Continuity**: the opening balance equals the previous statement's closing balance of
  the same account (the one that ends last before this one begins).
- **Line identity**: a line already imported for the account is not imported again, so a
  statement imported twice, or one that overlaps an earlier one (an intraday camt.052 then
  the day's camt.053, or two MT940 exports of overlapping dates), adds each movement once.
  The key is the bank's own reference of the movement when it gives one (with the booking
  date and amount, because some banks reuse references across days); without one, the
  movement's content (dates, amount, currency, counterparty, references, text) and its
  occurrence among identical movements of the same day in the file: two equal payments on
  one day stay two, and the same day read again from another file is the same two.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class LineKey:
    booking_date: date
    value_date: date | None
    amount: int  # minor units, signed
    currency: str
    bank_reference: str
    end_to_end_id: str
    counterparty_iban: str
    counterparty_name: str
    text: str


def line_identities(lines: Sequence[LineKey]) -> list[str]:
    """One identity per line, in order (see the module docstring)."""
    seen: Counter[str] = Counter()
    out = []
    for li in lines:
        if li.bank_reference:
            basis = f"ref|{li.booking_date}|{li.amount}|{li.currency}|{li.bank_reference}"
        else:
            basis = "|".join(("content", str(li.booking_date), str(li.value_date or ""),
                              str(li.amount), li.currency, li.end_to_end_id,
                              li.counterparty_iban, " ".join(li.counterparty_name.split()),
                              " ".join(li.text.split())))
        seen[basis] += 1
        out.append(hashlib.sha256(f"{basis}|{seen[basis]}".encode()).hexdigest()[:40])
    return out


def balance_difference(opening: int | None, lines_total: int, closing: int | None
                       ) -> int | None:
    """closing - (opening + lines): 0 when the statement adds up; None when it gives no
    opening or no closing balance to check."""
    if opening is None or closing is None:
        return None
    return closing - (opening + lines_total)


def continuity_difference(previous_closing: int | None, opening: int | None) -> int | None:
    """opening - previous closing: 0 when continuous; None when there is nothing to compare."""
    if previous_closing is None or opening is None:
        return None
    return opening - previous_closing
