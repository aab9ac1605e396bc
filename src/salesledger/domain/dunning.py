"""Dunning: which open item is at which reminder level on a day, what a reminder run sends to
each customer, and what it charges (docs/design/dunning.md).

A policy is a list of levels, each reached a number of days after an item's due date (a
negative number is a friendly reminder before it is due). On a day, an item is at the highest
level whose day has come. A customer receives one message per run, listing every item due or
overdue grouped by level, when at least one item has reached a level it was never reminded at
(the unique key of the ledger is (item, level)); the items paused (disputed, promised, in a
plan, possibly already paid) are left out and said why; a message whose total is under the
policy's minimum is not sent.

Charges, each once per item and level:
- a fee of the level, fixed or a percentage of the overdue amount of the items that reached it;
- statutory late-payment interest (Directive 2011/7/EU, art. 2(6) and 3-4; in France, Code de
  commerce L441-10): the reference rate plus a margin (8 points) pro rata temporis, simple
  interest on the open amount per day late over a 365-day year. The reference rate of each
  half-year is the one in force on its first day (1 January, 1 July), so a period that spans
  half-years is charged at each half's rate;
- the fixed compensation for recovery costs (art. 6; EUR 40 in France, D441-5), once per
  invoice, for business customers only.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import NamedTuple

from salesledger.domain.errors import ValidationFailed
from salesledger.domain.plan_reminders import PlanReminded

CHANNELS = ("email", "letter", "call")
YEAR_DAYS = Decimal(365)
STATUTORY_MARGIN = Decimal(8)


@dataclass(frozen=True)
class Level:
    number: int
    days: int
    name: str = ""
    channels: tuple[str, ...] = ("email",)
    fee_fixed: int = 0  # minor units of the item's currency
    fee_percent: Decimal = Decimal(0)
    interest: bool = False
    hold: bool = False
    agency: bool = False
    template: str = ""  # the named reminder text it sends (blank: the company's own)
    # The name in other languages, (language, name) sorted: a customer reads the name in
    # its message's language, else ``name`` (docs/design/dunning.md, "A name per language").
    names: tuple[tuple[str, str], ...] = ()

    def name_in(self, language: str) -> str:
        """The name a customer reads in a message written in ``language``."""
        return dict(self.names).get(language) or self.name


@dataclass(frozen=True)
class Policy:
    code: str
    levels: tuple[Level, ...]
    min_amount: int = 0  # minor units: a message for less is not sent

    @cached_property
    def days(self) -> tuple[int, ...]:
        return tuple(lv.days for lv in self.levels)

    @property
    def lead_days(self) -> int:
        """How many days before its due date an item may first be reminded of (0 if none)."""
        return max(0, -min((lv.days for lv in self.levels), default=0))


def check_levels(levels: Sequence[Level]) -> tuple[Level, ...]:
    """Levels in order of their days, numbered 1..n; refused when two share a day, a channel is
    unknown, a fee is negative or only the last level hands over to an agency. A refusal
    names the level's ``row`` in ``levels`` (from 1) and the ``attr`` it is about, for a form
    to show it beside that field."""
    if not levels:
        raise ValidationFailed("a dunning policy needs at least one level", field="level")
    order = sorted(range(len(levels)), key=lambda i: levels[i].days)
    ordered = [levels[i] for i in order]
    days = [lv.days for lv in ordered]
    if len(set(days)) != len(days):
        twice = next(i for i in order[1:] if days.count(levels[i].days) > 1)
        raise ValidationFailed("two levels of a policy fall on the same day", field="level",
                               row=twice + 1, attr="days")
    out = []
    for n, (row, lv) in enumerate(zip(order, ordered, strict=True), start=1):
        at = {"field": "level", "row": row + 1}
        if not lv.channels or any(c not in CHANNELS for c in lv.channels):
            raise ValidationFailed(f"level at day {lv.days}: channels are among "
                                   + ", ".join(CHANNELS), **at, attr="channels")
        if lv.fee_fixed < 0 or lv.fee_percent < 0:
            raise ValidationFailed(f"level at day {lv.days}: a fee cannot be negative",
                                   **at, attr="fee")
        if lv.fee_fixed and lv.fee_percent:
            raise ValidationFailed(f"level at day {lv.days}: a fee is fixed or a percentage, "
                                   "not both", **at, attr="fee")
        name = lv.template.strip()
        if name and (len(name) > 40 or not all(c.isalnum() or c in "-_." for c in name)):
            raise ValidationFailed(f"level at day {lv.days}: a text's name is 1 to 40 "
                                   "letters, digits, '-', '_' or '.'", **at, attr="template")
        if lv.agency and n != len(ordered):
            raise ValidationFailed("only the last level can hand the file to a collection "
                                   "agency", **at, attr="agency")
        if lv.days < 0 and (lv.fee_fixed or lv.fee_percent or lv.interest or lv.hold):
            raise ValidationFailed(f"level at day {lv.days}: nothing is charged before the "
                                   "due date", **at, attr="fee" if lv.fee_fixed
                                   or lv.fee_percent else "interest" if lv.interest else "hold")
        out.append(Level(n, lv.days, lv.name or f"Level {n}", tuple(lv.channels),
                         lv.fee_fixed, lv.fee_percent, lv.interest, lv.hold, lv.agency,
                         lv.template.strip(), level_names(dict(lv.names))))
    return tuple(out)


def level_names(names: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """A level's names per language, checked: a language code of two letters, a name of at
    most 100 characters; a blank name is no name (the level's own is read)."""
    out = []
    for language, name in sorted(names.items()):
        name = name.strip()
        if not name:
            continue
        if len(language) != 2 or not language.isalpha() or not language.islower():
            raise ValidationFailed(f"{language!r} is not a language code (en, fr, de...)",
                                   field="language")
        if len(name) > 100:
            raise ValidationFailed("a level's name is at most 100 characters", field="name")
        out.append((language, name))
    return tuple(out)


def level_on(policy: Policy, due_date: date, as_of: date) -> Level | None:
    """The level an item due on ``due_date`` is at on ``as_of``: the last one whose day has
    come (None before the first)."""
    i = bisect.bisect_right(policy.days, (as_of - due_date).days)
    return policy.levels[i - 1] if i else None


# ---------------------------------------------------------------- interest
@dataclass(frozen=True)
class InterestRule:
    """Late-payment interest for a company (and a customer country)."""

    margin: Decimal = STATUTORY_MARGIN  # points over the reference rate
    compensation: int = 0  # minor units per invoice, business customers only
    compensation_currency: str = ""
    # The VAT rate of a level's fee (percent, standard category); None: not subject to VAT.
    fee_vat_rate: Decimal | None = None


def _half_start(day: date) -> date:
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def _next_half(day: date) -> date:
    return date(day.year, 7, 1) if day.month <= 6 else date(day.year + 1, 1, 1)


def rate_on(rates: Sequence[tuple[date, Decimal]], day: date) -> Decimal | None:
    """The reference rate in force on ``day`` from a table of (valid from, percent), sorted."""
    i = bisect.bisect_right([d for d, _ in rates], day)
    return rates[i - 1][1] if i else None


@dataclass(frozen=True)
class InterestPart:
    start: date  # first day charged
    end: date  # last day charged
    days: int
    percent: Decimal  # reference rate + margin


def interest_parts(rates: Sequence[tuple[date, Decimal]], margin: Decimal, start: date,
                   end: date) -> list[InterestPart]:
    """The days from ``start`` to ``end`` inclusive cut at half-years, each with its yearly
    percent (the reference rate in force on the half-year's first day, plus the margin).
    Raises when a half-year has no reference rate: rates are never guessed."""
    parts: list[InterestPart] = []
    day = start
    while day <= end:
        stop = min(end, _next_half(day) - timedelta(days=1))
        ref = rate_on(rates, _half_start(day))
        if ref is None:
            raise ValidationFailed(
                f"no reference rate in force on {_half_start(day)}: add one with "
                "'dunning rate add' or 'dunning rate import'", field="rate")
        parts.append(InterestPart(day, stop, (stop - day).days + 1, ref + margin))
        day = stop + timedelta(days=1)
    return parts


def interest_minor(open_amount: int, parts: Iterable[InterestPart]) -> int:
    """Simple interest on ``open_amount`` (minor units) over the parts, rounded half up once
    at the end."""
    total = sum((Decimal(open_amount) * p.percent / 100 * p.days / YEAR_DAYS for p in parts),
                Decimal(0))
    return int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def fee_minor(level: Level, overdue: int) -> int:
    """The fee a level charges on ``overdue`` (minor units)."""
    if level.fee_fixed:
        return level.fee_fixed
    if level.fee_percent:
        return int((Decimal(overdue) * level.fee_percent / 100)
                   .quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return 0


# ---------------------------------------------------------------- selecting
class Item(NamedTuple):
    """An open instalment as the run reads it (a named tuple: a run reads a million)."""

    id: int
    customer_id: int
    invoice_id: int
    number: str
    due_date: date
    currency: str
    open: int
    # False for an invoice of fees or interest: reminded of, never charged for again (no
    # interest on interest, no fee on a fee).
    chargeable: bool = True


@dataclass(frozen=True)
class Pause:
    customer_id: int
    invoice_id: int | None  # None: the whole customer
    reason: str
    amount: int | None = None  # the part paused; None: all of it


class Reminded(NamedTuple):
    item: Item
    level: Level
    amount: int  # what the message asks for (open less a paused part)
    new: bool  # never reminded at this level before


@dataclass(frozen=True)
class Skipped:
    customer_id: int
    item_id: int | None
    number: str
    reason: str
    detail: str = ""


@dataclass
class CustomerPlan:
    customer_id: int
    policy: Policy
    items: list[Reminded] = field(default_factory=list)
    # Instalments of payment plans reminded of in the same message (plan_reminders.py).
    plan_instalments: list[PlanReminded] = field(default_factory=list)

    @property
    def new_items(self) -> list[Reminded]:
        return [r for r in self.items if r.new]

    @property
    def top_level(self) -> Level:
        """The highest level listed (level 0 for a message about plan instalments only)."""
        top = _NO_LEVEL
        for r in self.items:
            if r.level.number > top.number:
                top = r.level
        return top

    def totals(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.items:
            out[r.item.currency] = out.get(r.item.currency, 0) + r.amount
        return out


_NO_LEVEL = Level(0, 0, "")


def select_reminders(items: Iterable[Item], *, as_of: date,
                     policy_of: dict[int, Policy], sent: set[tuple[int, int]],
                     pauses: Iterable[Pause], cover: dict[tuple[int, str], int],
                     keep: Collection[int] = ()
                     ) -> tuple[list[CustomerPlan], list[Skipped]]:
    """Level every item and plan one message per customer.

    ``policy_of`` maps a customer to its policy (customers with none are not dunned);
    ``sent`` holds the (item, level number) already reminded; ``cover`` the cash of a customer
    per currency that might already pay an item (unapplied receipts, unmatched bank lines):
    an item it could cover is skipped with a warning instead. The customers in ``keep`` have
    something else to be told (a plan instalment): their items are listed even if none is
    new.

    The run levels in the database instead (``dunning.selectors.levelled_items``, one
    statement) and plans with ``plan_reminders``; this is the same rule item by item, which
    the tests hold the statement to."""
    levelled = []
    for it in items:
        policy = policy_of.get(it.customer_id)
        if policy is None:
            continue
        level = level_on(policy, it.due_date, as_of)
        if level is None:
            continue
        levelled.append(Levelled(it, policy, level, (it.id, level.number) not in sent))
    return plan_reminders(levelled, pauses=pauses, cover=cover, keep=keep)


POSSIBLY_PAID = ("unapplied cash or an unmatched bank line of the customer could pay it: "
                 "apply it or match the line")


class Levelled(NamedTuple):
    """An item at its level on the run's day, under its customer's policy."""

    item: Item
    policy: Policy
    level: Level
    new: bool  # never reminded at this level before


def plan_reminders(levelled: Iterable[Levelled], *, pauses: Iterable[Pause],
                   cover: dict[tuple[int, str], int], keep: Collection[int] = ()
                   ) -> tuple[list[CustomerPlan], list[Skipped]]:
    """Plan one message per customer from items already levelled: leave out what is paused
    or possibly paid (and say why), drop the customers with nothing new to say, and those
    whose message would ask for less than their policy's minimum, except the customers in
    ``keep``, who have a plan instalment to be told of."""
    by_customer: dict[int, CustomerPlan] = {}
    skipped: list[Skipped] = []
    pauses = list(pauses)
    whole = {p.customer_id: p for p in pauses if p.invoice_id is None}
    partial: dict[tuple[int, int], list[Pause]] = {}
    for p in pauses:
        if p.invoice_id is not None:
            partial.setdefault((p.customer_id, p.invoice_id), []).append(p)
    for it, policy, level, new in levelled:
        if it.customer_id in whole:
            skipped.append(Skipped(it.customer_id, it.id, it.number,
                                   whole[it.customer_id].reason))
            continue
        amount = it.open
        reason = ""
        for p in partial.get((it.customer_id, it.invoice_id), ()):
            if p.amount is None or p.amount >= amount:
                reason, amount = p.reason, 0
                break
            amount -= p.amount
        if amount <= 0:
            skipped.append(Skipped(it.customer_id, it.id, it.number, reason))
            continue
        if cover.get((it.customer_id, it.currency), 0) >= amount:
            skipped.append(Skipped(it.customer_id, it.id, it.number, "possibly_paid",
                                   POSSIBLY_PAID))
            continue
        plan = by_customer.get(it.customer_id)
        if plan is None:
            plan = by_customer[it.customer_id] = CustomerPlan(it.customer_id, policy)
        plan.items.append(Reminded(it, level, amount, new))
    plans = []
    for plan in by_customer.values():
        if not any(r.new for r in plan.items) and plan.customer_id not in keep:
            continue  # nothing new to say: already reminded of every item at its level
        if plan.customer_id not in keep and all(
                total < plan.policy.min_amount for total in plan.totals().values()):
            for r in plan.items:
                skipped.append(Skipped(plan.customer_id, r.item.id, r.item.number,
                                       "below_minimum"))
            continue
        plan.items.sort(key=lambda r: (-r.level.number, r.item.due_date, r.item.id))
        plans.append(plan)
    plans.sort(key=lambda p: p.customer_id)
    return plans, skipped
