"""PostgreSQL: ``pg_dump`` of the snapshot of one read transaction; ``pg_restore``.

The backup opens a REPEATABLE READ, READ ONLY transaction, exports its snapshot
(``pg_export_snapshot``), reads the manifest's inventory in it and runs ``pg_dump
--snapshot`` on the same snapshot while the transaction stays open: the dump and the manifest
see the same committed transactions, and no one waits for the backup (it takes only the
ACCESS SHARE locks any reader takes). ``pg_dump``'s custom format is compressed and is what
``pg_restore`` reads.

The guards of posted rows are part of the dump: their PL/pgSQL functions are restored before
the data and their triggers after it (pg_dump's post-data section), so loading the rows fires
no guard and the restored database refuses an UPDATE, DELETE or TRUNCATE of a posted row as
the original did. That is why a restore loads schema and data together and never data alone
into guarded tables, and why nothing here sets ``salesledger.allow_truncate``. The restore runs
in one transaction (``--single-transaction``): a refusal of the server leaves the database as
it was. Objects are owned by the restoring user and grants are not restored
(``--no-owner --no-privileges``), so a backup moves to another server and role.

The tools are looked up on ``PATH``; ``pg_dump`` must be of the server's major version or
newer.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import connection, transaction

from salesledger.domain.errors import BackupFailed

DUMP = "database.pgdump"

# Connection settings that the PostgreSQL tools read from the environment.
_OPTION_VARIABLES = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT",
                     "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY"}


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupFailed(f"{name} was not found on PATH: install the PostgreSQL client "
                           "tools of the server's version (package postgresql-client)")
    return found


def _environment() -> dict[str, str]:
    """The connection of the configured database, for the tools (the password in the
    environment, never on a command line that others may list)."""
    settings = connection.settings_dict
    env = dict(os.environ)
    for key, variable in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"),
                          ("PASSWORD", "PGPASSWORD"), ("NAME", "PGDATABASE")):
        if settings.get(key):
            env[variable] = str(settings[key])
    for option, variable in _OPTION_VARIABLES.items():
        value = (settings.get("OPTIONS") or {}).get(option)
        if value:
            env[variable] = str(value)
    return env


def _run(argv: list[str], what: str) -> None:
    done = subprocess.run(argv, env=_environment(), capture_output=True, text=True)
    if done.returncode != 0:
        detail = " ".join(line.strip() for line in done.stderr.strip().splitlines()[:3])
        raise BackupFailed(f"{what} failed (exit {done.returncode}): {detail}; nothing was "
                           "written")


def dump(work: Path, inventory: Callable[[], dict[str, Any]]
         ) -> tuple[str, Path, dict[str, Any], dict[str, Any]]:
    """(name in the backup, the dump, the database's description, its inventory)."""
    target = work / DUMP
    pg_dump = _tool("pg_dump")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
            snapshot, version = cursor.fetchone()
        counted = inventory()
        _run([pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={target}",
              "--dbname", str(connection.settings_dict["NAME"])], "pg_dump")
    return DUMP, target, {"vendor": "postgresql", "version": version}, counted


def restore(source: Path, *, database_has_tables: bool) -> None:
    """Load the verified dump ``source`` into the configured database, in one transaction.
    A database that was migrated but holds no data has its empty tables replaced
    (``--clean``)."""
    pg_restore = _tool("pg_restore")
    name = str(connection.settings_dict["NAME"])
    connection.close()
    clean = ["--clean", "--if-exists"] if database_has_tables else []
    _run([pg_restore, "--single-transaction", "--exit-on-error", "--no-owner",
          "--no-privileges", *clean, "--dbname", name, str(source)], "pg_restore")
