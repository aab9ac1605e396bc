"""Recurring schedules in the workspace: the list with each schedule's state on the page's
day, a schedule's periods, and stop and resume through the recurring service; a viewer reads
and is offered nothing, a stranger finds nothing, and the list costs the same queries
whatever the number of schedules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

pytestmark = pytest.mark.usefixtures("no_pdf_freezing")


@pytest.fixture
def schedules(books: dict[str, Any]) -> dict[str, Any]:
    from conftest import line_inputs

    from salesledger.apps.recurring.services import ScheduleInput, recurring_add, recurring_run

    made = [recurring_add(actor=books["owner"], company=books["company"],
                          as_of=date(2025, 1, 1), data=ScheduleInput(
                              customer_code=code, every="1 month", start=date(2025, 1, 31),
                              lines=line_inputs((("Hosting", 1, "50.00", "20"),))))
            for code in ("C001", "C002")]
    recurring_run(actor=books["owner"], company=books["company"], as_of=date(2025, 2, 10))
    books["schedules"] = [s.pk for s in made]
    return books


def test_a_clerk_stops_and_resumes_a_schedule(schedules: dict[str, Any],
                                              as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.recurring.selectors import recurring_list, recurring_runs

    first = schedules["schedules"][0]
    clerk = as_user(schedules["clerk"])
    assert "Recurring invoices" in clerk.get("/c/acme/invoices/").content.decode()
    text = clerk.get("/c/acme/recurring/?as_of=2025-02-10").content.decode()
    assert "C001" in text and "C002" in text and f"Stop schedule {first}" in text
    runs = recurring_runs(schedules["company"], first)
    assert len(runs) == 1
    page = clerk.get(f"/c/acme/recurring/{first}/").content.decode()
    assert runs[0]["invoice"] in page
    assert clerk.post(f"/c/acme/recurring/{first}/stop/?as_of=2025-02-10").status_code == 302
    states = {r["id"]: r["state"] for r in recurring_list(schedules["company"],
                                                          as_of=date(2025, 2, 10))}
    assert states[first] == "stopped"
    assert f"Resume schedule {first}" in clerk.get("/c/acme/recurring/").content.decode()
    assert clerk.post(f"/c/acme/recurring/{first}/resume/").status_code == 302
    states = {r["id"]: r["state"] for r in recurring_list(schedules["company"],
                                                          as_of=date(2025, 2, 10))}
    assert states[first] != "stopped"


def test_a_viewer_reads_and_a_stranger_finds_nothing(
        schedules: dict[str, Any], as_user: Callable[[Any], Any], django_user_model: Any
        ) -> None:
    from salesledger.apps.core.services import membership_set

    first = schedules["schedules"][0]
    django_user_model.objects.create_user("vera")
    membership_set(actor=schedules["owner"], company=schedules["company"], username="vera",
                   role="viewer")
    viewer = as_user(django_user_model.objects.get(username="vera"))
    for url in ("/c/acme/recurring/", f"/c/acme/recurring/{first}/"):
        text = viewer.get(url).content.decode()
        assert 'method="post"' not in text.split("</header>", 1)[1], url
    for url in (f"/c/acme/recurring/{first}/stop/", f"/c/acme/recurring/{first}/resume/"):
        assert viewer.post(url).status_code == 403, url
    stranger = as_user(schedules["stranger"])
    for url in ("/c/acme/recurring/", f"/c/acme/recurring/{first}/"):
        assert stranger.get(url).status_code == 404, url
    for url in (f"/c/acme/recurring/{first}/stop/", f"/c/acme/recurring/{first}/resume/"):
        assert stranger.post(url).status_code == 404, url
    # under their own company, acme's schedule is not found either
    assert stranger.get(f"/c/globex/recurring/{first}/").status_code == 404
    assert stranger.post(f"/c/globex/recurring/{first}/stop/").status_code == 404


@pytest.mark.parametrize("extra", [0, 20])
def test_the_schedules_cost_a_bounded_number_of_queries(
        schedules: dict[str, Any], as_user: Callable[[Any], Any],
        django_assert_max_num_queries: Any, extra: int) -> None:
    from conftest import line_inputs

    from salesledger.apps.recurring.services import ScheduleInput, recurring_add

    for _ in range(extra):
        recurring_add(actor=schedules["owner"], company=schedules["company"],
                      as_of=date(2025, 1, 1), data=ScheduleInput(
                          customer_code="C002", every="1 week", start=date(2025, 1, 6),
                          lines=line_inputs((("Support", 1, "10.00", "20"),))))
    client = as_user(schedules["owner"])
    for url in ("/c/acme/recurring/", f"/c/acme/recurring/{schedules['schedules'][0]}/"):
        with django_assert_max_num_queries(8):
            assert client.get(url).status_code == 200, url
