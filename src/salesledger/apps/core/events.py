"""Domain events and vetoes: how a lower app causes work in a higher one without importing it.

Apps are in layers (docs/design/events.md): an app imports only the apps below it. When a lower
app does something that a higher app must act on (invoicing posts documents; the higher
documents app freezes their PDFs, payments applies credit notes to the invoices they correct),
the lower app *publishes* an event, and the higher app has *subscribed* a handler to it in its
``AppConfig.ready``. Handlers run:

- ``inside`` (the default): at once, in the publisher's transaction, in the order they were
  subscribed. What they write commits or rolls back with the event's cause; an error they raise
  refuses the whole change. For effects that must be atomic with their cause.
- ``on_commit``: after the publisher's transaction commits (never if it rolls back). For side
  effects outside the books (sending a message, warming a cache).

A *veto* runs before anything is written: a higher app registers a check for a kind of proposal
(posting a document, accepting a quote) and may refuse it by raising a ``LedgerError`` with its
own error code. The lower app calls :func:`check` inside its transaction, after its own rules and
before its first write; bulk paths call it per item and report each refusal as that item's
problem.

Events carry plain values (ids, codes, dates, minor units), never model instances, so that a
handler reads what it needs itself, and the catalogue in docs/design/events.md stays true.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any, NamedTuple, TypeVar

from django.db import transaction

from .actors import Actor

__all__ = [
    "AdjustmentsWritten",
    "AllocationsMade",
    "AllocationsReversed",
    "CompanyBankDetailsChanged",
    "CompanyCreated",
    "CreditHoldsChanged",
    "CustomerAnonymising",
    "CustomerBankAccountRemoved",
    "CustomerDataErased",
    "CustomerMerged",
    "CustomerMerging",
    "CustomerRenamed",
    "CustomerUnmerged",
    "CustomerUnmerging",
    "DocumentPosting",
    "DocumentsPosted",
    "Event",
    "MadeAllocation",
    "PostedDocument",
    "Proposal",
    "MemberRemoving",
    "QuoteAccepting",
    "RecurringInvoiceIssued",
    "ReversedAllocation",
    "check",
    "publish",
    "subscribe",
    "subscribed",
    "veto",
]


class Event:
    """Something that happened, published in the transaction that made it happen."""


class Proposal:
    """Something about to happen, which a veto may refuse before anything is written."""


E = TypeVar("E", bound=Event)
P = TypeVar("P", bound=Proposal)

# ---------------------------------------------------------------------------- the catalogue


@dataclass(frozen=True)
class CompanyCreated(Event):
    """A company was created; the apps above give it what every company starts with."""

    company_id: int
    actor: Actor


@dataclass(frozen=True)
class CompanyBankDetailsChanged(Event):
    """The account printed on the company's documents (IBAN, BIC) changed: the ledger keeps
    it as the company's main bank account (docs/design/bank-statements.md)."""

    company_id: int
    iban: str
    bic: str


@dataclass(frozen=True)
class PostedDocument:
    """One posted invoice or credit note, as handlers of :class:`DocumentsPosted` see it."""

    id: int
    kind: str  # "invoice" | "credit_note"
    customer_id: int
    # True for migrated history that keeps the number another system gave it: issued there,
    # not here (no PDF of ours is frozen for it).
    kept_number: bool = False
    corrects_id: int | None = None  # the invoice a credit note corrects


@dataclass(frozen=True)
class DocumentsPosted(Event):
    """Invoices and credit notes were posted (by ``invoices_post``; by an import, a chunk at
    a time)."""

    company_id: int
    actor: Actor
    documents: tuple[PostedDocument, ...]


@dataclass(frozen=True)
class RecurringInvoiceIssued(Event):
    """A recurring schedule issued (and posted) the invoice of one of its periods."""

    company_id: int
    company_code: str
    run_id: int
    invoice_id: int
    as_of: date
    auto_send: bool


class MadeAllocation(NamedTuple):
    """One allocation written, as handlers of :class:`AllocationsMade` see it (a named tuple:
    a bulk run makes tens of thousands at once)."""

    id: int
    instalment_id: int
    amount: int  # minor units of the instalment's currency, > 0
    day: date
    open_after: int  # what the instalment has open after it (minor units)
    receipt_id: int | None = None  # the source: a receipt or a credit note
    credit_note_id: int | None = None


@dataclass(frozen=True)
class AllocationsMade(Event):
    """Receipts or credit notes were allocated to instalments, by any path (one command, a
    policy, a bulk run, an import), in the order they were written."""

    company_id: int
    actor: Actor
    allocations: tuple[MadeAllocation, ...]


@dataclass(frozen=True, slots=True)
class ReversedAllocation:
    """One allocation undone, as handlers of :class:`AllocationsReversed` see it."""

    id: int  # the allocation undone
    reversal_id: int  # the reversing row
    instalment_id: int
    invoice_id: int
    amount: int  # what the allocation had settled, minor units of the instalment's currency
    day: date  # the day it was undone
    receipt_id: int | None = None
    credit_note_id: int | None = None


@dataclass(frozen=True)
class AllocationsReversed(Event):
    """Allocations of receipts or credit notes were undone by reversing rows."""

    company_id: int
    actor: Actor
    reversals: tuple[ReversedAllocation, ...]


@dataclass(frozen=True)
class AdjustmentsWritten(Event):
    """Adjustments (write-offs, deductions, discounts, bad debts) or their reversals settled
    or opened again instalments of the customers named, on the days given (by any path)."""

    company_id: int
    actor: Actor
    customer_ids: tuple[int, ...]
    days: tuple[date, ...]


@dataclass(frozen=True)
class DeductionsDisputed(Event):
    """Deductions the customers took were recorded flagged for a dispute (``--dispute``):
    collections opens a dispute over each (docs/design/collections.md)."""

    company_id: int
    actor: Actor
    adjustment_ids: tuple[int, ...]


@dataclass(frozen=True)
class DocumentPosting(Proposal):
    """An invoice or credit note about to be posted (or imported), its totals computed."""

    company_id: int
    actor: Actor
    kind: str
    customer_id: int
    currency: str
    total: int  # minor units of ``currency``
    base_total: int  # minor units of the company's base currency
    issue_date: date
    kept_number: bool = False
    purpose: str = "sale"  # "sale" | "fee" | "interest" (a fee or interest is never held)
    # The comment of a user who overrides a credit refusal; empty: no override asked.
    credit_override: str = ""
    # The proposals of one posting batch share this number (a veto may add them up).
    batch: int = 0


@dataclass(frozen=True)
class QuoteAccepting(Proposal):
    """A quote about to be accepted by its customer."""

    company_id: int
    actor: Actor
    quote_id: int
    customer_id: int
    currency: str
    total: int
    as_of: date  # the day it is accepted
    credit_override: str = ""  # as for ``DocumentPosting``


@dataclass(frozen=True)
class MemberRemoving(Proposal):
    """A member about to leave a company (``core.services.user_remove``): a higher app
    refuses while it holds open work that names them (a collector's customers and calls)."""

    company_id: int
    actor: Actor
    user_id: int
    username: str


@dataclass(frozen=True)
class CustomerAnonymising(Proposal):
    """A customer's personal data about to be erased (``customer_anonymise``): a higher app
    refuses while it holds something open that still needs who the customer is."""

    company_id: int
    actor: Actor
    customer_id: int
    code: str
    as_of: date


@dataclass(frozen=True)
class CustomerDataErased(Event):
    """A customer's personal data erased (``customer_anonymise``), in its transaction: each
    higher app erases what it holds about the customer (notes, attachments) the same way."""

    company_id: int
    actor: Actor
    customer_id: int
    code: str


@dataclass(frozen=True)
class CustomerMerging(Proposal):
    """A customer about to become an alias of another (``customer_merge``): a higher app
    refuses while it holds something of the alias that would still be issued to it (a
    draft, an open quote, a running recurring schedule)."""

    company_id: int
    actor: Actor
    customer_id: int
    code: str
    survivor_id: int
    survivor_code: str


@dataclass(frozen=True)
class CustomerUnmerging(Proposal):
    """An alias about to become a customer of its own again (``customer_unmerge``): a higher
    app refuses while something joins the two that would not hold once they are apart (an
    allocation of a payment of one to a document of the other)."""

    company_id: int
    actor: Actor
    customer_id: int
    code: str
    survivor_id: int
    survivor_code: str


@dataclass(frozen=True)
class CustomerBankAccountRemoved(Event):
    """A bank account is no longer the customer's (``bank_account_remove``), removed and
    audited: the apps above forget what they knew of it as the customer's (banking: the
    payer IBAN learned for the customer from confirmed payments)."""

    company_id: int
    actor: Actor
    customer_id: int
    code: str
    iban: str


@dataclass(frozen=True)
class CustomerRenamed(Event):
    """A customer's name changed (``customer_update``), written and audited: the apps above
    that keep the name in a derived list refresh it (collections: the kept worklist
    ranking)."""

    company_id: int
    actor: Actor
    customer_id: int
    code: str
    name: str


@dataclass(frozen=True)
class CreditHoldsChanged(Event):
    """Customers were put on credit hold or released (``credit_hold``, ``credit_release``,
    from any source: by hand, a dunning level, a broken plan), written and audited: the apps
    above that show whether a customer is held refresh it (collections: the kept worklist
    ranking). ``customer_ids``: the customers whose holds changed (a release through a
    merge names every customer of the family whose hold was released)."""

    company_id: int
    actor: Actor
    customer_ids: tuple[int, ...]
    held: bool


@dataclass(frozen=True)
class CustomerMerged(Event):
    """A customer became an alias of another (``customer_merge``), written and audited: the
    apps above act on what the alias carried to its survivor (credit: its holds)."""

    company_id: int
    actor: Actor
    customer_id: int
    code: str
    survivor_id: int
    survivor_code: str


@dataclass(frozen=True)
class CustomerUnmerged(Event):
    """An alias became a customer of its own again (``customer_unmerge``), written and
    audited."""

    company_id: int
    actor: Actor
    customer_id: int
    code: str
    survivor_id: int
    survivor_code: str


# ---------------------------------------------------------------------------- the registry
_inside: dict[type[Event], list[Callable[[Any], None]]] = defaultdict(list)
_on_commit: dict[type[Event], list[Callable[[Any], None]]] = defaultdict(list)
_vetoes: dict[type[Proposal], list[Callable[[Any], None]]] = defaultdict(list)


def subscribe(event_type: type[E], handler: Callable[[E], None], *,
              on_commit: bool = False) -> None:
    """Run ``handler`` for every ``event_type`` published (call from ``AppConfig.ready``).
    Subscribing the same handler twice has no effect."""
    handlers = (_on_commit if on_commit else _inside)[event_type]
    if handler not in handlers:
        handlers.append(handler)


def veto(proposal_type: type[P], check_: Callable[[P], None]) -> None:
    """Let ``check_`` refuse every ``proposal_type`` by raising a ``LedgerError``."""
    if check_ not in _vetoes[proposal_type]:
        _vetoes[proposal_type].append(check_)


def publish(event: Event) -> None:
    """Run the handlers subscribed to ``event``'s type. Must be called inside the transaction
    that made the event happen: the inside handlers share it, and the on-commit ones wait for
    it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"{type(event).__name__} published outside a transaction")
    for handler in list(_inside.get(type(event), ())):
        handler(event)
    for handler in list(_on_commit.get(type(event), ())):
        transaction.on_commit(partial(handler, event))


def check(proposal: Proposal) -> None:
    """Run every veto of ``proposal``'s type; the first that refuses raises its error."""
    for check_ in list(_vetoes.get(type(proposal), ())):
        check_(proposal)


def listeners() -> dict[str, list[str]]:
    """Who listens to what, by name: for the catalogue's test and for ``check``."""
    out: dict[str, list[str]] = {}
    for table, how in ((_inside, "inside"), (_on_commit, "on_commit"), (_vetoes, "veto")):
        for kind, handlers in table.items():
            out.setdefault(kind.__name__, []).extend(
                f"{h.__module__}.{h.__qualname__} ({how})" for h in handlers)
    return out


@contextmanager
def subscribed(event_type: type[Event] | type[Proposal], handler: Callable[[Any], None], *,
               on_commit: bool = False) -> Iterator[None]:
    """Subscribe (or, for a proposal type, register a veto) for the ``with`` block only:
    for tests, and for the apps that come later to try their handlers."""
    if issubclass(event_type, Proposal):
        table = _vetoes
    else:
        table = _on_commit if on_commit else _inside
    handlers = table[event_type]  # type: ignore[index]
    handlers.append(handler)
    try:
        yield
    finally:
        handlers.remove(handler)
