"""How far a long job of one transaction has got, kept in a file beside the file it reads.

An import started from the workspace (a CSV file, a bank statement) runs in the worker in
one transaction, all or nothing: until it ends nothing in the database says how far it is.
So the task gives the service a listener that keeps the figures it is told in a small JSON
file beside the uploaded file (``progress_path``), at most every ``PROGRESS_EVERY`` seconds
and replaced whole (a reader never sees half of it); the page that follows the task reads it
(``read_progress``), and the task removes it with the upload."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

# Seconds between two writes of a progress file.
PROGRESS_EVERY = 0.5


def progress_path(path: str | Path) -> Path:
    """Where the job that reads the uploaded file ``path`` keeps how far it has got."""
    return Path(f"{path}.progress")


def read_progress(path: str | Path) -> dict[str, Any] | None:
    """The figures last kept for the job reading ``path``; None before the job has said
    anything (or after it ended and the file went)."""
    try:
        figures = json.loads(progress_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return figures if isinstance(figures, dict) else None


class ProgressFile:
    """A listener that keeps what it is told (keyword figures) in ``progress_path(path)``:
    at most every ``PROGRESS_EVERY`` seconds, and always when told ``final=True`` (the
    last figures are never lost to the pace)."""

    def __init__(self, path: str | Path) -> None:
        self.path, self.last = progress_path(path), 0.0

    def keep(self, *, final: bool = False, **figures: Any) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY and not final:
            return
        self.last = now
        part = self.path.with_name(self.path.name + ".part")
        part.write_text(json.dumps(figures), encoding="utf-8")
        os.replace(part, self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
