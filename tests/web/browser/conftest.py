"""A real browser for the workspace: Debian's Chromium driven by Playwright, against a live
server on a fresh test database.

Playwright's own browser download needs the internet; the browser is the system's
(`scripts/system-deps` installs the ``chromium`` package). Without it the tests skip, except
in CI (``CI=true``), where a missing browser is a failure: the journeys must run there.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("SALESLEDGER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# Where the journeys save their screenshots: docs/images/ when asked (to refresh the user
# guide's pictures), else the test's own temporary folder.
SCREENSHOTS = os.environ.get("SALESLEDGER_SCREENSHOTS", "")


def _browser_missing() -> str:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium; scripts/system-deps)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (scripts/bootstrap)"
    return ""


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    missing = _browser_missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser tests must run in CI: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    # Playwright's synchronous API keeps an asyncio loop on this thread, which makes Django
    # take every database call of the test (fixtures, set-up) for one made from async code.
    # They are plain synchronous calls: say so for the browser tests alone.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    if SCREENSHOTS:
        folder = Path(__file__).resolve().parents[3] / "docs" / "images"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path


@pytest.fixture
def emptied_after(transactional_db: None) -> Iterator[None]:
    """Lets Django empty the tables after a test whose live server needed them committed.

    On PostgreSQL the suite's connections may TRUNCATE guarded tables (conftest.py). SQLite
    empties them with DELETE, which the guards of posted rows refuse: their triggers are
    dropped just before the tables are emptied, and ``migrate``'s signal, which the emptying
    sends, installs them again (apps/core/guards.py)."""
    yield
    from django.db import connection

    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                       "AND name LIKE 'guard_%'")
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP TRIGGER "{name}"')
