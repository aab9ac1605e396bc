"""Payment behaviour and credit risk of a customer on a day (docs/design/credit.md).

Behaviour is read from what the customer paid: each allocation of a receipt to an instalment
says how many days after the invoice's date it was paid and how many days after the due date
(0 when on time). Averages are weighted by the amount paid (in the base currency), so that a
large invoice paid late weighs more than a small one paid early. The trend compares the last
3, 6 and 12 months. Disputes and broken promises come from what collections signals.

The risk score (0 = safest, 100 = riskiest) adds up points for each factor, and every factor
that adds points is named by a code with its figures (``Factor``): the words, in the
reader's language, are the interfaces' (``apps/credit/factors.py``); the class is A to D by
the company's thresholds. The
default probability is a logistic curve of the score. Where a payment model was trained on
the ledger (``credit predict``) and scores what the customer has open, its probability
replaces the curve's and gives the score (the curve read backwards) and so the class.

Suggested limits come from the peak exposure that was paid on time: the largest sum of
invoices open at once that were all settled by their due dates.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal

WINDOWS = (3, 6, 12)  # months of the trend


@dataclass(frozen=True, slots=True)
class Payment:
    """One amount paid on an instalment."""

    day: date  # the day it was paid (allocated)
    issue_date: date
    due_date: date
    weight: int  # the amount, minor units of the base currency


@dataclass(frozen=True, slots=True)
class Signals:
    disputes: int = 0
    promises_broken: int = 0
    promises_kept: int = 0
    plans_broken: int = 0


@dataclass(frozen=True, slots=True)
class WindowFigures:
    months: int
    paid: int  # base minor units paid in the window
    days_to_pay: float | None
    days_late: float | None
    share_late: float | None


@dataclass(frozen=True, slots=True)
class Behaviour:
    """A customer's payment behaviour on ``as_of``."""

    as_of: date
    paid: int  # base minor units paid, all history up to as_of
    payments: int
    days_to_pay: float | None  # amount-weighted averages, all history
    days_late: float | None
    share_late: float | None  # share of the amount paid after its due date
    windows: tuple[WindowFigures, ...]
    trend: str  # "improving" | "worsening" | "steady" | "unknown"
    overdue: int  # base minor units overdue on as_of
    oldest_overdue_days: int
    signals: Signals = field(default_factory=Signals)


def months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier (the month's last day when it is shorter)."""
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    m += 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(y, m, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _figures(payments: list[Payment]) -> tuple[int, float | None, float | None, float | None]:
    total = sum(p.weight for p in payments)
    if total <= 0:
        return total, None, None, None
    to_pay = sum(p.weight * (p.day - p.issue_date).days for p in payments) / total
    late = sum(p.weight * max(0, (p.day - p.due_date).days) for p in payments) / total
    share = sum(p.weight for p in payments if p.day > p.due_date) / total
    return total, round(to_pay, 1), round(late, 1), round(share, 3)


def payment_behaviour(*, as_of: date, payments: Iterable[Payment], overdue: int = 0,
                      oldest_overdue_days: int = 0, signals: Signals | None = None
                      ) -> Behaviour:
    """The behaviour of one customer from its ``payments`` (those after ``as_of`` are
    ignored) and what is overdue on ``as_of``."""
    paid = [p for p in payments if p.day <= as_of]
    total, to_pay, late, share = _figures(paid)
    windows = []
    for months in WINDOWS:
        since = months_before(as_of, months)
        w_total, w_pay, w_late, w_share = _figures([p for p in paid if p.day > since])
        windows.append(WindowFigures(months, w_total, w_pay, w_late, w_share))
    recent, year = windows[0].days_late, windows[-1].days_late
    if recent is None or year is None:
        trend = "unknown"
    elif recent > year + 5:
        trend = "worsening"
    elif recent < year - 5:
        trend = "improving"
    else:
        trend = "steady"
    return Behaviour(as_of=as_of, paid=total, payments=len(paid), days_to_pay=to_pay,
                     days_late=late, share_late=share, windows=tuple(windows), trend=trend,
                     overdue=overdue, oldest_overdue_days=oldest_overdue_days,
                     signals=signals or Signals())


# ---------------------------------------------------------------------------- risk
@dataclass(frozen=True, slots=True)
class Thresholds:
    """The lowest score of classes B, C and D (A below ``b``)."""

    b: float = 25.0
    c: float = 50.0
    d: float = 75.0

    def __post_init__(self) -> None:
        if not 0 < self.b < self.c < self.d <= 100:
            raise ValueError("risk thresholds must rise within 0..100: B < C < D")


@dataclass(frozen=True, slots=True)
class Factor:
    """One reason behind a risk score: a code and the figures its sentence needs.

    Codes: ``no_history``; ``days_late`` (``days``: amount-weighted average); ``share_late``
    (``share`` of the amount paid late); ``worsening`` (later in 3 months than in 12);
    ``overdue`` (``days`` the oldest item is overdue, ``share`` of what it owes);
    ``disputes`` and ``broken_promises`` (``count`` in 12 months); ``on_time``; ``model``
    (``share``: the payment model's chance of default)."""

    code: str
    days: float | None = None
    share: float | None = None
    count: int | None = None


@dataclass(frozen=True, slots=True)
class RiskScore:
    risk_class: str  # "A" (safest) .. "D"
    score: float  # 0..100, higher = riskier
    default_probability: float  # 0..1
    factors: list[Factor]
    basis: str = "behaviour"  # "behaviour" (the points) | "model" (the payment model)


def risk_class(score: float, thresholds: Thresholds) -> str:
    if score >= thresholds.d:
        return "D"
    if score >= thresholds.c:
        return "C"
    if score >= thresholds.b:
        return "B"
    return "A"


def default_probability(score: float) -> float:
    """The chance that an open invoice ends more than 90 days late or written off, as a
    logistic curve of the score: about 2 % at 0, 27 % at 50, 88 % at 100."""
    return round(1 / (1 + math.exp(-(0.06 * score - 4))), 4)


def probability_score(probability: float) -> float:
    """The score whose ``default_probability`` is ``probability`` (the logistic curve read
    backwards, 0 to 100): a probability from the payment model lands on the same scale, so
    the class thresholds mean the same default chance whichever gave it (B from about 8 %,
    C from 27 %, D from 62 % with the default thresholds)."""
    p = min(max(probability, 1e-6), 1 - 1e-6)
    return round(min(100.0, max(0.0, (math.log(p / (1 - p)) + 4) / 0.06)), 1)


def risk_score(behaviour: Behaviour, exposure: int, thresholds: Thresholds,
               model_probability: float | None = None) -> RiskScore:
    """Points for each factor, capped at 100; ``exposure`` in base minor units (what is
    overdue weighs by its share of it).

    With ``model_probability`` (the payment model's chance that what the customer has open
    defaults, docs/design/payment-prediction.md), that probability is the default
    probability and gives the score and the class; it is the first factor, and the
    behaviour's factors follow it as what the model read (their points no longer add up
    to the score)."""
    b = behaviour
    points: list[tuple[float, Factor]] = []
    if b.payments == 0:
        points.append((20.0, Factor("no_history")))
    else:
        if b.days_late:
            points.append((min(b.days_late, 60) / 60 * 35, Factor("days_late", days=b.days_late)))
        if b.share_late:
            points.append((b.share_late * 15, Factor("share_late", share=b.share_late)))
        if b.trend == "worsening":
            points.append((10.0, Factor("worsening")))
    if b.overdue > 0:
        share = min(b.overdue / exposure if exposure > 0 else 1.0, 1.0)
        days = b.oldest_overdue_days
        points.append((min(days, 90) / 90 * 20 + share * 5,
                       Factor("overdue", days=days, share=share)))
    s = b.signals
    if s.disputes:
        points.append((min(s.disputes, 3) * 3.0, Factor("disputes", count=s.disputes)))
    broken = s.promises_broken + s.plans_broken
    if broken:
        points.append((min(broken, 3) * 5.0, Factor("broken_promises", count=broken)))
    score = round(min(100.0, sum(p for p, _ in points)), 1)
    factors = [f for p, f in sorted(points, key=lambda x: -x[0]) if p > 0]
    if not factors:
        factors = [Factor("on_time")]
    if model_probability is not None:
        p = min(max(model_probability, 0.0), 1.0)
        score = probability_score(p)
        factors = [Factor("model", share=p), *factors]
        return RiskScore(risk_class(score, thresholds), score, round(p, 4), factors, "model")
    return RiskScore(risk_class(score, thresholds), score, default_probability(score), factors)


# ---------------------------------------------------------------------------- suggested limits
@dataclass(frozen=True, slots=True)
class OpenSpan:
    """An instalment from its issue to the day it was settled in full (None: still open)."""

    issue_date: date
    settled_on: date | None
    due_date: date
    amount: int  # minor units of the customer's currency


def peak_paid_on_time(spans: Iterable[OpenSpan], *, since: date, as_of: date) -> int:
    """The largest sum of instalments open at once, counting only those settled in full by
    their due date, between ``since`` and ``as_of``."""
    moves: list[tuple[date, int]] = []
    for s in spans:
        if s.settled_on is None or s.settled_on > s.due_date or s.settled_on > as_of:
            continue
        if s.settled_on < since:
            continue
        moves.append((max(s.issue_date, since), s.amount))
        moves.append((s.settled_on + timedelta(days=1), -s.amount))
    peak = level = 0
    for _, amount in sorted(moves, key=lambda m: (m[0], m[1])):
        level += amount
        peak = max(peak, level)
    return peak


def nice_amount(minor: int, exponent: int) -> int:
    """Round ``minor`` up to a round figure of the major unit (1, 1.5, 2, 2.5, 3, 4, 5, 6,
    8 times a power of ten; at least 100 major units): limits people can read and
    remember."""
    if minor <= 0:
        return 0
    scale = Decimal(10) ** exponent
    value = max(Decimal(minor) / scale, Decimal(100))
    power = Decimal(10) ** (len(str(int(value))) - 1)
    for step in (1, Decimal("1.5"), 2, Decimal("2.5"), 3, 4, 5, 6, 8, 10):
        if value <= step * power:
            return int((step * power * scale).to_integral_value(ROUND_CEILING))
    raise AssertionError("unreachable")


SUGGESTION_FACTOR = {"A": Decimal("1.5"), "B": Decimal("1.2"), "C": Decimal(1), "D": Decimal(0)}


def suggest_limit(peak: int, risk: str, exponent: int) -> int:
    """A limit from the peak paid on time: more room for a safe payer, none for class D."""
    return nice_amount(int(peak * SUGGESTION_FACTOR[risk]), exponent)
