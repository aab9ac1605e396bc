"""Predicted payment dates and the probability of default, learned from the ledger
(docs/design/payment-prediction.md).

``ledger_as_of`` reads a company's items as they stood on a day, with nothing dated after it:
the training set, the features and the fallback all come from it, so a model trained for a day
cannot see what happened after that day. ``train`` fits scikit-learn's histogram gradient
boosting: two quantile regressions of the median days until an open item is settled, a
discrete-time survival model (the chance of being settled in each period while open, which
gives a median and the 10th and 90th percentiles) and a classifier of default. ``predict``
gives each open item a date (the mean of the three medians) with its spread, from the model,
or from the customer's median delay when there is no model.
``backtest`` replays it on a past day against what then happened, beside the per-customer
average. The trained model is stored by ``payment_model_train`` (services) and read back by
``payment_model_latest`` (selectors); see docs/security.md for why those bytes are trusted.
"""

from __future__ import annotations

import hashlib
import pickle
import time
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import transaction

from salesledger.apps.core.actors import Actor
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import require_role
from salesledger.apps.customers.models import Customer
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice
from salesledger.apps.payments.models import Allocation
from salesledger.domain.errors import ValidationFailed
from salesledger.domain.payment_prediction import (
    FEATURES,
    PERIODS,
    SIGNALS,
    Item,
    Ledger,
    Payer,
    Row,
    auc,
    average_delay,
    mae_days,
    not_before,
    paying_day,
    paying_weekdays,
    person_periods,
    survival_quantiles,
    survived_spread,
    training_payers,
    training_rows,
    within_days,
)

from .models import CreditSignal, PaymentModel

# Of the features, their order and the model's form: a stored model of another version is
# not used.
MODEL_VERSION = 6
# Fewer training rows than this, or a single outcome, and there is no model: every item is
# predicted from its customer's median delay.
MIN_ROWS = 200
QUANTILES = (0.1, 0.5, 0.9)
# The median is learnt three ways and the date is their mean (model version 5): two quantile
# regressions correcting what the customer's history already says (the days left if it pays
# as it recently did, its habit; and the days left to the date its own fit of drift and
# invoice size gives), and a survival model of the chance of being paid in each period
# (``PERIODS``), whose curve also gives the spread (10th and 90th percentiles).
BASES = (FEATURES.index("habit_days_left"), FEATURES.index("fitted_left"))
# The survival model reads the time since the item was seen against what the customer's
# history already says (the days left by its habit, by its own fit, and by the delays that
# outlasted the item): the chance of being paid peaks near those, and the trees find it
# there rather than rebuilding it from differences.
RELATIVE_TO = (*BASES, FEATURES.index("expected_left"))
# scikit-learn's threads: one, since a server's cores are shared with the web and the
# worker (several threads on a busy machine were a hundred times slower, not faster).
THREADS = 1
RECENCY_HALF_LIFE = 365  # days
MIN_SEEN = 0.1  # the censoring weights' floor (a row counts for ten at most)
# Settled items a customer needs for the model to date its items (below: the median fallback
# of the delays that outlasted the item). 0: the model dates every item. 3 was measured too
# (docs/design/payment-prediction.md#the-figures): better on one ledger, worse on two.
MODEL_MIN_HISTORY = 0
# The quantile regressions' trees: 300 rounds at 0.05, at most 31 leaves and 20 items a leaf.
ROUNDS = 300
LEARNING_RATE = 0.05
LEAVES = 31
MIN_LEAF = 20
# The survival model's trees (a classifier of "settled in this period"), at 0.1 a round: their
# size and number are chosen for each training on held-out customers (every
# ``SURVIVAL_FOLD``-th), among larger trees (31 leaves of at least 40 rows) and smaller ones
# (15 leaves of at least 100 rows, an L2 penalty of 1 on the leaves' values), up to
# ``SURVIVAL_MAX_ROUNDS`` rounds, by the log loss of the held-out customers' periods; then
# refitted on every customer. An item gives a row per period it was open in, so the rows are
# many and alike: fixed large trees learnt the few customers of a small ledger by heart, fixed
# small ones missed what a larger ledger shows (docs/design/payment-prediction.md).
SURVIVAL_LEARNING_RATE = 0.1
SURVIVAL_MAX_ROUNDS = 300
SURVIVAL_TREES = ((31, 40, 0.0), (15, 100, 1.0))  # leaves, rows a leaf, L2
SURVIVAL_FOLD = 5
# A training learns from the items of at most about this many (whole customers drawn by a
# hash of their codes; every customer is still predicted from its own history): the cost of
# a training stops growing with the books. Above the demo's and the bench's generated
# ledgers (7,126 and 6,737 invoices), whose backtests it leaves as they were; see
# docs/design/payment-prediction.md, "What a training costs".
MAX_TRAINING_ITEMS = 20_000


# ---------------------------------------------------------------- the ledger of a day
def ledger_as_of(company: Company, day: date) -> Ledger:
    """The company's invoice instalments issued by ``day`` and what settled them by ``day``
    (receipts, credit notes, adjustments dated on or before it; a bad-debt write-off marks
    the item written off; collections' signals of promises and plans by the day). Five
    queries."""
    items_raw = list(
        Instalment.objects.filter(company=company, invoice__kind=DocKind.INVOICE,
                                  invoice__status="posted", invoice__issue_date__lte=day)
        .order_by("id")
        .values_list("id", "customer__code", "invoice_id", "invoice__number",
                     "invoice__issue_date", "due_date", "amount", "base_amount"))
    disputed = set(Invoice.objects.filter(company=company, kind=DocKind.CREDIT_NOTE,
                                          status="posted", issue_date__lte=day,
                                          corrects__isnull=False)
                   .values_list("corrects_id", flat=True))
    settled: dict[int, int] = defaultdict(int)
    settled_on: dict[int, date] = {}
    lost_on: dict[int, date] = {}
    first_paid: dict[int, date] = {}
    amounts = {row[0]: row[6] for row in items_raw}
    allocations = (Allocation.objects.filter(company=company, date__lte=day)
                   .order_by("date", "id")
                   .values_list("instalment_id", "date", "amount", "adjustment__kind"))
    for inst, on, amount, kind in allocations.iterator(chunk_size=5000):
        if inst not in amounts:
            continue
        settled[inst] += amount
        if amount > 0 and kind is None:
            first_paid.setdefault(inst, on)
        if kind == "bad_debt" and amount > 0:
            lost_on.setdefault(inst, on)
        if settled[inst] >= amounts[inst]:
            settled_on.setdefault(inst, on)
        else:
            settled_on.pop(inst, None)  # a reversal opened it again
    # Written off: closed on the day it was settled in full, not paid.
    items = [Item(id=pk, customer=code, invoice=number, issue_date=issued, due_date=due,
                  amount=base, settled_on=None if pk in lost_on else settled_on.get(pk),
                  written_off_on=settled_on.get(pk) if pk in lost_on else None,
                  disputed=invoice in disputed, part_paid_on=first_paid.get(pk))
             for pk, code, invoice, number, issued, due, _, base in items_raw]
    since: dict[str, date] = {}
    for it in items:
        since[it.customer] = min(since.get(it.customer, it.issue_date), it.issue_date)
    e_invoicing = set(Customer.objects.filter(company=company).exclude(endpoint_id="")
                      .values_list("code", flat=True))
    payers = {c: Payer(c, d, c in e_invoicing) for c, d in since.items()}
    signals: dict[str, list[tuple[date, str]]] = defaultdict(list)
    for code, on, kind in (CreditSignal.objects.filter(company=company, day__lte=day,
                                                       kind__in=SIGNALS)
                           .order_by("day", "id").values_list("customer__code", "day", "kind")):
        signals[code].append((on, kind))
    return Ledger(as_of=day, items=items, payers=payers, signals=dict(signals))


# ---------------------------------------------------------------- the model
@dataclass
class Trained:
    """The fitted estimators and what they were trained on."""

    as_of: date
    version: int
    # HistGradientBoostingRegressor with the quantile loss at the median, correcting each of
    # ``BASES`` (the days left by the habit, by the own fit)
    medians: tuple[Any, ...]
    # HistGradientBoostingClassifier: the chance that an item still open at the start of a
    # period (``PERIODS``) is settled within it, from its features and the period
    survival: Any
    classifier: Any | None  # HistGradientBoostingClassifier, None with a single outcome
    rows: int
    items: int


def train(ledger: Ledger) -> Trained | None:
    """Fit the model on the ledger's training rows; ``None`` when there are too few. Past
    ``MAX_TRAINING_ITEMS`` items, on a sample of whole customers (``training_payers``)."""
    rows = training_rows(ledger, training_payers(ledger, MAX_TRAINING_ITEMS))
    timed = [r for r in rows if r.days_to_settle is not None]
    labelled = [r for r in rows if r.defaulted is not None]
    if len(timed) < MIN_ROWS:
        return None
    import sklearn.ensemble  # noqa: F401  (loads OpenMP, which the limit then reaches)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=THREADS):
        return _fit(ledger.as_of, rows, timed, labelled,
                    {i.id: i.customer for i in ledger.items})


def recency_weight(as_of: date, day: date) -> float:
    """Rows seen a year before the training day count half as much as the latest: habits
    drift, and the recent ones say more about the next payments."""
    return float(0.5 ** ((as_of - day).days / RECENCY_HALF_LIFE))


def _with_period(x: Any, start: Any) -> Any:
    """The features of each row of ``x`` with the start of the period asked about (days
    since the item was seen) and that start less each of ``RELATIVE_TO``."""
    import numpy as np

    return np.hstack([x, start[:, None], start[:, None] - x[:, list(RELATIVE_TO)]])


def _fit(as_of: date, rows: list[Row], timed: list[Row], labelled: list[Row],
         customers: dict[int, str]) -> Trained:
    from sklearn.ensemble import HistGradientBoostingClassifier

    classifier = None
    labels = [bool(r.defaulted) for r in labelled]
    if len(set(labels)) == 2:
        import numpy as np

        classifier = HistGradientBoostingClassifier(
            max_iter=200, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=20,
            random_state=0).fit(np.array([r.features for r in labelled], dtype=float),
                                np.array(labels))
    return Trained(as_of, MODEL_VERSION, _fit_medians(as_of, rows, timed),
                   _fit_survival(as_of, rows, customers), classifier, len(rows),
                   len({r.item for r in rows}))


def _fit_medians(as_of: date, rows: list[Row], timed: list[Row]) -> tuple[Any, ...]:
    """The quantile regressions of the median days left, one correcting each of ``BASES``."""
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingRegressor

    x = np.array([r.features for r in timed], dtype=float)
    took = np.array([r.days_to_settle for r in timed], dtype=float)
    # A row seen on a day is kept only if its item was settled by the training day: the
    # nearer the day, the more the long delays are missing. Each kept row counts for those
    # like it that could not be seen yet (inverse probability of censoring weighting): one
    # over the share of rows watched at least as long as it took, at most 1 / MIN_SEEN.
    windows = np.sort(np.array([(as_of - r.day).days for r in rows], dtype=float))
    seen = 1.0 - np.searchsorted(windows, took, side="left") / len(windows)
    weight = np.array([recency_weight(as_of, r.day) for r in timed]) / np.maximum(
        seen, MIN_SEEN)
    return tuple(
        HistGradientBoostingRegressor(
            loss="quantile", quantile=0.5, max_iter=ROUNDS, learning_rate=LEARNING_RATE,
            max_leaf_nodes=LEAVES, min_samples_leaf=MIN_LEAF, random_state=0).fit(
                x, took - x[:, b], sample_weight=weight)
        for b in BASES)


def _fit_survival(as_of: date, rows: list[Row], customers: dict[int, str]) -> Any:
    """A discrete-time survival model: each row (an item seen on a day) gives one example
    per period it was watched open in, settled in it or not. An item not yet settled on the
    training day (censored) says only that it was not settled while watched, so the rows
    seen near the training day count without teaching that people pay fast. The trees'
    size and rounds are chosen on held-out customers (``SURVIVAL_TREES``)."""
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier

    names = sorted(set(customers.values()))
    held_out = {c for n, c in enumerate(names) if n % SURVIVAL_FOLD == SURVIVAL_FOLD - 1}
    index, period, settled, weight, held = [], [], [], [], []
    for n, r in enumerate(rows):
        w = recency_weight(as_of, r.day)
        out = customers[r.item] in held_out
        for k, done in person_periods(r.days_to_settle, r.watched):
            index.append(n)
            period.append(PERIODS[k])
            settled.append(done)
            weight.append(w)
            held.append(out)
    x = _with_period(np.array([r.features for r in rows], dtype=float)[index],
                     np.array(period, dtype=float))
    y, w, v = np.array(settled), np.array(weight), np.array(held)

    def trees(size: tuple[int, int, float], rounds: int) -> Any:
        leaves, leaf, l2 = size
        return HistGradientBoostingClassifier(
            max_iter=rounds, learning_rate=SURVIVAL_LEARNING_RATE, max_leaf_nodes=leaves,
            min_samples_leaf=leaf, l2_regularization=l2, early_stopping=False,
            random_state=0)

    best: tuple[float, tuple[int, int, float], int] | None = None
    if v.any() and (~v).any() and len(set(y[~v].tolist())) == 2:
        for size in SURVIVAL_TREES:
            fitted = trees(size, SURVIVAL_MAX_ROUNDS).fit(x[~v], y[~v], sample_weight=w[~v])
            for n, p in enumerate(fitted.staged_predict_proba(x[v])):
                p1 = np.clip(p[:, 1], 1e-6, 1 - 1e-6)
                loss = -float(np.sum(w[v] * np.where(y[v], np.log(p1), np.log(1 - p1))))
                if best is None or loss < best[0]:
                    best = (loss, size, n + 1)
    size, rounds = (best[1], best[2]) if best else (SURVIVAL_TREES[-1], 100)
    return trees(size, rounds).fit(x, y, sample_weight=w)


def _quantiles(model: Trained, x: Any) -> list[tuple[float, float, float]]:
    """The 10th, 50th and 90th percentiles of the days left for each row of ``x``: the
    median the mean of the two regressions' and the survival curve's, the spread the
    survival curve's (widened to hold the median)."""
    import numpy as np

    n = len(x)
    hazards = np.column_stack([
        model.survival.predict_proba(_with_period(x, np.full(n, float(start))))[:, 1]
        for start in PERIODS[:-1]])
    medians = [m.predict(x) + x[:, b] for m, b in zip(model.medians, BASES, strict=True)]
    out = []
    for k, h in enumerate(hazards.tolist()):
        low, mid, high = survival_quantiles(h, QUANTILES)
        mid = (sum(float(m[k]) for m in medians) + mid) / (len(medians) + 1)
        out.append((min(low, mid), mid, max(high, mid)))
    return out


@dataclass(frozen=True)
class Prediction:
    item: Item
    expected: date
    p10: date
    p90: date
    default_probability: float
    method: str  # "model" or "median"


def _company_delays(ledger: Ledger, day: date) -> list[int]:
    return [d for c in ledger.payers for d in ledger.delays(c, day)]


def _history_default_share(ledger: Ledger, customer: str, day: date, company: float) -> float:
    past = ledger.delays(customer, day)
    if not past:
        return company
    return sum(1 for d in past if d > 90) / len(past)


def predict(ledger: Ledger, model: Trained | None, items: list[Item] | None = None
            ) -> list[Prediction]:
    """A date, its spread and the probability of default for each item open on the ledger's
    day (or each of ``items``): from the model when there is one (it knows how customers
    with little or no history pay: the history's size is one of its features), else from
    the median of the customer's delays that outlasted what the item is already overdue
    (the company's when none did: ``survived_spread``)."""
    day = ledger.as_of
    todo = items if items is not None else [i for i in ledger.items if i.open_on(day)]
    company = _company_delays(ledger, day)
    company_pd = (sum(1 for d in company if d > 90) / len(company)) if company else 0.0
    feats = [ledger.features(i, day) for i in todo]
    by_model: dict[int, tuple[float, float, float]] = {}
    probabilities: dict[int, float] = {}
    if model is not None and todo:
        import numpy as np
        from threadpoolctl import threadpool_limits

        x = np.array(feats, dtype=float)
        with threadpool_limits(limits=THREADS):
            qs = _quantiles(model, x)
            chances = (model.classifier.predict_proba(x)[:, 1]
                       if model.classifier is not None else [])
        for k, it in enumerate(todo):
            low, mid, high = qs[k]
            by_model[it.id] = (low, mid, high)
        for k, p in enumerate(chances):
            probabilities[todo[k].id] = float(p)
    weekdays = paying_weekdays([d for c in ledger.payers for d in ledger.settled_days(c, day)])
    return [_on_paying_days(p, weekdays) for p in
            _predict(ledger, todo, day, company, company_pd, by_model, probabilities)]


def _on_paying_days(p: Prediction, weekdays: frozenset[int]) -> Prediction:
    expected, p10, p90 = (paying_day(d, weekdays)
                          for d in (p.expected, p.p10, p.p90))
    return Prediction(p.item, expected, min(p10, expected), max(p90, expected),
                      p.default_probability, p.method)


def _predict(ledger: Ledger, todo: list[Item], day: date, company: list[int],
             company_pd: float, by_model: dict[int, tuple[float, float, float]],
             probabilities: dict[int, float]) -> list[Prediction]:
    out = []
    for it in todo:
        own = ledger.delays(it.customer, day)
        pd = probabilities.get(it.id, _history_default_share(ledger, it.customer, day,
                                                             company_pd))
        if it.id in by_model and len(own) >= MODEL_MIN_HISTORY:
            low, mid, high = by_model[it.id]
            dates = [day + timedelta(days=max(1, round(v))) for v in (mid, low, high)]
            out.append(Prediction(it, dates[0], dates[1], dates[2], pd, "model"))
            continue
        s = survived_spread(own, company, (day - it.due_date).days)
        out.append(Prediction(it, not_before(it.due_date, s.expected, day),
                              not_before(it.due_date, s.p10, day),
                              not_before(it.due_date, s.p90, day), pd, "median"))
    return out


# ---------------------------------------------------------------- the backtest
@dataclass(frozen=True)
class BacktestResult:
    as_of: date
    invoices: int  # items open on the day and settled later: the dates measured
    model_mae: float | None
    model_within_7: float | None
    model_auc: float | None
    baseline_mae: float | None
    baseline_within_7: float | None
    defaults: int  # items of known outcome on which the AUC is measured, and of those
    scored: int  # how many defaulted
    trained_rows: int

    def as_dict(self) -> dict[str, Any]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(v, 3)

        return {"as_of": self.as_of.isoformat(), "invoices": self.invoices,
                "model": {"mae_days": r(self.model_mae), "within_7_days": r(self.model_within_7),
                          "auc": r(self.model_auc)},
                "baseline": {"mae_days": r(self.baseline_mae),
                             "within_7_days": r(self.baseline_within_7)}}


def backtest_days_check(as_of: date, known: date) -> None:
    """The backtest's two days, checked alike on every path (the command, the page): the
    outcomes are known by a day after the one predicted from."""
    if known <= as_of:
        raise ValidationFailed(f"until {known} must be after the day predicted from, {as_of}: "
                               "the backtest measures what happened after it", field="until")


def backtest(company: Company, *, as_of: date, known: date) -> BacktestResult:
    """Train on the ledger of ``as_of`` only, predict the items open on it, and measure the
    dates against those settled after it (by ``known``) and the probability of default
    against the outcomes known by ``known``; the baseline is each customer's average delay."""
    return backtest_ledgers(ledger_as_of(company, as_of), ledger_as_of(company, known))


def backtest_ledgers(past: Ledger, known_ledger: Ledger) -> BacktestResult:
    """``backtest`` on ledgers already read: the ledger of the backtest's day and of the day
    the outcomes are known by (a bench replays it on ledgers read once)."""
    as_of, known = past.as_of, known_ledger.as_of
    model = train(past)
    later = {i.id: i for i in known_ledger.items}
    predictions = predict(past, model)
    company_delays = _company_delays(past, as_of)
    guessed, actual, baseline, scores, labels = [], [], [], [], []
    for p in predictions:
        outcome = later[p.item.id]
        if outcome.settled_on is not None and outcome.written_off_on is None:
            guessed.append(p.expected)
            actual.append(outcome.settled_on)
            own = past.delays(p.item.customer, as_of)
            baseline.append(not_before(p.item.due_date, average_delay(own, company_delays),
                                       as_of))
        defaulted = outcome.defaulted(known)
        if defaulted is not None:
            scores.append(p.default_probability)
            labels.append(defaulted)
    return BacktestResult(
        as_of=as_of, invoices=len(actual), model_mae=mae_days(guessed, actual),
        model_within_7=within_days(guessed, actual), model_auc=auc(scores, labels),
        baseline_mae=mae_days(baseline, actual), baseline_within_7=within_days(baseline, actual),
        defaults=len(labels), scored=sum(labels), trained_rows=model.rows if model else 0)


# ---------------------------------------------------------------- stored models
def payment_model_train(*, actor: Actor, company: Company, as_of: date) -> PaymentModel | None:
    """Train the company's model on its ledger of ``as_of`` and store it (audited); ``None``
    (and nothing stored) when the history is too thin for a model."""
    require_role(company, actor, Role.CLERK)
    started = time.perf_counter()
    model = train(ledger_as_of(company, as_of))
    if model is None:
        return None
    import sklearn

    blob = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    with transaction.atomic():
        row = PaymentModel.objects.create(
            company=company, trained_as_of=as_of, version=MODEL_VERSION,
            library=f"scikit-learn {sklearn.__version__}", rows=model.rows, items=model.items,
            seconds=round(time.perf_counter() - started, 2), blob=blob,
            sha256=hashlib.sha256(blob).hexdigest())
        audit(company, actor, "credit.payment_model_train", "payment_model", row.pk,
              trained_as_of=as_of.isoformat(), rows=model.rows, items=model.items,
              version=MODEL_VERSION, library=row.library, sha256=row.sha256)
    return row


def payment_model_latest(company: Company) -> tuple[PaymentModel, Trained] | None:
    """The company's latest stored model, if it was written by this version of the features
    and of scikit-learn and its bytes are those that were written (the hash)."""
    import sklearn

    row = PaymentModel.objects.filter(company=company).order_by("-trained_at", "-id").first()
    if row is None or row.version != MODEL_VERSION or (
            row.library != f"scikit-learn {sklearn.__version__}"):
        return None
    blob = bytes(row.blob)
    if hashlib.sha256(blob).hexdigest() != row.sha256:
        return None
    # Bytes this application wrote into its own table, checked against their hash: the
    # only pickle it ever loads (docs/security.md).
    model = pickle.loads(blob)  # noqa: S301
    return (row, model) if isinstance(model, Trained) else None


def payment_model_usable(company: Company, as_of: date) -> bool:
    """Whether ``payment_predictions`` on ``as_of`` would use a stored model (the latest, of
    this version of the features, trained on or before the day) rather than train one for
    the day: one query, nothing unpickled. The pages show predictions only then."""
    row = (PaymentModel.objects.filter(company=company).order_by("-trained_at", "-id")
           .values("version", "trained_as_of").first())
    return bool(row and row["version"] == MODEL_VERSION and row["trained_as_of"] <= as_of)


@dataclass(frozen=True)
class Predictions:
    as_of: date
    model: PaymentModel | None  # the stored model used, None when trained for the day
    trained_as_of: date | None
    items: list[Prediction]


def payment_predictions(company: Company, *, as_of: date, customer: str | None = None
                        ) -> Predictions:
    """Each item open on ``as_of`` (of one customer, or all) with its predicted date. The
    latest stored model is used when it was trained on or before ``as_of``; for an earlier
    day a model is trained for that day and not kept (no model may see past its day)."""
    ledger = ledger_as_of(company, as_of)
    stored = payment_model_latest(company)
    row: PaymentModel | None
    if stored is not None and stored[1].as_of <= as_of:
        row, model = stored
    else:
        row, model = None, train(ledger)
    items = [i for i in ledger.items if i.open_on(as_of)
             and (customer is None or i.customer == customer)]
    items.sort(key=lambda i: (i.customer, i.due_date, i.invoice, i.id))
    return Predictions(as_of, row, model.as_of if model else None, predict(ledger, model, items))


def expected_dates(company: Company, *, as_of: date
                   ) -> dict[tuple[str, date], tuple[date, date, date]]:
    """(invoice number, due date) of each instalment open on ``as_of`` -> its predicted
    payment date, 10th and 90th percentile: the cash-flow forecast's model estimator."""
    return {(p.item.invoice, p.item.due_date): (p.expected, p.p10, p.p90)
            for p in payment_predictions(company, as_of=as_of).items}


def default_probabilities(company: Company, *, as_of: date) -> dict[str, float]:
    """Customer code -> the probability that what it has open on ``as_of`` defaults,
    weighted by the items' amounts: what the credit risk score takes from the model (the
    customers with nothing open are not listed)."""
    weighted: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for p in payment_predictions(company, as_of=as_of).items:
        w = weighted[p.item.customer]
        w[0] += p.default_probability * p.item.amount
        w[1] += p.item.amount
    return {c: (s / n if n else 0.0) for c, (s, n) in weighted.items()}


@dataclass(frozen=True)
class Outlook:
    """What the stored payment model says of one customer's open items on a day."""

    # that what it has open defaults, weighted by the items' amounts; None when the model has
    # no classifier or the items no amount
    default_probability: float | None
    # its items overdue on the day (due before it): (amount in the base currency's minor
    # units, predicted payment date)
    overdue: tuple[tuple[int, date], ...]


def payment_outlooks(company: Company, *, as_of: date,
                     customer_ids: Collection[int] | None = None) -> dict[int, Outlook] | None:
    """Customer id -> the stored payment model's outlook for what it has open on ``as_of``
    (an alias's items count for its survivor): what the risk class and the collections
    worklist use. ``None`` when the company has no stored model trained on or before
    ``as_of`` (they then work from behaviour, as without the model); customers with nothing
    open are not listed. Never trains: one query when there is no model, five when there
    is."""
    stored = payment_model_latest(company)
    if stored is None or stored[1].as_of > as_of:
        return None
    model = stored[1]
    ids = {code: (pk, head) for code, pk, head in Customer.objects.filter(company=company)
           .values_list("code", "id", "merged_into_id")}
    wanted = None if customer_ids is None else set(customer_ids)
    ledger = ledger_as_of(company, as_of)
    todo = []
    for item in ledger.items:
        if not item.open_on(as_of) or item.customer not in ids:
            continue
        pk, head = ids[item.customer]
        if wanted is None or (head or pk) in wanted:
            todo.append(item)
    weighted: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    overdue: dict[int, list[tuple[int, date]]] = defaultdict(list)
    for p in predict(ledger, model, todo):
        pk, head = ids[p.item.customer]
        w = weighted[head or pk]
        w[0] += p.default_probability * max(p.item.amount, 0)
        w[1] += max(p.item.amount, 0)
        if p.item.due_date < as_of:
            overdue[head or pk].append((p.item.amount, p.expected))
    scores = model.classifier is not None
    return {c: Outlook(s / n if scores and n > 0 else None, tuple(overdue.get(c, ())))
            for c, (s, n) in weighted.items()}


def model_default_probabilities(company: Company, *, as_of: date,
                                customer_ids: Collection[int] | None = None
                                ) -> dict[int, float] | None:
    """Customer id -> the stored payment model's probability that what it has open on
    ``as_of`` defaults (weighted by the items' amounts; an alias's items count for its
    survivor): what the risk class uses. ``None`` when the company has no stored model
    trained on or before ``as_of`` with a classifier (the risk then comes from behaviour);
    customers with nothing open are not listed. Never trains: one query when there is no
    model, five when there is."""
    return model_chances(payment_outlooks(company, as_of=as_of, customer_ids=customer_ids))


def model_chances(outlooks: dict[int, Outlook] | None) -> dict[int, float] | None:
    """The default probabilities of ``payment_outlooks`` (``None`` without a model or without
    a classifier)."""
    if outlooks is None:
        return None
    chances = {c: o.default_probability for c, o in outlooks.items()
               if o.default_probability is not None}
    return chances if chances or not outlooks else None
