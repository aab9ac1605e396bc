"""Two-factor sign-in: a company requires it of its owners and managers; they set up an
authenticator, then give its code after the password, before any page (back office included).
Codes are computed here from the device's key, as an authenticator app computes them."""

from __future__ import annotations

import re
import time
from base64 import b32decode
from binascii import unhexlify
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from salesledger.apps.core.access import (
    company_two_factor_set,
    two_factor_needed,
    user_two_factor_reset,
)
from salesledger.apps.core.models import AuditEvent
from salesledger.config.access import SETUP_KEY
from salesledger.domain.errors import PermissionDenied

from .conftest import sign_in


def code(key: str, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows for ``key``, now or ``steps_ahead`` steps later
    (a code is accepted once, so a second sign-in in the same 30 seconds uses the next)."""
    totp = TOTP(unhexlify(key))
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


@pytest.fixture
def required(people: dict[str, Any]) -> dict[str, Any]:
    company_two_factor_set(actor=people["olivia"], company=people["company"], required=True)
    return people


def enrol(client: Client) -> str:
    """Set up an authenticator through the pages; returns its key."""
    page = client.get("/two-factor/setup/")
    assert page.status_code == 200
    key = client.session[SETUP_KEY]
    done = client.post("/two-factor/setup/", {"token": code(key), "next": "/"})
    assert (done.status_code, done["Location"]) == (302, "/")
    return key


def test_a_manager_of_a_company_that_requires_it_sets_up_an_authenticator_first(
        required: dict[str, Any], browser: Client) -> None:
    assert sign_in(browser, "manon").status_code == 302
    # Every page sends them to the code page, which sends them to the set-up...
    first = browser.get("/customers?page=2")
    assert (first.status_code, first["Location"]) == (
        302, "/two-factor/?next=%2Fcustomers%3Fpage%3D2")
    to_setup = browser.get(first["Location"])
    assert to_setup["Location"] == "/two-factor/setup/?next=%2Fcustomers%3Fpage%3D2"
    page = browser.get(to_setup["Location"])
    html = page.content.decode()
    # ... a QR code drawn inline (no image from elsewhere) and the key to type by hand.
    assert "<svg" in html and "QR code of the set-up key" in html
    key = browser.session[SETUP_KEY]
    secret = re.search(r'<code class="key"[^>]*>([A-Z2-7 ]+)</code>', html)
    assert secret is not None
    assert b32decode(secret.group(1).replace(" ", "")) == unhexlify(key)
    assert not TOTPDevice.objects.exists()  # nothing stored before a code proves the key
    # A wrong code is refused and stores nothing; the right one turns it on.
    wrong = browser.post("/two-factor/setup/", {"token": "000000" if code(key) != "000000"
                                                else "111111"})
    assert wrong.status_code == 400 and b"does not match" in wrong.content
    assert not TOTPDevice.objects.exists()
    done = browser.post("/two-factor/setup/", {"token": code(key),
                                               "next": "/customers?page=2"})
    assert (done.status_code, done["Location"]) == (302, "/customers?page=2")
    device = TOTPDevice.objects.get(user=required["manon"])
    assert device.confirmed and device.key == key
    assert SETUP_KEY not in browser.session
    assert browser.get("/").status_code == 200
    assert AuditEvent.objects.filter(action="user.two_factor_enrol",
                                     entity_id=str(required["manon"].pk)).count() == 1


def test_after_the_password_the_code_is_asked_once_per_sign_in(required: dict[str, Any],
                                                               browser: Client) -> None:
    sign_in(browser, "olivia")
    key = enrol(browser)
    browser.post("/logout/")
    sign_in(browser, "olivia")
    asked = browser.get("/")
    assert asked["Location"] == "/two-factor/?next=%2F"
    page = browser.get(asked["Location"])
    assert page.status_code == 200 and b'autocomplete="one-time-code"' in page.content
    # The code used at set-up was accepted once: it is refused now.
    replay = browser.post("/two-factor/", {"token": code(key), "next": "/"})
    assert replay.status_code == 400 and b"already used" in replay.content
    assert browser.get("/")["Location"] == "/two-factor/?next=%2F"
    # Each wrong code doubles the wait before the next try (1, 2, 4 ... seconds).
    too_soon = browser.post("/two-factor/", {"token": code(key, 1), "next": "/"})
    assert too_soon.status_code == 400 and b"too many wrong codes" in too_soon.content
    TOTPDevice.objects.update(throttling_failure_timestamp=TOTPDevice.objects.get()
                              .throttling_failure_timestamp - timedelta(seconds=2))
    old_session = browser.session.session_key
    done = browser.post("/two-factor/", {"token": code(key, 1), "next": "/"})
    assert (done.status_code, done["Location"]) == (302, "/")
    assert browser.session.session_key != old_session  # a new key for the raised privilege
    assert browser.get("/").status_code == 200
    assert browser.get("/account/security/").status_code == 200


def test_the_back_office_asks_for_the_code_too(required: dict[str, Any],
                                               browser: Client) -> None:
    required["olivia"].is_staff = True
    required["olivia"].save()
    browser.post("/admin/login/", {"username": "olivia", "password": "correct horse battery",
                                   "next": "/admin/"})
    assert browser.get("/admin/")["Location"] == "/two-factor/?next=%2Fadmin%2F"
    # A form posted while the code is owed is not run either.
    refused = browser.post("/account/security/", {"company": "acme"})
    assert (refused.status_code, refused["Location"]) == (302, "/two-factor/")


def test_who_is_asked(required: dict[str, Any], django_user_model: Any) -> None:
    assert two_factor_needed(required["olivia"]) and two_factor_needed(required["manon"])
    assert not two_factor_needed(required["claude"])  # a clerk: not covered by the rule
    company_two_factor_set(actor=required["olivia"], company=required["company"],
                           required=False)
    assert not two_factor_needed(required["manon"])
    # Anyone who set up an authenticator of their own is asked for its code.
    TOTPDevice.objects.create(user=required["claude"], confirmed=True)
    assert two_factor_needed(required["claude"])
    stranger = django_user_model.objects.create_user("stranger")
    assert not two_factor_needed(stranger)


def test_a_clerk_is_not_asked_and_may_opt_in(required: dict[str, Any], browser: Client
                                             ) -> None:
    sign_in(browser, "claude")
    assert browser.get("/").status_code == 200
    page = browser.get("/account/security/")
    assert b"Off: your password alone signs you in." in page.content
    assert b"Your companies" not in page.content  # not an owner
    enrol(browser)
    assert b"On: after your password" in browser.get("/account/security/").content


def test_replacing_the_authenticator_needs_the_old_one(required: dict[str, Any],
                                                       browser: Client) -> None:
    TOTPDevice.objects.create(user=required["claude"], confirmed=True)
    sign_in(browser, "claude")
    blocked = browser.get("/two-factor/setup/")
    assert blocked["Location"].startswith("/two-factor/?next=")
    assert SETUP_KEY not in browser.session


def test_only_an_owner_sets_the_requirement_and_it_is_audited(people: dict[str, Any]
                                                              ) -> None:
    with pytest.raises(PermissionDenied):
        company_two_factor_set(actor=people["manon"], company=people["company"],
                               required=True)
    company = company_two_factor_set(actor=people["olivia"], company=people["company"],
                                     required=True)
    assert company.require_two_factor
    event = AuditEvent.objects.get(action="company.two_factor")
    assert event.actor_name == "olivia"
    assert event.data == {"before": {"require_two_factor": False},
                          "after": {"require_two_factor": True}}


def test_an_owner_requires_it_from_the_account_page(people: dict[str, Any],
                                                    browser: Client) -> None:
    sign_in(browser, "olivia")
    page = browser.get("/account/security/")
    assert b"Require two-factor sign-in of the owners and managers of Acme SARL" in page.content
    saved = browser.post("/account/security/", {"company": "acme", "require_two_factor": "on"},
                         follow=True)
    assert b"is now required" in saved.content
    people["company"].refresh_from_db()
    assert people["company"].require_two_factor
    # The owner is now asked to set up an authenticator before anything else.
    assert browser.get("/")["Location"] == "/two-factor/?next=%2F"


def test_a_manager_cannot_switch_the_requirement_off(required: dict[str, Any],
                                                     browser: Client) -> None:
    sign_in(browser, "manon")
    enrol(browser)
    refused = browser.post("/account/security/", {"company": "acme"}, follow=True)
    assert b"manon needs the owner role in acme" in refused.content
    required["company"].refresh_from_db()
    assert required["company"].require_two_factor


def test_an_owner_resets_a_lost_authenticator(required: dict[str, Any]) -> None:
    TOTPDevice.objects.create(user=required["manon"], confirmed=True)
    with pytest.raises(PermissionDenied):
        user_two_factor_reset(actor=required["manon"], company=required["company"],
                              username="manon")
    assert user_two_factor_reset(actor=required["olivia"], company=required["company"],
                                 username="manon") == 1
    assert not TOTPDevice.objects.filter(user=required["manon"]).exists()
    assert AuditEvent.objects.filter(action="user.two_factor_reset").count() == 1
