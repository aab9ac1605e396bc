"""What the workspace's writing pages share: whether the user's role may write (for a page
to offer only what it may do; the services check the role again), and the page that says a
service refused.

A refusal the user can act on (a tax id, an amount) goes back into the form, next to its
field (``forms.ServiceForm.refuse``); one that is about the whole action (a posted document
cannot be posted again, the role may not do this) is shown as the command line shows it,
``code: message``, answered 409 (403 for the role).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from salesledger.apps.core.selectors import role_allows
from salesledger.domain.errors import LedgerError, PermissionDenied

from .tenancy import Workspace

# The role each kind of write needs (core.services.require_role, in the services).
WRITES = "clerk"
MANAGES = "manager"


def may(ws: Workspace, minimum: str = WRITES) -> bool:
    return role_allows(ws.role, minimum)


def page(request: HttpRequest, ws: Workspace, template: str, **context: Any) -> HttpResponse:
    return render(request, template, {"ws": ws, "may_write": may(ws),
                                      "may_manage": may(ws, MANAGES), **context})


def refused(request: HttpRequest, ws: Workspace, exc: LedgerError) -> HttpResponse:
    response = render(request, "web/refused.html", {"ws": ws, "error": exc})
    response.status_code = (404 if exc.http_status == 404 else
                            403 if isinstance(exc, PermissionDenied) else 409)
    return response


def not_for_role(request: HttpRequest, ws: Workspace, minimum: str = WRITES) -> HttpResponse:
    """A form the user's role may not use: said as the service would say it."""
    return refused(request, ws, PermissionDenied(
        f"{request.user} needs the {minimum} role in {ws.company.code} for this"))


def act_then_back(request: HttpRequest, ws: Workspace, act: Callable[[], object],
                  back: str, *args: Any) -> HttpResponse:
    """The confirm-and-act pattern of a page's buttons: run ``act`` (one service call) and
    come back to the page named ``back`` (with ``args`` after the company's code), or show
    the service's refusal. The object acted on is looked up before (``or_404``), so another
    company's is "not found"."""
    try:
        act()
    except LedgerError as exc:
        return refused(request, ws, exc)
    return redirect(reverse(back, args=[ws.company.code, *args]))
