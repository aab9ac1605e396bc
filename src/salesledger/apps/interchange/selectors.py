"""Where a queued import stands, for the page that follows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from salesledger.apps.core.models import Company
from salesledger.apps.core.selectors import queued_task
from salesledger.domain.errors import NotFound

from .tasks import import_progress


@dataclass(frozen=True)
class QueuedImport:
    """``state``: queued, running, done (``result`` says how it went) or failed (the task
    itself crashed; ``result`` is empty)."""

    task_id: str
    kind: str
    file: str
    state: str
    result: dict[str, Any]
    progress: float | None = None  # share of the file read, while it runs (when said)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")


def csv_import_state(company: Company, task_id: str) -> QueuedImport:
    """The import task ``task_id`` of ``company``: another company's task, or any other
    task, is "not found"."""
    try:
        task = queued_task(company, task_id, frozenset({"csv_import_task"}))
    except NotFound:
        raise NotFound(f"no import {task_id!r}") from None
    path = str(task.kwargs.get("path", ""))
    name = path.rsplit("/", 1)[-1].split("-", 1)[-1]
    progress = import_progress(path) if task.state == "running" and path else None
    return QueuedImport(task.task_id, str(task.kwargs.get("kind", "")), name, task.state,
                        task.result, progress)
