"""The worker runs the credit app's training task: a model is stored for the company. As in
``test_worker.py``, the test runs inside its transaction, so the worker's
``close_old_connections`` between tasks is the one piece replaced."""

from __future__ import annotations

from datetime import date

import pytest
from django_tasks_db.management.commands import db_worker

from salesledger.apps.core.selectors import company_get
from salesledger.apps.credit.prediction import payment_model_latest
from salesledger.apps.credit.tasks import payment_model_train_task
from salesledger.apps.interchange.demo import demo_load

pytestmark = pytest.mark.django_db


def test_the_worker_runs_the_training_task(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from salesledger.worker import make_worker

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    demo_load(code="pdemo", customers=40, seed=5)
    company = company_get("pdemo")
    payment_model_train_task.enqueue("pdemo", "2026-06-30")
    worker = make_worker(worker_id="test-worker")
    worker.run()
    stored = payment_model_latest(company)
    assert stored is not None
    row = stored[0]
    assert row.trained_as_of == date(2026, 6, 30) and row.rows > 0
