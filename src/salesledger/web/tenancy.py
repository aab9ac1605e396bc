"""Whose books a page shows: the company in the address, if the user is a member of it.

Every workspace address starts with ``/c/<company code>/``. A user who is not a member of
that company gets 404, exactly as if the company did not exist: a 403 would confirm that it
does (docs/security.md). The same holds for each object under it: it is looked up within the
company, so another company's invoice number is "not found" too. The role the user has in
the company comes along, for the pages to show it and offer only what it may do; the
services check the role again (``core.services.require_role``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.http import Http404, HttpRequest
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from salesledger.apps.core.selectors import memberships_of
from salesledger.apps.core.services import company_today
from salesledger.apps.documents.formatting import Formatter
from salesledger.domain.errors import NotFound, UnknownCustomer

from .params import day_param

ROLE_LABELS = {"owner": _("owner"), "manager": _("manager"), "clerk": _("clerk"),
               "viewer": _("viewer"), "credit_controller": _("credit controller"),
               "collector": _("collector")}


@dataclass(frozen=True)
class Workspace:
    """The company a request works in, the user's role there, their other companies (for
    the switcher), the day the pages report for, and how to write amounts and dates."""

    company: Any  # core.models.Company (interfaces do not import the models)
    role: str
    companies: list[tuple[Any, str]]
    as_of: date
    formatter: Formatter

    @property
    def role_label(self) -> str:
        return str(ROLE_LABELS[self.role])


def workspace(request: HttpRequest, code: str) -> Workspace:
    """The workspace of company ``code`` for the signed-in user, or 404. One query."""
    mine = memberships_of(request.user)
    found = next(((c, r) for c, r in mine if c.code == code), None)
    if found is None:
        raise Http404("no such company")
    company, role = found
    as_of = day_param(request, "as_of") or company_today(company)
    # The reader's language decides how amounts and dates are written (babel's CLDR data),
    # not the company's country: an English reader of a French company reads €1,200.00.
    language = (translation.get_language() or "en").split("-")[0]
    return Workspace(company=company, role=role, companies=mine, as_of=as_of,
                     formatter=Formatter(language))


def or_404(call: Any, *args: Any, **kwargs: Any) -> Any:
    """``call(*args, **kwargs)``, with a "not found" business error turned into 404."""
    try:
        return call(*args, **kwargs)
    except (NotFound, UnknownCustomer) as exc:
        raise Http404(str(exc)) from None
