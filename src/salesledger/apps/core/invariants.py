"""Invariants of the books, checked over the whole database (``salesledger check``).

Each app owns the invariants of what it writes and registers their checks here, in its
``AppConfig.ready`` (the kernel knows no app above it); ``check_company`` runs them all, in the
order of their number. Each check is one set-based query (or a few) and reports every breach
it finds, naming the rows:
  1. every journal entry sums to zero in base currency and per document currency (ledger);
  2. the cached settlement figures equal the sum of their allocations (payments);
  3. no instalment is over-settled, no receipt or credit note over-allocated (payments, with 2);
  4. the instalments of each posted invoice sum to its total (invoicing);
  5. per customer and currency: open items = receivable control; unapplied receipts =
     the unapplied cash account; so balance = receivable control - unapplied cash (payments);
  6. numbering has no gap and no duplicate in any series and fiscal year (invoicing, payments);
  7. every posted document has its journal entry, with the total on the receivable account
     (invoicing);
  8. the audit hash chain is intact (core);
  9. adjustments, refunds and receipt reversals are whole and journaled as they say
     (payments; docs/design/adjustments.md);
 10. every posted document is what was issued: snapshot, header, lines and charges agree with
     the snapshot hash recorded in the audit chain at posting (invoicing);
 11. every frozen file hashes to the hash recorded in the audit chain when it was frozen
     (documents);
 12. every merged customer points at a survivor of its company and currency that is not
     itself merged: no chains, no cycles (customers; docs/design/customer-records.md);
 13. collections casework is whole: plans sum to what they rescheduled, disputes stay within
     what was open when opened (collections);
 14. the kept worklist ranking is the worklist of its day, in order (collections);
 15. the aging summary is the aging of its day, customer by customer (reporting);
 16. every KPI figure kept at the company's current version is what the books give for its
     month and part (reporting; docs/design/kpis.md, "Kept months");
 17. every kept cash-flow forecast whose stamp is the audit chain's head is the forecast the
     books give (reporting; docs/design/forecast.md, "The kept forecast");
 18. every posted document's kept settlement (open, partially paid, paid, written off) is
     what its instalments, allocations and bad debts tell now (payments).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .audit import audit_verify
from .models import Company


@dataclass(frozen=True)
class Problem:
    check: str
    detail: str

    def __str__(self) -> str:
        return f"{self.check}: {self.detail}"


Check = Callable[[Company, Callable[[Problem], None]], None]
_checks: dict[str, tuple[float, Check]] = {}


def register(order: float, check: Check) -> None:
    """Add ``check`` to ``check_company``, run in ``order`` (the numbers above). Registering
    the same function again replaces it; a number another check holds is refused, so the
    order in which the checks run is the one the list above gives."""
    name = f"{check.__module__}.{check.__qualname__}"
    for other, (taken, _) in _checks.items():
        if taken == order and other != name:
            raise ValueError(f"check number {order:g} is {other}'s, not {name}'s")
    _checks[name] = (order, check)


def registered() -> list[str]:
    """The checks, by name, in the order they run."""
    return [name for name, _ in sorted(_checks.items(), key=lambda kv: (kv[1][0], kv[0]))]


def check_company(company: Company) -> list[Problem]:
    """Every breach of every registered invariant in ``company``'s books."""
    out: list[Problem] = []
    for _, (_, check) in sorted(_checks.items(), key=lambda kv: (kv[1][0], kv[0])):
        check(company, out.append)
    return out


def audit_chain(company: Company, add: Callable[[Problem], None]) -> None:
    """8. The audit hash chain is intact."""
    for p in audit_verify(company):
        add(Problem("audit_chain", p))


register(8, audit_chain)
