"""Predicted payment dates as pure rules (docs/design/payment-prediction.md): what is known
of an open item and of its payer on a day (the features), the cut that keeps a training set
free of the future, the customer's median delay used when its history is thin, the
per-customer-average baseline, and the backtest's measures (mean absolute error, share
within seven days, the AUC of a probability).

An **item** is an instalment of a posted invoice (the open item). Its **delay** is the days
from its due date to the day it was fully settled by receipts or credit notes. It **defaults**
when it is settled more than ``DEFAULT_DAYS`` after its due date, is written off as a bad debt,
or is still open more than ``DEFAULT_DAYS`` after its due date.

Everything here takes the ledger as it stood on a day (``Ledger``, read by the credit app with
nothing dated after that day), so a feature can only see what was known then.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import median

DEFAULT_DAYS = 90
# A customer with fewer settled items than this is predicted from its median delay.
MIN_HISTORY = 3
# Training rows are taken on days at least this long before the cut, so that what was open
# then has mostly had time to be settled (or to default) by the cut: nearer days would keep
# only the items paid quickly, farther ones lose the latest habits (120 days was tried:
# docs/design/payment-prediction.md).
HORIZON_DAYS = 60
# Month ends after its issue at which an open item is seen again in training, at most.
MAX_SNAPSHOTS = 6
RECENT = 5  # the customer's latest delays that make its recent habit

FEATURES = (
    "log_amount", "amount_vs_usual", "terms_days", "issue_month", "due_month",
    "days_overdue", "age_days", "customer_age_days", "history", "median_delay",
    "mean_delay", "recent_delay", "trend", "late_share", "default_share",
    "open_items", "open_overdue", "disputes", "e_invoicing",
    "last_delay", "weighted_delay", "habit_days_left", "habit_month", "days_since_paid",
    "days_since_part_paid", "oldest_open_overdue",
    "survived_left", "survived_share", "survived_recent_left", "late_items",
    "open_disputed", "expected_left", "fitted_delay", "fitted_left",
    "promises_kept", "promises_broken", "plans_broken",
)
# What collections records of a customer (credit's signals) that the model reads, over the
# year before the day seen.
SIGNALS = ("promise_kept", "promise_broken", "plan_broken")
SIGNAL_DAYS = 365
WEIGHT = 0.3  # of the latest delay in the customer's exponentially weighted delay


@dataclass(frozen=True)
class Item:
    """One instalment and what became of it, as known on the ledger's day."""

    id: int
    customer: str
    invoice: str
    issue_date: date
    due_date: date
    amount: int  # base currency, minor units
    settled_on: date | None = None  # fully settled by receipts or credit notes
    written_off_on: date | None = None  # settled (in part) by a bad-debt write-off
    disputed: bool = False  # a credit note corrected its invoice
    part_paid_on: date | None = None  # the first day something was paid on it

    def delay(self) -> int | None:
        return None if self.settled_on is None else (self.settled_on - self.due_date).days

    def closed_on(self) -> date | None:
        return self.written_off_on or self.settled_on

    def open_on(self, day: date) -> bool:
        closed = self.closed_on()
        return self.issue_date <= day and (closed is None or closed > day)

    def defaulted(self, known: date) -> bool | None:
        """Whether it defaulted, as known on ``known`` (``None``: not yet known)."""
        if self.written_off_on is not None and self.written_off_on <= known:
            return True
        if self.settled_on is not None and self.settled_on <= known:
            return (self.settled_on - self.due_date).days > DEFAULT_DAYS
        if (known - self.due_date).days > DEFAULT_DAYS:
            return True
        return None


@dataclass(frozen=True)
class Payer:
    customer: str
    since: date  # the customer's first invoice
    e_invoicing: bool = False


@dataclass
class _History:
    """A customer's closed items in the order they closed, for prefix reads."""

    closed: list[date] = field(default_factory=list)
    delays: list[int | None] = field(default_factory=list)  # None: written off
    amounts: list[int] = field(default_factory=list)
    disputed: list[bool] = field(default_factory=list)
    issued: list[date] = field(default_factory=list)

    def upto(self, day: date) -> int:
        return bisect.bisect_right(self.closed, day)


@dataclass
class Ledger:
    """Items and payers of one company as known on ``as_of``: nothing closed after it."""

    as_of: date
    items: list[Item]
    payers: dict[str, Payer]
    # what collections learned of each customer (code) by the day, where it is used: (day,
    # kind) of its promises kept and broken and its payment plans broken, oldest first
    signals: dict[str, list[tuple[date, str]]] = field(default_factory=dict)
    _histories: dict[str, _History] = field(default_factory=dict, init=False, repr=False)
    _issued: dict[str, list[Item]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for it in sorted((i for i in self.items if i.closed_on() is not None),
                         key=lambda i: (i.closed_on(), i.id)):
            h = self._histories.setdefault(it.customer, _History())
            h.closed.append(it.closed_on())  # type: ignore[arg-type]
            h.delays.append(None if it.written_off_on is not None else it.delay())
            h.amounts.append(it.amount)
            h.disputed.append(it.disputed)
            h.issued.append(it.issue_date)
        for it in sorted(self.items, key=lambda i: (i.issue_date, i.id)):
            self._issued.setdefault(it.customer, []).append(it)

    def settled_days(self, customer: str, day: date) -> list[date]:
        """The days the customer's items were settled (not written off) on or before
        ``day``, oldest first."""
        h = self._histories.get(customer)
        if h is None:
            return []
        n = h.upto(day)
        return [c for c, d in zip(h.closed[:n], h.delays[:n], strict=True) if d is not None]

    def delays(self, customer: str, day: date) -> list[int]:
        """The delays of the customer's items settled on or before ``day``, oldest first."""
        h = self._histories.get(customer)
        if h is None:
            return []
        return [d for d in h.delays[:h.upto(day)] if d is not None]

    def features(self, item: Item, day: date) -> list[float]:
        """What is known on ``day`` of an item open on it and of its payer, in ``FEATURES``
        order. Only items closed on or before ``day`` count as history."""
        h = self._histories.get(item.customer, _History())
        n = h.upto(day)
        past = [d for d in h.delays[:n] if d is not None]
        lost = sum(1 for d in h.delays[:n] if d is None)
        amounts = h.amounts[:n]
        usual = median(amounts) if amounts else item.amount
        recent = past[-RECENT:]
        mean_all = sum(past) / len(past) if past else 0.0
        mean_recent = sum(recent) / len(recent) if recent else 0.0
        defaults = sum(1 for d in past if d > DEFAULT_DAYS) + lost
        open_now = [i for i in self._issued.get(item.customer, [])
                    if i.issue_date <= day and i.open_on(day)]
        weighted = 0.0
        for k, d in enumerate(past):
            weighted = float(d) if k == 0 else WEIGHT * d + (1 - WEIGHT) * weighted
        payer = self.payers.get(item.customer)
        since = payer.since if payer else item.issue_date
        survived = survival(past, (day - item.due_date).days)
        fitted = fitted_delay(
            [(i, a, d) for i, a, d in zip(h.issued[:n], amounts, h.delays[:n], strict=True)
             if d is not None], item, usual)
        return [
            math.log1p(max(item.amount, 0)),
            math.log((item.amount + 1) / (usual + 1)),
            float((item.due_date - item.issue_date).days),
            float(item.issue_date.month),
            float(item.due_date.month),
            float((day - item.due_date).days),
            float((day - item.issue_date).days),
            float((day - since).days),
            float(len(past)),
            float(median(past)) if past else 0.0,
            mean_all,
            mean_recent,
            mean_recent - mean_all,
            sum(1 for d in past if d > 7) / len(past) if past else 0.0,
            defaults / n if n else 0.0,
            float(len(open_now)),
            float(sum(1 for i in open_now if (day - i.due_date).days > 30)),
            float(sum(h.disputed[:n])),
            1.0 if payer and payer.e_invoicing else 0.0,
            float(past[-1]) if past else 0.0,
            weighted,
            habit_left(item, day, weighted if past else None),
            float((item.due_date + timedelta(days=round(weighted))).month),
            float((day - h.closed[n - 1]).days) if n else -1.0,
            float((day - item.part_paid_on).days)
            if item.part_paid_on is not None and item.part_paid_on <= day else -1.0,
            float(max(((day - i.due_date).days for i in open_now), default=0)),
            *survived,
            float(sum(1 for d in past if d > 7)),
            float(sum(1 for i in open_now if i.disputed)),
            expected_left(item, day, weighted if past else None, survived,
                          len(past)),
            fitted if fitted is not None else weighted,
            habit_left(item, day, fitted if fitted is not None else
                       (weighted if past else None)),
            *self._signals(item.customer, day),
        ]

    def _signals(self, customer: str, day: date) -> tuple[float, float, float]:
        """The customer's promises to pay kept and broken and payment plans broken that
        collections recorded within a year up to ``day`` (none where collections is not
        used: the features then say nothing, and the trees never split on them)."""
        since = day - timedelta(days=SIGNAL_DAYS)
        seen = [k for d, k in self.signals.get(customer, ()) if since < d <= day]
        return tuple(float(seen.count(k)) for k in SIGNALS)  # type: ignore[return-value]


RIDGE = 4.0  # shrinks the slopes of a customer's own fit towards none


def fitted_delay(history: Sequence[tuple[date, int, int]], item: Item, usual: float
                 ) -> float | None:
    """The delay the customer's own history gives this item: a least-squares line of its
    past delays on the time since (drift) and the invoice's size against its usual (larger
    invoices waiting for approval), its slopes shrunk by ``RIDGE``; ``None`` with fewer
    than ``MIN_HISTORY`` settled items. A per-customer average sees neither."""
    if len(history) < MIN_HISTORY:
        return None
    xs = [((i - item.issue_date).days / 365, math.log((a + 1) / (usual + 1)))
          for i, a, _ in history]
    ys = [float(d) for _, _, d in history]
    n = len(ys)
    m1, m2, my = (sum(x[0] for x in xs) / n, sum(x[1] for x in xs) / n, sum(ys) / n)
    s11 = sum((x[0] - m1) ** 2 for x in xs) + RIDGE
    s22 = sum((x[1] - m2) ** 2 for x in xs) + RIDGE
    s12 = sum((x[0] - m1) * (x[1] - m2) for x in xs)
    s1y = sum((x[0] - m1) * (y - my) for x, y in zip(xs, ys, strict=True))
    s2y = sum((x[1] - m2) * (y - my) for x, y in zip(xs, ys, strict=True))
    det = s11 * s22 - s12 * s12
    b1 = (s1y * s22 - s2y * s12) / det
    b2 = (s2y * s11 - s1y * s12) / det
    size = math.log((item.amount + 1) / (usual + 1))
    return my + b1 * (0 - m1) + b2 * (size - m2)


def expected_left(item: Item, day: date, delay: float | None,
                  survived: tuple[float, float, float], history: int) -> float:
    """The days left that the model corrects: the median days left of the customer's own
    delays longer than what the item is already overdue, when at least ``MIN_HISTORY`` of
    them were (``survival``), else its habit (``habit_left``)."""
    left, share, _ = survived
    if left >= 0 and share * history >= MIN_HISTORY:
        return max(1.0, left)
    return habit_left(item, day, delay)


def survival(past: Sequence[int], overdue: int) -> tuple[float, float, float]:
    """What the customer's own history says of an item still open ``overdue`` days after its
    due date (negative: not due yet): the median days left among its past delays longer
    than that (the items that had also not been paid by then), the share of its delays that
    were, and the same median over its latest ``RECENT * 2`` such delays. -1 when none
    survived (an item later than any the customer ever paid)."""
    left = [d - overdue for d in past if d > overdue]
    if not left:
        return -1.0, 0.0, -1.0
    return (float(median(left)), len(left) / len(past),
            float(median(left[-RECENT * 2:])))


def habit_left(item: Item, day: date, delay: float | None) -> float:
    """Days from ``day`` until the item would be paid if its customer kept its recent habit
    (its weighted delay after the due date); at least one, since it is open on ``day``."""
    expected = (item.due_date - day).days + (delay if delay is not None else 0.0)
    return max(1.0, expected)


# ---------------------------------------------------------------- training rows
@dataclass(frozen=True)
class Row:
    item: int
    day: date  # the day it is seen on
    features: list[float]
    days_to_settle: int | None  # from ``day``; None when not settled by the ledger's day
    defaulted: bool | None  # None when not known by the ledger's day
    # Days from ``day`` it was watched without being settled when it was not: to the
    # ledger's day, or to its write-off (after which it can never be paid). The survival
    # model's censoring.
    watched: int = 0


def _month_ends(start: date, end: date) -> list[date]:
    out = []
    day = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    while day <= end:
        out.append(day)
        day = (day + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return out


def training_payers(ledger: Ledger, most_items: int) -> frozenset[str] | None:
    """The customers whose items a training learns from when the ledger has more than
    ``most_items`` items issued by its last training day (``None``: all of them): whole
    customers, in the order of a hash of their codes (a fixed draw that does not depend on
    the order of the books, nor change when other customers come or go), until their items
    reach ``most_items``. Every customer is still predicted, from its own history (the
    features read the whole ledger): only the rows the trees learn from are a sample, so a
    training's cost stops growing with the books."""
    last = ledger.as_of - timedelta(days=HORIZON_DAYS)
    counts: dict[str, int] = {}
    for it in ledger.items:
        if it.issue_date <= last:
            counts[it.customer] = counts.get(it.customer, 0) + 1
    if sum(counts.values()) <= most_items:
        return None
    kept: set[str] = set()
    total = 0
    for code in sorted(counts, key=lambda c: (hashlib.sha256(c.encode()).hexdigest(), c)):
        if total >= most_items:
            break
        kept.add(code)
        total += counts[code]
    return frozenset(kept)


def training_rows(ledger: Ledger, payers: frozenset[str] | None = None) -> list[Row]:
    """Each item seen on the day it was issued and at the month ends while it stayed open,
    on days at least ``HORIZON_DAYS`` before the ledger's day; what it became is what the
    ledger knows on its day (and no more). ``payers``: of these customers only
    (``training_payers``)."""
    last = ledger.as_of - timedelta(days=HORIZON_DAYS)
    rows = []
    for it in ledger.items:
        if it.issue_date > last or (payers is not None and it.customer not in payers):
            continue
        days = [it.issue_date] + [d for d in _month_ends(it.issue_date, last)
                                  if d > it.issue_date][:MAX_SNAPSHOTS]
        for day in days:
            if not it.open_on(day):
                break
            settle = None
            if it.settled_on is not None and it.written_off_on is None:
                settle = (it.settled_on - day).days
            watched = ((it.written_off_on or ledger.as_of) - day).days
            rows.append(Row(it.id, day, ledger.features(it, day), settle,
                            it.defaulted(ledger.as_of), watched))
    return rows


# ---------------------------------------------------------------- the survival model
# The periods (days from the day an item is seen) in which the survival model learns the
# chance that an item still open at a period's start is settled within it: short periods
# where most items are paid, longer ones after. An item still open after the last edge is
# past what the model dates (the date is then the last edge).
PERIODS = (0, 3, 7, 10, 14, 21, 28, 35, 42, 49, 56, 70, 84, 98, 112, 126, 150, 180, 240)


def person_periods(days_to_settle: int | None, watched: int) -> list[tuple[int, bool]]:
    """The periods (index into ``PERIODS``) in which an item seen on a day was still open
    and watched, each with whether it was settled in it: up to the period it was settled
    in, or while it was watched (a period that started before the watch ended counts; an
    item never settled counts as not settled in it, which is what was seen)."""
    out = []
    for k in range(len(PERIODS) - 1):
        start, end = PERIODS[k], PERIODS[k + 1]
        if days_to_settle is None and watched <= start:
            break
        settled = days_to_settle is not None and start <= days_to_settle < end
        out.append((k, settled))
        if days_to_settle is not None and days_to_settle < end:
            break
    return out


def survival_quantiles(hazards: Sequence[float], qs: Sequence[float]) -> list[float]:
    """The ``qs`` quantiles (in days from the day seen) of when an item will be settled,
    given the chance of its being settled in each of ``PERIODS`` if still open at its start
    (the hazards): among the items that are settled within the periods (the dates measured
    are of items that are paid), interpolated linearly within a period."""
    left, settled = 1.0, [0.0]
    for h in hazards:
        left *= 1.0 - h
        settled.append(1.0 - left)
    total = settled[-1]
    out = []
    for q in qs:
        want = q * total
        k = bisect.bisect_left(settled, want, lo=1)
        if total <= 0 or k >= len(settled):
            out.append(float(PERIODS[-1]))
            continue
        lo, hi = settled[k - 1], settled[k]
        frac = 0.5 if hi <= lo else (want - lo) / (hi - lo)
        out.append(PERIODS[k - 1] + frac * (PERIODS[k] - PERIODS[k - 1]))
    return out


# ---------------------------------------------------------------- fallback and baseline
@dataclass(frozen=True)
class Spread:
    """Days after the due date: the expected delay and the 10th and 90th percentiles."""

    expected: float
    p10: float
    p90: float


def quantile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile of ``values`` by linear interpolation between closest ranks."""
    s = sorted(values)
    if not s:
        return 0.0
    pos = (len(s) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def median_spread(own: Sequence[int], company: Sequence[int]) -> Spread:
    """The customer's median delay and its 10th/90th percentiles (however few its delays);
    the company's when the customer has none; the due date when nobody has any."""
    values = own if own else company
    if not values:
        return Spread(0.0, 0.0, 0.0)
    return Spread(quantile(values, 0.5), quantile(values, 0.1), quantile(values, 0.9))


def survived_spread(own: Sequence[int], company: Sequence[int], overdue: int) -> Spread:
    """``median_spread`` of the delays longer than ``overdue`` (the days an item open on a day
    is already past its due date; negative when not yet due): an item still open has not
    been paid by then, so only the delays that outlasted it say when it will be. The
    customer's, however few; the company's when none of the customer's did; every delay when
    none at all did (an item later than any ever paid: the day after, by ``not_before``)."""
    mine = [d for d in own if d > overdue]
    if mine:
        return median_spread(mine, [])
    theirs = [d for d in company if d > overdue]
    if theirs:
        return median_spread([], theirs)
    return median_spread(own, company)


# A weekday on which fewer than this share of the company's items were settled is not a day
# receipts arrive on (banks book none at weekends), once the company has settled at least
# ``WEEKDAY_HISTORY`` items (fewer say nothing of a weekday).
RARE_WEEKDAY = 0.01
WEEKDAY_HISTORY = 100


def paying_weekdays(days: Sequence[date]) -> frozenset[int]:
    """The weekdays (Monday 0) on which receipts arrive, from the days items were settled:
    those with at least ``RARE_WEEKDAY`` of them (every day with less history than
    ``WEEKDAY_HISTORY``)."""
    if len(days) < WEEKDAY_HISTORY:
        return frozenset(range(7))
    counts = [0] * 7
    for d in days:
        counts[d.weekday()] += 1
    seen = frozenset(w for w in range(7) if counts[w] >= RARE_WEEKDAY * len(days))
    return seen or frozenset(range(7))


def paying_day(predicted: date, weekdays: frozenset[int]) -> date:
    """A predicted date moved forward to the next day a receipt can arrive on: the median
    is the first day by which half the chance is reached, and none is reached on a day
    nothing arrives (a monthly run snapped to its month end was tried: worse on the demo)."""
    out = predicted
    while out.weekday() not in weekdays and (out - predicted).days < 6:
        out += timedelta(days=1)
    return out


def not_before(due: date, delay: float, day: date) -> date:
    """The due date plus a delay, but after ``day``: an item open on ``day`` was not paid by
    then."""
    return max(due + timedelta(days=round(delay)), day + timedelta(days=1))


def average_delay(own: Sequence[int], company: Sequence[int]) -> float:
    """The baseline's guess: the customer's average delay (the company's without one)."""
    values = own if own else company
    return sum(values) / len(values) if values else 0.0


# ---------------------------------------------------------------- measures
def mae_days(predicted: Sequence[date], actual: Sequence[date]) -> float | None:
    if not actual:
        return None
    return sum(abs((p - a).days) for p, a in zip(predicted, actual, strict=True)) / len(actual)


def within_days(predicted: Sequence[date], actual: Sequence[date], days: int = 7
                ) -> float | None:
    if not actual:
        return None
    hits = sum(1 for p, a in zip(predicted, actual, strict=True) if abs((p - a).days) <= days)
    return hits / len(actual)


def auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """The area under the ROC curve: the chance that a random defaulted item scores higher
    than a random one that did not (ties count half). ``None`` without both kinds."""
    pos = sum(1 for y in labels if y)
    neg = len(labels) - pos
    if pos == 0 or neg == 0:
        return None
    ranked = sorted(zip(scores, labels, strict=True), key=lambda p: p[0])
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mid = (i + 1 + j) / 2  # the average of ranks i+1..j
        rank_sum += mid * sum(1 for k in range(i, j) if ranked[k][1])
        i = j
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg)
