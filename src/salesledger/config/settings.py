"""Django settings for salesledger.

Everything that differs between installations is read from ``SALESLEDGER_*``
environment variables; the defaults are safe for production (DEBUG off, hardened
cookies and headers) and convenient for a local demo (SQLite under ``var/``).

Environment variables
---------------------
SALESLEDGER_HOME            directory holding ``var/`` (default: current directory)
SALESLEDGER_DATABASE_URL    database URL, e.g. ``postgres://user@host:5432/db``
                            (default: SQLite at ``$SALESLEDGER_HOME/var/salesledger.sqlite3``)
SALESLEDGER_SECRET_KEY      secret key (default: generated once, kept in ``var/secret_key``)
SALESLEDGER_DEBUG           ``true``/``false`` (default false)
SALESLEDGER_ALLOWED_HOSTS   comma-separated host names (default ``127.0.0.1,localhost``)
SALESLEDGER_CSRF_TRUSTED_ORIGINS  comma-separated origins, e.g. ``https://ar.example.com``
SALESLEDGER_HTTPS           ``true`` when served over HTTPS: secure cookies, HSTS, SSL redirect
SALESLEDGER_PROXY_SSL_HEADER  ``true`` to trust ``X-Forwarded-Proto`` from a reverse proxy
SALESLEDGER_HSTS_SECONDS    HSTS max-age when SALESLEDGER_HTTPS is on (default one year)
SALESLEDGER_HSTS_INCLUDE_SUBDOMAINS, SALESLEDGER_HSTS_PRELOAD  ``true`` to extend HSTS to every
                            subdomain / to ask for the browsers' preload list (default false)
SALESLEDGER_SESSION_HOURS   a signed-in session ends this many hours after sign-in, and when
                            the browser closes (default 8)
SALESLEDGER_LOGIN_FAILURE_LIMIT  failed sign-ins of one user name from one address before
                            it is locked out (default 5)
SALESLEDGER_LOGIN_COOLOFF_MINUTES  how long a lock-out lasts (default 15)
SALESLEDGER_TRUSTED_PROXIES number of reverse proxies in front of the site that append the
                            client's address to X-Forwarded-For (default 0: the address of
                            the connection is the client's)
SALESLEDGER_TIME_ZONE       default time zone (default ``UTC``)
SALESLEDGER_EMAIL_BACKEND   Django e-mail backend path (default: SMTP when
                            SALESLEDGER_EMAIL_HOST is set, else one file per message
                            under SALESLEDGER_EMAIL_FILE_PATH)
SALESLEDGER_EMAIL_FILE_PATH directory for the messages written when no mail server is
                            configured (default ``$SALESLEDGER_HOME/var/mail``)
SALESLEDGER_EMAIL_HOST, SALESLEDGER_EMAIL_PORT, SALESLEDGER_EMAIL_USER,
SALESLEDGER_EMAIL_PASSWORD, SALESLEDGER_EMAIL_USE_TLS, SALESLEDGER_EMAIL_USE_SSL
SALESLEDGER_DEFAULT_FROM_EMAIL  sender address (default ``salesledger@localhost``)
SALESLEDGER_LOG_LEVEL       root log level (default ``INFO``)
SALESLEDGER_SQLITE_BUSY_TIMEOUT  seconds a write waits for another's lock on SQLite (default 20)
SALESLEDGER_DUNNING_PARALLEL_FROM  a dunning run with this many messages to send or more
                            shares them out between sending processes, one per core
                            (default 100)
SALESLEDGER_TESTING         ``true`` forces test-friendly settings (set automatically under pytest)
"""

from __future__ import annotations

import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

# --------------------------------------------------------------------------- helpers

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in _env(name, default).split(",") if item.strip()]


# --------------------------------------------------------------------------- paths

CONFIG_DIR = Path(__file__).resolve().parent
HOME_DIR = Path(_env("SALESLEDGER_HOME") or os.getcwd()).resolve()
VAR_DIR = HOME_DIR / "var"

# --------------------------------------------------------------------------- core

DEBUG = _env_bool("SALESLEDGER_DEBUG", False)

TESTING = (
    _env_bool("SALESLEDGER_TESTING", False) or "pytest" in sys.modules or sys.argv[1:2] == ["test"]
)


def _secret_key() -> str:
    """Return SALESLEDGER_SECRET_KEY, or a random key persisted in ``var/secret_key``."""
    key = _env("SALESLEDGER_SECRET_KEY")
    if key:
        return key
    path = VAR_DIR / "secret_key"
    try:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            # Written whole to a private file, then linked into place: a second process
            # starting at the same moment sees either no file or the complete key.
            tmp = VAR_DIR / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(secrets.token_urlsafe(50) + "\n")
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process won; use its key
            finally:
                tmp.unlink()
        key = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        if DEBUG or TESTING:
            return secrets.token_urlsafe(50)
        raise ImproperlyConfigured(
            f"SALESLEDGER_SECRET_KEY is not set and {path} cannot be used: {exc}"
        ) from exc
    if not key:
        raise ImproperlyConfigured(f"{path} is empty: delete it or set SALESLEDGER_SECRET_KEY")
    return key


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = _env_list("SALESLEDGER_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = _env_list("SALESLEDGER_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Access (docs/security.md#access): one-time codes and sign-in lock-out.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "salesledger.apps.core",
    "salesledger.apps.customers",
    "salesledger.apps.ledger",
    "salesledger.apps.invoicing",
    "salesledger.apps.payments",
    "salesledger.apps.fx",
    "salesledger.apps.runs",
    "salesledger.apps.quotes",
    "salesledger.apps.recurring",
    "salesledger.apps.documents",
    "salesledger.apps.banking",
    "salesledger.apps.credit",
    "salesledger.apps.reporting",
    "salesledger.apps.collections",
    "salesledger.apps.dunning",
    "salesledger.apps.interchange",
    # The web workspace (docs/design/web.md): pages, static files, translations.
    "salesledger.web",
    # Background tasks: the task API and its database-backed queue (docs/decisions.md).
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of the pages: the one chosen in the workspace, else the browser's.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Knows whether the session was verified with a one-time code; then ours ends sessions
    # past their age and sends those who owe a code to give it (config/access.py).
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # The workspace's day (?as_of=) kept in its links, forms and redirects (web/keepday.py).
    "salesledger.web.keepday.KeepDayMiddleware",
    "salesledger.config.access.AccessMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "salesledger.config.urls"
WSGI_APPLICATION = "salesledger.config.wsgi.application"
ASGI_APPLICATION = "salesledger.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [CONFIG_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --------------------------------------------------------------------------- database

_SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    # Seconds a writer waits for another's write lock before the command says the database is
    # busy (exit 2, nothing written).
    "timeout": _env_int("SALESLEDGER_SQLITE_BUSY_TIMEOUT", 20),
    # The page cache and the memory-mapped part of the file, in MiB (docs/decisions.md,
    # "SQLite reads the books through a larger page cache and a memory map"): SQLite's own
    # cache is 2 MiB, and a batch writing into indexes of millions of rows, at random
    # places, read the same pages again and again through a system call each.
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                    f"PRAGMA cache_size=-{_env_int('SALESLEDGER_SQLITE_CACHE_MB', 256) * 1024}; "
                    f"PRAGMA mmap_size={_env_int('SALESLEDGER_SQLITE_MMAP_MB', 2048) << 20};",
}


def _database() -> dict[str, object]:
    url = _env("SALESLEDGER_DATABASE_URL")
    if url:
        db: dict[str, object] = dict(dj_database_url.parse(url))
    else:
        # SQLite makes the file but not its folder; the secret key may come from the
        # environment, so var/ is not always made for it.
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        db = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "salesledger.sqlite3"),
        }
    engine = str(db.get("ENGINE", ""))
    if engine.endswith("sqlite3"):
        options: dict[str, object] = dict(_SQLITE_OPTIONS)
        extra = db.get("OPTIONS")
        if isinstance(extra, dict):
            options.update(extra)
        db["OPTIONS"] = options
    elif "postgresql" in engine:
        db["CONN_MAX_AGE"] = 60
        db["CONN_HEALTH_CHECKS"] = True
        db["TEST"] = {"NAME": "test_salesledger"}
    return db


DATABASES = {"default": _database()}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --------------------------------------------------------------------------- tasks

# Tasks are rows in the application database, run by `salesledger worker`
# (docs/design/recurring-invoices.md, docs/decisions.md).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --------------------------------------------------------------------------- auth

# A password has at least 12 characters, is not like the user's name or e-mail, not one of
# the 20,000 most common, and not all digits. Checked wherever a password is set: the
# command line (`init`, `user add`), `manage changepassword` and the back office.
PASSWORD_MIN_LENGTH = 12
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Argon2id first (new and changed passwords); the PBKDF2 hashers after it still verify hashes
# written before, and Django rehashes those with Argon2 at the user's next sign-in.
PRODUCTION_PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# Fast hashing keeps the suite quick; never used outside tests (a test that needs the real
# list overrides the setting with PRODUCTION_PASSWORD_HASHERS).
PASSWORD_HASHERS = (["django.contrib.auth.hashers.MD5PasswordHasher"] if TESTING
                    else PRODUCTION_PASSWORD_HASHERS)

# django-axes checks every sign-in first (the web login and the back office's alike) and
# refuses one whose user name and address are locked out; then Django checks the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Five wrong passwords for one user name from one address lock that pair out for 15 minutes;
# each further try during the lock-out starts the 15 minutes again. A correct password
# resets the count. The same name from another address, or another name from this one, is
# not affected: one attacker cannot lock a user out of everywhere.
AXES_FAILURE_LIMIT = _env_int("SALESLEDGER_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=_env_int("SALESLEDGER_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True
AXES_LOCKOUT_CALLABLE = "salesledger.config.access.locked_out"
AXES_CLIENT_IP_CALLABLE = "salesledger.config.access.client_ip"
TRUSTED_PROXIES = _env_int("SALESLEDGER_TRUSTED_PROXIES", 0)
# No start-up banner: the command line's output stays the command's own.
AXES_VERBOSE = False

# One-time codes (django-otp): the issuer names the account in the authenticator app.
OTP_TOTP_ISSUER = "salesledger"

# A signed-in session ends at the latest SESSION_COOKIE_AGE after sign-in, however busy
# (config/access.py checks the sign-in time), and when the browser closes.
SESSION_COOKIE_AGE = _env_int("SALESLEDGER_SESSION_HOURS", 8) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

# --------------------------------------------------------------------------- i18n

LANGUAGE_CODE = "en"
# The languages of the web workspace (its catalogues: src/salesledger/web/locale/).
LANGUAGES = [("en", "English"), ("fr", "Français")]
TIME_ZONE = _env("SALESLEDGER_TIME_ZONE", "UTC") or "UTC"
USE_I18N = True
USE_TZ = True

# --------------------------------------------------------------------------- static files

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedStaticFilesStorage"
        )
    },
}
# Serve straight from the app folders too, so the site works before `collectstatic`.
WHITENOISE_USE_FINDERS = True
if TESTING:
    # Look files up per request: no scan of (and no warning about a missing) STATIC_ROOT.
    WHITENOISE_AUTOREFRESH = True

# --------------------------------------------------------------------------- e-mail

EMAIL_HOST = _env("SALESLEDGER_EMAIL_HOST")
EMAIL_PORT = _env_int("SALESLEDGER_EMAIL_PORT", 25)
EMAIL_HOST_USER = _env("SALESLEDGER_EMAIL_USER")
EMAIL_HOST_PASSWORD = os.environ.get("SALESLEDGER_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("SALESLEDGER_EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _env_bool("SALESLEDGER_EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 30
# Without a mail server, each message is written whole to its own file under var/mail/
# (never printed: the command line's output stays readable and --json stays JSON).
EMAIL_BACKEND = _env("SALESLEDGER_EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "salesledger.apps.documents.delivery.MailFileBackend"
)
EMAIL_FILE_PATH = Path(_env("SALESLEDGER_EMAIL_FILE_PATH") or VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = _env("SALESLEDGER_DEFAULT_FROM_EMAIL", "salesledger@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# The dunning run sends this many messages or more from sending processes, one per core
# (apps/dunning/run.py).
DUNNING_PARALLEL_FROM = _env_int("SALESLEDGER_DUNNING_PARALLEL_FROM", 100)

# --------------------------------------------------------------------------- security

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

HTTPS = _env_bool("SALESLEDGER_HTTPS", False)
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # The __Host- prefix makes browsers refuse the cookie unless it is Secure, for this exact
    # host and path /: no subdomain and no plain-HTTP page can plant or overwrite it.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = _env_int("SALESLEDGER_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SALESLEDGER_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = _env_bool("SALESLEDGER_HSTS_PRELOAD", False)
    # The health check must answer plain HTTP probes from a load balancer.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if _env_bool("SALESLEDGER_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Warnings of `manage check --deploy` kept by design (docs/security.md#access):
SILENCED_SYSTEM_CHECKS = [
    # HSTS for every subdomain: other sites under the same domain may still need plain HTTP,
    # and browsers remember the rule for a year. The operator opts in with
    # SALESLEDGER_HSTS_INCLUDE_SUBDOMAINS=true.
    "security.W005",
    # The browsers' HSTS preload list is hard to leave again and needs includeSubDomains;
    # the operator opts in with SALESLEDGER_HSTS_PRELOAD=true.
    "security.W021",
]

# --------------------------------------------------------------------------- logging

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "salesledger.config.log_handlers.StandardError",
                    "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": _env("SALESLEDGER_LOG_LEVEL", "INFO") or "INFO"},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # PDF rendering (documents app) reports each layout step at INFO: too chatty.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "factur-x": {"level": "WARNING"},
        # The queue says "starting"/"no more tasks" every round: only its problems matter.
        "django_tasks_db": {"level": "WARNING"},
        # Lock-outs are warnings; each failed sign-in is kept in the axes tables (back office,
        # `manage axes_list_attempts`) rather than logged, and `manage axes_reset*` prints
        # its own result.
        "axes": {"level": "WARNING"},
    },
}
