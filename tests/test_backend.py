"""Which database this run is on, and that CI's PostgreSQL run really is on PostgreSQL.

``scripts/test`` runs the suite on SQLite (``SALESLEDGER_DATABASE_URL`` unset) and then on
PostgreSQL (set). Tests marked ``postgres`` are skipped on SQLite, which is right for the
SQLite run; what must never happen is that the run meant to be on PostgreSQL silently falls
back to another database and skips them all. These tests catch that.
"""

from __future__ import annotations

import os

import pytest
from conftest import POSTGRES_SKIP_REASON, database_vendor
from django.db import connection

POSTGRES_SCHEMES = ("postgres://", "postgresql://", "pgsql://")


def test_backend_follows_the_database_url():
    url = os.environ.get("SALESLEDGER_DATABASE_URL", "").strip()
    if url.startswith(POSTGRES_SCHEMES):
        assert connection.vendor == "postgresql"
    elif not url:
        assert connection.vendor == "sqlite"
    assert database_vendor() == connection.vendor


def test_ci_runs_postgres_suite():
    if os.environ.get("CI") != "true" or not os.environ.get("SALESLEDGER_DATABASE_URL"):
        pytest.skip("only in CI's PostgreSQL run (CI=true and SALESLEDGER_DATABASE_URL set)")
    assert connection.vendor == "postgresql", (
        "CI gave a database URL but the suite runs on "
        f"{connection.vendor}: the PostgreSQL-only tests would all be skipped")


def test_postgres_tests_are_skipped_only_off_postgresql(request):
    races = [item for item in request.session.items
             if item.get_closest_marker("postgres") is not None]
    skips = [m for item in races for m in item.iter_markers("skip")
             if m.kwargs.get("reason") == POSTGRES_SKIP_REASON]
    if connection.vendor == "postgresql":
        assert skips == []
    else:
        assert len(skips) == len(races)
