"""Signing in: session age, the second factor, and the client address for lock-outs.

What is promised, and the test of each promise, is in docs/security.md#access. Here:

- ``AccessMiddleware`` ends a session ``SESSION_COOKIE_AGE`` after sign-in however busy it is
  (Django alone would extend a session each time its data changes), and sends a signed-in user
  who owes a one-time code (``core.access.two_factor_needed``) to give it, or to set up an
  authenticator first, before any other page, the back office included.
- The pages that ask for the code and set up the authenticator, and the account page where an
  owner requires two-factor sign-in of the company's owners and managers.
- ``client_ip``: the address django-axes counts failed sign-ins by.
"""

from __future__ import annotations

import ipaddress
import time
from base64 import b32encode
from binascii import unhexlify
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from salesledger.apps.core import access
from salesledger.apps.core.selectors import company_get
from salesledger.domain.errors import LedgerError

SIGNED_IN_AT = "salesledger_signed_in_at"
SETUP_KEY = "salesledger_totp_setup_key"


# ---------------------------------------------------------------- middleware
class AccessMiddleware:
    """Session age and the second factor, checked before every view."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._open: tuple[str, ...] | None = None

    def open_paths(self) -> tuple[str, ...]:
        """Paths a user who owes a code may still reach: the code pages, logging out, the
        health check and static files."""
        if self._open is None:
            self._open = (reverse("two_factor_verify"), reverse("logout"),
                          reverse("healthz"), "/" + settings.STATIC_URL.lstrip("/"))
        return self._open

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            refused = self.session_expired(request) or self.code_owed(request, user)
            if refused is not None:
                return refused
        return self.get_response(request)

    def session_expired(self, request: HttpRequest) -> HttpResponse | None:
        now = int(time.time())
        started = request.session.get(SIGNED_IN_AT)
        if not isinstance(started, int):
            # The first request after sign-in (the login view has just cycled the session).
            request.session[SIGNED_IN_AT] = now
            return None
        if now - started < settings.SESSION_COOKIE_AGE:
            return None
        logout(request)
        hours = settings.SESSION_COOKIE_AGE / 3600
        messages.info(request, f"Your session ended {hours:g} hours after you signed in: "
                               "sign in again.")
        return _to(settings.LOGIN_URL, request)

    def code_owed(self, request: HttpRequest, user: Any) -> HttpResponse | None:
        if user.is_verified() or request.path.startswith(self.open_paths()):
            return None
        if not access.two_factor_needed(user):
            return None
        return _to(reverse("two_factor_verify"), request)


def _to(url: str, request: HttpRequest) -> HttpResponse:
    """Redirect to ``url``, coming back to this page afterwards when it was a page view."""
    if request.method in ("GET", "HEAD"):
        url += "?" + urlencode({"next": request.get_full_path()})
    return HttpResponseRedirect(url)


def _next(request: HttpRequest) -> str:
    """The page to go back to: ``next`` when it is on this site, else the home page."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return target
    return str(settings.LOGIN_REDIRECT_URL)


def _verified(request: HttpRequest, device: Any) -> HttpResponse:
    # A new session key for the raised privilege, as at sign-in.
    request.session.cycle_key()
    django_otp.login(request, device)
    return redirect(_next(request))


# ---------------------------------------------------------------- views
@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """Ask for the code of the user's authenticator (set one up first if there is none)."""
    user: Any = request.user
    if user.is_verified():
        return redirect(_next(request))
    if access.totp_device(user) is None:
        query = urlencode({"next": _next(request)})
        return redirect(f"{reverse('two_factor_setup')}?{query}")
    error = ""
    if request.method == "POST":
        try:
            device = access.totp_verify(user=user, token=request.POST.get("token", ""))
        except LedgerError as exc:
            error = exc.message
        else:
            return _verified(request, device)
    return render(request, "two_factor/verify.html",
                  {"error": error, "next": _next(request)}, status=400 if error else 200)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator: scan the QR code (or type the key), then give a code.

    Replacing a device needs a session verified with the old one."""
    user: Any = request.user
    if access.totp_device(user) is not None and not user.is_verified():
        return redirect(f"{reverse('two_factor_verify')}?{urlencode({'next': _next(request)})}")
    key = request.session.get(SETUP_KEY)
    if not isinstance(key, str):
        key = access.totp_key_new()
        request.session[SETUP_KEY] = key
    error = ""
    if request.method == "POST":
        try:
            device = access.totp_enrol(user=user, key=key, token=request.POST.get("token", ""))
        except LedgerError as exc:
            error = exc.message
        else:
            del request.session[SETUP_KEY]
            messages.success(request, "Two-factor sign-in is on: from now on you give a code "
                                      "from your authenticator app after your password.")
            return _verified(request, device)
    url = access.totp_config_url(user, key)
    secret = b32encode(unhexlify(key)).decode()
    return render(request, "two_factor/setup.html", {
        "error": error,
        "next": _next(request),
        "qr_svg": access.totp_qr_svg(url, title="QR code of the set-up key"),
        "secret_groups": [secret[i:i + 4] for i in range(0, len(secret), 4)],
    }, status=400 if error else 200)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def account_security(request: HttpRequest) -> HttpResponse:
    """The user's two-factor state; an owner's switch for the company's requirement."""
    user: Any = request.user
    if request.method == "POST":
        required = request.POST.get("require_two_factor") == "on"
        try:
            company = company_get(request.POST.get("company", ""))
            access.company_two_factor_set(actor=user, company=company, required=required)
        except LedgerError as exc:
            messages.error(request, exc.message)
        else:
            state = "now required" if required else "no longer required"
            messages.success(request, f"Two-factor sign-in is {state} for the owners and "
                                      f"managers of {company.name}.")
        return redirect("account_security")
    return render(request, "two_factor/security.html", {
        "device": access.totp_device(user),
        "needed": access.two_factor_needed(user),
        "owned": access.companies_owned(user),
        "session_hours": f"{settings.SESSION_COOKIE_AGE / 3600:g}",
    })


# ---------------------------------------------------------------- lock-out
def locked_out(request: HttpRequest, response: HttpResponse | None = None,
               credentials: dict[str, Any] | None = None) -> HttpResponse:
    """django-axes' answer to a sign-in refused by a lock-out: 429 Too Many Requests."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    return render(request, "registration/locked_out.html",
                  {"username": username, "minutes": minutes}, status=429)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, for counting failed sign-ins (django-axes).

    The connection's address, unless ``SALESLEDGER_TRUSTED_PROXIES`` says how many reverse
    proxies stand in front: each appends the address it was reached from to
    ``X-Forwarded-For``, so the client is the entry that many places from the end. Entries
    further left were written by the client and are never trusted."""
    remote = request.META.get("REMOTE_ADDR")
    hops = int(getattr(settings, "TRUSTED_PROXIES", 0))
    if hops <= 0:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
                 if a.strip()]
    if len(forwarded) < hops:
        return remote
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
