"""Roles from the command line: ``user add --role`` and ``user role USER ROLE``, including the
specialist roles (credit controller, collector) and what each may do beyond its rank."""

from __future__ import annotations

from typing import Any

import pytest

from salesledger.apps.core.models import AuditEvent, Capability, Company, Role
from salesledger.apps.core.services import has_capability, require_capability, require_role
from salesledger.domain.errors import PermissionDenied
from tests.support import run, run_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(capsys: Any) -> Company:
    assert run(capsys, "init", "--company", "acme", "--owner", "alice")[0] == 0
    assert run(capsys, "user", "add", "carol", "--role", "clerk")[0] == 0
    return Company.objects.get(code="acme")


def test_the_owner_changes_a_role_and_the_change_is_audited(capsys, acme):
    answer = run_json(capsys, "user", "role", "carol", "credit_controller")
    assert answer == {"user": "carol", "company": "acme", "role": "credit_controller"}
    event = AuditEvent.objects.filter(company=acme, action="membership.role").get()
    assert event.data["before"] == {"role": "clerk"}
    assert event.data["after"] == {"role": "credit_controller"}


def test_only_an_owner_changes_roles(capsys, acme):
    code, out, err = run(capsys, "user", "role", "carol", "owner", "--user", "carol")
    assert code == 2
    assert "owner role" in err
    assert "Traceback" not in err


def test_the_last_owner_stays_owner(capsys, acme):
    code, out, err = run(capsys, "user", "role", "alice", "manager")
    assert code == 2
    assert "only owner" in err
    assert run(capsys, "user", "add", "bruno", "--role", "owner")[0] == 0
    assert run(capsys, "user", "role", "alice", "manager")[0] == 0


def test_an_unknown_member_or_role_is_a_clear_error(capsys, acme):
    code, out, err = run(capsys, "user", "role", "nobody", "clerk")
    assert code == 2 and "not a member" in err
    from salesledger.apps.core.services import user_role
    from salesledger.domain.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="unknown role 'boss'"):
        user_role(actor=None, company=acme, username="carol", role="boss")


@pytest.mark.parametrize(
    ("role", "override", "collect", "writes"),
    [
        ("viewer", False, False, False),
        ("clerk", False, False, True),
        ("collector", False, True, True),
        ("credit_controller", True, True, True),
        ("manager", False, True, True),
        ("owner", True, True, True),
    ],
)
def test_what_each_role_may_do(capsys, acme, django_user_model, role, override, collect,
                               writes):
    assert run(capsys, "user", "add", "dana", "--role", role)[0] == 0
    dana = django_user_model.objects.get(username="dana")
    assert has_capability(acme, dana, Capability.CREDIT_OVERRIDE) is override
    assert has_capability(acme, dana, Capability.COLLECT) is collect
    if override:
        require_capability(acme, dana, Capability.CREDIT_OVERRIDE)
    else:
        with pytest.raises(PermissionDenied, match="credit_controller or owner"):
            require_capability(acme, dana, Capability.CREDIT_OVERRIDE)
    if writes:
        require_role(acme, dana, Role.CLERK)
    else:
        with pytest.raises(PermissionDenied):
            require_role(acme, dana, Role.CLERK)


def test_the_owner_removes_a_member_and_what_they_recorded_stays(capsys, acme):
    answer = run_json(capsys, "user", "remove", "carol")
    assert answer == {"user": "carol", "company": "acme", "removed": "clerk"}
    event = AuditEvent.objects.filter(company=acme, action="membership.remove").get()
    assert event.data["before"] == {"role": "clerk"}
    from django.contrib.auth import get_user_model

    assert get_user_model().objects.filter(username="carol").exists()  # the user stays
    code, out, err = run(capsys, "user", "remove", "carol")
    assert code == 2 and "'carol' is not a member of acme" in err and "Traceback" not in err


def test_only_an_owner_removes_and_the_last_owner_stays(capsys, acme):
    assert run(capsys, "user", "add", "mona", "--role", "manager")[0] == 0
    code, out, err = run(capsys, "user", "remove", "carol", "--user", "mona")
    assert code == 2 and "owner role" in err and "Traceback" not in err
    code, out, err = run(capsys, "user", "remove", "alice")
    assert code == 2 and "only owner of acme" in err
    assert run(capsys, "user", "add", "bruno", "--role", "owner")[0] == 0
    assert run(capsys, "user", "remove", "alice")[0] == 0
    assert AuditEvent.objects.filter(company=acme, action="membership.remove").count() == 1


def test_a_collector_with_customers_stays_until_they_are_given_to_another(capsys, acme):
    assert run(capsys, "customer", "add", "--code", "C1", "--name", "Dupont",
               "--country", "FR")[0] == 0
    assert run(capsys, "user", "add", "dan", "--role", "collector")[0] == 0
    assert run(capsys, "user", "add", "eve", "--role", "collector")[0] == 0
    assert run(capsys, "worklist", "assign", "C1", "dan")[0] == 0
    code, out, err = run(capsys, "user", "remove", "dan")
    assert code == 2 and "dan still collects 1 customer(s) and has 0 open call(s)" in err
    assert not AuditEvent.objects.filter(company=acme, action="membership.remove").exists()
    assert run(capsys, "worklist", "assign", "C1", "eve")[0] == 0
    assert run(capsys, "user", "remove", "dan")[0] == 0
