"""Cash application (docs/design/cash-application.md): statement lines matched to open
invoices, the sure ones applied as receipts through the payment services, the others kept
for review with up to three ranked suggestions. The only writer of ``LineMatch`` and
``PayerIban``; the proposals themselves are the pure ``domain.cash_matching``.

Candidates are read for a batch of lines in a few set-based queries (the invoices whose
reference or number the lines name, the IBANs, the customers' names, the open invoices of
the customers found), never the whole ledger's open items.

Applying is one transaction per batch of sure lines (or per line, for a short payment
written off or when a rule of payments refuses one of the batch): the receipts, their
allocations, the lines' statuses and the audit events. A run stopped half-way, run again,
skips the lines already applied: nothing is applied twice.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Min
from django.db.models.functions import Length
from django.utils import timezone

from salesledger.apps.core.actors import Actor
from salesledger.apps.core.audit import EventSpec, audit, audit_many
from salesledger.apps.core.bulkinsert import insert_rows
from salesledger.apps.core.collector import collector_paused
from salesledger.apps.core.mapped import pages_mapped
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import require_role
from salesledger.apps.customers.models import BankAccount as CustomerBankAccount
from salesledger.apps.customers.models import Customer as CustomerRow
from salesledger.apps.fx.selectors import cross_rate_on
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice
from salesledger.apps.payments.adjustments.settings import settlement_settings
from salesledger.apps.payments.adjustments.write_offs import (
    ShortPaid,
    short_paid_invoices,
    short_paid_requests,
    short_residuals_write_off,
)
from salesledger.apps.payments.allocations import allocations_make
from salesledger.apps.payments.models import Allocation, Receipt
from salesledger.apps.payments.receipts import receipts_record
from salesledger.apps.payments.refunds import receipt_reverse
from salesledger.domain.allocation import AllocationRequest, SourceKind, SourceRef, ToInvoice
from salesledger.domain.bank_rules import Rule
from salesledger.domain.cash_matching import (
    DEBIT_KEY,
    NAME_ALIKE,
    WIDE_SHORT_MAX,
    Candidates,
    Line,
    LineDecision,
    NameIndex,
    OpenInvoice,
    Proposal,
    Tolerance,
    digit_insertions,
    digit_variants,
    first_instalments,
    match_lines,
    name_key,
    name_score,
    normalize,
    number_keys,
    rf_references,
    widen,
)
from salesledger.domain.errors import (
    ExchangeRateMissing,
    LedgerError,
    NotFound,
    ValidationFailed,
)
from salesledger.domain.lifecycle import DocStatus, Settlement
from salesledger.domain.receipts import ReceiptRequest
from salesledger.domain.references import creditor_reference
from salesledger.money import Money

from .direct_debits import debits_by_end_to_end
from .locks import line_matches_to_apply
from .models import BankingSettings, LineMatch, LineStatus, PayerIban, StatementLine
from .payers import (
    learned_references,
    payer_iban_unlearn,
    payer_references_learn,
    payer_references_unlearn,
)
from .remittance import advised
from .returns import (
    ReturnProposal,
    is_return,
    proposal_of,
    returns_proposed,
    reverse_for_line,
)
from .rules import RuleRow, post_line, rules_for, unpost_line

_CHUNK = 2000
NAME_MIN_SCORE = 85.0
NAME_TIES = 30  # more names scoring as the last of those ``NameIndex.near`` keeps
NAME_KEEP = 12  # the customers a line's name may bring (the names as close as the third)
NAME_AS_WRITTEN = 90.0  # below it, the names as written are ranked too (``near_as_written``)
_MATCH_COLUMNS = ("company_id", "line_id", "status", "receipt_id", "customer_id", "confidence",
                  "evidence", "suggestions", "rejected", "decided_by", "updated_at")


# ---------------------------------------------------------------------------- settings

def auto_apply_threshold(company: Company) -> float:
    row = BankingSettings.objects.filter(company=company).values_list(
        "auto_apply_threshold", flat=True).first()
    return BankingSettings.DEFAULT_THRESHOLD if row is None else float(row)


def auto_apply_threshold_set(*, actor: Actor, company: Company, threshold: float) -> float:
    """Set the confidence above which a proposal is applied with no review; audited."""
    require_role(company, actor, Role.MANAGER)
    if not 0.5 <= threshold <= 1.0:
        raise ValidationFailed("the auto-apply threshold must be between 0.5 and 1",
                               field="threshold")
    with transaction.atomic():
        before = auto_apply_threshold(company)
        BankingSettings.objects.update_or_create(
            company=company, defaults={"auto_apply_threshold": threshold})
        audit(company, actor, "banking_settings.update", "company", company.pk,
              before={"auto_apply_threshold": before}, after={"auto_apply_threshold": threshold})
    return threshold


# ---------------------------------------------------------------------------- candidates

def _line(r: StatementLine) -> Line:
    return Line(r.pk, r.booking_date, r.amount, r.currency, r.counterparty_name,
                r.counterparty_iban, r.text, r.creditor_reference, r.end_to_end_id,
                r.original_amount, r.original_currency)


def number_prefixes(company: Company) -> list[str]:
    """The letters before the digits of the company's invoice numbers, one per series."""
    return number_shapes(company)[0]


def number_shapes(company: Company) -> tuple[list[str], frozenset[int]]:
    """The prefixes of the company's invoice numbers (the letters before the digits, one
    per series) and the lengths their letters and digits may have (between the shortest and
    the longest number of each series, less the separators its first and last numbers
    hold): a key of another length names no invoice, nor does one digit off it unless it is
    one longer or shorter. One query, grouped by series."""
    prefixes, lengths = set(), set()
    for first, last, shortest, longest in (
            Invoice.objects.filter(company=company, kind=DocKind.INVOICE, number__isnull=False)
            .values("series").annotate(first=Min("number"), last=Max("number"),
                                       shortest=Min(Length("number")),
                                       longest=Max(Length("number")))
            .values_list("first", "last", "shortest", "longest")):
        head = ""
        for ch in normalize(last or ""):
            if ch.isdigit():
                break
            head += ch
        if head:
            prefixes.add(head)
        seps = [len(n) - len(normalize(n)) for n in (first or "", last or "")]
        lengths.update(range(max(1, shortest - max(seps)), longest - min(seps) + 1))
    return sorted(prefixes), frozenset(lengths)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def customer_names(company: Company) -> NameIndex:
    """The company's customers' names, indexed for the lines' names: read once per run, in
    one order on every database (by name as bytes, then id: the order SQLite's index on
    the company and name gives). The order decides which of the names that score alike a
    line keeps (``NameIndex``): read unordered, PostgreSQL returned them as its table's
    pages hold them, and decided otherwise than SQLite for a few lines. In SQL, as tuples
    (the ORM's rows cost more than the read itself at 100,000 customers)."""
    table = CustomerRow._meta.db_table
    binary = 'COLLATE "C"' if connection.vendor == "postgresql" else "COLLATE BINARY"
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "id", "name" FROM "{table}" WHERE "company_id" = %s '
                       f'ORDER BY "name" {binary}, "id"', [company.pk])
        return NameIndex(cursor.fetchall())


def candidates(company: Company, lines: Sequence[Line], prefixes: Sequence[str],
               ruled: dict[int, tuple[int, str]] | None = None,
               names: NameIndex | None = None,
               lengths: Collection[int] | None = None,
               open_items: dict[int, list[OpenInvoice]] | None = None) -> Candidates:
    """What the database holds for ``lines``: a handful of queries per 2,000 lines.
    ``ruled``: the payer the user's bank rules name, per line; ``names``: the customers'
    names indexed (read here when not given); ``lengths``: those the company's numbers
    have (``number_shapes``), when known: keys of other lengths are not looked up;
    ``open_items``: the open invoices of customers read for earlier lines of the same run,
    by customer, completed here with those of the customers these lines bring (the caller
    drops a customer whose items it has changed since)."""
    c = Candidates()
    c.ruled = dict(ruled or {})
    tol = settlement_settings(company).tolerance
    c.tolerance = Tolerance(tol.amount, float(tol.percent))
    paying = [li for li in lines if li.amount > 0]
    # 1. the invoices the lines name: by RF reference, or a number through its reference
    refs: dict[str, set[str]] = defaultdict(set)
    for li in paying:
        text = " ".join((li.creditor_reference, li.text, li.end_to_end_id))
        for part in rf_references(text):
            refs[_ref(part)].add("RF:" + part)
        for key in number_keys(text, prefixes):
            if lengths is None or len(key) in lengths:
                refs[_ref(key)].add(key)
    refs.pop("", None)
    named: dict[int, set[str]] = defaultdict(set)  # invoice id -> keys
    # 0. the invoices our direct debits collected, by the end-to-end id they come back with
    for e2e, invoice_id in debits_by_end_to_end(
            company, (li.end_to_end_id.strip() for li in paying)).items():
        named[invoice_id].add(DEBIT_KEY + e2e)
    for pk, ref in _posted_by_reference(company, sorted(refs)):
        named[pk].update(refs[ref])
    # 2. who pays from the lines' IBANs: the customers' own, then the learned
    ibans = sorted({normalize(li.iban) for li in paying if li.iban})
    for chunk in _chunks(ibans):
        c.iban_customer.update(CustomerBankAccount.objects.filter(
            company=company, iban__in=chunk).values_list("iban", "customer_id"))
        c.learned_iban.update(PayerIban.objects.filter(
            company=company, iban__in=chunk).values_list("iban", "customer_id"))
    # 3. the names, scored against the customers' names the index pools for each
    wanted = {li.id: name_key(li.name) for li in paying if li.name}
    if wanted:
        index = names if names is not None else customer_names(company)
        for line_id, key in wanted.items():
            # the ten closest by token-set ratio (never below the name score, but for word
            # order; and every name holding all the line's words scores 100) and the five
            # closest by token-sorted ratio (the same words, a typo); those are scored as
            # the matcher does
            pool = index.pool_ids(key)
            near = index.near(key, NAME_MIN_SCORE - 5, ties=NAME_TIES, ids=pool)
            scored = [x for x in ((pk, name_score(key, name)) for pk, name in near.items())
                      if x[1] >= NAME_MIN_SCORE]
            if not scored or max(s for _, s in scored) < NAME_AS_WRITTEN:
                # no name fits well: a space dropped or moved makes other words, which the
                # token ratios compare as such (they score below 90 then); the names as
                # written are still alike
                scored += [x for x in ((pk, name_score(key, name)) for pk, name in
                                       index.near_as_written(key, NAME_MIN_SCORE,
                                                             ties=NAME_TIES, ids=pool).items()
                                       if pk not in near) if x[1] >= NAME_MIN_SCORE]
            scored.sort(key=lambda x: -x[1])
            # the three closest, and every other name as close as the third (a large
            # ledger has many customers of one name: any of them may be the payer)
            kept = scored[:3] + [x for x in scored[3:NAME_KEEP]
                                 if x[1] >= scored[2][1] - NAME_ALIKE]
            c.names[line_id] = kept
            c.names_alike[line_id] = {pk: sum(1 for _, t in scored if t >= s - NAME_ALIKE)
                                      for pk, s in kept}
    # the payers' own references learned from confirmations (``payers``)
    c.learned_reference = learned_references(company, paying, prefixes)
    # 4. the open invoices of every customer found, and of the invoices named
    customers = set(c.iban_customer.values()) | set(c.learned_iban.values())
    customers.update(cid for cid, _ in c.ruled.values())
    customers.update(cid for found in c.learned_reference.values() for cid, _ in found)
    customers.update(pk for found in c.names.values() for pk, _ in found)
    named_customers = _customers_of(sorted(named))
    customers.update(named_customers)
    store = open_items if open_items is not None else {}
    for chunk in _chunks(sorted(customers - store.keys())):
        got: dict[int, list[OpenInvoice]] = {cid: [] for cid in chunk}
        for inv in _open_invoices(company, customers=chunk):
            got[inv.customer_id].append(inv)
        store.update(got)
    for cid in sorted(customers):
        if store[cid]:
            c.open_by_customer[cid] = store[cid]
        if cid not in named_customers:  # (most: found by IBAN or name, no invoice named)
            continue
        for inv in store[cid]:
            for key in named.get(inv.id, ()):
                c.invoices_by_key.setdefault(key, []).append(inv)
    _rates_read(company, c, paying)
    return c


def _posted_by_reference(company: Company, references: Sequence[str]
                         ) -> list[tuple[int, str]]:
    """(id, payment reference) of the company's posted invoices whose reference is one of
    ``references``: the ORM's query, written in SQL (its handling of thousands of values
    cost more than the query)."""
    table = Invoice._meta.db_table
    out: list[tuple[int, str]] = []
    with connection.cursor() as cursor:
        for chunk in _chunks(references):
            cursor.execute(
                f'SELECT "{table}"."id", "{table}"."payment_reference" FROM "{table}" '
                f'WHERE ("{table}"."company_id" = %s AND "{table}"."kind" = %s AND '
                f'"{table}"."payment_reference" IN ({", ".join(["%s"] * len(chunk))}) AND '
                f'"{table}"."status" = %s)',
                [company.pk, DocKind.INVOICE.value, *chunk, "posted"])
            out.extend(cursor.fetchall())
    return out


def _customers_of(invoices: Sequence[int]) -> set[int]:
    """The customers of ``invoices`` (ids): in SQL, for the same reason as
    ``_posted_by_reference``."""
    table = Invoice._meta.db_table
    out: set[int] = set()
    with connection.cursor() as cursor:
        for chunk in _chunks(invoices):
            cursor.execute(f'SELECT "customer_id" FROM "{table}" '
                           f'WHERE "id" IN ({", ".join(["%s"] * len(chunk))})', list(chunk))
            out.update(cid for (cid,) in cursor.fetchall())
    return out


def _rates_read(company: Company, c: Candidates, lines: Sequence[Line]) -> None:
    """The rate table's cross rate from each line's currency to each other currency of the
    open invoices found, on the line's day (foreign-currency payments, ``domain.cash_fx``):
    one read per currency pair and day, none when every invoice is in the lines' currency."""
    currencies = {inv.currency for invs in c.open_by_customer.values() for inv in invs}
    missing: set[tuple[str, str, date]] = set()
    for li in lines:
        for cur in sorted(currencies - {li.currency}):
            key = (li.currency, cur, li.day)
            if key in c.rates or key in missing or li.original_currency == cur:
                continue
            try:
                c.rates[key] = cross_rate_on(company, li.currency, cur, li.day)
            except ExchangeRateMissing:
                missing.add(key)


def _open_invoices(company: Company, *, customers: Sequence[int] = (),
                   invoices: Sequence[int] = ()) -> list[OpenInvoice]:
    """The open invoices of ``customers``, or those of ``invoices`` that are open, each
    with what its open instalments still owe: one statement, in SQL (rows of the open
    items of thousands of customers; the ORM's conversions of each cost more than reading
    it)."""
    column, ids = ("customer_id", customers) if customers else ("invoice_id", invoices)
    if not ids:
        return []
    # SQLite's driver would parse every date as it comes (Django's converters, per row):
    # read as ISO text, they are parsed once per invoice (``_day``)
    sqlite = connection.vendor == "sqlite"
    due, dated = (('CAST(i."due_date" AS TEXT)', 'CAST(i."discount_date" AS TEXT)')
                  if sqlite else ('i."due_date"', 'i."discount_date"'))
    # By invoice, SQLite took the company's index of open items (``instalment_owed``) and
    # read every open item of the company for each chunk of ids (a second of CPU each at a
    # million open items, most of a run's time): the unary plus keeps the company's term
    # out of its choice of index, so that it looks each invoice up by its instalments'
    # unique key (invoice, seq). The same rows, in the same order.
    company_term = ('+i."company_id"' if sqlite and column == "invoice_id"
                    else 'i."company_id"')
    sql = (f'SELECT i."invoice_id", v."number", v."total", i."customer_id", i."currency", '
           f'i."amount", i."settled", {due}, {dated}, i."discount_amount" '
           f'FROM "{Instalment._meta.db_table}" i '
           f'JOIN "{Invoice._meta.db_table}" v ON v."id" = i."invoice_id" '
           f'WHERE {company_term} = %s AND i."settled" < i."amount" AND v."kind" = %s '
           f'AND v."status" = %s AND i."{column}" IN ({", ".join(["%s"] * len(ids))}) '
           f'ORDER BY i."invoice_id", i."seq"')
    # (invoice, number, total, customer, currency, amount, settled, due, discount date,
    # discount amount): tuples, a tenth of the time of dictionaries over many rows; the
    # rows of an invoice are together (ordered by invoice), folded as they come
    with connection.cursor() as cursor:
        cursor.execute(sql, [company.pk, DocKind.INVOICE.value, "posted", *ids])
        rows = cursor.fetchall()
    out = []
    append, make = out.append, OpenInvoice.of
    days: dict[Any, date] = {}  # a ledger's items fall due on few days: each parsed once

    def day(value: date | str) -> date:
        known = days.get(value)
        if known is None:
            known = days[value] = _day(value)
        return known

    n, end = 0, len(rows)
    while n < end:
        first = rows[n]
        pk = first[0]
        m = n + 1
        while m < end and rows[m][0] == pk:
            m += 1
        if m == n + 1:  # one open instalment, most invoices
            owed = first[5] - first[6]
            dated = first[8]
            append(make(pk, first[1], first[3], first[4], owed, first[2], day(first[7]),
                        first[9] if dated and first[6] == 0 else 0,
                        day(dated) if dated else None, (owed,)))
        else:
            group = rows[n:m]
            discount_dates = [r[8] for r in group if r[8]]
            owing = tuple(r[5] - r[6] for r in group)
            append(make(pk, first[1], first[3], first[4], sum(owing), first[2],
                        day(min(r[7] for r in group)),
                        sum(r[9] for r in group if r[8] and r[6] == 0),
                        day(min(discount_dates)) if discount_dates else None, owing))
        n = m
    return out


def _day(value: date | str) -> date:
    """A date as the driver returns it (SQLite: ISO text, compared as such before)."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def wide_candidates(company: Company, lines: Sequence[Line], prefixes: Sequence[str],
                    c: Candidates, lengths: Collection[int] | None = None,
                    in_parts: dict[int, list[int]] | None = None,
                    open_items: dict[int, OpenInvoice] | None = None,
                    paid_in_run: dict[str, set[tuple[int, int]]] | None = None,
                    customer_items: dict[int, list[OpenInvoice]] | None = None,
                    names: NameIndex | None = None) -> None:
    """What ``widen`` looks at, read for the lines going to review alone (a few of a
    statement): the open invoices of any customer that owe the line's amount or more by no
    more than the write-off tolerance (found by the index on invoice totals, and by the one
    on what open instalments still owe: see ``_owed_near``), and the
    invoices whose number is one digit off (dropped, added, two neighbours swapped) a number
    in the line's text that begins as the company's numbers do. ``in_parts``: what invoices
    paid in part owe over several instalments (``owed_in_parts``), when read for the run;
    ``open_items``: by id, the open invoices of the customers read for the run
    (``candidates``) and not changed since: an invoice found among them is not read
    again. And who the payer is known to pay for (``payers_known``): the customer its IBAN
    paid on lines applied before (and on the lines of ``paid_in_run``, normalised IBAN ->
    (customer, line), sure in this run), and the subsidiaries of the payers found; their
    open invoices from ``customer_items`` (the run's by customer, completed here) or read.
    ``names``: the customers' names (``customer_names``), whose keys ``widen`` compares
    with the payer's for the invoices owing a line's amount."""
    paying = [li for li in lines if li.amount > 0]
    if not paying:
        return
    payers_known(company, paying, c, paid_in_run or {},
                 customer_items if customer_items is not None else {})
    slack = c.tolerance.amount
    # what is still open near each amount, from the indexes alone (hundreds lie within a
    # few euros in a large ledger): the totals of invoices (what an invoice nothing has paid
    # yet owes) and what each open instalment still owes (``amount - settled``, the cache the
    # payment services keep: an invoice paid in part, or with one instalment left); the
    # invoices themselves read only for an amount paid exactly, or short of no more than
    # ``WIDE_SHORT_MAX`` of them, and kept only if what they owe in all fits
    near: set[tuple[int, int]] = set()  # (amount owed, invoice)
    for chunk in _chunks(paying, 100):  # 400 terms: SQLite takes 500 at most
        near.update(_owed_near(company, [(li.amount, li.amount + slack) for li in chunk]))
    parts = owed_in_parts(company) if in_parts is None else in_parts
    near.update((li.amount, pk) for li in paying for pk in parts.get(li.amount, ()))
    near_totals = sorted(near)
    totals = [t for t, _ in near_totals]
    ids: set[int] = set()
    for li in paying:
        lo, hi = bisect_left(totals, li.amount), bisect_right(totals, li.amount + slack)
        exact_end = bisect_right(totals, li.amount, lo, hi)
        end = hi if exact_end == lo and hi - lo <= WIDE_SHORT_MAX else exact_end
        ids.update(pk for _, pk in near_totals[lo:end])
    refs: dict[str, set[int]] = defaultdict(set)  # reference -> lines
    written: dict[int, set[str]] = {}
    for li in paying:
        keys = number_keys(" ".join((li.creditor_reference, li.text)), prefixes)
        written[li.id] = set(keys)
        for key in keys:
            if not any(key.startswith(p) for p in prefixes) or sum(
                    ch.isdigit() for ch in key) < 4:
                continue
            # only the variants of a length that invoice numbers have (``number_shapes``)
            variants = digit_variants(key)
            if lengths is not None:
                variants = {v for v in variants if len(v) in lengths}
            if lengths is None or len(key) + 1 in lengths:
                variants |= digit_insertions(key)
            for variant in variants:
                refs[_ref(variant)].add(li.id)
    refs.pop("", None)
    near: dict[int, set[int]] = defaultdict(set)  # invoice -> lines
    for pk, ref in _posted_by_reference(company, sorted(refs)):
        near[pk].update(refs[ref])
    ids.update(near)
    # the invoices of customers read for the run already are taken from there (a line's
    # amount is owed by the namesakes its name brought as often as not); the others read,
    # in the order of their ids as before
    known = {pk: open_items[pk] for pk in ids if pk in open_items} if open_items else {}
    read = {inv.id: inv for chunk in _chunks(sorted(ids - known.keys()))
            for inv in _open_invoices(company, invoices=chunk)}
    found = {pk: known.get(pk) or read[pk] for pk in sorted(ids)
             if pk in known or pk in read}
    # by what they owe: those owing a line's amount exactly; those in instalments owing a
    # little more of which it pays one instalment or the first few; and those it pays
    # short (within the tolerance), which ``widen`` looks at only when none of the others
    # is paid exactly or in part (hundreds lie within the tolerance of any amount: they
    # are left out unless they can count)
    by_open = sorted(found.values(), key=lambda inv: inv.open)
    opens = [inv.open for inv in by_open]
    multi = [inv for inv in by_open if len(inv.instalments) > 1]
    multi_opens = [inv.open for inv in multi]
    single = [inv for inv in by_open if len(inv.instalments) <= 1]
    single_opens = [inv.open for inv in single]
    allows = c.tolerance.allows
    for li in paying:
        amount = li.amount
        lo = bisect_left(opens, amount)
        kept = by_open[lo:bisect_right(opens, amount, lo)]
        above = bisect_right(multi_opens, amount)
        near_multi = [inv for inv in multi[above:bisect_right(multi_opens, amount + slack,
                                                                above)]
                      if allows(inv.open - amount, inv.total)]
        in_part = [inv for inv in near_multi
                   if amount in inv.instalments or first_instalments(inv, amount)]
        kept += in_part
        kept += _owing_in_part(amount, near_totals, found, kept)
        if not _paid_exactly_or_in_part(li, kept):  # then what it pays short counts
            paid = {inv.id for inv in in_part}
            kept += [inv for inv in near_multi if inv.id not in paid]
            above = bisect_right(single_opens, amount)
            kept += [inv for inv in single[above:bisect_right(single_opens, amount + slack,
                                                              above)]
                     if allows(inv.open - amount, inv.total)]
        c.by_amount[li.id] = kept
    if names is not None:
        c.customer_keys.update((inv.customer_id, names.keys.get(inv.customer_id, ""))
                               for invs in c.by_amount.values() for inv in invs)
    for pk, line_ids in near.items():
        inv = found.get(pk)
        if inv is None:
            continue
        for line_id in line_ids:
            if normalize(inv.number) not in written[line_id]:
                c.near_numbers.setdefault(line_id, []).append(inv)


def payers_known(company: Company, lines: Sequence[Line], c: Candidates,
                 paid_in_run: dict[str, set[tuple[int, int]]],
                 open_items: dict[int, list[OpenInvoice]]) -> None:
    """For the lines going to review (``widen``): ``c.iban_paid``, the customer each line's
    counterparty IBAN paid on the lines applied before (``LineMatch`` applied, the index on
    the lines' IBANs) or sure in this run (``paid_in_run``), when it paid one customer only
    and is neither a customer's own account nor a learned payer's (those are found as
    such); ``c.children``, the subsidiaries (``Customer.parent``) of the customers found as
    the lines' payers (by IBAN, name, rule, reference, or the IBAN's earlier payments), with
    ``c.codes`` of those parents; and the open invoices of the customers these bring, in
    ``c.open_by_customer`` (from ``open_items``, completed with those read)."""
    wanted: dict[str, list[Line]] = defaultdict(list)
    for li in lines:
        iban = normalize(li.iban)
        if iban and iban not in c.iban_customer and iban not in c.learned_iban:
            wanted[iban].append(li)
    paid: dict[str, set[tuple[int, int]]] = {k: set(paid_in_run.get(k, ())) for k in wanted}
    if wanted:
        # the IBANs as the lines give them and normalised: a statement keeps what the bank
        # wrote (spaces, lower case), matched normalised here
        given = sorted({li.iban for group in wanted.values() for li in group} | set(wanted))
        for chunk in _chunks(given, 500):
            for iban, cid, line_id in LineMatch.objects.filter(
                    company=company, status=LineStatus.APPLIED, customer_id__isnull=False,
                    line__counterparty_iban__in=chunk).values_list(
                    "line__counterparty_iban", "customer_id", "line_id"):
                paid.setdefault(normalize(iban), set()).add((cid, line_id))
    for iban, group in wanted.items():
        for li in group:
            others = {(cid, pk) for cid, pk in paid.get(iban, ()) if pk != li.id}
            if len({cid for cid, _ in others}) == 1:
                c.iban_paid[li.id] = max(others, key=lambda x: x[1])
    found = set(c.iban_customer.values()) | set(c.learned_iban.values())
    found.update(cid for cid, _ in c.ruled.values())
    found.update(cid for got in c.names.values() for cid, _ in got)
    found.update(cid for got in c.learned_reference.values() for cid, _ in got)
    found.update(cid for cid, _ in c.iban_paid.values())
    families: dict[int, list[int]] = defaultdict(list)
    for chunk in _chunks(sorted(found)):
        for pk, parent, code in CustomerRow.objects.filter(
                company=company, parent_id__in=chunk).order_by("id").values_list(
                "id", "parent_id", "parent__code"):
            families[parent].append(pk)
            c.codes[parent] = code
    c.children.update(families)
    wanted_items = ({cid for cid, _ in c.iban_paid.values()}
                    | {pk for kids in families.values() for pk in kids})
    missing = sorted(wanted_items - c.open_by_customer.keys() - open_items.keys())
    for chunk in _chunks(missing):
        got: dict[int, list[OpenInvoice]] = {cid: [] for cid in chunk}
        for inv in _open_invoices(company, customers=chunk):
            got[inv.customer_id].append(inv)
        open_items.update(got)
    for cid in sorted(wanted_items):
        if cid not in c.open_by_customer and open_items.get(cid):
            c.open_by_customer[cid] = open_items[cid]


def _paid_exactly_or_in_part(line: Line, invoices: Sequence[OpenInvoice]) -> bool:
    """Whether ``line`` pays one of ``invoices`` (in its currency) exactly, or one of its
    open instalments or its first few: then ``widen`` does not look at the invoices it
    pays short."""
    amount = line.amount
    return any(inv.currency == line.currency and (
        inv.open == amount or (len(inv.instalments) > 1 and (
            amount in inv.instalments or bool(first_instalments(inv, amount)))))
        for inv in invoices)


def _owing_in_part(amount: int, near_totals: Sequence[tuple[int, int]],
                   found: dict[int, OpenInvoice], kept: Sequence[OpenInvoice]
                   ) -> list[OpenInvoice]:
    """The invoices read because they owe ``amount`` in part (an open instalment, or the
    first few: ``near_totals`` holds them by what they owe), that it pays so: those that
    owe it in all are in ``kept`` already."""
    seen = {inv.id for inv in kept}
    lo, hi = bisect_left(near_totals, (amount, 0)), bisect_right(near_totals, (amount, 1 << 62))
    out = []
    for _, pk in near_totals[lo:hi]:
        inv = found.get(pk)
        if inv is not None and pk not in seen and len(inv.instalments) > 1 and (
                amount in inv.instalments or first_instalments(inv, amount)):
            seen.add(pk)
            out.append(inv)
    return out


def owed_in_parts(company: Company) -> dict[int, list[int]]:
    """Amount owed -> invoices, for the invoices paid in part (some of an instalment
    settled, or a first instalment in full, and something still open) whose first two or
    more open instalments owe it together (all of them: what the invoice still owes): what
    the indexes on totals and on each instalment cannot tell. One statement
    (``owed_in_parts_sql``), read once per run (``bank_match``): its cost is that of the
    ledger's invoices paid in part, whatever the number of lines and however long the
    history of invoices paid in full."""
    out: dict[int, list[int]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(*owed_in_parts_sql(company))
        for owed, pk in cursor.fetchall():
            out[int(owed)].append(pk)
    return dict(out)


def owed_in_parts_sql(company: Company) -> tuple[str, list[Any]]:
    """The statement of :func:`owed_in_parts`: the invoices partially paid by the
    settlement kept on each posted document (``invoice_settlement``, written with every
    allocation and adjustment: payments/settlement_keep.py), what their open instalments
    owe so far summed in instalment order (a window), from the second on.
    The instalments are read by invoice: the invoices are the company's already, and a
    filter on the company would have them read through an index of all its open items."""
    table, invoices = Instalment._meta.db_table, Invoice._meta.db_table
    # SQLite without statistics would read every invoice of the company by the company's
    # index (a ledger's partially paid invoices are few): the settlement's index is named,
    # and the status written out, for SQLite to see the index's condition met
    indexed = " INDEXED BY invoice_settlement" if connection.vendor == "sqlite" else ""
    sql = (f'SELECT w.owed, w.invoice_id FROM (SELECT o."invoice_id" AS invoice_id, '
           f'SUM(o."amount" - o."settled") OVER (PARTITION BY o."invoice_id" '
           f'ORDER BY o."seq") AS owed, ROW_NUMBER() OVER (PARTITION BY o."invoice_id" '
           f'ORDER BY o."seq") AS k FROM (SELECT p."id" FROM "{invoices}" p{indexed} '
           f'WHERE p."company_id" = %s AND p."status" = \'{DocStatus.POSTED.value}\' '
           f'AND p."settlement" = %s '
           f'ORDER BY p."id") pp JOIN "{table}" o ON o."invoice_id" = pp."id" '
           f'WHERE o."settled" < o."amount") w WHERE w.k > 1')
    return sql, [company.pk, Settlement.PARTIAL.value]


def _owed_near(company: Company, ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """(amount owed, invoice) of the invoices whose total, or an open instalment of which
    what it still owes, is the first bound of one of ``ranges`` (minor units), and of at
    most ``WIDE_SHORT_MAX + 1`` of each kind above it up to its second bound: what
    ``wide_candidates`` looks at (an amount owed exactly, or few owing a little more; in a
    large ledger hundreds lie within a few euros of any amount, which it would read only to
    find that there are too many). One statement, each range searched in its index
    (``UNION ALL``: an ``OR`` of ranges is read from the company's whole ledger)."""
    if not ranges:
        return []
    with connection.cursor() as cursor:
        cursor.execute(*owed_near_sql(company, ranges))
        return [(int(owed), pk) for owed, pk in cursor.fetchall()]


def owed_near_sql(company: Company, ranges: Sequence[tuple[int, int]]
                  ) -> tuple[str, list[Any]]:
    """The statement of :func:`_owed_near` and its parameters, in SQL (the ORM took
    longer to build it than the database to run it)."""
    invoices, instalments = Invoice._meta.db_table, Instalment._meta.db_table
    total = (f'SELECT "total", "id" FROM "{invoices}" WHERE "company_id" = %s AND ')
    owed = (f'SELECT ("amount" - "settled"), "invoice_id" FROM "{instalments}" '
            'WHERE "company_id" = %s AND "settled" < ("amount") AND ')
    few = WIDE_SHORT_MAX + 1
    if connection.vendor == "postgresql":
        # the same four index searches per range, with the ranges as two arrays: a
        # statement of 400 terms took PostgreSQL longer to plan than to run (80
        # server-seconds for 3,500 lines at issue-h1); this one is planned once
        return (f'SELECT x.owed, x.pk FROM unnest(%s::bigint[], %s::bigint[]) AS r(lo, hi) '
                f'CROSS JOIN LATERAL ({total}"total" = r.lo '
                f'UNION ALL (SELECT * FROM ({total}"total" > r.lo AND "total" <= r.hi '
                f'LIMIT {few}) t) '
                f'UNION ALL {owed}("amount" - "settled") >= r.lo '
                f'AND ("amount" - "settled") <= r.lo '
                f'UNION ALL (SELECT * FROM ({owed}("amount" - "settled") > r.lo '
                f'AND ("amount" - "settled") <= r.hi LIMIT {few}) o)) AS x(owed, pk)',
                [[lo for lo, _ in ranges], [hi for _, hi in ranges], company.pk, company.pk,
                 company.pk, company.pk])
    terms, params = [], []
    for n, (lo, hi) in enumerate(ranges):
        terms += [total + '"total" = %s',
                  f'SELECT * FROM ({total}"total" > %s AND "total" <= %s LIMIT {few}) t{n}',
                  # a range of one: for an equality SQLite prefers the covering index
                  # of open items, read whole for the company
                  owed + '("amount" - "settled") >= %s AND ("amount" - "settled") <= %s',
                  f'SELECT * FROM ({owed}("amount" - "settled") > %s '
                  f'AND ("amount" - "settled") <= %s LIMIT {few}) o{n}']
        params += [company.pk, lo, company.pk, lo, hi, company.pk, lo, lo, company.pk, lo, hi]
    return " UNION ALL ".join(terms), params


def _ref(key: str) -> str:
    try:
        return creditor_reference(key)
    except ValueError:
        return ""


# ---------------------------------------------------------------------------- matching

@dataclass
class LineResult:
    """What ``bank_match`` made of one line (for the commands)."""

    line: StatementLine
    decision: str  # applied, suggested, unmatched, other
    proposal: Proposal | None
    suggestions: tuple[Proposal, ...]
    evidence: tuple[str, ...]
    receipt: str = ""


def _pending(company: Company, line_ids: Sequence[int] | None) -> list[StatementLine]:
    rows = (StatementLine.objects.filter(company=company)
            .exclude(match__status__in=[LineStatus.APPLIED, LineStatus.OTHER])
            .select_related("bank_account").order_by("booking_date", "pk"))
    if line_ids is not None:
        rows = rows.filter(pk__in=line_ids)
    return list(rows)


def _suggestion_json(p: Proposal) -> dict[str, Any]:
    out = {"customer": p.customer_id, "allocations": [list(a) for a in p.allocations],
           "confidence": p.confidence, "evidence": list(p.evidence),
           "write_off": p.write_off, "signature": p.signature()}
    if p.currency:  # a foreign-currency payment: the invoices' currency and the rate
        out.update(currency=p.currency, rate=str(p.rate))
    return out


def _proposal(d: dict[str, Any]) -> Proposal:
    return Proposal(d["customer"], tuple((n, a) for n, a in d["allocations"]),
                    d["confidence"], tuple(d["evidence"]), d.get("write_off", False),
                    d.get("currency", ""), Decimal(d["rate"]) if d.get("rate") else None)


def bank_match(*, actor: Actor, company: Company, auto_apply: bool = False,
               dry_run: bool = False, line_ids: Sequence[int] | None = None,
               threshold: float | None = None, chunk: int = _CHUNK) -> list[LineResult]:
    """Match every line not yet applied (or those of ``line_ids``): record the suggestions
    (or, for money out, ``other``); with ``auto_apply``, apply each proposal at or above the
    company's threshold, the sure lines of each ``chunk`` of lines in one transaction.
    ``dry_run`` writes nothing and says what would be done. The garbage collector is held
    off meanwhile (``core.collector``: a run builds millions of objects it would walk again
    and again; about a fourteenth of the matching's CPU time against a million open
    items), and a SQLite file is read memory-mapped (``core.mapped``: the run reads a large
    share of the ledger's pages, most of them more than once)."""
    require_role(company, actor, Role.CLERK)
    with collector_paused(), pages_mapped():
        return _bank_match(actor=actor, company=company, auto_apply=auto_apply,
                           dry_run=dry_run, line_ids=line_ids, threshold=threshold,
                           chunk=chunk)


def _bank_match(*, actor: Actor, company: Company, auto_apply: bool, dry_run: bool,
                line_ids: Sequence[int] | None, threshold: float | None, chunk: int
                ) -> list[LineResult]:
    limit = auto_apply_threshold(company) if threshold is None else threshold
    pending = _pending(company, line_ids)
    prefixes, lengths = number_shapes(company)
    matches = {m.line_id: m for m in LineMatch.objects.filter(
        company=company, line_id__in=[r.pk for r in pending])} if pending else {}
    results: list[LineResult] = []
    index: NameIndex | None = None
    # the open items of the customers met, read once for the run (a customer's items are
    # needed by several chunks of lines: a payer's name brings three customers a line)
    open_items: dict[int, list[OpenInvoice]] = {}
    open_by_id: dict[int, OpenInvoice] = {}  # the same, by invoice (for ``wide_candidates``)
    in_parts: dict[int, list[int]] | None = None
    # the customer each counterparty IBAN paid on the lines sure in this run (a dry run's
    # too): evidence for the lines from it going to review (``payers_known``)
    paid_in_run: dict[str, set[tuple[int, int]]] = defaultdict(set)
    saves: list[tuple[StatementLine, str, dict[str, Any]]] = []
    for rows in _chunks(pending, chunk):
        lines = [_line(r) for r in rows]
        by_rule = rules_for(company, rows)
        if index is None and any(li.name and li.amount > 0 for li in lines):
            index = customer_names(company)
        met = set(open_items)
        c = candidates(company, lines, prefixes, ruled={
            pk: (r.customer_id, r.rule.name) for pk, r in by_rule.items()
            if r.rule.action == "customer" and r.customer_id is not None}, names=index,
            lengths=lengths, open_items=open_items)
        open_by_id.update((inv.id, inv) for cid in open_items.keys() - met
                          for inv in open_items[cid])
        decisions = match_lines(lines, c, prefixes=prefixes, rejected=lambda i: (
            matches[i].rejected if i in matches else ()))
        # the lines going to review: more suggestions from weaker evidence, read for them
        unsure = [n for n, d in enumerate(decisions) if d.kind != "other" and (
            not d.proposals or d.proposals[0].confidence < limit)]
        for li, d in zip(lines, decisions, strict=True):
            if li.iban and d.proposals and d.proposals[0].confidence >= limit:
                paid_in_run[normalize(li.iban)].add((d.proposals[0].customer_id, li.id))
        if unsure:
            if in_parts is None:  # read once for the run, when a line first needs it
                in_parts = owed_in_parts(company)
            wide_candidates(company, [lines[n] for n in unsure], prefixes, c, lengths,
                            in_parts, open_by_id, paid_in_run, open_items, index)
            for n in unsure:
                decisions[n] = widen(lines[n], c, decisions[n], rejected=(
                    matches[lines[n].id].rejected if lines[n].id in matches else ()))
        returned = returns_proposed(company, rows)
        advice = advised(company, [r.pk for r in rows], {r.pk: r.currency for r in rows})
        sure: list[tuple[StatementLine, LineDecision]] = []
        for row, d in zip(rows, decisions, strict=True):
            if row.pk in advice:  # what the customer's remittance advice says it pays
                d = LineDecision(row.pk, "proposals", (advice[row.pk],))
            refused = set(matches[row.pk].rejected) if row.pk in matches else set()
            back = [p for p in returned.get(row.pk, ()) if p.signature() not in refused]
            if back:
                results.append(_returned(company, actor, row, back, auto_apply=auto_apply,
                                         dry_run=dry_run, threshold=limit))
                continue
            rule = by_rule.get(row.pk)
            if rule is not None and rule.rule.action == "account" and row.pk not in advice:
                results.append(_posted(company, actor, row, rule, auto_apply=auto_apply,
                                       dry_run=dry_run))
                continue
            top = d.proposals[0] if d.proposals else None
            if (auto_apply and not dry_run and d.kind != "other" and top is not None
                    and top.confidence >= limit):
                sure.append((row, d))
            else:
                results.append(_decide(company, row, d, auto_apply=auto_apply,
                                       dry_run=dry_run, threshold=limit, saves=saves))
        _save_many(company, saves)
        saves.clear()
        results.extend(_apply_sure(company, actor, sure))
        # what was applied changed its customers' open items: read again when met again
        for r in results[-len(rows):]:
            if r.decision == "applied" and r.proposal is not None and not dry_run:
                for inv in open_items.pop(r.proposal.customer_id, ()):
                    open_by_id.pop(inv.id, None)
    order = {r.pk: n for n, r in enumerate(pending)}
    return sorted(results, key=lambda r: order[r.line.pk])


def _returned(company: Company, actor: Actor, row: StatementLine,
              proposals: Sequence[ReturnProposal], *, auto_apply: bool, dry_run: bool,
              threshold: float) -> LineResult:
    """A line of money out that returns a payment applied earlier: its receipt reversed when
    sure and ``auto_apply``, else the reversal suggested for review."""
    shown = tuple(Proposal(p.customer_id, (), p.confidence, p.evidence) for p in proposals)
    top = proposals[0]
    if auto_apply and top.confidence >= threshold:
        if dry_run:
            return LineResult(row, "applied", shown[0], shown[1:], top.evidence)
        try:
            number = reverse_for_line(company=company, actor=actor, line=row, proposal=top,
                                      decided_by="auto")
            return LineResult(row, "applied", shown[0], shown[1:], top.evidence, number)
        except LedgerError as exc:
            evidence = (*top.evidence, f"not applied: {exc.code}: {exc.message}")
            if not dry_run:
                _save(company, row, LineStatus.SUGGESTED, evidence=list(evidence),
                      suggestions=[p.as_json() for p in proposals],
                      confidence=top.confidence)
            return LineResult(row, "suggested", None, shown, evidence)
    if not dry_run:
        _save(company, row, LineStatus.SUGGESTED, evidence=list(top.evidence),
              suggestions=[p.as_json() for p in proposals], confidence=top.confidence)
    return LineResult(row, "suggested", None, shown, top.evidence)


def _rule_suggestion(rule: RuleRow, evidence: Sequence[str]) -> dict[str, Any]:
    return {"customer": 0, "allocations": [], "confidence": 1.0, "evidence": list(evidence),
            "write_off": False, "signature": f"rule:{rule.rule.name}",
            "post": rule.rule.target, "rule": rule.rule.name, "account": rule.account}


def _posted(company: Company, actor: Actor, row: StatementLine, rule: RuleRow, *,
            auto_apply: bool, dry_run: bool) -> LineResult:
    """A line a bank rule sends to a counterpart account: posted there with
    ``auto_apply``, else suggested (``bank confirm`` posts it)."""
    evidence = (f"bank rule {rule.rule.name}: post to {rule.account}",)
    shown = Proposal(0, (), 1.0, evidence)
    if auto_apply and dry_run:
        return LineResult(row, "applied", shown, (), evidence)
    if auto_apply:
        try:
            post_line(company=company, actor=actor, line=row, rule=rule, decided_by="auto")
            return LineResult(row, "applied", shown, (), evidence)
        except LedgerError as exc:
            evidence = (*evidence, f"not applied: {exc.code}: {exc.message}")
    if not dry_run:
        _save(company, row, LineStatus.SUGGESTED, evidence=list(evidence),
              suggestions=[_rule_suggestion(rule, evidence)], confidence=1.0)
    return LineResult(row, "suggested", None, (shown,), evidence)


def _apply_sure(company: Company, actor: Actor,
                sure: Sequence[tuple[StatementLine, LineDecision]]) -> list[LineResult]:
    """Apply the best proposal of each line: all the lines in one transaction; should a rule
    of payments refuse one of them, each in a transaction of its own (a refused line waits
    for review, the reason in its evidence)."""
    out: list[LineResult] = []
    alone: list[tuple[StatementLine, LineDecision]] = []
    batch = list(sure)
    if batch:
        try:
            numbers = apply_lines(company=company, actor=actor, decided_by="auto",
                                  pairs=[(r, d.proposals[0]) for r, d in batch])
            out.extend(LineResult(r, "applied", d.proposals[0], d.proposals[1:],
                                  d.proposals[0].evidence, numbers[r.pk]) for r, d in batch)
        except LedgerError:
            alone = list(batch) + alone
    for row, d in alone:
        top = d.proposals[0]
        try:
            number = apply_line(company=company, actor=actor, line=row, proposal=top,
                                decided_by="auto")
            out.append(LineResult(row, "applied", top, d.proposals[1:], top.evidence, number))
        except LedgerError as exc:  # a closed period, a rule of payments: left for review
            out.append(_decide(company, row, LineDecision(
                d.line_id, d.kind, d.proposals, (f"not applied: {exc.code}: {exc.message}",)),
                auto_apply=False, dry_run=False, threshold=1.0))
    return out


def _decide(company: Company, row: StatementLine, d: LineDecision, *, auto_apply: bool,
            dry_run: bool, threshold: float,
            saves: list[tuple[StatementLine, str, dict[str, Any]]] | None = None
            ) -> LineResult:
    """Record (unless ``dry_run``) a line that is not applied now: ``other``, or its
    suggestions; in a dry run, a sure line is shown as it would be applied. With ``saves``
    the record is added to it, for ``_save_many``, instead of written at once."""

    def save(status: str, **fields: Any) -> None:
        if saves is None:
            _save(company, row, status, **fields)
        else:
            saves.append((row, status, fields))

    if d.kind == "other":
        if not dry_run:
            save(LineStatus.OTHER, evidence=list(d.evidence), decided_by="other")
        return LineResult(row, "other", None, (), d.evidence)
    top = d.proposals[0] if d.proposals else None
    if dry_run and auto_apply and top is not None and top.confidence >= threshold:
        return LineResult(row, "applied", top, d.proposals[1:], top.evidence)
    status = LineStatus.SUGGESTED if d.proposals else LineStatus.UNMATCHED
    evidence = top.evidence + d.evidence if top else d.evidence
    if not dry_run:
        save(status, evidence=list(evidence),
             suggestions=[_suggestion_json(p) for p in d.proposals],
             confidence=top.confidence if top else None)
    return LineResult(row, status.value, None, d.proposals, evidence)


def _save_many(company: Company, saves: Sequence[tuple[StatementLine, str, dict[str, Any]]]
               ) -> None:
    """:func:`_save` for many lines in one transaction: the rows that exist updated at
    once, the others inserted at once; a line applied meanwhile keeps what it became."""
    if not saves:
        return
    fields = ("status", "suggestions", "evidence", "confidence", "decided_by")
    with transaction.atomic():
        existing = {m.line_id: m for m in LineMatch.objects.select_for_update().filter(
            line_id__in=[row.pk for row, _, _ in saves]).order_by("line_id")}
        now = timezone.now()
        new, changed = [], []
        for row, status, given in saves:
            values = (status, given.get("suggestions", []), given.get("evidence", []),
                      given.get("confidence"), given.get("decided_by", ""))
            m = existing.get(row.pk)
            if m is None:
                new.append((company.pk, row.pk, values[0], None, None, values[3], values[2],
                            values[1], [], values[4], now))
            elif m.status != LineStatus.APPLIED:
                for name, value in zip(fields, values, strict=True):
                    setattr(m, name, value)
                m.updated_at = now
                changed.append(m)
        insert_rows(LineMatch, _MATCH_COLUMNS, new)
        LineMatch.objects.bulk_update(changed, [*fields, "updated_at"], batch_size=1000)


def _save(company: Company, row: StatementLine, status: str, **fields: Any) -> None:
    with transaction.atomic():
        m = LineMatch.objects.select_for_update().filter(line=row).first()
        if m is not None and m.status == LineStatus.APPLIED:
            return  # applied meanwhile: what it became stands
        if m is None:
            m = LineMatch(company=company, line=row)
        m.status = status
        m.suggestions = fields.get("suggestions", [])
        m.evidence = fields.get("evidence", [])
        m.confidence = fields.get("confidence")
        m.decided_by = fields.get("decided_by", "")
        m.save()


# ---------------------------------------------------------------------------- applying

def apply_line(*, company: Company, actor: Actor, line: StatementLine, proposal: Proposal,
               decided_by: str) -> str:
    """Turn a proposal into a receipt with its allocations, and mark the line applied, in
    one transaction; refuse a line applied already. The receipt names the statement's bank
    account and keeps the line's references. Returns the receipt's number. A batch of one
    for :func:`apply_lines`, the one writer of applied lines."""
    return apply_lines(company=company, actor=actor, pairs=[(line, proposal)],
                       decided_by=decided_by)[line.pk]


def apply_lines(*, company: Company, actor: Actor,
                pairs: Sequence[tuple[StatementLine, Proposal]], decided_by: str
                ) -> dict[int, str]:
    """:func:`apply_line` for many lines in one transaction: the receipts in one
    ``receipts_record``, their allocations in one ``allocations_make`` (one
    ``AllocationsMade``; the short payments' invoices locked first, their residuals written
    off after, in one ``adjustments_write``), the lines' statuses and audit events; all or
    nothing, in a fixed number of queries whatever the number of lines. Returns each line's
    receipt number."""
    ids = [line.pk for line, _ in pairs]
    with transaction.atomic():
        existing = line_matches_to_apply(ids)
        _, receipt_ids = receipts_record(actor=actor, company=company, requests=[
            _receipt_request(line, p) for line, p in pairs])
        paired = list(zip(pairs, receipt_ids, strict=True))
        short = [ShortPaid(rid, p.allocations[0][0], line.booking_date, p.allocations[0][1],
                           f"statement line {line.pk}") for (line, p), rid in paired
                 if p.write_off]
        invoices = short_paid_invoices(company, short)
        # every allocation of the batch in one plan and one write (one AllocationsMade), the
        # short payments' residuals written off after them
        allocations_make(actor=actor, company=company, requests=[
            *(_allocation_request(rid, line, p) for (line, p), rid in paired
              if not p.write_off), *short_paid_requests(short, invoices)])
        short_residuals_write_off(actor=actor, company=company, items=short,
                                  invoices=invoices)
        numbers = dict(Receipt.objects.filter(pk__in=receipt_ids).values_list("pk", "number"))
        changed = []
        now = timezone.now()
        for (line, p), rid in zip(pairs, receipt_ids, strict=True):
            m = existing.get(line.pk)
            if m is not None:
                m.status, m.receipt_id, m.customer_id = LineStatus.APPLIED, rid, p.customer_id
                m.confidence, m.evidence, m.suggestions = p.confidence, list(p.evidence), []
                m.decided_by, m.updated_at = decided_by, now
                changed.append(m)
        insert_rows(LineMatch, _MATCH_COLUMNS, [
            (company.pk, line.pk, LineStatus.APPLIED.value, rid, p.customer_id, p.confidence,
             list(p.evidence), [], [], decided_by, now)
            for (line, p), rid in zip(pairs, receipt_ids, strict=True)
            if line.pk not in existing])
        LineMatch.objects.bulk_update(changed, ["status", "receipt", "customer", "confidence",
                                                "evidence", "suggestions", "decided_by",
                                                "updated_at"], batch_size=1000)
        audit_many(company, actor, [EventSpec("bank_line.apply", "bank_line", str(line.pk), {
            "receipt": numbers[rid], "decided_by": decided_by, "confidence": p.confidence,
            "allocations": [list(a) for a in p.allocations], "evidence": list(p.evidence)})
            for (line, p), rid in zip(pairs, receipt_ids, strict=True)])
    return {line.pk: numbers[rid] for (line, _), rid in zip(pairs, receipt_ids, strict=True)}


def _allocation_request(receipt_id: int, line: StatementLine, p: Proposal
                        ) -> AllocationRequest:
    """What a receipt made from ``line`` pays: the proposal's allocations, in the invoices'
    currency at the proposal's rate when that is not the line's (the payment services
    realise the exchange difference)."""
    currency = p.currency or line.currency
    return AllocationRequest(SourceRef(SourceKind.RECEIPT, id=receipt_id), line.booking_date,
                             tuple(ToInvoice(n, Money.from_minor(a, currency).amount)
                                   for n, a in p.allocations),
                             rate=p.rate if p.currency else None)


def _receipt_request(line: StatementLine, proposal: Proposal) -> ReceiptRequest:
    return ReceiptRequest(day=line.booking_date, amount=line.amount,
                          customer_id=proposal.customer_id, currency=line.currency,
                          payer_reference=(line.creditor_reference or line.end_to_end_id)[:60],
                          bank_reference=(line.bank_reference or line.end_to_end_id)[:60],
                          memo=f"statement line {line.pk}"[:255],
                          bank_account=line.bank_account.code)


def _line_get(company: Company, line_id: int) -> StatementLine:
    row = (StatementLine.objects.filter(company=company, pk=line_id)
           .select_related("bank_account").first())
    if row is None:
        raise NotFound(f"no statement line {line_id}", field="line")
    return row


def bank_confirm(*, actor: Actor, company: Company, line_id: int, choice: int = 1) -> str:
    """Apply the ``choice``-th suggestion of a line waiting for review, and learn who pays
    from its counterparty IBAN (when that is not the customer's own account) and from the
    references of its text that name none of the invoices it pays (``payers``)."""
    require_role(company, actor, Role.CLERK)
    line = _line_get(company, line_id)
    with transaction.atomic():
        m = LineMatch.objects.select_for_update().filter(line=line).first()
        if m is None or m.status != LineStatus.SUGGESTED:
            raise ValidationFailed(f"statement line {line_id} has no suggestion to confirm "
                                   f"({m.status if m else 'not matched yet'}: run `bank "
                                   "match`)", field="line")
        if not 1 <= choice <= len(m.suggestions):
            raise ValidationFailed(f"line {line_id} has {len(m.suggestions)} suggestion(s)",
                                   field="choice")
        chosen = m.suggestions[choice - 1]
        if chosen.get("post"):
            rule = RuleRow(Rule(chosen["rule"], action="account", target=chosen["post"]), 0,
                           None, chosen.get("account", chosen["post"]))
            return post_line(company=company, actor=actor, line=line, rule=rule,
                             decided_by="confirm")
        back = proposal_of(company, chosen)
        if back is not None:
            return reverse_for_line(company=company, actor=actor, line=line, proposal=back,
                                    decided_by="confirm")
        proposal = _proposal(chosen)
        number = apply_line(company=company, actor=actor, line=line, proposal=proposal,
                            decided_by="confirm")
        iban = normalize(line.counterparty_iban)
        if iban and not CustomerBankAccount.objects.filter(
                company=company, iban=iban, customer_id=proposal.customer_id).exists():
            PayerIban.objects.update_or_create(
                company=company, iban=iban,
                defaults={"customer_id": proposal.customer_id, "learned_from": line})
            audit(company, actor, "payer_iban.learn", "bank_line", line.pk, iban=iban,
                  customer=proposal.customer_id)
        payer_references_learn(company=company, actor=actor, line=line,
                               customer_id=proposal.customer_id,
                               named=[n for n, _ in proposal.allocations],
                               prefixes=number_prefixes(company))
    return number


def bank_reject(*, actor: Actor, company: Company, line_id: int) -> None:
    """Reject a line's suggestions: never proposed again; the line waits unmatched."""
    require_role(company, actor, Role.CLERK)
    line = _line_get(company, line_id)
    with transaction.atomic():
        m = LineMatch.objects.select_for_update().filter(line=line).first()
        if m is None or m.status != LineStatus.SUGGESTED:
            raise ValidationFailed(f"statement line {line_id} has no suggestion to reject",
                                   field="line")
        m.rejected = sorted({*m.rejected, *(s["signature"] for s in m.suggestions)})
        m.status, m.suggestions, m.confidence = LineStatus.UNMATCHED, [], None
        m.evidence = ["suggestions rejected"]
        m.save()
        audit(company, actor, "bank_line.reject", "bank_line", line.pk, rejected=m.rejected)


def bank_unmatch(*, actor: Actor, company: Company, line_id: int, day: date) -> str:
    """Undo an applied line: its receipt reversed through the payment service (its
    allocations and what came with them undone), the line unmatched and what it was applied
    as never proposed again, the payer IBAN and references it taught forgotten. Returns the
    reversed receipt's number."""
    require_role(company, actor, Role.CLERK)
    line = _line_get(company, line_id)
    with transaction.atomic():
        m = LineMatch.objects.select_for_update().filter(line=line).first()
        if m is None or m.status != LineStatus.APPLIED or (m.receipt_id is None
                                                           and m.entry_id is None):
            raise ValidationFailed(f"statement line {line_id} is not applied", field="line")
        if is_return(m):
            raise ValidationFailed(f"statement line {line_id} returned a payment: its receipt "
                                   "is reversed, which cannot be undone", field="line")
        if m.entry_id is not None:
            unpost_line(company=company, actor=actor, m=m, day=day)
            return ""
        rc = Receipt.objects.get(pk=m.receipt_id)
        allocations = [[n, a] for n, a in _allocated(rc)]
        receipt_reverse(actor=actor, company=company, number=rc.number,
                        day=max(day, rc.date),
                        reason=f"statement line {line.pk} unmatched")
        # a payer IBAN this line taught is forgotten with it (``payers``)
        payer_iban_unlearn(company=company, actor=actor, line=line, customer_id=rc.customer_id)
        payer_references_unlearn(company=company, actor=actor, line=line,
                                 customer_id=rc.customer_id)
        signature = Proposal(rc.customer_id, tuple((n, a) for n, a in allocations), 0.0,
                             ()).signature()
        m.rejected = sorted({*m.rejected, signature})
        m.status, m.receipt_id, m.customer_id, m.confidence = (LineStatus.UNMATCHED, None,
                                                              None, None)
        m.evidence, m.suggestions, m.decided_by = [f"unmatched: {rc.number} reversed"], [], ""
        m.save()
        audit(company, actor, "bank_line.unmatch", "bank_line", line.pk, receipt=rc.number)
    return rc.number


def _allocated(rc: Receipt) -> list[tuple[str, int]]:
    totals: dict[str, int] = defaultdict(int)
    for number, amount in Allocation.objects.filter(
            receipt=rc, amount__gt=0, adjustment__isnull=True).values_list(
            "instalment__invoice__number", "amount"):
        totals[number] += amount
    return sorted(totals.items())


__all__ = ["LineResult", "apply_line", "auto_apply_threshold", "auto_apply_threshold_set",
           "apply_lines", "bank_confirm", "bank_match", "bank_reject", "bank_unmatch", "candidates",
           "number_prefixes", "owed_in_parts_sql", "payers_known", "wide_candidates"]
