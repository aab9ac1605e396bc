"""The console's log handler."""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO


class StandardError(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes each record to ``sys.stderr`` as it is when the record is written, not as it was
    when logging was configured. Django configures logging once per process, at setup: a
    handler holding the ``sys.stderr`` of that moment keeps writing there after the stream is
    replaced (a command run in-process by a caller that captures its error output, then
    closes the capture), and each record then fails with a logging error printed to the new
    standard error."""

    def __init__(self, stream: Any = None) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        """Set by ``StreamHandler.__init__``; always ``sys.stderr`` when read."""
