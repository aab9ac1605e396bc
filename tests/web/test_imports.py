"""The import page: a CSV file uploaded, its import queued, run by the real worker, and
the page that follows it (what was written, or every problem and nothing written)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tasks_db.management.commands import db_worker

from salesledger.worker import make_worker

pytestmark = pytest.mark.usefixtures("no_pdf_freezing")


@pytest.fixture
def worker(monkeypatch: Any, settings: Any, tmp_path: Any) -> Any:
    # The worker closes old connections between tasks, which would end the test's
    # transaction; everything else is the real worker and the real queue.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    settings.VAR_DIR = tmp_path
    return make_worker(worker_id="test")


def _upload(client: Any, body: bytes, kind: str = "customers") -> Any:
    return client.post("/c/acme/imports/", {
        "kind": kind, "file": SimpleUploadedFile("new.csv", body, "text/csv")})


def test_a_file_is_imported_by_the_worker_and_the_page_follows_it(
        books: dict[str, Any], as_user: Callable[[Any], Any], worker: Any,
        tmp_path: Any) -> None:
    from salesledger.apps.customers.selectors import customer_get

    clerk = as_user(books["clerk"])
    response = _upload(clerk, b"code,name,country\nC9,Martin Freres,FR\nC10,Durand,FR\n")
    assert response.status_code == 302
    status_url = response["Location"]
    waiting = clerk.get(status_url)
    assert waiting.context["job"].state == "queued"
    assert 'hx-trigger="every 2s"' in waiting.content.decode()
    assert list((tmp_path / "imports" / "acme").iterdir())  # kept for the worker
    worker.run()
    done = clerk.get(status_url)
    text = done.content.decode()
    assert done.context["job"].state == "done" and "2 rows imported" in text
    assert "every 2s" not in text  # no more asking
    assert customer_get(books["company"], "C10").name == "Durand"
    assert not list((tmp_path / "imports" / "acme").iterdir())  # removed once imported


def test_a_bad_file_lists_every_problem_and_writes_nothing(
        books: dict[str, Any], as_user: Callable[[Any], Any], worker: Any) -> None:
    from salesledger.apps.customers.selectors import customer_list

    owner = as_user(books["owner"])
    before = len(customer_list(books["company"]))
    status_url = _upload(owner, b"code,name,country\nC9,Martin,XX\nC10,,FR\n")["Location"]
    worker.run()
    page = owner.get(status_url)
    text = page.content.decode()
    assert page.context["result"]["ok"] is False
    problems = page.context["result"]["problems"]
    assert [p["line"] for p in problems] == [2, 3]
    assert "nothing was written" in text.lower() and "XX" in text
    assert len(customer_list(books["company"])) == before


def test_who_may_import_and_whose_imports_one_sees(
        books: dict[str, Any], as_user: Callable[[Any], Any], worker: Any) -> None:
    from salesledger.apps.core.services import membership_set

    membership_set(actor=books["owner"], company=books["company"], username="claude",
                   role="viewer")
    viewer = as_user(books["clerk"])
    refused = _upload(viewer, b"code,name\nC9,Martin\n")
    assert refused.status_code == 403
    owner = as_user(books["owner"])
    status_url = _upload(owner, b"code,name\nC9,Martin\n")["Location"]
    stranger = as_user(books["stranger"])
    assert stranger.get(status_url).status_code == 404
    assert stranger.get("/c/acme/imports/").status_code == 404
    # the same task under one's own company is another company's import: not found
    task_id = status_url.rstrip("/").rsplit("/", 1)[-1]
    assert stranger.get(f"/c/globex/imports/{task_id}/").status_code == 404
    assert owner.get("/c/acme/imports/nonsense/").status_code == 404
    bad = _upload(owner, b"", kind="customers")
    assert bad.status_code == 400 and "empty" in bad.content.decode()


def test_the_page_shows_how_much_of_the_file_the_running_import_has_read(
        books: dict[str, Any], as_user: Callable[[Any], Any], worker: Any,
        monkeypatch: Any, tmp_path: Any) -> None:
    """The import is one transaction: the share of the file read is kept beside the upload
    while it runs, and the page's bar shows it; the file goes with the upload."""
    from salesledger.apps.core import progress_files
    from salesledger.apps.interchange import tasks

    clerk = as_user(books["clerk"])
    rows = "".join(f"K{n:05d},Customer {n},FR\n" for n in range(2500))
    status_url = _upload(clerk, f"code,name,country\n{rows}".encode())["Location"]
    monkeypatch.setattr(progress_files, "PROGRESS_EVERY", 0.0)
    seen: list[tuple[str, float | None, str]] = []
    write = tasks._Progress.__call__

    def and_look(self: Any, done: float) -> None:
        write(self, done)
        page = clerk.get(status_url)  # asked while the worker imports
        seen.append((page.context["job"].state, page.context["job"].progress,
                     page.content.decode()))

    monkeypatch.setattr(tasks._Progress, "__call__", and_look)
    worker.run()
    assert [state for state, _, _ in seen] == ["running"] * 3
    assert [progress for _, progress, _ in seen] == sorted(p for _, p, _ in seen)
    state, progress, text = seen[0]
    assert progress is not None and 0 < progress < 1
    percent = round(progress * 100)
    assert f'value="{percent}"' in text and f"{percent}% of the file read" in text
    assert seen[-1][1] == 1.0
    assert not list((tmp_path / "imports" / "acme").iterdir())  # upload and progress gone
    assert clerk.get(status_url).context["job"].progress is None
