"""Where a queued import stands, for the page that follows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from salesledger.apps.core.models import Company
from salesledger.domain.errors import NotFound


@dataclass(frozen=True)
class QueuedImport:
    """``state``: queued, running, done (``result`` says how it went) or failed (the task
    itself crashed; ``result`` is empty)."""

    task_id: str
    kind: str
    file: str
    state: str
    result: dict[str, Any]

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")


_STATES = {"READY": "queued", "RUNNING": "running", "SUCCESSFUL": "done", "FAILED": "failed"}


def csv_import_state(company: Company, task_id: str) -> QueuedImport:
    """The import task ``task_id`` of ``company``: another company's task, or any other
    task, is "not found"."""
    from django_tasks import default_task_backend
    from django_tasks.exceptions import TaskResultDoesNotExist

    try:
        result = default_task_backend.get_result(task_id)
    except (TaskResultDoesNotExist, ValueError):
        raise NotFound(f"no import {task_id!r}") from None
    kwargs = result.kwargs or {}
    if (not result.task.name.endswith("csv_import_task")
            or kwargs.get("company") != company.code):
        raise NotFound(f"no import {task_id!r}")
    state = _STATES.get(str(result.status), "queued")
    value = result.return_value if state == "done" else {}
    name = str(kwargs.get("path", "")).rsplit("/", 1)[-1].split("-", 1)[-1]
    return QueuedImport(task_id, str(kwargs.get("kind", "")), name, state, value or {})
