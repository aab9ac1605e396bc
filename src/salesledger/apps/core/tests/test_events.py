"""The event seam itself, with events and proposals made up for the test: handlers inside the
transaction or after commit, vetoes before any write (docs/design/events.md). What the apps
publish and who listens is tested with each app, and across them in ``tests/``."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import transaction

from salesledger.apps.core import events
from salesledger.domain.errors import LedgerError


class Refused(LedgerError):
    code = "refused_by_test"


@dataclass(frozen=True)
class Happened(events.Event):
    what: str


@dataclass(frozen=True)
class Asked(events.Proposal):
    who: str


@pytest.mark.django_db(transaction=True)
def test_inside_handlers_share_the_transaction_on_commit_ones_wait_for_it() -> None:
    seen: list[str] = []
    event = Happened("something")
    with events.subscribed(Happened, lambda e: seen.append("inside")), \
            events.subscribed(Happened, lambda e: seen.append("after"), on_commit=True):
        with transaction.atomic():
            events.publish(event)
            assert seen == ["inside"]
        assert seen == ["inside", "after"]
        with pytest.raises(RuntimeError), transaction.atomic():
            events.publish(event)
            raise RuntimeError("rolled back")
        assert seen == ["inside", "after", "inside"]  # no "after" for a rollback
    with pytest.raises(RuntimeError, match="outside a transaction"):
        events.publish(event)


def test_the_first_veto_that_refuses_stops_the_proposal_with_its_own_error() -> None:
    asked: list[str] = []

    def allow(proposal: Asked) -> None:
        asked.append(f"allow {proposal.who}")

    def hold(proposal: Asked) -> None:
        asked.append(f"hold {proposal.who}")
        if proposal.who == "held":
            raise Refused(f"{proposal.who} is on hold")

    with events.subscribed(Asked, allow), events.subscribed(Asked, hold):
        events.check(Asked("free"))
        with pytest.raises(Refused, match="held is on hold") as refused:
            events.check(Asked("held"))
        assert refused.value.code == "refused_by_test"
        assert asked == ["allow free", "hold free", "allow held", "hold held"]
        assert [name.rsplit(".", 1)[-1] for name in events.listeners()["Asked"]] == [
            "allow (veto)", "hold (veto)"]
    events.check(Asked("held"))  # the veto was registered for the block only
