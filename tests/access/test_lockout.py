"""Sign-in lock-out (django-axes): five wrong passwords for one user name from one address
lock that pair out for 15 minutes, on the site's login and the back office's alike."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client, RequestFactory, override_settings

from salesledger.config.access import client_ip

from .conftest import PASSWORD, sign_in

LIMIT = 5


def fail(client: Client, username: str, times: int, url: str = "/login/", **extra: Any
         ) -> list[int]:
    return [client.post(url, {"username": username, "password": "wrong password!"},
                        **extra).status_code for _ in range(times)]


def test_the_fifth_wrong_password_locks_the_user_out_from_that_address(
        people: dict[str, Any], browser: Client) -> None:
    assert fail(browser, "claude", LIMIT - 1) == [200] * (LIMIT - 1)  # the form again
    locked = browser.post("/login/", {"username": "claude", "password": "nope nope nope"})
    assert locked.status_code == 429
    assert b"Sign-in locked" in locked.content and b"15 minutes" in locked.content
    # Now even the right password is refused from this address...
    assert sign_in(browser, "claude").status_code == 429
    # ... but the same user from another address, and another user from this one, sign in.
    assert sign_in(Client(REMOTE_ADDR="192.0.2.7"), "claude").status_code == 302
    assert sign_in(Client(), "manon").status_code == 302


def test_the_lock_out_ends_after_the_cool_off(people: dict[str, Any], browser: Client) -> None:
    fail(browser, "claude", LIMIT)
    assert sign_in(browser, "claude").status_code == 429
    # Fourteen minutes after the last try it still holds...
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time
                                 - timedelta(minutes=14))
    assert sign_in(browser, "claude").status_code == 429
    # ... and that try started the 15 minutes again; once they have passed, the right
    # password signs in and the count starts from zero.
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time
                                 - timedelta(minutes=15, seconds=1))
    assert sign_in(browser, "claude").status_code == 302
    assert not AccessAttempt.objects.exists()


def test_a_correct_password_resets_the_count(people: dict[str, Any], browser: Client) -> None:
    assert fail(browser, "claude", LIMIT - 1) == [200] * (LIMIT - 1)
    assert sign_in(browser, "claude").status_code == 302
    browser.post("/logout/")
    assert fail(browser, "claude", LIMIT - 1) == [200] * (LIMIT - 1)
    assert sign_in(browser, "claude").status_code == 302


def test_the_back_office_login_locks_out_too(people: dict[str, Any], browser: Client) -> None:
    people["claude"].is_staff = True
    people["claude"].save()
    assert fail(browser, "claude", LIMIT, url="/admin/login/")[-1] == 429
    locked = browser.post("/admin/login/", {"username": "claude", "password": PASSWORD})
    assert locked.status_code == 429


def test_an_operator_unlocks_a_user(people: dict[str, Any], browser: Client,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    fail(browser, "claude", LIMIT)
    call_command("axes_reset_username", "claude")
    assert capsys.readouterr().out == "1 attempts removed.\n"
    assert sign_in(browser, "claude").status_code == 302


def test_the_client_address_behind_trusted_proxies() -> None:
    factory = RequestFactory()
    request = factory.post("/login/", REMOTE_ADDR="10.0.0.2",
                           HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9, 10.0.0.1")
    # No proxy declared: the connection's address; the header is the client's to write.
    assert client_ip(request) == "10.0.0.2"
    with override_settings(TRUSTED_PROXIES=1):
        assert client_ip(request) == "10.0.0.1"
    with override_settings(TRUSTED_PROXIES=2):
        assert client_ip(request) == "203.0.113.9"
    with override_settings(TRUSTED_PROXIES=4):  # fewer entries than proxies: not trusted
        assert client_ip(request) == "10.0.0.2"
    bad = factory.post("/login/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-ip")
    with override_settings(TRUSTED_PROXIES=1):
        assert client_ip(bad) == "10.0.0.2"
