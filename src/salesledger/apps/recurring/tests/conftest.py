"""Fixtures of the recurring app's tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_pdf_freezing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Posting queues the freezing of the issued PDF (tested with the worker in the
    documents app); here the queue holds only the recurring app's own tasks, so that the
    tests can count them."""
    from salesledger.apps.documents import tasks

    monkeypatch.setattr(tasks, "pdfs_freeze_later", lambda company, invoice_ids: 0)
