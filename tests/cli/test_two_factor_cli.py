"""Two-factor sign-in from the command line: an owner requires it of the owners and managers
or lifts the requirement (``company two-factor require|lift``), and resets a user's
authenticator after a lost or replaced phone (``user two-factor-reset``). Both are the
services of ``apps/core/access.py``: owner only, audited."""

from __future__ import annotations

import time
from binascii import unhexlify
from typing import Any

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from salesledger.apps.core.access import totp_enrol, totp_key_new, two_factor_needed
from salesledger.apps.core.models import AuditEvent, Company
from tests.support import run, run_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(capsys: Any, django_user_model: Any) -> dict[str, Any]:
    """acme: alice the owner, manon a manager with an authenticator set up."""
    assert run(capsys, "init", "--company", "acme", "--owner", "alice")[0] == 0
    assert run(capsys, "user", "add", "manon", "--role", "manager")[0] == 0
    manon = django_user_model.objects.get(username="manon")
    key = totp_key_new()
    totp = TOTP(unhexlify(key))
    totp.time = time.time()
    totp_enrol(user=manon, key=key, token=f"{totp.token():06d}")
    return {"manon": manon}


def _required() -> bool:
    return Company.objects.get(code="acme").require_two_factor


def test_an_owner_requires_it_and_lifts_it_and_each_change_is_audited(capsys, team):
    code, out, err = run(capsys, "company", "two-factor", "require")
    assert (code, out, err) == (
        0, "two-factor sign-in is now required of the owners and managers of acme\n", "")
    assert _required()
    # Asking again changes nothing and writes no event.
    assert run(capsys, "company", "two-factor", "require")[1] == (
        "two-factor sign-in was already required of the owners and managers of acme\n")
    assert run_json(capsys, "company", "two-factor", "lift") == {
        "company": "acme", "require_two_factor": False, "changed": True}
    assert not _required()
    events = list(AuditEvent.objects.filter(action="company.two_factor").order_by("seq")
                  .values_list("actor_name", "data"))
    assert events == [
        ("alice", {"before": {"require_two_factor": False}, "after": {"require_two_factor": True}}),
        ("alice", {"before": {"require_two_factor": True}, "after": {"require_two_factor": False}}),
    ]


def test_a_manager_can_neither_require_nor_lift_it(capsys, team):
    run(capsys, "company", "two-factor", "require")
    code, out, err = run(capsys, "company", "two-factor", "lift", "--user", "manon")
    assert (code, out, err) == (
        2, "", "permission_denied: manon needs the owner role in acme for this\n")
    assert _required()
    assert AuditEvent.objects.filter(action="company.two_factor").count() == 1


def test_an_owner_resets_the_authenticator_of_a_user_whose_phone_was_replaced(capsys, team):
    manon = team["manon"]
    assert two_factor_needed(manon)  # she set up an authenticator
    code, out, err = run(capsys, "user", "two-factor-reset", "manon")
    assert (code, err) == (0, "")
    assert out == ("two-factor sign-in of manon reset: their authenticator was removed; they "
                   "sign in with their password and set up the app again\n")
    assert not TOTPDevice.objects.filter(user=manon).exists()
    assert not two_factor_needed(manon)  # nothing required by the company: no code asked
    [event] = AuditEvent.objects.filter(action="user.two_factor_reset")
    assert (event.actor_name, event.entity_id, event.data) == (
        "alice", str(manon.pk), {"username": "manon", "removed": 1})
    # Again: nothing left to remove, said so, and still audited (the owner's act is recorded).
    assert run_json(capsys, "user", "two-factor-reset", "manon") == {
        "user": "manon", "company": "acme", "removed": 0}


def test_a_reset_is_refused_to_a_manager_and_for_a_stranger(capsys, team, django_user_model):
    code, out, err = run(capsys, "user", "two-factor-reset", "manon", "--user", "manon")
    assert (code, out, err) == (
        2, "", "permission_denied: manon needs the owner role in acme for this\n")
    assert TOTPDevice.objects.filter(user=team["manon"]).exists()
    django_user_model.objects.create_user("stranger")
    code, out, err = run(capsys, "user", "two-factor-reset", "stranger")
    assert (code, out, err) == (2, "", "not_found: 'stranger' is not a member of acme\n")
    assert not AuditEvent.objects.filter(action="user.two_factor_reset").exists()
