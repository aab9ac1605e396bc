"""A batch that reads a large share of a SQLite ledger at random (bank matching: the open
items of thousands of customers, invoices by id, by reference, by amount) reads most of its
pages more than once. SQLite keeps 2 MB of pages in its own cache by default; every other
page read is a system call and a copy of the page. ``pages_mapped`` maps the database
file into the process's memory for the batch (SQLite's ``mmap_size``): a page read is then
a memory access of the operating system's page cache, shared, not copied. What the batch
reads is the same; the setting is the connection's and is restored after. Nothing on
PostgreSQL, whose server keeps its own shared buffers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection

# as much as SQLite maps by default at most (its compile-time ceiling, about 2 GB)
MAPPED_BYTES = 0x7FFF0000


@contextmanager
def pages_mapped(size: int = MAPPED_BYTES, db: Any = None) -> Iterator[None]:
    """The SQLite database file memory-mapped (up to ``size`` bytes) inside; the mapping
    it had before restored after. Nothing on other databases, nor for a database in
    memory (SQLite says no mapping). ``db``: the connection, Django's default one unless
    given."""
    db = connection if db is None else db
    if db.vendor != "sqlite":
        yield
        return
    with db.cursor() as cursor:
        cursor.execute("PRAGMA mmap_size")
        row = cursor.fetchone()
        if row is None:  # a database in memory: nothing to map
            before = None
        else:
            before = int(row[0])
            cursor.execute(f"PRAGMA mmap_size = {int(size)}")
    try:
        yield
    finally:
        if before is not None:
            with db.cursor() as cursor:
                cursor.execute(f"PRAGMA mmap_size = {before}")
