"""Multi-row INSERT of plain tuples, for bulk work where ``bulk_create`` is too slow.

``bulk_create`` builds a model instance per row and compiles every value through the
field's conversion chain; for the hundreds of thousands of rows of a large import that is
most of the time spent (measured: about three quarters; SQLite itself took a twentieth).
``insert_rows`` takes rows as tuples of Python values for the named columns, converts only
the column types that need it (dates, datetimes, JSON, decimal text) with the backend's own
adapters, fills every other column with its model default, and writes multi-row
``INSERT ... VALUES (...), (...)`` statements as large as the database allows, optionally
``RETURNING id`` (SQLite 3.35+ and PostgreSQL; the ids come back in row order, as
``bulk_create`` also relies on). Constraints and triggers apply as to any insert: it is a
faster pen, not a way around the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import connections, models, router
from django.utils import timezone

from .fields import DecimalText

_MAX_PARAMS = {"sqlite": 30_000, "postgresql": 60_000}


def _adapter(field: models.Field, connection: Any) -> Callable[[Any], Any] | None:  # type: ignore[type-arg]
    ops = connection.ops
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value  # type: ignore[no-any-return]
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value  # type: ignore[no-any-return]
    if isinstance(field, DecimalText):
        return lambda v: format(v, "f") if type(v) is Decimal else field.get_prep_value(v)
    if isinstance(field, models.JSONField):
        # Text is taken as already-serialised JSON (a snapshot hashed from that very text).
        return lambda v: v if isinstance(v, str) else field.get_db_prep_value(v, connection)
    return None


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]],
                *, returning: bool = False) -> list[int]:
    """Insert ``rows`` (tuples of values for ``columns``, given as attnames such as
    ``customer_id``); other columns get their model default (``auto_now_add``: now).
    Returns the new ids in row order when ``returning``, else an empty list."""
    connection = connections[router.db_for_write(model)]
    opts = model._meta
    given = [opts.get_field(c) for c in columns]
    names = {f.attname for f in given}
    now = timezone.now()
    extra_fields, extra_values = [], []
    for f in opts.concrete_fields:
        if f.primary_key or f.attname in names:
            continue
        extra_fields.append(f)
        extra_values.append(now if getattr(f, "auto_now_add", False) else f.get_default())
    fields = given + extra_fields
    adapters = [_adapter(f, connection) for f in fields]
    extra = [a(v) if a and v is not None else v
             for a, v in zip(adapters[len(given):], extra_values, strict=True)]
    convert = [(i, _memo(a)) for i, a in enumerate(adapters[:len(given)]) if a is not None]
    qn = connection.ops.quote_name
    sqlite = connection.vendor == "sqlite"
    mark = "?" if sqlite else "%s"
    head = (f"INSERT INTO {qn(opts.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
            "VALUES ")
    one = "(" + ", ".join([mark] * len(fields)) + ")"
    tail = f" RETURNING {qn(opts.pk.column)}" if returning else ""
    per_statement = max(1, _MAX_PARAMS.get(connection.vendor, 30_000) // len(fields))
    ids: list[int] = []
    batch: list[Any] = []
    count = 0

    def flush() -> None:
        nonlocal batch, count
        if not count:
            return
        sql = head + ", ".join([one] * count) + tail
        if sqlite:
            # The driver's own cursor, in the same connection and transaction: Django's
            # wrapper would rewrite every %s of a statement with thousands of them.
            connection.ensure_connection()
            with connection.wrap_database_errors:
                cursor = connection.connection.execute(sql, batch)
                rows = cursor.fetchall() if returning else []
                cursor.close()
        else:
            with connection.cursor() as c:
                c.execute(sql, batch)
                rows = c.fetchall() if returning else []
        ids.extend(r[0] for r in rows)
        batch, count = [], 0

    for row in rows:
        if convert:
            row = list(row)
            for i, adapt in convert:
                if row[i] is not None:
                    row[i] = adapt(row[i])
        batch.extend(row)
        batch.extend(extra)
        count += 1
        if count == per_statement:
            flush()
    flush()
    return ids


def _memo(adapt: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``adapt`` that reuses its last result for the same value (dates and the batch's
    timestamp repeat from row to row). A Decimal is reused only when it is the very same
    object: 2.5 and 2.50 are equal but are not written the same."""
    last: list[Any] = [object(), None]

    def convert(value: Any) -> Any:
        prev = last[0]
        if value is not prev and (type(value) is not type(prev) or isinstance(value, Decimal)
                                  or value != prev):
            last[0], last[1] = value, adapt(value)
        return last[1]

    return convert
