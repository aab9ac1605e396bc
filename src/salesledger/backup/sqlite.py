"""SQLite: a copy made with the online backup API, from inside one read transaction.

In WAL mode a read transaction sees the database as it was when it began, however long it
lasts, while other connections go on writing (they append to the write-ahead log, which the
reader ignores). ``Connection.backup`` called on that connection copies exactly that
snapshot, page by page; the manifest's inventory is read in the same transaction, so copy and
manifest agree. Writers are never blocked. The copy is switched to a rollback journal, so that
the backup holds one self-contained file.

A restore copies the verified file into the configured database with the same API, which
replaces the whole database (schema, data, triggers) in one step.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import connection

DUMP = "database.sqlite3"


def dump(work: Path, inventory: Callable[[], dict[str, Any]]
         ) -> tuple[str, Path, dict[str, Any], dict[str, Any]]:
    """(name in the backup, the copy, the database's description, its inventory)."""
    target = work / DUMP
    connection.ensure_connection()
    raw = connection.connection
    with connection.cursor() as cursor:
        cursor.execute("BEGIN DEFERRED")
        try:
            # The first read fixes the snapshot that the copy and the inventory both see.
            cursor.execute("SELECT COUNT(*) FROM sqlite_master")
            copy = sqlite3.connect(target)
            try:
                raw.backup(copy)
                copy.execute("PRAGMA journal_mode=DELETE")
            finally:
                copy.close()
            counted = inventory()
        finally:
            cursor.execute("ROLLBACK")
    return DUMP, target, {"vendor": "sqlite", "version": sqlite3.sqlite_version}, counted


def restore(source: Path, *, database_has_tables: bool) -> None:
    """Replace the configured database with the verified copy ``source``."""
    name = Path(connection.settings_dict["NAME"])
    connection.close()
    name.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(name)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
