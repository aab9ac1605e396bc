"""The background task of a CSV import started from the workspace: it runs in
``salesledger worker`` and calls the one import service (``csvio.import_file``), as
``salesledger import`` does. Its result is what the page shows: the counts written, or the
refusal with every problem (nothing written). While it runs, the share of the file read so far
is kept beside the uploaded file (``progress_path``), for that page's progress bar: the import
is one transaction, so nothing in the database says how far it is until it ends."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from django_tasks import task

from salesledger.apps.core.selectors import company_get, user_get
from salesledger.domain.errors import ImportFailed, LedgerError

from .csvio import import_file

# Seconds between two writes of the progress file.
PROGRESS_EVERY = 0.5


def progress_path(path: str | Path) -> Path:
    """Where the import of the uploaded file ``path`` keeps how far it has read."""
    return Path(f"{path}.progress")


def import_progress(path: str | Path) -> float | None:
    """The share (0 to 1) of the uploaded file ``path`` that its running import has read;
    None before the import has said (or after it ended)."""
    try:
        done = json.loads(progress_path(path).read_text(encoding="utf-8"))["done"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return min(1.0, max(0.0, float(done))) if isinstance(done, int | float) else None


class _Progress:
    """Writes the share done to ``progress_path`` at most every ``PROGRESS_EVERY`` seconds,
    replacing the file at once (a reader never sees half of it)."""

    def __init__(self, path: str | Path) -> None:
        self.path, self.last = progress_path(path), 0.0

    def __call__(self, done: float) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY and done < 1.0:
            return
        self.last = now
        part = self.path.with_name(self.path.name + ".part")
        part.write_text(json.dumps({"done": round(done, 4)}), encoding="utf-8")
        os.replace(part, self.path)


@task()
def csv_import_task(company: str, kind: str, path: str, username: str,
                    force: bool = False) -> dict[str, Any]:
    """Import the uploaded file at ``path`` as ``username``; the file is removed after."""
    try:
        done = import_file(kind=kind, path=path, company=company_get(company),
                           actor=user_get(username), force=force, progress=_Progress(path))
        return {"ok": True, **{k: v for k, v in done.items() if k != "sha256"}}
    except LedgerError as exc:
        problems = exc.problems if isinstance(exc, ImportFailed) else []
        return {"ok": False, "code": exc.code, "message": str(exc),
                "problems": [p.as_dict() if hasattr(p, "as_dict") else
                              {"line": "", "column": "", "reason": str(p)}
                             for p in problems]}
    finally:
        Path(path).unlink(missing_ok=True)
        progress_path(path).unlink(missing_ok=True)
