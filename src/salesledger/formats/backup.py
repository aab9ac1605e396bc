"""The backup file: one tar archive, its manifest first, then the database's own dump.

A backup must be moved, copied and stored for years by people and tools that know nothing of
salesledger, and be refused, with the reason, the day a byte of it has changed
(docs/design/backup.md). So it is a plain, uncompressed POSIX tar archive (``tar tf`` lists
it) holding:

- ``manifest.json``: what the backup holds (format, product version, database vendor,
  migrations, companies with their row counts and audit chain heads), the size and SHA-256 of
  every other file, and the SHA-256 of the manifest itself (``manifest_sha256``, over the
  canonical JSON of the rest), so that an edited manifest is told from a sound one;
- the database's dump: ``database.sqlite3`` (a copy made with SQLite's online backup API) or
  ``database.pgdump`` (``pg_dump`` in its custom format).

The checksums find accidents (a truncated copy, a flipped bit, a file left out, a manifest
edited by hand), not a forger: whoever rewrites a file can rewrite its checksum too. Reading
verifies everything before the caller restores anything, and copies out the very bytes it
verified. Pure: no Django, no database.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from salesledger.domain.errors import BackupDamaged, BackupFailed, NotFound

FORMAT = "salesledger-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SEAL = "manifest_sha256"
_CHUNK = 1 << 20

# What a manifest must hold for a restore to read it (name: type).
_REQUIRED: dict[str, type] = {
    "format": str, "format_version": int, "product_version": str, "created_at": str,
    "database": dict, "migrations": dict, "tables": dict, "companies": list, "files": list,
    SEAL: str,
}


@dataclass(frozen=True)
class Opened:
    """A backup read and verified: its manifest and where each of its files was copied."""

    manifest: dict[str, Any]
    files: dict[str, Path]


def canonical(manifest: dict[str, Any]) -> bytes:
    """The bytes the manifest's own checksum covers: everything but the checksum, as JSON with
    sorted keys and no spaces."""
    body = {k: v for k, v in manifest.items() if k != SEAL}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def seal(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest with its own checksum."""
    return {**manifest, SEAL: hashlib.sha256(canonical(manifest)).hexdigest()}


def file_digest(path: Path) -> tuple[int, str]:
    """(size in bytes, SHA-256 in hex) of a file, read in chunks."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def archive_write(path: Path, manifest: dict[str, Any], files: Sequence[tuple[str, Path]],
                  *, mtime: float) -> dict[str, Any]:
    """Write the backup ``path``: the manifest (given without ``files`` and its checksum, which
    this adds) and ``files`` as (name in the backup, file on disk). Written to a temporary
    name beside ``path``, flushed to disk and then renamed, so that ``path`` is either absent
    or whole; an existing ``path`` is never overwritten. Returns the manifest as written."""
    if path.exists():
        raise BackupFailed(f"{path} exists already: give a new file name")
    listed: list[dict[str, Any]] = []
    for name, source in files:
        size, sha = file_digest(source)
        listed.append({"name": name, "size": size, "sha256": sha})
    sealed = seal({**manifest, "files": listed})
    text = json.dumps(sealed, indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n"
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        # Readable by its owner only: a backup holds every customer's data.
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:", format=tarfile.PAX_FORMAT) as tar:
                tar.addfile(_member(MANIFEST, len(text), mtime), io.BytesIO(text))
                for (name, source), entry in zip(files, listed, strict=True):
                    with open(source, "rb") as fh:
                        tar.addfile(_member(name, entry["size"], mtime), fh)
            raw.flush()
            os.fsync(raw.fileno())
        if path.exists():  # written meanwhile by someone else: keep theirs
            raise BackupFailed(f"{path} exists already: give a new file name")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return sealed


def _member(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(mtime), 0o600
    return info


def archive_open(path: Path, workdir: Path) -> Opened:
    """Read the backup ``path`` and verify it whole: a tar archive whose first file is a
    manifest of this format, unedited, listing every other file of the archive with its size
    and checksum, and each of them there, whole and unchanged. Each file is copied into
    ``workdir`` as it is checked, so that what the caller restores is what was verified.
    Raises :class:`BackupDamaged` naming the first thing wrong."""
    if not path.is_file():
        raise NotFound(f"no backup at {path}")
    try:
        with tarfile.open(path, mode="r:") as tar:
            return _verified(path, tar, workdir)
    except (tarfile.TarError, EOFError) as exc:
        raise BackupDamaged(f"{path} is not a readable salesledger backup (a tar archive): "
                            f"{exc}") from None


def _members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """The archive's files; one that the archive ends inside of is named as truncated."""
    members: list[tarfile.TarInfo] = []
    while True:
        try:
            member = tar.next()
        except tarfile.ReadError:
            if not members:
                raise
            raise BackupDamaged(f"{members[-1].name} is truncated: the backup ends inside it"
                                ) from None
        if member is None:
            return members
        members.append(member)


def _verified(path: Path, tar: tarfile.TarFile, workdir: Path) -> Opened:
    members = _members(tar)
    if not members or members[0].name != MANIFEST:
        raise BackupDamaged(f"{path} has no {MANIFEST} first: it is not a salesledger backup, "
                            "or the start of the file is damaged")
    manifest = _manifest(_read(tar, members[0]))
    listed = {f["name"]: f for f in manifest["files"]}
    present = {m.name: m for m in members[1:]}
    for name in present:
        if name not in listed:
            raise BackupDamaged(f"{name} is in the backup but not in its manifest: the backup "
                                "was altered")
    files = {}
    for name, entry in listed.items():
        member = present.get(name)
        if member is None:
            raise BackupDamaged(f"{name} is missing from the backup (its manifest lists it)")
        if not member.isfile():
            raise BackupDamaged(f"{name} in the backup is not a file")
        files[name] = _copy_checked(tar, member, entry, workdir)
    return Opened(manifest, files)


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    fh = tar.extractfile(member)
    if fh is None:
        raise BackupDamaged(f"{member.name} in the backup is not a file")
    try:
        data = fh.read()
    except tarfile.ReadError:
        data = b""
    if len(data) != member.size:
        raise BackupDamaged(f"{member.name} is truncated: the backup ends inside it")
    return data


def _manifest(data: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BackupDamaged(f"{MANIFEST} is not readable JSON ({exc}): the manifest is "
                            "damaged") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupDamaged(f"{MANIFEST} is not the manifest of a salesledger backup")
    version = manifest.get("format_version")
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise BackupDamaged(f"the backup's format version {version} is newer than this "
                            f"salesledger reads ({FORMAT_VERSION}): restore it with the "
                            "version that made it, or a newer one")
    for key, kind in _REQUIRED.items():
        if not isinstance(manifest.get(key), kind):
            raise BackupDamaged(f"{MANIFEST} lacks {key!r} or it is not a {kind.__name__}: the "
                                "manifest is damaged")
    expected = hashlib.sha256(canonical(manifest)).hexdigest()
    if manifest[SEAL] != expected:
        raise BackupDamaged(f"{MANIFEST} was edited: its content does not match its checksum "
                            f"({SEAL})")
    for entry in manifest["files"]:
        if not (isinstance(entry, dict) and isinstance(entry.get("name"), str)
                and isinstance(entry.get("size"), int) and isinstance(entry.get("sha256"), str)
                and entry["name"] == os.path.basename(entry["name"])
                and entry["name"] not in ("", ".", "..", MANIFEST)):
            raise BackupDamaged(f"{MANIFEST} lists a file it cannot describe: {entry!r}")
    return manifest


def _copy_checked(tar: tarfile.TarFile, member: tarfile.TarInfo, entry: dict[str, Any],
                  workdir: Path) -> Path:
    name: str = entry["name"]
    if member.size != entry["size"]:
        raise BackupDamaged(f"{name} has {member.size:,} bytes in the backup, its manifest says "
                            f"{entry['size']:,}: the file was truncated or changed")
    source = tar.extractfile(member)
    if source is None:
        raise BackupDamaged(f"{name} in the backup is not a file")
    target = workdir / name
    digest, size = hashlib.sha256(), 0
    with open(target, "wb") as out:
        try:
            while chunk := source.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        except tarfile.ReadError:  # the archive ends inside this file
            pass
    if size != entry["size"]:
        raise BackupDamaged(f"{name} is truncated: the backup ends after {size:,} of its "
                            f"{entry['size']:,} bytes")
    if digest.hexdigest() != entry["sha256"]:
        raise BackupDamaged(f"{name} does not match its checksum in the manifest: the file was "
                            "changed or damaged")
    return target


def inventory_differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """What a restored database holds that its backup's manifest does not say: rows per table,
    companies, their rows and their audit chain heads, and the migrations applied."""
    out = []
    for table in sorted(set(expected["tables"]) | set(actual["tables"])):
        want, got = expected["tables"].get(table, 0), actual["tables"].get(table, 0)
        if want != got:
            out.append(f"table {table}: {got} rows restored, the manifest says {want}")
    want_companies = {c["code"]: c for c in expected["companies"]}
    got_companies = {c["code"]: c for c in actual["companies"]}
    for code in sorted(set(want_companies) | set(got_companies)):
        want_c, got_c = want_companies.get(code), got_companies.get(code)
        if want_c is None or got_c is None:
            out.append(f"company {code}: " + ("not in the manifest" if want_c is None
                                              else "missing from the restored database"))
            continue
        for key in ("audit_events", "audit_head"):
            if want_c[key] != got_c[key]:
                out.append(f"company {code}: {key} is {got_c[key]}, the manifest says "
                           f"{want_c[key]}")
        for table in sorted(set(want_c["rows"]) | set(got_c["rows"])):
            want, got = want_c["rows"].get(table, 0), got_c["rows"].get(table, 0)
            if want != got:
                out.append(f"company {code}: {table} has {got} rows, the manifest says {want}")
    if expected["migrations"] != actual["migrations"]:
        out.append("the migrations applied differ from the manifest's")
    return out
