"""The digital safe: ``salesledger backup`` and ``salesledger restore`` (docs/design/backup.md).

A backup is taken while the product runs, and is consistent: the copy of the database and the
inventory its manifest records (``core/inventory.py``) are read in one snapshot, that of a
single read transaction, so that they agree with each other whatever other processes write
meanwhile. SQLite copies with its online backup API from that transaction
(``backup/sqlite.py``); PostgreSQL runs ``pg_dump`` on the snapshot the transaction exports
(``backup/postgres.py``). The file is one tar archive (``formats/backup.py``).

A restore trusts nothing it has not checked, and checks in this order, writing nothing until
all is well: the archive and every checksum; the backup's vendor against the database's; that
this version knows every migration of the backup; that the database holds no salesledger data.
Then it restores, counts what the database now holds against the manifest, brings an older
backup's schema up to date, and runs the verification of ``salesledger check`` (ledger
invariants and audit chains).

An operational interface, like the worker: it stands above the apps and calls their selectors.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.db import connection

from salesledger import __version__
from salesledger.apps.core.invariants import check_company
from salesledger.apps.core.inventory import (
    database_holdings,
    database_inventory,
    migrations_applied,
    migrations_known,
)
from salesledger.apps.core.selectors import companies_all
from salesledger.domain.errors import BackupDamaged, BackupFailed, RestoreRefused
from salesledger.formats.backup import (
    FORMAT,
    FORMAT_VERSION,
    archive_open,
    archive_write,
    inventory_differences,
)

from . import postgres, sqlite

_VENDORS = {"sqlite": sqlite, "postgresql": postgres}
_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _vendor() -> Any:
    module = _VENDORS.get(connection.vendor)
    if module is None:
        raise BackupFailed(f"salesledger backs up SQLite and PostgreSQL databases, not "
                           f"{connection.vendor}")
    return module


def database_label() -> str:
    return f"{_LABELS.get(connection.vendor, connection.vendor)} {connection.settings_dict['NAME']}"


def backup_make(*, path: Path, now: datetime) -> dict[str, Any]:
    """Write a backup of the whole database to ``path`` (a new file) and return its manifest.
    ``now`` is recorded as the time the backup was made."""
    vendor = _vendor()
    if connection.in_atomic_block:
        raise BackupFailed("a backup is taken outside any transaction of the caller")
    if path.exists():
        raise BackupFailed(f"{path} exists already: give a new file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=".salesledger-backup-") as work:
            name, dump, database, inventory = vendor.dump(Path(work), database_inventory)
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "product": "salesledger",
                "product_version": __version__,
                "created_at": now.isoformat(timespec="seconds"),
                "database": database,
                **inventory,
            }
            return archive_write(path, manifest, [(name, dump)], mtime=now.timestamp())
    except OSError as exc:  # a full disk, a directory we may not write to
        raise BackupFailed(f"cannot write the backup {path}: {exc.strerror or exc}; nothing "
                           "was left behind") from None


def backup_restore(*, path: Path) -> dict[str, Any]:
    """Restore the backup ``path`` into the configured database, which must hold no
    salesledger data; returns what was restored and what the verification found:
    ``manifest``, ``differences`` (between the manifest and the restored database),
    ``migrated`` (migrations applied after the restore) and ``problems`` (of ``check``, per
    company)."""
    vendor = _vendor()
    with tempfile.TemporaryDirectory(prefix=".salesledger-restore-") as work:
        try:
            opened = archive_open(path, Path(work))
        except OSError as exc:  # unreadable, or no room to copy it out
            raise BackupFailed(f"cannot read the backup {path}: {exc.strerror or exc}; "
                               "nothing was restored") from None
        manifest = opened.manifest
        _refuse_unless_restorable(manifest, opened.files, vendor)
        vendor.restore(opened.files[vendor.DUMP], database_has_tables=_has_tables())
    connection.close()  # the schema was replaced under it: start afresh
    differences = inventory_differences(manifest, database_inventory())
    known = {(a, n) for a, n in migrations_known()}
    applied = {(a, n) for a, names in migrations_applied().items() for n in names}
    migrated = sorted(f"{a}.{n}" for a, n in known - applied)
    if migrated:
        call_command("migrate", interactive=False, verbosity=0)
    problems = {c.code: [str(p) for p in check_company(c)] for c in companies_all()}
    return {"manifest": manifest, "differences": differences, "migrated": migrated,
            "problems": problems}


def _refuse_unless_restorable(manifest: dict[str, Any], files: dict[str, Path],
                              vendor: Any) -> None:
    made_on = manifest["database"].get("vendor")
    if made_on != connection.vendor:
        raise RestoreRefused(
            f"the backup is of a {_LABELS.get(made_on, made_on)} database and the configured "
            f"database ({database_label()}) is {_LABELS[connection.vendor]}: restore it into "
            f"a {_LABELS.get(made_on, made_on)} database (or export and import CSV files to "
            "move between vendors)")
    if vendor.DUMP not in files:
        raise BackupDamaged(f"the backup holds no {vendor.DUMP}: it is not a whole backup")
    theirs = {(a, n) for a, names in manifest["migrations"].items() for n in names}
    newer = sorted(f"{a}.{n}" for a, n in theirs - migrations_known())
    if newer:
        raise RestoreRefused(
            f"the backup was made by a newer salesledger ({manifest['product_version']}, this "
            f"is {__version__}): its schema has migrations this version does not know "
            f"({', '.join(newer[:3])}{' …' if len(newer) > 3 else ''}); restore it with that "
            "version or a newer one")
    holdings = database_holdings()
    if holdings:
        rows = sum(holdings.values())
        shown = ", ".join(f"{t} {n}" for t, n in sorted(holdings.items())[:3])
        raise RestoreRefused(
            f"the database ({database_label()}) holds salesledger data ({rows:,} rows in "
            f"{len(holdings)} tables: {shown}{' …' if len(holdings) > 3 else ''}): a backup "
            "is restored only into an empty database; nothing was written")
    ours = {(a, n) for a, names in migrations_applied().items() for n in names}
    if ours - theirs:
        raise RestoreRefused(
            f"the database ({database_label()}) was set up by a newer salesledger than the "
            "backup's: restore into a new, empty database; nothing was written")


def _has_tables() -> bool:
    return bool(connection.introspection.table_names())
