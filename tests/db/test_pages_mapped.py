"""A batch's SQLite file read memory-mapped (apps/core/mapped.py): the connection's setting
while it runs, the one before after it, even when it stops half-way; nothing elsewhere."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from salesledger.apps.core.mapped import MAPPED_BYTES, pages_mapped

pytestmark = pytest.mark.django_db(transaction=False)


class _FileDatabase:
    """A SQLite file of the test's own, as ``pages_mapped`` sees a connection (the tests'
    database is in memory, which SQLite does not map)."""

    vendor = "sqlite"

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path)

    @contextmanager
    def cursor(self) -> Iterator[sqlite3.Cursor]:
        cursor = self.db.cursor()
        try:
            yield cursor
        finally:
            cursor.close()


def _mapped(db: Any) -> int:
    with db.cursor() as cursor:
        cursor.execute("PRAGMA mmap_size")
        return int(cursor.fetchone()[0])


def test_a_sqlite_file_is_mapped_inside_and_as_before_after_even_on_an_error(
        tmp_path: Path) -> None:
    if connection.vendor != "sqlite":
        with pages_mapped():  # nothing to map: the server keeps its own buffers
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                assert cursor.fetchone()[0] == 1
        return
    db = _FileDatabase(tmp_path / "f.sqlite3")
    try:
        before = _mapped(db)
        assert before != MAPPED_BYTES
        with pytest.raises(RuntimeError), pages_mapped(db=db):
            assert _mapped(db) == MAPPED_BYTES
            with db.cursor() as cursor:  # the batch reads as before
                cursor.execute("CREATE TABLE t (x INTEGER)")
                cursor.execute("INSERT INTO t VALUES (7)")
                cursor.execute("SELECT x FROM t")
                assert cursor.fetchone()[0] == 7
            raise RuntimeError("stopped half-way")
        assert _mapped(db) == before
    finally:
        db.db.close()
