"""`salesledger manage check --deploy` is clean with the production variables, and the
production settings are those docs/security.md#access promises (each in a fresh process: the
suite itself runs with test settings)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

PRODUCTION = {
    "SALESLEDGER_HTTPS": "true",
    "SALESLEDGER_SECRET_KEY": secrets.token_urlsafe(50),
    "SALESLEDGER_ALLOWED_HOSTS": "ar.example.com",
    "SALESLEDGER_DEBUG": "false",
}
SALESLEDGER = str(Path(sys.executable).with_name("salesledger"))


def environment(tmp_path: Path, **values: str) -> dict[str, str]:
    """The test process's environment without any SALESLEDGER_ variable, plus ``values``."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SALESLEDGER_", "DJANGO_"))}
    return {**env, "SALESLEDGER_HOME": str(tmp_path), **values}


def deploy_check(tmp_path: Path, **values: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SALESLEDGER, "manage", "check", "--deploy", "--fail-level", "WARNING"],
        env=environment(tmp_path, **values), cwd=tmp_path, capture_output=True, text=True,
        timeout=120)


def test_the_deploy_check_is_clean_with_the_production_variables(tmp_path: Path) -> None:
    done = deploy_check(tmp_path, **PRODUCTION)
    assert done.returncode == 0, done.stdout + done.stderr
    # The two HSTS warnings silenced by design (settings.py, docs/security.md) and no other.
    assert "System check identified no issues (2 silenced)." in done.stdout, done.stdout
    assert done.stderr == ""


def test_the_deploy_check_fails_without_https(tmp_path: Path) -> None:
    # The check above can fail: over plain HTTP, cookies are not Secure and there is no HSTS.
    done = deploy_check(tmp_path, **{**PRODUCTION, "SALESLEDGER_HTTPS": "false"})
    assert done.returncode == 1
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in done.stderr


SHOW_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({k: getattr(s, k) for k in (
    "PASSWORD_HASHERS", "AUTH_PASSWORD_VALIDATORS", "SESSION_COOKIE_AGE",
    "SESSION_EXPIRE_AT_BROWSER_CLOSE", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE", "SESSION_COOKIE_NAME", "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_HTTPONLY", "CSRF_COOKIE_NAME", "AXES_FAILURE_LIMIT",
    "AXES_LOCKOUT_PARAMETERS", "AXES_RESET_ON_SUCCESS", "AUTHENTICATION_BACKENDS")}
    | {"AXES_COOLOFF_MINUTES": s.AXES_COOLOFF_TIME.total_seconds() / 60}))
"""


def test_the_production_settings(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SHOW_SETTINGS],
        env=environment(tmp_path, DJANGO_SETTINGS_MODULE="salesledger.config.settings",
                        SALESLEDGER_SESSION_HOURS="2", **PRODUCTION),
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    s = json.loads(done.stdout)
    assert s["PASSWORD_HASHERS"][:2] == ["django.contrib.auth.hashers.Argon2PasswordHasher",
                                         "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    lengths = [v.get("OPTIONS", {}).get("min_length") for v in s["AUTH_PASSWORD_VALIDATORS"]
               if v["NAME"].endswith("MinimumLengthValidator")]
    assert lengths == [12]
    assert s["SESSION_COOKIE_AGE"] == 2 * 3600  # SALESLEDGER_SESSION_HOURS
    assert s["SESSION_EXPIRE_AT_BROWSER_CLOSE"] is True
    assert s["SESSION_COOKIE_SECURE"] and s["CSRF_COOKIE_SECURE"]
    assert s["SESSION_COOKIE_HTTPONLY"] and s["CSRF_COOKIE_HTTPONLY"]
    assert s["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert s["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert s["CSRF_COOKIE_NAME"].startswith("__Host-")
    assert s["AXES_FAILURE_LIMIT"] == 5 and s["AXES_COOLOFF_MINUTES"] == 15
    assert s["AXES_LOCKOUT_PARAMETERS"] == [["username", "ip_address"]]
    assert s["AXES_RESET_ON_SUCCESS"] is True
    assert s["AUTHENTICATION_BACKENDS"][0] == "axes.backends.AxesStandaloneBackend"
