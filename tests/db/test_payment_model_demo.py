"""The payment-date model on the demo company (above the credit app, so here): a model is
trained, gives dates within their spread and probabilities, feeds the risk score's figure and
the collections worklist, is stored, used only for days on or after its own, refused when its
bytes are not those written, and trained again nightly by the worker's calendar."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from salesledger.apps.collections.selectors import worklist
from salesledger.apps.core.models import AuditEvent
from salesledger.apps.core.selectors import company_get
from salesledger.apps.credit.models import PaymentModel
from salesledger.apps.credit.prediction import (
    backtest,
    default_probabilities,
    ledger_as_of,
    model_chances,
    model_default_probabilities,
    payment_model_latest,
    payment_model_train,
    payment_outlooks,
    payment_predictions,
    predict,
    train,
)
from salesledger.apps.credit.selectors import risk_scores
from salesledger.apps.credit.tasks import JOB_PAYMENT_MODEL, payment_models_enqueue
from salesledger.apps.interchange.demo import demo_load
from salesledger.apps.reporting.selectors import cash_forecast, forecast_estimator
from salesledger.domain.collections import expected_value, waiting_share
from tests.support import loaded_once_per_module

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def _demo_books(django_db_setup: None, django_db_blocker: Any) -> Iterator[Any]:
    """The demo company, loaded once for the module's tests (2.7 CPU s a load); each test
    still starts from the books as loaded (tests/support.py)."""
    yield from loaded_once_per_module(
        django_db_blocker, lambda: demo_load(code="pdemo", customers=40, seed=5))


@pytest.fixture
def demo_company(_demo_books: Any, db: None) -> Any:
    return company_get("pdemo")


def test_the_model_on_the_demo_company(demo_company: Any, owner: Any) -> None:
    day = date(2026, 6, 30)
    ledger = ledger_as_of(demo_company, day)
    model = train(ledger)
    assert model is not None and model.classifier is not None and model.rows >= 200
    predictions = predict(ledger, model)
    assert {"model", "median"} >= {p.method for p in predictions}
    assert any(p.method == "model" for p in predictions)
    for p in predictions:
        assert day < p.p10 <= p.expected <= p.p90 or p.method == "median"
        assert 0 <= p.default_probability <= 1
    result = backtest(demo_company, as_of=day, known=date(2026, 11, 20))
    assert result.invoices > 20 and result.model_auc is not None
    assert result.model_mae is not None and result.baseline_mae is not None
    print("demo 40 customers, backtest on 2026-06-30:", result.as_dict())
    # a small generated ledger: the target is 0.8 of the per-customer average's
    # error; this ledger gives 0.762 with model version 5 (9.84 days against 12.92; 0.799
    # with version 4, 0.835 with version 3: docs/design/payment-prediction.md), so the guard
    # is the 0.8, a margin of 0.038: a regression to version 3 fails (version 4
    # passed it by 0.001)
    assert result.model_mae <= 0.8 * result.baseline_mae
    assert result.model_auc >= 0.8
    # the risk score's figure: each customer's open items, weighted by amount
    chances = default_probabilities(demo_company, as_of=day)
    first = next(p for p in predictions if p.item.customer in chances)
    mine = [p for p in predictions if p.item.customer == first.item.customer]
    assert chances[first.item.customer] == pytest.approx(
        sum(p.default_probability * p.item.amount for p in mine)
        / sum(p.item.amount for p in mine))


def test_a_stored_model_is_used_and_trained_nightly(demo_company: Any, owner: Any) -> None:
    day = date(2026, 6, 30)
    assert payment_models_enqueue(now=datetime(2026, 7, 1, 1, tzinfo=UTC)) == []
    # without a stored model the cash-flow forecast expects each payer's median delay
    assert forecast_estimator(demo_company, as_of=day) == "median"
    row = payment_model_train(actor=None, company=demo_company, as_of=day)
    assert row is not None and row.rows > 0 and len(row.sha256) == 64
    assert AuditEvent.objects.filter(company=demo_company,
                                     action="credit.payment_model_train").count() == 1
    stored = payment_model_latest(demo_company)
    assert stored is not None and stored[0].pk == row.pk
    used = payment_predictions(demo_company, as_of=day)
    assert used.model is not None and used.model.pk == row.pk
    # a day before the model's is predicted by a model trained for that day, not this one
    assert payment_predictions(demo_company, as_of=day - timedelta(days=1)).model is None
    # with one, the forecast's estimator is the model by default (its backtest error is
    # lower: docs/design/forecast.md), the median on a day before the model's or when asked
    assert forecast_estimator(demo_company, as_of=day) == "model"
    assert forecast_estimator(demo_company, as_of=day - timedelta(days=1)) == "median"
    assert forecast_estimator(demo_company, as_of=day, estimator="median") == "median"
    by_default = cash_forecast(demo_company, as_of=day, weeks=8)
    assert by_default == cash_forecast(demo_company, as_of=day, weeks=8, estimator="model")
    assert by_default != cash_forecast(demo_company, as_of=day, weeks=8, estimator="median")
    # the risk class takes the stored model's default probability where it scores something
    # open, its factor first; the customers with nothing open keep the behaviour's points
    risks = risk_scores(demo_company, day)
    chances = model_default_probabilities(demo_company, as_of=day)
    assert chances and set(chances) < set(risks)
    for cid, risk in risks.items():
        if cid in chances:
            assert (risk.basis, risk.default_probability) == ("model", round(chances[cid], 4))
            assert risk.factors[0].code == "model"
        else:
            assert risk.basis == "behaviour"
    assert {r.basis for r in risks.values()} == {"model", "behaviour"}
    # the collections worklist weighs each customer by the share of its overdue amount the
    # model does not expect paid within the month (one read of the model for both)
    outlooks = payment_outlooks(demo_company, as_of=day)
    assert outlooks is not None and model_chances(outlooks) == chances
    rows = worklist(demo_company, as_of=day)
    shares = []
    for r in rows:
        o = outlooks.get(r.customer_id)
        share = waiting_share(o.overdue, day) if o else Decimal(1)
        shares.append(share)
        assert r.value == expected_value(r.overdue - r.held,
                                         Decimal(str(r.default_probability)), r.days_overdue,
                                         share)
    # (each predicted date is at least the day after: every share is above nought)
    assert rows and all(0 < s <= 1 for s in shares) and any(s < 1 for s in shares)
    # no model for a day before the stored one's (the risk never trains one)
    assert model_default_probabilities(demo_company, as_of=day - timedelta(days=1)) is None
    assert {r.basis for r in risk_scores(demo_company, day - timedelta(days=1)).values()} == {
        "behaviour"}
    # bytes that are not what was written are never loaded
    PaymentModel.objects.filter(pk=row.pk).update(sha256="0" * 64)
    assert payment_model_latest(demo_company) is None
    assert {r.basis for r in risk_scores(demo_company, day).values()} == {"behaviour"}
    # the worker's calendar enqueues one training a local day for a company with a model
    now = datetime(2026, 7, 1, 1, tzinfo=UTC)
    [job] = payment_models_enqueue(now=now)
    assert (job.company, job.job, job.day) == ("pdemo", JOB_PAYMENT_MODEL, "2026-07-01")
    assert payment_models_enqueue(now=now) == []
