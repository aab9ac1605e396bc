"""Fixtures of the recurring app's tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_pdf_freezing(no_pdf_freezing: None) -> None:
    """The queue holds only the recurring app's own tasks, so that the tests can count them
    (``no_pdf_freezing`` in the root ``conftest.py``)."""
