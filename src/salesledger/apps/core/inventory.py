"""What a database holds, counted: the inventory a backup's manifest records and a restore
checks again (docs/design/backup.md).

- the migrations applied, per app;
- the rows of every table of the installed models (salesledger's, the users', the task
  queue's);
- per company: the rows of every table that carries ``company_id`` (every table of business
  data does: docs/design/tenancy.md) and the head of its audit chain (the number of events and
  the last hash), which `salesledger check` verifies against the events themselves.

Read-only, a fixed number of queries per table, on the default connection: the caller decides
which snapshot they see (a backup reads them in the transaction it copies). Which tables to
count is found from the installed models, so a table added later is counted without a change
here.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.apps import apps
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from .models import AuditChain, Company

# Rows that `migrate` writes into an empty database: they are not anyone's data.
MIGRATE_WRITES = frozenset({"django_migrations", "django_content_type", "auth_permission"})


def _tables() -> list[str]:
    return sorted(connection.introspection.django_table_names(only_existing=True))


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
        return int(cursor.fetchone()[0])


def _company_tables() -> list[str]:
    """The tables whose rows belong to a company (a ``company_id`` column to the company)."""
    out = set()
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if field.column == "company_id" and field.related_model is Company:
                out.add(model._meta.db_table)
    return sorted(out)


def migrations_applied() -> dict[str, list[str]]:
    """The migrations recorded as applied, per app, each list in name order."""
    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return {}
    out: dict[str, list[str]] = defaultdict(list)
    for app, name in recorder.applied_migrations():
        out[app].append(name)
    return {app: sorted(names) for app, names in sorted(out.items())}


def migrations_known() -> set[tuple[str, str]]:
    """The migrations this version of salesledger ships, as (app, name)."""
    return set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


def database_holdings() -> dict[str, int]:
    """The tables that hold rows someone wrote, with their rows (none: an empty database,
    whether or not it was migrated)."""
    counts = {t: _count(t) for t in _tables() if t not in MIGRATE_WRITES}
    return {t: n for t, n in counts.items() if n}


def database_inventory() -> dict[str, Any]:
    """The inventory of the whole database (see the module's docstring), as plain JSON
    values: ``migrations``, ``tables`` (table: rows) and ``companies`` (code, name, rows per
    table, audit events, audit chain head), companies in code order."""
    tables = {t: _count(t) for t in _tables()}
    codes = dict(Company.objects.values_list("id", "code"))
    rows: dict[int, dict[str, int]] = {pk: {} for pk in codes}
    for table in _company_tables():
        if not tables.get(table):
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT company_id, COUNT(*) FROM {connection.ops.quote_name(table)} "
                           "GROUP BY company_id")
            for company_id, n in cursor.fetchall():
                rows.setdefault(company_id, {})[table] = int(n)
    heads = {c: (seq, h) for c, seq, h in
             AuditChain.objects.values_list("company_id", "last_seq", "last_hash")}
    companies = []
    for pk, code in sorted(codes.items(), key=lambda kv: kv[1]):
        seq, head = heads.get(pk, (0, "0" * 64))
        companies.append({"code": code, "rows": dict(sorted(rows[pk].items())),
                          "audit_events": int(seq), "audit_head": head})
    return {"migrations": migrations_applied(), "tables": tables, "companies": companies}
