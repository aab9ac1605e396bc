"""The digital safe, end to end on the run's database (SQLite or PostgreSQL), every command
in a process of its own: a demo company is backed up, restored into a new database, and the
restored books must say exactly what the original said; a backup taken while another
process records receipts restores to books that pass ``check``; a damaged backup, one of
another vendor or of a newer version, and a database that is not empty are refused, with
exit 2, a message naming what is wrong, and nothing written (docs/design/backup.md)."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import database_vendor

from salesledger.formats.backup import MANIFEST, seal

from .conftest import AS_OF, Database, cli, reports

VENDOR = database_vendor()
DUMP = "database.pgdump" if VENDOR == "postgresql" else "database.sqlite3"


@dataclass(frozen=True)
class Books:
    db: Database
    backup: Path
    said: dict[str, Any]  # the reports of the original, before anything else ran


@pytest.fixture(scope="module")
def books(new_database: Callable[[str], Database]) -> Books:
    db = new_database("src")
    done = cli(db, "demo", "--customers", "4", "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr
    said = reports(db)
    done = cli(db, "backup", "books.tar", "--json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["file"] == "books.tar"
    assert answer["bytes"] == (db.home / "books.tar").stat().st_size
    assert [c["code"] for c in answer["manifest"]["companies"]] == ["demo"]
    assert answer["manifest"]["database"]["vendor"] == VENDOR
    return Books(db, db.home / "books.tar", said)


@pytest.fixture(scope="module")
def restored(books: Books, new_database: Callable[[str], Database]) -> tuple[Database, str]:
    db = new_database("dst")
    done = cli(db, "restore", str(books.backup))
    assert done.returncode == 0, done.stdout + done.stderr
    return db, done.stdout


def _tables(db: Database) -> list[str]:
    if VENDOR == "postgresql":
        return [r[0] for r in db.sql("SELECT table_name FROM information_schema.tables "
                                     "WHERE table_schema = 'public'")]
    file = db.home / "var" / "salesledger.sqlite3"
    if not file.exists():
        return []
    return [r[0] for r in db.sql("SELECT name FROM sqlite_master WHERE type = 'table'")]


def _manifest(backup: Path) -> dict[str, Any]:
    with tarfile.open(backup) as tar:
        fh = tar.extractfile(MANIFEST)
        assert fh is not None
        manifest: dict[str, Any] = json.load(fh)
        return manifest


# ---------------------------------------------------------------- the same books again
def test_the_restored_books_say_exactly_what_the_original_said(
        books: Books, restored: tuple[Database, str]) -> None:
    db, printed = restored
    # then the restore verified the backup, counted the rows and ran check
    assert "verified before restoring: the manifest, and " + DUMP in printed
    assert "as the manifest says" in printed
    assert "check demo: ok" in printed
    # and every report, statement and export is what the original gave
    again = reports(db)
    assert again.keys() == books.said.keys()
    for name in books.said:
        assert again[name] == books.said[name], name
    assert again["check"] == {"ok": True, "problems": {"demo": []}}
    # and the manifest recorded what the books hold, the audit chain head included
    [company] = _manifest(books.backup)["companies"]
    head = db.sql("SELECT last_hash FROM core_auditchain")[0][0]
    assert company["audit_head"] == head and company["rows"]["payments_receipt"] > 0


def test_the_guards_of_posted_rows_survive_the_restore(restored: tuple[Database, str]) -> None:
    db, _ = restored
    [(invoice,)] = db.sql("SELECT MIN(id) FROM invoicing_invoice WHERE status = 'posted'")
    with pytest.raises(Exception, match="posted_is_immutable"):
        db.sql(f"UPDATE invoicing_invoice SET total = total + 1 WHERE id = {invoice}")
    with pytest.raises(Exception, match="posted_is_immutable"):
        db.sql("DELETE FROM core_auditevent")
    if VENDOR == "postgresql":
        with pytest.raises(Exception, match="posted_is_immutable"):
            db.sql("TRUNCATE core_auditevent CASCADE")
    assert db.sql(f"SELECT COUNT(*) FROM invoicing_invoice WHERE id = {invoice}") == [(1,)]


def test_a_database_that_holds_data_is_refused_and_left_as_it_was(books: Books) -> None:
    before = books.db.sql("SELECT COUNT(*), MAX(seq) FROM core_auditevent")
    done = cli(books.db, "restore", str(books.backup))
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("restore_refused: the database (")
    assert "holds salesledger data" in done.stderr and "nothing was written" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert books.db.sql("SELECT COUNT(*), MAX(seq) FROM core_auditevent") == before


# ---------------------------------------------------------------- while in use
_WRITER = """
import contextlib, io, pathlib, sys
from salesledger.cli.main import main
customer, stop = sys.argv[1], pathlib.Path(sys.argv[2])
n = 0
while not stop.exists():
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        assert main(["receipt", "record", "--customer", customer, "--amount", "1.00",
                     "--date", sys.argv[3]]) == 0
    number = text.getvalue().split()[1].rstrip(":")
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["receipt", "allocate", number, "--auto", "--as-of", sys.argv[3]]) == 0
    n += 1
    print(n, flush=True)
"""


def _wait_until(proc: subprocess.Popen[str], written: int) -> None:
    """Read the writer's count until it has recorded ``written`` receipts in all."""
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    while True:
        line = proc.stdout.readline()
        assert line and time.monotonic() < deadline, "the writer stopped"
        if int(line) >= written:
            return


def test_a_backup_taken_while_receipts_are_recorded_restores_to_books_that_pass_check(
        books: Books, new_database: Callable[[str], Database]) -> None:
    # given books in use: a process recording and allocating receipts, one after another
    live = new_database("live")
    done = cli(live, "restore", str(books.backup), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    answer = json.loads(done.stdout)
    assert (answer["ok"], answer["differences"], answer["problems"]) == (True, [], {"demo": []})
    customer = next(i["customer"] for i in books.said["open-items"]
                    if i["type"] == "instalment")
    receipts_before = len(books.said["export receipts"])
    stop = live.home / "stop"
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, customer, str(stop), AS_OF],
                              env=live.env, cwd=live.home, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        _wait_until(writer, 3)
        # when a backup is taken meanwhile
        done = cli(live, "backup", "during.tar")
        assert done.returncode == 0, done.stderr
        [company] = _manifest(live.home / "during.tar")["companies"]
        in_backup = company["rows"]["payments_receipt"]
        _wait_until(writer, in_backup - receipts_before + 3)  # it went on writing after
    finally:
        stop.touch()
        _, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    # then the backup holds some of the receipts, not all of them
    [(in_the_end,)] = live.sql("SELECT COUNT(*) FROM payments_receipt")
    assert receipts_before + 3 <= in_backup <= in_the_end - 3
    # and restored into a new database, it matches its manifest and passes check
    after = new_database("after")
    done = cli(after, "restore", str(live.home / "during.tar"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "as the manifest says" in done.stdout and "check demo: ok" in done.stdout
    assert after.sql("SELECT COUNT(*) FROM payments_receipt") == [(in_backup,)]


# ---------------------------------------------------------------- refused
def _members(backup: Path) -> list[tuple[str, bytes]]:
    with tarfile.open(backup) as tar:
        out = []
        for m in tar.getmembers():
            fh = tar.extractfile(m)
            assert fh is not None
            out.append((m.name, fh.read()))
        return out


def _archive(path: Path, members: list[tuple[str, bytes]]) -> Path:
    with tarfile.open(path, "w:", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _with_manifest(members: list[tuple[str, bytes]], change: Callable[[dict[str, Any]], None],
                   *, resealed: bool) -> list[tuple[str, bytes]]:
    manifest = json.loads(members[0][1])
    change(manifest)
    if resealed:
        manifest = seal(manifest)
    return [(MANIFEST, json.dumps(manifest).encode()), *members[1:]]


def _changed_byte(books: Books, path: Path) -> Path:
    data = bytearray(books.backup.read_bytes())
    data[-20_000] ^= 0x01  # inside the dump, near its end
    path.write_bytes(bytes(data))
    return path


def _truncated(books: Books, path: Path) -> Path:
    path.write_bytes(books.backup.read_bytes()[: books.backup.stat().st_size // 2])
    return path


def _missing_file(books: Books, path: Path) -> Path:
    return _archive(path, _members(books.backup)[:1])


def _manifest_edited(books: Books, path: Path) -> Path:
    def more_receipts(m: dict[str, Any]) -> None:
        m["companies"][0]["rows"]["payments_receipt"] += 1

    return _archive(path, _with_manifest(_members(books.backup), more_receipts, resealed=False))


def _other_vendor(books: Books, path: Path) -> Path:
    def other(m: dict[str, Any]) -> None:
        m["database"]["vendor"] = "sqlite" if VENDOR == "postgresql" else "postgresql"

    return _archive(path, _with_manifest(_members(books.backup), other, resealed=True))


def _newer_version(books: Books, path: Path) -> Path:
    def newer(m: dict[str, Any]) -> None:
        m["migrations"]["core"].append("9999_from_the_future")
        m["product_version"] = "99.0"

    return _archive(path, _with_manifest(_members(books.backup), newer, resealed=True))


DAMAGE = {
    "changed byte": (_changed_byte, "backup_damaged: " + DUMP + " does not match its checksum"),
    "truncated": (_truncated, "backup_damaged: " + DUMP + " is truncated"),
    "missing file": (_missing_file, "backup_damaged: " + DUMP + " is missing from the backup"),
    "manifest edited": (_manifest_edited, "backup_damaged: manifest.json was edited"),
    "other vendor": (_other_vendor, "restore_refused: the backup is of a "),
    "newer version": (_newer_version, "restore_refused: the backup was made by a newer "
                                      "salesledger (99.0"),
}


@pytest.fixture(scope="module")
def empty(new_database: Callable[[str], Database]) -> Database:
    return new_database("empty")


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_or_foreign_backup_is_refused_and_nothing_is_written(
        damage: str, books: Books, empty: Database) -> None:
    make, message = DAMAGE[damage]
    broken = make(books, empty.home / f"{damage.replace(' ', '-')}.tar")
    assert hashlib.sha256(broken.read_bytes()).digest() != hashlib.sha256(
        books.backup.read_bytes()).digest()
    done = cli(empty, "restore", str(broken))
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith(message), done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert _tables(empty) == []  # nothing was written, not even a schema
