"""Inserting many rows given as plain tuples, for bulk work where ``bulk_create`` is too slow.

``bulk_create`` builds a model instance per row and compiles every value through the
field's conversion chain; for the hundreds of thousands of rows of a large import that was
about three quarters of the time (SQLite itself took a twentieth). ``insert_rows`` takes
rows as tuples of Python values for the named columns, converts only the column types that
need it (dates, datetimes, JSON, decimal text), fills every other column with its model
default, and writes them the fastest way each database offers:

* SQLite: multi-row ``INSERT ... VALUES (...), (...) RETURNING id`` statements as large as
  the driver allows (the ids come back in row order, as ``bulk_create`` also relies on);
* PostgreSQL: ``COPY ... FROM STDIN``; when ids are wanted they are first drawn from the
  table's sequence (``nextval``), so they are known, in order, before the rows are sent.

Constraints and triggers apply as to any insert (PostgreSQL fires row triggers for COPY):
it is a faster pen, not a way around the rules. Call it inside the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.db import connections, models, router
from django.utils import timezone

from .fields import DecimalText

_SQLITE_MAX_PARAMS = 30_000  # SQLite 3.32+ allows 32,766 host parameters per statement


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
    fields = [*given, *extra_fields]
    adapters = [_adapter(f, connection) for f in fields]
    extra = [a(v) if a and v is not None else v
             for a, v in zip(adapters[len(given):], extra_values, strict=True)]
    convert = [(i, _memo(a)) for i, a in enumerate(adapters[:len(given)]) if a is not None]

    def prepared() -> Iterator[list[Any]]:
        for row in rows:
            out = list(row)
            for i, adapt in convert:
                if out[i] is not None:
                    out[i] = adapt(out[i])
            out.extend(extra)
            yield out

    if connection.vendor == "postgresql":
        return _copy(connection, opts, fields, prepared(), returning)
    return _insert(connection, opts, fields, prepared(), returning)


def _adapter(field: Any, connection: Any) -> Callable[[Any], Any] | None:
    ops, pg = connection.ops, connection.vendor == "postgresql"
    if isinstance(field, models.DateTimeField):
        return None if pg else ops.adapt_datetimefield_value  # type: ignore[no-any-return]
    if isinstance(field, models.DateField):
        return None if pg else ops.adapt_datefield_value  # type: ignore[no-any-return]
    if isinstance(field, DecimalText):
        return lambda v: format(v, "f") if type(v) is Decimal else field.get_prep_value(v)
    if isinstance(field, models.JSONField):
        # Text is taken as already-serialised JSON (a snapshot hashed from that very text).
        # Anything else is serialised as JSONField.get_prep_value does.
        return lambda v: v if isinstance(v, str) else json.dumps(v, cls=field.encoder)
    return None


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


def _insert(connection: Any, opts: Any, fields: list[Any], rows: Iterator[list[Any]],
            returning: bool) -> list[int]:
    qn = connection.ops.quote_name
    head = (f"INSERT INTO {qn(opts.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
            "VALUES ")
    one = "(" + ", ".join(["?"] * len(fields)) + ")"
    tail = f" RETURNING {qn(opts.pk.column)}" if returning else ""
    per_statement = max(1, _SQLITE_MAX_PARAMS // len(fields))
    ids: list[int] = []
    connection.ensure_connection()
    # The driver's own cursor, on the same connection and in the same transaction: Django's
    # wrapper would rewrite every %s of a statement that has thousands of them.
    raw = connection.connection
    batch: list[Any] = []
    count = 0
    for row in rows:
        batch.extend(row)
        count += 1
        if count == per_statement:
            ids.extend(_execute(connection, raw, head + ", ".join([one] * count) + tail, batch,
                                returning))
            batch, count = [], 0
    # The rest in statements of power-of-two sizes: the driver keeps every distinct
    # statement text compiled (up to 128 per connection, some megabytes each for thousands
    # of rows), so a remainder of any size would make a new one in every call and memory
    # would grow with the number of calls; this way there are a few sizes, reused.
    start = 0
    width = len(fields)
    for size in _powers_of_two(count):
        ids.extend(_execute(connection, raw, head + ", ".join([one] * size) + tail,
                            batch[start * width:(start + size) * width], returning))
        start += size
    return ids


def _powers_of_two(count: int) -> list[int]:
    """``count`` as a sum of distinct powers of two, largest first (13 -> 8, 4, 1)."""
    return [1 << b for b in range(count.bit_length() - 1, -1, -1) if count >> b & 1]


def _execute(connection: Any, raw: Any, sql: str, params: list[Any], returning: bool
             ) -> list[int]:
    with connection.wrap_database_errors:
        cursor = raw.execute(sql, params)
        try:
            return [r[0] for r in cursor.fetchall()] if returning else []
        finally:
            cursor.close()


def _copy(connection: Any, opts: Any, fields: list[Any], rows: Iterator[list[Any]],
          returning: bool) -> list[int]:
    qn = connection.ops.quote_name
    table = qn(opts.db_table)
    rows_list = list(rows) if returning else rows
    ids: list[int] = []
    with connection.cursor() as cursor:
        if returning:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) "
                           "FROM generate_series(1, %s)",
                           [opts.db_table, opts.pk.column, len(rows_list)])
            ids = sorted(r[0] for r in cursor.fetchall())
            fields = [opts.pk, *fields]
            rows_list = ([pk, *row] for pk, row in zip(ids, rows_list, strict=True))
        sql = f"COPY {table} ({', '.join(qn(f.column) for f in fields)}) FROM STDIN"
        with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
            for row in rows_list:
                copy.write_row(row)
    return ids


def update_column(model: type[models.Model], column: str, values: Sequence[tuple[int, Any]]
                  ) -> int:
    """Set ``column`` of the rows with these ids to these values: ``(id, value)`` pairs;
    what ``bulk_update`` does with one ``CASE`` branch per row, without its per-row
    compilation. PostgreSQL: one statement whatever their number, the ids and the values
    sent as two arrays (``UPDATE ... FROM unnest(...)``: one statement text, nothing for
    the driver to rewrite). SQLite (3.33+): one ``UPDATE ... FROM (VALUES ...)`` statement
    per 2,048 rows or part of it, the part's list made up to a power of two by repeating
    its last pair (a row set twice to the same value is updated once), so that a few
    statement texts serve every size (see ``_insert``). Only for the columns a model lets
    change (``MUTABLE_FIELDS``): the database triggers refuse any other change to a posted
    row anyway. Returns the number of rows updated."""
    if column not in getattr(model, "MUTABLE_FIELDS", ()):
        raise ValueError(f"{model.__name__}.{column} is not a column that may change")
    connection = connections[router.db_for_write(model)]
    opts = model._meta
    qn = connection.ops.quote_name
    field = opts.get_field(column)
    table, col = qn(opts.db_table), qn(field.column)
    pk = qn(opts.pk.column)
    if not values:
        return 0
    if connection.vendor == "postgresql":
        key_type = opts.pk.rel_db_type(connection)  # the plain type (bigint, not bigserial)
        sql = (f"UPDATE {table} SET {col} = v.value FROM unnest(%s::{key_type}[], "
               f"%s::{field.db_type(connection)}[]) AS v(id, value) WHERE {table}.{pk} = v.id")
        with connection.cursor() as cursor:
            cursor.execute(sql, [[pair[0] for pair in values],
                                 [field.get_db_prep_value(pair[1], connection)
                                  for pair in values]])
            return int(cursor.rowcount)
    done = 0
    for i in range(0, len(values), 2048):
        chunk = list(values[i:i + 2048])
        size = 1 << (len(chunk) - 1).bit_length()
        chunk.extend([chunk[-1]] * (size - len(chunk)))
        sql = (f"UPDATE {table} SET {col} = v.column2 FROM (VALUES "
               + ", ".join(["(%s, %s)"] * size)
               + f") AS v WHERE {table}.{pk} = v.column1")
        with connection.cursor() as cursor:
            cursor.execute(sql, [x for pair in chunk for x in pair])
            done += cursor.rowcount
    return done
