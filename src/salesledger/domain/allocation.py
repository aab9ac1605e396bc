"""Allocating: one pure planner for every path that allocates, and what one allocation takes
off each side (docs/design/allocation.md).

An allocation moves an amount from a source (a receipt's unapplied cash, or a credit note) to
an open instalment. Both sides are relieved at their own booking rate, the last part of each
taking whatever base is left, so that a fully settled document leaves no base residue; the
difference between the two base amounts is the realised exchange gain or loss
(:func:`allocation_step`).

Every write of allocations (one command, a policy, a bulk run, an import, credit notes applied
to the invoices they correct) is a batch of :class:`AllocationRequest`: one source, one day,
and what it pays (named invoices, named instalments, or what a policy spreads). The writer
reads the books the batch needs under lock (:class:`AllocationBooks`), and
:func:`plan_allocations` plans the whole batch over those plain values, request after request,
each checked against what the earlier ones left, or refuses it with the error of the first
broken rule, in the order the single command has always checked them:

1. the source exists (and a credit note is posted), and the day is not before its date;
2. every invoice or instalment named belongs to the source's customer, or to a customer merged
   into the same survivor (``survivors``, docs/design/customer-records.md);
3. other currencies: a receipt pays them at the rate given or the rate table's cross rate on
   the day; a credit note pays its own currency only;
4. each line in turn: the invoice or instalment exists (an invoice is posted), the day is not
   before its issue date, the amount is positive and neither exceeds what is open nor what the
   source has unallocated;
5. what the source pays across currencies does not exceed what it has unallocated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from ..money import format_minor, major_text
from .allocation_plan import policy_shares, references_in
from .amounts import amount_minor
from .errors import (
    AllocationCustomerMismatch,
    AllocationExceedsUnallocated,
    CurrencyMismatch,
    DocumentNotPosted,
    NegativeAmount,
    NotFound,
    ValidationFailed,
)
from .fx import normalise, parse_rate, source_amounts
from .journal import AccountRole, Line, allocation_entry, cross_allocation_entry, to_base
from .policies import Policy
from .settlement import (
    OpenInstalment,
    Share,
    check_allocation,
    check_allocation_date,
    settle_oldest_first,
)


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


def allocation_step(base_currency: str, is_receipt: bool, customer_id: int, currency: str,
                    amount: int, source: OpenSide, instalment: OpenSide,
                    source_currency: str | None = None, source_amount: int | None = None,
                    receivable_customer_id: int | None = None,
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
    else:
        check_allocation(amount, open_amount=instalment.open, unallocated=source.open,
                         currency=currency)
        base_recv = instalment.relieve(amount, currency, base_currency)
        base_src = source.relieve(amount, currency, base_currency)
    return base_src, base_recv, allocation_lines(
        is_receipt, customer_id, currency, amount, base_src, base_recv, source_currency,
        source_amount, receivable_customer_id)


def allocation_lines(is_receipt: bool, customer_id: int, currency: str, amount: int,
                     base_unapplied: int, base_receivable: int,
                     source_currency: str | None = None, source_amount: int | None = None,
                     receivable_customer_id: int | None = None) -> list[Line] | None:
    """The journal lines of one allocation, from what its row holds (``allocation_step``
    plans them; a reversal negates them): the source's side first, then the receivable
    (and the exchange difference, if any); None when nothing moves (a credit note on an
    invoice of the same customer at the same base)."""
    if source_currency and source_currency != currency:
        assert source_amount is not None
        return cross_allocation_entry(
            customer_id=customer_id, currency=currency, amount=amount,
            base_receivable=base_receivable, source_currency=source_currency,
            source_amount=source_amount, base_unapplied=base_unapplied,
            receivable_customer_id=receivable_customer_id)
    across = receivable_customer_id is not None and receivable_customer_id != customer_id
    if not is_receipt and base_unapplied == base_receivable and not across:
        # A credit note and an invoice both sit on the receivable account: nothing moves
        # (unless they are of two customers merged into one: the share of each moves).
        return None
    lines = allocation_entry(customer_id=customer_id, currency=currency, amount=amount,
                             base_unapplied=base_unapplied, base_receivable=base_receivable,
                             receivable_customer_id=receivable_customer_id)
    if not is_receipt:
        lines = [Line(AccountRole.RECEIVABLE, li.amount, li.amount_currency, li.currency,
                      li.customer_id) if li.role == AccountRole.UNAPPLIED else li
                 for li in lines]
    return lines


# ---------------------------------------------------------------------------- what is asked
class SourceKind(StrEnum):
    RECEIPT = "receipt"
    CREDIT_NOTE = "credit_note"


class SourceRef(NamedTuple):
    """A receipt or credit note as a request names it: by number (the commands) or by id
    (the bulk paths)."""

    kind: SourceKind
    id: int | None = None
    number: str | None = None


class ToInvoice(NamedTuple):
    """Pay ``amount`` (in the invoice's currency) on an invoice, its oldest instalments first."""

    invoice_number: str
    amount: Decimal


class ToInstalment(NamedTuple):
    """Pay ``amount`` (minor units of the instalment's currency) on one instalment."""

    instalment_id: int
    amount: int


class AllocationRequest(NamedTuple):
    """What one source pays on one day: the ``lines`` named, or with ``policy`` what it has
    unallocated, spread over its customer's open instalments in its currency (of invoices
    issued by the day). ``rate``: units of the invoices' currency per unit of the receipt's,
    for paying another currency (else the rate table's cross rate on the day)."""

    source: SourceRef
    day: date
    lines: tuple[ToInvoice | ToInstalment, ...] = ()
    policy: Policy | None = None
    rate: Decimal | None = None


# ---------------------------------------------------------------------------- what is read
class SourceDoc(NamedTuple):
    """A receipt or credit note as locked: ``whole`` is its amount (a credit note's total),
    ``allocated`` what has been used of it; ``text`` what may name invoices (a receipt's
    references and memo)."""

    kind: SourceKind
    id: int
    number: str
    customer_id: int
    currency: str
    date: date
    posted: bool
    whole: int
    allocated: int
    base_whole: int
    rate: Decimal
    text: str = ""

    @property
    def unallocated(self) -> int:
        return self.whole - self.allocated


class InvoiceDoc(NamedTuple):
    id: int
    number: str
    is_invoice: bool  # not a credit note
    posted: bool
    customer_id: int
    currency: str
    issue_date: date


class InstalmentDoc(NamedTuple):
    """An instalment as locked (``open`` is ``amount - settled``); ``rate`` is its invoice's
    booking rate."""

    id: int
    invoice_id: int
    invoice_number: str
    seq: int
    customer_id: int
    currency: str
    due_date: date
    issue_date: date
    amount: int
    settled: int
    base_whole: int
    rate: Decimal


@dataclass(frozen=True)
class AllocationBooks:
    """What :func:`plan_allocations` needs, read (and locked) for a batch of requests.
    ``cross_rates`` maps (source currency, invoice currency, day) to the rate table's cross
    rate, or to why it has none; ``aliases`` maps a customer to its posted invoices (number,
    creditor reference, issue date), the names a ``by_reference`` payment may use;
    ``relieved`` the base that allocations (and refunds) already took off each source and
    instalment, keyed ("receipt" | "credit_note" | "instalment", id)."""

    base_currency: str
    sources: Mapping[SourceRef, SourceDoc]
    invoices: Mapping[str, InvoiceDoc]
    instalments: Mapping[int, InstalmentDoc]
    relieved: Mapping[tuple[str, int], int]
    cross_rates: Mapping[tuple[str, str, date], Decimal | str] = field(default_factory=dict)
    aliases: Mapping[int, Sequence[tuple[str, str, date]]] = field(default_factory=dict)
    # alias customer id -> survivor id, for the customers merged into another: one customer
    # as far as paying is concerned (``aliases`` above is keyed by the survivor then).
    survivors: Mapping[int, int] = field(default_factory=dict)

    def payer(self, customer_id: int) -> int:
        """The customer who pays for ``customer_id``: its survivor, or itself."""
        return self.survivors.get(customer_id, customer_id)


# ---------------------------------------------------------------------------- the plan
class PlannedAllocation(NamedTuple):
    """One allocation row to write. ``source_amount`` and ``fx_rate`` are set when the source
    pays another currency; ``lines`` is None when nothing moves in the journal (a credit note
    on an invoice at the same base); ``open_after`` is what the instalment has open after it."""

    request: int
    source: SourceDoc
    instalment: InstalmentDoc
    day: date
    currency: str
    amount: int
    source_amount: int | None
    fx_rate: Decimal | None
    base_unapplied: int
    base_receivable: int
    lines: list[Line] | None
    memo: str
    open_after: int


@dataclass
class AllocationPlan:
    """The allocations of a batch, in order, with the source of each request, the new
    ``settled`` of each instalment and the new ``allocated`` of each source (absolute values
    of the locked rows), and the documents a ``by_reference`` request found named (per
    request)."""

    rows: list[PlannedAllocation] = field(default_factory=list)
    sources: list[SourceDoc] = field(default_factory=list)  # of each request
    settled: dict[int, int] = field(default_factory=dict)
    allocated: dict[tuple[str, int], int] = field(default_factory=dict)  # (kind, id)
    references: dict[int, list[str]] = field(default_factory=dict)


class PlannedEntry(NamedTuple):
    """One journal entry of a plan: what one request moved in the journal. ``rows``: the
    indexes in ``AllocationPlan.rows`` of the allocations it books."""

    day: date
    lines: list[Line]
    memo: str
    rows: list[int]


def planned_entries(rows: Sequence[PlannedAllocation]) -> list[PlannedEntry]:
    """One journal entry per request (one source on one day) that moves something: the
    source's side of its allocations in one line per account, customer and currency (the
    unapplied cash it gives up), then each allocation's own other lines (the receivable of
    each instalment settled, an exchange difference), in the plan's order. The entry sums
    to exactly what one entry per allocation summed to; each allocation's own lines are
    those :func:`allocation_lines` gives from its row, so one can still be reversed alone
    (docs/decisions.md, "One journal entry per allocation batch")."""
    out: list[PlannedEntry] = []
    request: int | None = None
    source: dict[tuple[AccountRole, str, int | None], list[int]] = {}
    rest: list[Line] = []
    indexes: list[int] = []
    invoices: dict[str, None] = {}
    number = ""

    def close() -> None:
        if indexes:
            out.append(PlannedEntry(
                rows[indexes[0]].day,
                [Line(role, base, cur, currency, customer)
                 for (role, currency, customer), (base, cur) in source.items()] + rest,
                f"{number} -> {', '.join(invoices)}", indexes))

    for n, r in enumerate(rows):
        if r.request != request:
            close()
            request, source, rest, indexes, invoices = r.request, {}, [], [], {}
            number = r.source.number
        if r.lines is None:
            continue
        first, *others = r.lines
        key = (first.role, first.currency, first.customer_id)
        total = source.setdefault(key, [0, 0])
        total[0] += first.amount
        total[1] += first.amount_currency
        rest.extend(others)
        indexes.append(n)
        invoices[r.instalment.invoice_number] = None
    close()
    return out


def plan_allocations(requests: Sequence[AllocationRequest], books: AllocationBooks
                     ) -> AllocationPlan:
    """Plan every request in turn (see the module docstring), or raise the first refusal."""
    return _Planner(books).plan(requests)


class _Planner:
    def __init__(self, books: AllocationBooks) -> None:
        self.books = books
        self.relieved = books.relieved
        self.sources: dict[tuple[str, int], OpenSide] = {}
        self.instalments: dict[int, OpenSide] = {}
        self.whole: dict[tuple[str, int], int] = {}
        self.by_invoice: dict[int, list[InstalmentDoc]] | None = None
        self.out = AllocationPlan()

    def source_side(self, src: SourceDoc) -> OpenSide:
        key = (src.kind.value, src.id)
        side = self.sources.get(key)
        if side is None:
            side = self.sources[key] = OpenSide(src.whole - src.allocated, src.base_whole,
                                                src.rate, self.relieved.get(key, 0))
            self.whole[key] = src.whole
        return side

    def instalment_side(self, inst: InstalmentDoc) -> OpenSide:
        side = self.instalments.get(inst.id)
        if side is None:
            side = self.instalments[inst.id] = OpenSide(
                inst.amount - inst.settled, inst.base_whole, inst.rate,
                self.relieved.get(("instalment", inst.id), 0))
        return side

    def plan(self, requests: Sequence[AllocationRequest]) -> AllocationPlan:
        for n, req in enumerate(requests):
            self.request(n, req)
        insts, out = self.books.instalments, self.out
        out.settled = {pk: insts[pk].amount - side.open for pk, side in self.instalments.items()}
        out.allocated = {key: self.whole[key] - side.open for key, side in self.sources.items()}
        return out

    def request(self, n: int, req: AllocationRequest) -> None:
        src = self.source(req.source)
        self.out.sources.append(src)
        day = req.day
        check_allocation_date(day, source=src.number, source_date=src.date)
        docs = self.documents(src, req.lines)
        rates = self.rates(src, req, docs)
        side = self.source_side(src)
        available = side.open
        pending: dict[int, int] = {}  # what this request takes from each instalment so far
        shares: list[tuple[int, InstalmentDoc, Decimal | None]] = []  # amount, to, rate
        same = 0  # what the shares in the source's own currency take from it
        if req.policy is not None:
            for share in self.policy(n, src, req, available):
                shares.append((share.amount, self.books.instalments[share.instalment_id], None))
                same += share.amount
        for line, doc in zip(req.lines, docs, strict=True):
            part: Sequence[tuple[int, InstalmentDoc]]
            if isinstance(line, ToInstalment):  # the bulk paths: many, one at a time
                inst, cross = self.to_instalment(src, day, line, doc, rates, pending,
                                                 available - same)
                part = ((line.amount, inst),)
            else:
                part, cross = self.to_invoice(src, day, line, doc, rates, pending,
                                              available - same)
            for amount, inst in part:
                pending[inst.id] = pending.get(inst.id, 0) + amount
                shares.append((amount, inst, cross))
                if cross is None:
                    same += amount
        self.write(n, req, src, side, shares)

    def source(self, ref: SourceRef) -> SourceDoc:
        src = self.books.sources.get(ref)
        name = ref.number if ref.number is not None else ref.id
        if ref.kind == SourceKind.RECEIPT:
            if src is None:
                raise (NotFound(f"no receipt {name!r}", receipt=name) if ref.number is not None
                       else NotFound(f"no receipt with id {name}", receipt=name))
            return src
        if src is None:
            raise (NotFound(f"no credit note {name!r}", credit_note=name)
                   if ref.number is not None
                   else NotFound(f"no credit note with id {name}", credit_note=name))
        if not src.posted:
            raise DocumentNotPosted(f"credit note {name} is not posted")
        return src

    def documents(self, src: SourceDoc, lines: Sequence[ToInvoice | ToInstalment]
                  ) -> list[InvoiceDoc | InstalmentDoc | None]:
        """The invoice or instalment each line names (None if there is none), after checking
        that the payment pays its own customer's: before any rate is looked for."""
        invoices, instalments = self.books.invoices, self.books.instalments
        docs: list[InvoiceDoc | InstalmentDoc | None] = [
            invoices.get(li.invoice_number) if isinstance(li, ToInvoice)
            else instalments.get(li.instalment_id) for li in lines]
        payer = self.books.payer
        for number in sorted({d.number for d in docs if isinstance(d, InvoiceDoc)}):
            if payer(invoices[number].customer_id) != payer(src.customer_id):
                raise AllocationCustomerMismatch(
                    f"{number} belongs to another customer than the payment", invoice=number)
        for d in docs:
            if isinstance(d, InstalmentDoc) and payer(d.customer_id) != payer(src.customer_id):
                raise AllocationCustomerMismatch(
                    f"{d.invoice_number} belongs to another customer than {src.number}",
                    invoice=d.invoice_number)
        return docs

    def rates(self, src: SourceDoc, req: AllocationRequest,
              docs: Sequence[InvoiceDoc | InstalmentDoc | None]) -> dict[str, Decimal]:
        """The rate for each other currency the request pays: units of that currency per unit
        of the source's. The rate given (one other currency only), else the rate table's."""
        found = {d.currency for d in docs if d is not None and d.currency != src.currency}
        currencies = sorted(found)
        if req.rate is not None and not currencies:
            raise ValidationFailed("a rate is only for paying an invoice in another currency "
                                   "than the payment's", field="rate")
        if not currencies:
            return {}
        if src.kind != SourceKind.RECEIPT:
            raise CurrencyMismatch(f"a credit note pays invoices in its own currency "
                                   f"({src.currency}) only")
        if req.rate is not None:
            if len(currencies) > 1:
                raise ValidationFailed(f"one rate cannot convert to {', '.join(currencies)}; "
                                       "allocate to one currency at a time", field="rate")
            return {currencies[0]: normalise(parse_rate(req.rate))}
        out = {}
        for cur in currencies:
            rate = self.books.cross_rates.get((src.currency, cur, req.day), "no rate")
            if isinstance(rate, str):
                raise CurrencyMismatch(
                    f"the payment is in {src.currency} and the invoice in {cur}: {rate}; "
                    "or give the rate used", currency=cur)
            out[cur] = rate
        return out

    def policy(self, n: int, src: SourceDoc, req: AllocationRequest, available: int
               ) -> list[Share]:
        """What ``req.policy`` spreads of ``available`` over the customer's open instalments
        in the source's currency, of invoices issued by the day."""
        assert req.policy is not None
        if req.policy == Policy.MANUAL:  # the lines say what is paid
            return []
        items = [OpenInstalment(i.id, i.due_date, self.open_now(i, {}), i.invoice_number)
                 for i in self.books.instalments.values()
                 if self.books.payer(i.customer_id) == self.books.payer(src.customer_id)
                 and i.currency == src.currency
                 and i.issue_date <= req.day]
        references: list[str] = []
        if req.policy == Policy.BY_REFERENCE:
            aliases: dict[str, str] = {}
            for number, reference, issued in self.books.aliases.get(
                    self.books.payer(src.customer_id), ()):
                if issued <= req.day:
                    aliases[number] = number
                    if reference:
                        aliases[reference] = number
            references = references_in(src.text, aliases)
        self.out.references[n] = references
        return policy_shares(req.policy, available, [o for o in items if o.open > 0],
                             references)

    def of_invoice(self, invoice_id: int) -> list[InstalmentDoc]:
        if self.by_invoice is None:
            self.by_invoice = {}
            for i in self.books.instalments.values():
                self.by_invoice.setdefault(i.invoice_id, []).append(i)
        return self.by_invoice.get(invoice_id, [])

    def open_now(self, inst: InstalmentDoc, pending: Mapping[int, int]) -> int:
        side = self.instalments.get(inst.id)
        return ((inst.amount - inst.settled) if side is None else side.open) \
            - pending.get(inst.id, 0)

    def cross(self, src: SourceDoc, currency: str, rates: Mapping[str, Decimal],
              what: str) -> Decimal | None:
        if currency == src.currency:
            return None
        rate = rates.get(currency)
        if rate is None:
            raise CurrencyMismatch(f"{what} is in {currency} but {src.number} is in "
                                   f"{src.currency}", invoice=what)
        return rate

    def to_invoice(self, src: SourceDoc, day: date, line: ToInvoice,
                   inv: InvoiceDoc | InstalmentDoc | None, rates: Mapping[str, Decimal],
                   pending: Mapping[int, int], unallocated: int
                   ) -> tuple[list[tuple[int, InstalmentDoc]], Decimal | None]:
        if not isinstance(inv, InvoiceDoc) or not inv.is_invoice:
            raise NotFound(f"no invoice {line.invoice_number!r}", invoice=line.invoice_number)
        if not inv.posted:
            raise DocumentNotPosted(f"invoice {inv.id} is a draft; post it first")
        cross = self.cross(src, inv.currency, rates, inv.number)
        check_allocation_date(day, source=src.number, source_date=src.date,
                              invoice=inv.number, issue_date=inv.issue_date)
        minor = amount_minor(line.amount, inv.currency)
        if minor <= 0:
            raise NegativeAmount(f"allocation to {inv.number} must be a positive amount in "
                                 f"{inv.currency}, not {line.amount}")
        mine = {i.id: i for i in self.of_invoice(inv.id)}
        items = [OpenInstalment(i.id, i.due_date, self.open_now(i, pending))
                 for i in mine.values()]
        items = [o for o in items if o.open > 0]
        check_allocation(minor, open_amount=sum(o.open for o in items),
                         unallocated=minor if cross else unallocated, currency=inv.currency)
        return [(s.amount, mine[s.instalment_id]) for s in settle_oldest_first(minor, items)], cross

    def to_instalment(self, src: SourceDoc, day: date, line: ToInstalment,
                      inst: InvoiceDoc | InstalmentDoc | None, rates: Mapping[str, Decimal],
                      pending: Mapping[int, int], unallocated: int
                      ) -> tuple[InstalmentDoc, Decimal | None]:
        """Check a line that names an instalment; return it, and the rate it is paid at if
        the source pays it in another currency."""
        if not isinstance(inst, InstalmentDoc):
            raise NotFound(f"no instalment with id {line.instalment_id}",
                           instalment=line.instalment_id)
        cross = (None if inst.currency == src.currency
                 else self.cross(src, inst.currency, rates, inst.invoice_number))
        check_allocation_date(day, source=src.number, source_date=src.date,
                              invoice=inst.invoice_number, issue_date=inst.issue_date)
        amount = line.amount
        if amount <= 0:
            raise NegativeAmount(f"an allocation to instalment {inst.id} must be a positive "
                                 "amount", field="amount")
        check_allocation(amount, open_amount=self.open_now(inst, pending),
                         unallocated=amount if cross else unallocated, currency=inst.currency)
        return inst, cross

    def write(self, n: int, req: AllocationRequest, src: SourceDoc, side: OpenSide,
              shares: list[tuple[int, InstalmentDoc, Decimal | None]]) -> None:
        """Relieve both sides of every share, in order, and add the rows to the plan."""
        if not shares:
            return
        if any(cross is not None for _, _, cross in shares):
            # What each share takes from the source, in its currency: the share itself, or
            # for another currency its part of the group converted together (domain/fx.py).
            taken = source_amounts(
                [(amount, inst.currency, cross or Decimal(1)) for amount, inst, cross in shares],
                remaining=side.open, source_currency=src.currency)
        else:
            taken = [amount for amount, _, _ in shares]
        is_receipt = src.kind == SourceKind.RECEIPT
        base_currency = self.books.base_currency
        rows, day, source_currency = self.out.rows, req.day, src.currency
        for (amount, inst, cross), take in zip(shares, taken, strict=True):
            inst_side = self.instalment_side(inst)
            base_src, base_recv, lines = allocation_step(
                base_currency, is_receipt, src.customer_id, inst.currency, amount, side,
                inst_side, source_currency, take, inst.customer_id)
            rows.append(PlannedAllocation(
                n, src, inst, day, inst.currency, amount, take if cross is not None else None,
                cross, base_src, base_recv, lines, f"{src.number} -> {inst.invoice_number}",
                inst_side.open))
