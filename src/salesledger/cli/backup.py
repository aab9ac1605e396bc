"""``backup`` and ``restore``: the digital safe (docs/design/backup.md). Parsing and rendering
only; ``salesledger.backup`` does the work. ``restore`` exits 2 when it refuses (a damaged
backup, a database that is not empty, another vendor) and 1 when the restored database does
not pass the verification of ``check``."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .common import Subparsers
from .render import emit_json

# The rows a person looks for first, per company (every table is counted in the manifest).
KEY_ROWS = (("customers_customer", "customer", "customers"),
            ("invoicing_invoice", "invoice or credit note", "invoices and credit notes"),
            ("payments_receipt", "receipt", "receipts"))
VENDORS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _company_line(company: dict[str, Any]) -> str:
    counts = [_count(company["rows"].get(t, 0), one, many) for t, one, many in KEY_ROWS]
    events = _count(company["audit_events"], "audit event", "audit events")
    return (f"  company {company['code']}: {', '.join(counts)}, {events}; audit chain head "
            f"{company['audit_head']}")


def _size(n: int) -> str:
    if n < 1000:
        return f"{n:,} bytes"
    value, unit = n / 1000, "kB"
    for bigger in ("MB", "GB"):
        if value < 1000:
            break
        value, unit = value / 1000, bigger
    return f"{value:.1f} {unit}"


def cmd_backup(args: argparse.Namespace) -> int:
    from salesledger.backup import backup_make, database_label

    now = datetime.now(UTC).replace(microsecond=0)
    path = Path(args.file or f"salesledger-backup-{now.strftime('%Y%m%dT%H%M%SZ')}.tar")
    manifest = backup_make(path=path, now=now)
    if args.json:
        emit_json({"file": str(path), "bytes": path.stat().st_size, "manifest": manifest})
        return 0
    rows = sum(manifest["tables"].values())
    print(f"backup of {database_label()} written to {path} ({_size(path.stat().st_size)}): "
          f"{rows:,} rows in {len(manifest['tables'])} tables")
    for company in manifest["companies"]:
        print(_company_line(company))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from salesledger.backup import backup_restore, database_label

    result = backup_restore(path=Path(args.file))
    manifest, differences = result["manifest"], result["differences"]
    bad = len(differences) + sum(len(p) for p in result["problems"].values())
    args.exit_status = 1 if bad else 0
    if args.json:
        emit_json({"file": args.file, "database": database_label(), "ok": bad == 0,
                   "created_at": manifest["created_at"],
                   "product_version": manifest["product_version"],
                   "companies": manifest["companies"], "differences": differences,
                   "migrated": result["migrated"], "problems": result["problems"]})
        return args.exit_status
    rows = sum(manifest["tables"].values())
    made = manifest["database"]
    print(f"restored {args.file} into {database_label()}")
    print(f"  made {manifest['created_at']} by salesledger {manifest['product_version']} "
          f"from {VENDORS.get(made['vendor'], made['vendor'])} {made.get('version', '')}"
          .rstrip())
    files = ", ".join(f["name"] for f in manifest["files"])
    print(f"  verified before restoring: the manifest, and {files} against its checksum")
    if differences:
        print("  the restored database differs from the backup's manifest:")
        for d in differences:
            print(f"    {d}")
    else:
        print(f"  verified after restoring: {rows:,} rows in {len(manifest['tables'])} tables, "
              "as the manifest says")
    for company in manifest["companies"]:
        print(_company_line(company))
    if result["migrated"]:
        print(f"  brought up to date: {len(result['migrated'])} migration(s) applied")
    for code, problems in result["problems"].items():
        print(f"check {code}: {'ok' if not problems else f'{len(problems)} problem(s)'}")
        for p in problems:
            print(f"  {p}")
    return args.exit_status


# ---------------------------------------------------------------- registration
# The whole database, every company: neither --company nor --as-of nor --user applies.
def _json_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output")


def register_backup(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("backup",
                       help="write a consistent backup of the whole database, while in use",
                       description="Write a consistent backup of the whole database (every "
                       "company) to one file, while the product is in use: SQLite's online "
                       "backup or pg_dump, with a manifest and a checksum of every file.")
    p.set_defaults(handler=cmd_backup)
    _json_option(p)
    p.add_argument("file", nargs="?",
                   help="the backup to write, a new file (default: "
                        "salesledger-backup-YYYYMMDDTHHMMSSZ.tar, in UTC)")


def register_restore(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("restore",
                       help="restore a backup into an empty database, verified",
                       description="Restore a backup into the configured database, which must "
                       "hold no salesledger data. The backup is verified whole before anything "
                       "is written; the restored database is counted against the manifest and "
                       "checked as 'salesledger check' does. Exit 2 when refused, 1 when the "
                       "check finds a problem.")
    p.set_defaults(handler=cmd_restore)
    _json_option(p)
    p.add_argument("file", help="the backup to restore")
