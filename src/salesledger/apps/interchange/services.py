"""Imports queued for the worker (the workspace's import page): the uploaded file is kept
under the instance's ``var/imports/`` and a task is queued that imports it through the one
import service, all or nothing (``csvio.import_file``). The role is checked here, before
anything is queued, and again when the import runs."""

from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings

from salesledger.apps.core.actors import Actor
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import require_role
from salesledger.domain.errors import ValidationFailed

from .csvio import IMPORTERS
from .tasks import csv_import_task

MAX_UPLOAD_BYTES = 200 * 1024 * 1024


def imports_dir(company: Company) -> Path:
    return Path(settings.VAR_DIR) / "imports" / company.code


def csv_import_queue(*, actor: Actor, company: Company, kind: str, content: bytes,
                     filename: str, force: bool = False) -> str:
    """Keep the file and queue its import; returns the task's id."""
    require_role(company, actor, Role.CLERK)
    if kind not in IMPORTERS:
        raise ValidationFailed(f"cannot import {kind!r}; import one of {', '.join(IMPORTERS)}",
                               field="kind")
    if not content:
        raise ValidationFailed("the file is empty", field="file")
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationFailed(f"the file has {len(content):,} bytes; at most "
                               f"{MAX_UPLOAD_BYTES:,} are taken here (use salesledger import)",
                               field="file")
    folder = imports_dir(company)
    folder.mkdir(parents=True, exist_ok=True)
    # The file keeps its name (the import batch records it), behind a random prefix.
    name = "".join(c if c.isalnum() or c in "._-" else "_" for c in Path(filename).name)[-100:]
    path = folder / f"{secrets.token_hex(8)}-{name or 'upload.csv'}"
    path.write_bytes(content)
    result = csv_import_task.enqueue(company=company.code, kind=kind, path=str(path),
                                     username=actor.get_username() if actor else "",
                                     force=force)
    return str(result.id)
