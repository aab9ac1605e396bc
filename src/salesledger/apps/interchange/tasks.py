"""The background task of a CSV import started from the workspace: it runs in
``salesledger worker`` and calls the one import service (``csvio.import_file``), as
``salesledger import`` does. Its result is what the page shows: the counts written, or the
refusal with every problem (nothing written). While it runs, the share of the file read so far
is kept beside the uploaded file (``progress_path``), for that page's progress bar: the import
is one transaction, so nothing in the database says how far it is until it ends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django_tasks import task

from salesledger.apps.core.progress_files import ProgressFile, read_progress
from salesledger.apps.core.selectors import company_get, user_get
from salesledger.domain.errors import ImportFailed, LedgerError

from .csvio import import_file


def import_progress(path: str | Path) -> float | None:
    """The share (0 to 1) of the uploaded file ``path`` that its running import has read;
    None before the import has said (or after it ended)."""
    done = (read_progress(path) or {}).get("done")
    return min(1.0, max(0.0, float(done))) if isinstance(done, int | float) else None


class _Progress(ProgressFile):
    """``import_file``'s listener: the share of the file read, kept beside the upload."""

    def __call__(self, done: float) -> None:
        self.keep(done=round(done, 4), final=done >= 1.0)


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
        _Progress(path).remove()
