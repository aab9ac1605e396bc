"""Passwords: the policy wherever one is set, Argon2 with old hashes upgraded at sign-in.
Sessions: browser-session cookies that end a fixed time after sign-in, however busy."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import Client, override_settings

from salesledger.apps.core.services import company_init, user_ensure
from salesledger.config.access import SIGNED_IN_AT
from salesledger.config.settings import PRODUCTION_PASSWORD_HASHERS
from salesledger.domain.errors import ValidationFailed

from .conftest import PASSWORD, sign_in


@pytest.mark.parametrize(("password", "rule"), [
    ("Sh0rt-pass", "at least 12 characters"),
    ("314159265358979", "entirely numeric"),
    ("password12345", "too common"),
    ("alice.martin.example", "too similar"),
])
def test_a_password_that_breaks_the_policy_is_refused(db: None, password: str, rule: str
                                                      ) -> None:
    with pytest.raises(ValidationFailed, match=rule) as refused:
        user_ensure(username="alice.martin", email="alice.martin@example.com",
                    password=password)
    assert refused.value.fields == {"field": "password"}


def test_the_command_line_refuses_a_weak_password_and_writes_nothing(
        db: None, django_user_model: Any) -> None:
    with pytest.raises(ValidationFailed, match="at least 12 characters"):
        company_init(code="acme", name="Acme", owner="alice", password="too-short")
    assert not django_user_model.objects.filter(username="alice").exists()
    _, alice = company_init(code="acme", name="Acme", owner="alice",
                            password="a long enough passphrase")
    assert alice.check_password("a long enough passphrase")


@override_settings(PASSWORD_HASHERS=PRODUCTION_PASSWORD_HASHERS)
def test_argon2_for_new_passwords_and_an_old_pbkdf2_hash_is_upgraded_at_sign_in(
        db: None, django_user_model: Any) -> None:
    new = django_user_model.objects.create_user("nina", password=PASSWORD)
    assert new.password.startswith("argon2$argon2id$")
    old = django_user_model.objects.create_user("otto")
    # A hash as an older installation wrote it (few iterations keep the test quick).
    old.password = PBKDF2PasswordHasher().encode(PASSWORD, "oldsalt", iterations=1000)
    old.save()
    assert sign_in(Client(), "otto").status_code == 302
    old.refresh_from_db()
    assert old.password.startswith("argon2$argon2id$")
    assert old.check_password(PASSWORD)


def test_the_session_cookie_lasts_until_the_browser_closes(people: dict[str, Any],
                                                           browser: Client) -> None:
    response = sign_in(browser, "claude")
    cookie = response.cookies["sessionid"]
    assert cookie["max-age"] == "" and cookie["expires"] == ""  # a browser-session cookie
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def test_a_session_ends_its_age_after_sign_in_however_busy(people: dict[str, Any],
                                                           browser: Client,
                                                           settings: Any) -> None:
    sign_in(browser, "claude")
    assert browser.get("/").status_code == 200
    started = browser.session[SIGNED_IN_AT]
    assert abs(started - time.time()) < 60
    # Nearly eight hours later the session still works...
    session = browser.session
    session[SIGNED_IN_AT] = int(time.time()) - settings.SESSION_COOKIE_AGE + 60
    session.save()
    assert browser.get("/").status_code == 200
    # ... and then ends: signed out, sent to sign in, told why.
    session = browser.session
    session[SIGNED_IN_AT] = int(time.time()) - settings.SESSION_COOKIE_AGE
    session.save()
    response = browser.get("/", follow=True)
    assert response.redirect_chain[0] == ("/login/?next=%2F", 302)
    assert b"Your session ended 8 hours after you signed in" in response.content
    assert not response.context["user"].is_authenticated
    assert browser.get("/").status_code == 302
