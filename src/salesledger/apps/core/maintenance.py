"""Keeping the database's query planner informed.

SQLite keeps no statistics of what its tables hold unless it is told to gather them
(``ANALYZE``). Without them its planner guesses from the shape of the indexes alone, and on
large books it can guess badly: one customer's statement read the company's invoices through
the issue-date index (0.27 s) instead of the customer's (under 1 ms once analysed). So the
statistics are gathered after the demo is loaded and once a day by the worker
(``worker_round``). ``analysis_limit`` makes SQLite sample each index instead of reading it
whole, so this takes a moment even on a million rows; sampled figures are all a planner needs.

PostgreSQL's autovacuum analyses tables as they change: nothing to do there.
"""

from __future__ import annotations

from django.db import connection

# Rows SQLite samples per index (https://sqlite.org/lang_analyze.html, "approximate ANALYZE").
ANALYSIS_LIMIT = 2000


def planner_statistics_refresh() -> bool:
    """Gather the planner's statistics where the database does not do it by itself; returns
    whether anything was gathered."""
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
        cursor.execute("ANALYZE")
    return True
