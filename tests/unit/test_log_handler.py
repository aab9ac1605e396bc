"""The console's log handler writes to standard error as it is when a record is written: a
stream captured and closed since logging was configured is not written to."""

from __future__ import annotations

import contextlib
import io
import logging

from salesledger.config.log_handlers import StandardError


def test_the_console_writes_to_standard_error_as_it_is_now() -> None:
    logger = logging.getLogger("salesledger.tests.console")
    logger.propagate = False
    first, second = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(first):  # configured while the error output is captured
        handler = StandardError()
        handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.warning("one")
    first.close()  # the capture ends
    try:
        with contextlib.redirect_stderr(second):
            logger.warning("two")
    finally:
        logger.removeHandler(handler)
    assert second.getvalue() == "WARNING two\n"  # no "--- Logging error ---"


def test_the_project_logs_through_it() -> None:
    from django.conf import settings

    assert (settings.LOGGING["handlers"]["console"]["class"]
            == "salesledger.config.log_handlers.StandardError")
    assert any(isinstance(h, StandardError) for h in logging.getLogger("django").handlers)
