"""The background task of a CSV import started from the workspace: it runs in
``salesledger worker`` and calls the one import service (``csvio.import_file``), as
``salesledger import`` does. Its result is what the page shows: the counts written, or the
refusal with every problem (nothing written)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django_tasks import task

from salesledger.apps.core.selectors import company_get, user_get
from salesledger.domain.errors import ImportFailed, LedgerError

from .csvio import import_file


@task()
def csv_import_task(company: str, kind: str, path: str, username: str,
                    force: bool = False) -> dict[str, Any]:
    """Import the uploaded file at ``path`` as ``username``; the file is removed after."""
    try:
        done = import_file(kind=kind, path=path, company=company_get(company),
                           actor=user_get(username), force=force)
        return {"ok": True, **{k: v for k, v in done.items() if k != "sha256"}}
    except LedgerError as exc:
        problems = exc.problems if isinstance(exc, ImportFailed) else []
        return {"ok": False, "code": exc.code, "message": str(exc),
                "problems": [p.as_dict() if hasattr(p, "as_dict") else
                              {"line": "", "column": "", "reason": str(p)}
                             for p in problems]}
    finally:
        Path(path).unlink(missing_ok=True)
