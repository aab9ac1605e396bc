"""The backup file, without a database (``formats/backup.py``): what is written is read back
byte for byte, and a backup damaged in any way is refused with what is wrong, or, where the
damage touches no byte that matters (a tar header's date, the padding), gives back exactly
what was written. Hypothesis changes and cuts a real archive at every kind of place."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesledger.domain.errors import BackupDamaged, BackupFailed, NotFound
from salesledger.formats.backup import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    archive_open,
    archive_write,
    inventory_differences,
    seal,
)

DUMP = bytes(range(256)) * 12 + b"the end of the dump"
INVENTORY: dict[str, Any] = {
    "migrations": {"core": ["0001_initial", "0002_more"]},
    "tables": {"core_company": 1, "payments_receipt": 3},
    "companies": [{"code": "acme", "rows": {"payments_receipt": 3}, "audit_events": 9,
                   "audit_head": "ab" * 32}],
}
MANIFEST_IN = {"format": FORMAT, "format_version": FORMAT_VERSION, "product": "salesledger",
               "product_version": "0.1.0", "created_at": "2026-11-23T10:00:00+00:00",
               "database": {"vendor": "sqlite", "version": "3.40.1"}, **INVENTORY}


def _write(tmp: Path) -> tuple[Path, dict[str, Any]]:
    dump = tmp / "dump.bin"
    dump.write_bytes(DUMP)
    path = tmp / "b.tar"
    return path, archive_write(path, MANIFEST_IN, [("database.sqlite3", dump)], mtime=1.8e9)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, dict[str, Any]]:
    path, manifest = _write(tmp_path_factory.mktemp("format"))
    return path.read_bytes(), manifest


def _open(data: bytes, tmp: Path) -> Any:
    path = tmp / "candidate.tar"
    path.write_bytes(data)
    work = tmp / "work"
    work.mkdir(exist_ok=True)
    return archive_open(path, work)


def test_what_is_written_is_read_back_with_its_checksums(tmp_path: Path) -> None:
    path, manifest = _write(tmp_path)
    opened = archive_open(path, tmp_path)
    assert opened.manifest == manifest
    assert opened.files["database.sqlite3"].read_bytes() == DUMP
    assert manifest["files"] == [{"name": "database.sqlite3", "size": len(DUMP),
                                  "sha256": manifest["files"][0]["sha256"]}]
    with tarfile.open(path) as tar:  # a plain tar archive, the manifest first, owner-only
        assert tar.getnames() == [MANIFEST, "database.sqlite3"]
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    path, _ = _write(tmp_path)
    before = path.read_bytes()
    with pytest.raises(BackupFailed, match="exists already"):
        archive_write(path, MANIFEST_IN, [("database.sqlite3", tmp_path / "dump.bin")],
                      mtime=1.8e9)
    assert path.read_bytes() == before


def _rewrite(data: bytes, change: Any) -> bytes:
    """The archive with its members passed through ``change`` (a list of (name, bytes))."""
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = []
        for m in tar.getmembers():
            fh = tar.extractfile(m)
            assert fh is not None
            members.append((m.name, fh.read()))
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:") as tar:
        for name, body in change(members):
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return out.getvalue()


def _manifest_changed(change: Any, *, resealed: bool) -> Any:
    def apply(members: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
        manifest = json.loads(members[0][1])
        change(manifest)
        body = seal(manifest) if resealed else manifest
        return [(MANIFEST, json.dumps(body).encode()), *members[1:]]
    return apply


def _set(key: str, value: Any) -> Any:
    return lambda m: m.__setitem__(key, value)


CASES = {
    "not an archive": (lambda d: b"hello, this is not a backup\n" * 40,
                       "is not a readable salesledger backup"),
    "empty file": (lambda d: b"", "is not a readable salesledger backup"),
    "manifest not first": (lambda d: _rewrite(d, lambda ms: ms[::-1]),
                           f"has no {MANIFEST} first"),
    "manifest not JSON": (lambda d: _rewrite(d, lambda ms: [(MANIFEST, b"{nope"), *ms[1:]]),
                          f"{MANIFEST} is not readable JSON"),
    "another format": (lambda d: _rewrite(d, _manifest_changed(_set("format", "zip"),
                                                                resealed=True)),
                       "is not the manifest of a salesledger backup"),
    "a newer format": (lambda d: _rewrite(d, _manifest_changed(
        _set("format_version", FORMAT_VERSION + 1), resealed=True)),
                       f"format version {FORMAT_VERSION + 1} is newer"),
    "manifest edited": (lambda d: _rewrite(d, _manifest_changed(
        _set("created_at", "2020-01-01T00:00:00+00:00"), resealed=False)),
                        f"{MANIFEST} was edited"),
    "a key taken out": (lambda d: _rewrite(d, _manifest_changed(
        lambda m: m.pop("tables"), resealed=True)), f"{MANIFEST} lacks 'tables'"),
    "a file listed with a path": (lambda d: _rewrite(d, _manifest_changed(
        lambda m: m["files"][0].__setitem__("name", "../x"), resealed=True)),
                                  "lists a file it cannot describe"),
    "file missing": (lambda d: _rewrite(d, lambda ms: ms[:1]),
                     "database.sqlite3 is missing from the backup"),
    "file added": (lambda d: _rewrite(d, lambda ms: [*ms, ("notes.txt", b"hi")]),
                   "notes.txt is in the backup but not in its manifest"),
    "file changed": (lambda d: _rewrite(d, lambda ms: [ms[0], (ms[1][0], ms[1][1][:-1] + b"!")]),
                     "database.sqlite3 does not match its checksum"),
    "file shortened": (lambda d: _rewrite(d, lambda ms: [ms[0], (ms[1][0], ms[1][1][:-1])]),
                       "database.sqlite3 has 3,090 bytes in the backup, its manifest says "
                       "3,091"),
    "archive cut inside the dump": (lambda d: d[:2500], "database.sqlite3 is truncated"),
    "archive cut inside the manifest": (lambda d: d[:700], "manifest.json is truncated"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_kind_of_damage_is_refused_naming_what_is_wrong(
        case: str, written: tuple[bytes, dict[str, Any]], tmp_path: Path) -> None:
    damage, message = CASES[case]
    with pytest.raises(BackupDamaged, match=message.replace("(", r"\(").replace(".", r"\.")):
        _open(damage(written[0]), tmp_path)


def test_a_missing_backup_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no backup at"):
        archive_open(tmp_path / "nothing.tar", tmp_path)


@given(st.data())
def test_any_changed_byte_is_refused_or_changes_nothing_that_matters(
        written: tuple[bytes, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory,
        data: st.DataObject) -> None:
    original, manifest = written
    where = data.draw(st.integers(0, len(original) - 1), label="where")
    flip = data.draw(st.integers(1, 255), label="xor")
    damaged = bytearray(original)
    damaged[where] ^= flip
    tmp = tmp_path_factory.mktemp("flip")
    try:
        opened = _open(bytes(damaged), tmp)
    except BackupDamaged:
        return
    assert opened.manifest == manifest
    assert opened.files["database.sqlite3"].read_bytes() == DUMP


@given(st.data())
def test_any_cut_is_refused_or_loses_nothing_that_matters(
        written: tuple[bytes, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory,
        data: st.DataObject) -> None:
    original, manifest = written
    length = data.draw(st.integers(0, len(original) - 1), label="length")
    try:
        opened = _open(original[:length], tmp_path_factory.mktemp("cut"))
    except BackupDamaged:
        return
    assert opened.manifest == manifest  # only the end-of-archive zeros were cut
    assert opened.files["database.sqlite3"].read_bytes() == DUMP


def test_the_restored_inventory_is_compared_table_by_table_and_company_by_company() -> None:
    same = json.loads(json.dumps(INVENTORY))
    assert inventory_differences(INVENTORY, same) == []
    other = json.loads(json.dumps(INVENTORY))
    other["tables"]["payments_receipt"] = 2
    other["companies"][0]["rows"]["payments_receipt"] = 2
    other["companies"][0]["audit_head"] = "cd" * 32
    other["companies"].append({"code": "beta", "rows": {}, "audit_events": 0,
                               "audit_head": "0" * 64})
    other["migrations"]["core"].pop()
    assert inventory_differences(INVENTORY, other) == [
        "table payments_receipt: 2 rows restored, the manifest says 3",
        f"company acme: audit_head is {'cd' * 32}, the manifest says {'ab' * 32}",
        "company acme: payments_receipt has 2 rows, the manifest says 3",
        "company beta: not in the manifest",
        "the migrations applied differ from the manifest's",
    ]
