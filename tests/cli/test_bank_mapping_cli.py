"""``bank mapping add|list|remove``: a CSV column mapping saved, listed and removed through the
banking services, and a refusal as ``code: message`` with exit status 2."""

from __future__ import annotations

import pytest

from salesledger.apps.core.models import AuditEvent
from tests.support import run, run_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(capsys):
    assert run(capsys, "init", "--company", "acme", "--owner", "alice")[0] == 0
    assert run(capsys, "bank", "mapping", "add", "rabo", "--column", "date=Datum",
               "--column", "amount=Bedrag")[0] == 0


def test_a_mapping_removed_is_listed_no_more_and_audited(capsys, books):
    assert [m["name"] for m in run_json(capsys, "bank", "mapping", "list")] == ["rabo"]
    code, out, err = run(capsys, "bank", "mapping", "remove", "rabo")
    assert (code, out, err) == (0, "column mapping rabo removed\n", "")
    assert run_json(capsys, "bank", "mapping", "list") == []
    [event] = AuditEvent.objects.filter(action="bank_mapping.remove")
    assert event.data["before"]["columns"] == {"date": "Datum", "amount": "Bedrag"}


def test_removing_a_mapping_the_company_has_not_says_so_and_exits_2(capsys, books):
    code, out, err = run(capsys, "bank", "mapping", "remove", "nope")
    assert (code, out) == (2, "")
    assert err.strip() == "not_found: no column mapping 'nope'"
