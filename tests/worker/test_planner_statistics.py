"""The planner's statistics (``core.maintenance``): gathered on SQLite, where nothing else
gathers them, and refreshed by the worker once a day, not at every round."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django_tasks_db.management.commands import db_worker

from salesledger import worker as worker_module
from salesledger.apps.core.maintenance import planner_statistics_refresh
from salesledger.worker import make_worker, worker_round

pytestmark = pytest.mark.django_db


def test_sqlite_gets_statistics_and_postgresql_is_left_to_its_autovacuum(company, customer):
    gathered = planner_statistics_refresh()
    assert gathered is (connection.vendor == "sqlite")
    if gathered:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'customers_customer'")
            assert cursor.fetchone()[0] > 0


def test_the_worker_refreshes_them_once_a_day(monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(worker_module, "planner_statistics_refresh", lambda: calls.append(1))
    monkeypatch.setattr(worker_module, "_statistics_at", None)
    # the test's transaction holds the connection: the worker must not close it (as in
    # test_worker.py)
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    worker = make_worker(worker_id="stats-test")
    start = datetime(2026, 12, 7, 3, tzinfo=UTC)
    for hours in (0, 1, 23):
        worker_round(worker, now=lambda h=hours: start + timedelta(hours=h))
    assert len(calls) == 1
    worker_round(worker, now=lambda: start + timedelta(hours=24))
    assert len(calls) == 2
