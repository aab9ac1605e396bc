"""Database triggers that make posted rows immutable.

"Posted is forever" is enforced three times: the services refuse, the models' querysets
refuse, and the database refuses even raw SQL. This module writes the third layer for
SQLite (``SELECT RAISE(ABORT, ...)``) and PostgreSQL (PL/pgSQL ``RAISE EXCEPTION``).

Each app guards the models it owns: it calls :func:`protect` in its ``AppConfig.ready``, as
it registers its invariants (the kernel knows no app above it). Triggers are rebuilt from the
current models after every ``migrate`` (see ``apps.py``), so a column added later is covered
without hand-written trigger SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connections, models


@dataclass(frozen=True)
class Guard:
    model: type[models.Model]
    # Rows are guarded only when this SQL condition on OLD holds (None: always).
    when: str | None = None
    # Columns that may still change on a guarded row (cached settlement figures).
    mutable: tuple[str, ...] = ()
    # Refuse INSERT/UPDATE/DELETE of rows whose parent document is posted: the column of the
    # foreign key to the parent, whose ``status`` says whether it is posted.
    parent_posted: str | None = None
    # Text columns that may be emptied (set to '') and never set to anything else: personal
    # data erased from a row that otherwise stays as written (docs/security.md#personal-data).
    erasable: tuple[str, ...] = ()


_guards: dict[str, Guard] = {}


def protect(*guards: Guard) -> None:
    """Guard these models' rows in the database, from the next ``migrate`` (or
    :func:`install_guards`) on. Call from the owning app's ``AppConfig.ready``; guarding a
    model again replaces its guard."""
    for guard in guards:
        _guards[guard.model._meta.label] = guard


def guarded() -> list[str]:
    """The guarded models, by label, in the order they were protected."""
    return list(_guards)


MESSAGE = "posted_is_immutable: {table} rows are posted and cannot be changed or deleted"

# Row triggers do not fire on TRUNCATE, so PostgreSQL also gets a statement trigger per
# guarded table. The test suite empties its tables between tests with TRUNCATE (Django's
# flush); it opens its connections with ``salesledger.allow_truncate=on``
# (``conftest.py``), which no production connection sets. SQLite has no TRUNCATE: its
# ``DELETE FROM`` fires the row triggers above.
ALLOW_TRUNCATE = "salesledger.allow_truncate"
_TRUNCATE_FN = f"""
        BEGIN
          IF coalesce(current_setting('{ALLOW_TRUNCATE}', true), '') = 'on' THEN
            RETURN NULL;
          END IF;
          RAISE EXCEPTION 'posted_is_immutable: % rows are posted and cannot be truncated',
            TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
        END"""


def _columns(model: Any) -> list[str]:
    return [f.column for f in model._meta.concrete_fields]


def _parent_table(model: Any, column: str) -> str:
    [field] = [f for f in model._meta.concrete_fields if f.column == column]
    return str(field.related_model._meta.db_table)


def _sqlite(guard: Guard, model: Any) -> list[str]:
    table = model._meta.db_table
    msg = MESSAGE.format(table=table)
    stmts = []
    if guard.parent_posted:
        parent = _parent_table(model, guard.parent_posted)
        for op, row in (("INSERT", "NEW"), ("UPDATE", "OLD"), ("DELETE", "OLD")):
            cond = (
                f"(SELECT status FROM {parent} WHERE id = {row}.{guard.parent_posted}) = 'posted'"
            )
            stmts.append(
                f"CREATE TRIGGER guard_{table}_{op.lower()} BEFORE {op} ON {table} "
                f"FOR EACH ROW WHEN {cond} BEGIN SELECT RAISE(ABORT, '{msg}'); END"
            )
        return stmts
    changed = " OR ".join(
        f'NEW."{c}" IS NOT OLD."{c}"' + (f""" AND NEW."{c}" IS NOT ''""" if c in guard.erasable
                                          else "")
        for c in _columns(model) if c not in guard.mutable
    )
    upd = f"({changed})" + (f" AND {guard.when}" if guard.when else "")
    stmts.append(
        f"CREATE TRIGGER guard_{table}_update BEFORE UPDATE ON {table} FOR EACH ROW "
        f"WHEN {upd} BEGIN SELECT RAISE(ABORT, '{msg}'); END"
    )
    dele = f" WHEN {guard.when}" if guard.when else ""
    stmts.append(
        f"CREATE TRIGGER guard_{table}_delete BEFORE DELETE ON {table} FOR EACH ROW{dele} "
        f"BEGIN SELECT RAISE(ABORT, '{msg}'); END"
    )
    return stmts


def _postgres(guard: Guard, model: Any) -> list[str]:
    table = model._meta.db_table
    msg = MESSAGE.format(table=table)
    fn = f"guard_{table}_fn"
    if guard.parent_posted:
        parent = _parent_table(model, guard.parent_posted)
        body = f"""
        DECLARE parent_id bigint;
        BEGIN
          IF TG_OP = 'INSERT' THEN parent_id := NEW.{guard.parent_posted};
          ELSE parent_id := OLD.{guard.parent_posted}; END IF;
          IF (SELECT status FROM {parent} WHERE id = parent_id) = 'posted' THEN
            RAISE EXCEPTION '{msg}' USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END"""
        events = "INSERT OR UPDATE OR DELETE"
    else:
        when = guard.when or "TRUE"
        # An erasable column is left out of the comparison when the new value is empty.
        strip = "".join(f" - '{c}'" for c in guard.mutable) + "".join(
            f""" - (CASE WHEN NEW."{c}" = '' THEN '{c}' ELSE '' END)""" for c in guard.erasable)
        body = f"""
        BEGIN
          IF TG_OP = 'DELETE' THEN
            IF {when} THEN
              RAISE EXCEPTION '{msg}' USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN OLD;
          END IF;
          IF {when} AND (to_jsonb(NEW){strip}) IS DISTINCT FROM (to_jsonb(OLD){strip}) THEN
            RAISE EXCEPTION '{msg}' USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          RETURN NEW;
        END"""
        events = "UPDATE OR DELETE"
    return [
        f"CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $${body}$$",
        f"DROP TRIGGER IF EXISTS guard_{table} ON {table}",
        f"CREATE TRIGGER guard_{table} BEFORE {events} ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {fn}()",
        f"DROP TRIGGER IF EXISTS guard_{table}_truncate ON {table}",
        f"CREATE TRIGGER guard_{table}_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION guard_truncate_fn()",
    ]


def guard_statements(vendor: str) -> list[str]:
    stmts: list[str] = []
    for guard in _guards.values():
        model = guard.model
        if vendor == "sqlite":
            table = model._meta.db_table
            for op in ("insert", "update", "delete"):
                stmts.append(f"DROP TRIGGER IF EXISTS guard_{table}_{op}")
            stmts.extend(_sqlite(guard, model))
        elif vendor == "postgresql":
            if not stmts:
                stmts.append("CREATE OR REPLACE FUNCTION guard_truncate_fn() RETURNS trigger "
                             f"LANGUAGE plpgsql AS $${_TRUNCATE_FN}$$")
            stmts.extend(_postgres(guard, model))
        else:
            raise RuntimeError(f"no immutability guards written for database {vendor!r}")
    return stmts


def install_guards(sender: Any = None, using: str = "default", **kwargs: Any) -> None:
    if sender is not None and getattr(sender, "label", None) != "core":
        return
    connection = connections[using]
    with connection.cursor() as cursor:
        for stmt in guard_statements(connection.vendor):
            cursor.execute(stmt)
