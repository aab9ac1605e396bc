"""The day a page was asked for (``?as_of=``) goes with the user through the workspace.

Every page reads ``?as_of=YYYY-MM-DD`` (``tenancy.workspace``), as the command line takes
``--as-of``. A user who looks at the books of a past day and follows a link, pages through a
list, filters it, or posts a form (whose service then acts on that day: an allocation, a
hold, a dunning run) must stay on that day instead of falling back to today. Rather than
remembering it in each of the two hundred links and seventy forms of the templates (and
forgetting one), the middleware below adds it, in one place, to what a workspace answer of
the same company points to, when the request carried a valid day:

- a redirect (after a write): its ``Location``;
- an HTML page: each ``href``, ``action``, ``hx-get`` and ``hx-post`` address, and each form
  sent with GET (a filter) gets the day as a hidden field unless it has a field of that name
  (the reports' own "As of" field).

An address that names its own ``as_of`` keeps it. Nothing else is changed: no business rule
is here, only the page's day.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse

_ATTRIBUTE = re.compile(r'(\s(?:href|action|hx-get|hx-post)=")(/c/[^"]*)"')
_GET_FORM = re.compile(r'(<form\b[^>]*\bmethod="get"[^>]*>)(.*?)(</form>)', re.S | re.I)


def _day(request: HttpRequest) -> str:
    raw = request.GET.get("as_of", "").strip()
    try:
        return date.fromisoformat(raw).isoformat() if raw else ""
    except ValueError:
        return ""


def with_day(url: str, day: str, prefix: str, amp: str = "&") -> str:
    """``url`` with ``as_of=day`` in its query, if it is an address of the workspace under
    ``prefix`` that names no ``as_of`` of its own."""
    if not url.startswith(prefix):
        return url
    address, hash_, fragment = url.partition("#")
    path, question, query = address.partition("?")
    if re.search(r"(^|&|;)as_of=", query):
        return url
    query = f"{query}{amp}as_of={day}" if query else f"as_of={day}"
    return f"{path}?{query}{hash_}{fragment}"


def _page_with_day(html: str, day: str, prefix: str) -> str:
    html = _ATTRIBUTE.sub(lambda m: f'{m[1]}{with_day(m[2], day, prefix, "&amp;")}"', html)
    hidden = f'<input type="hidden" name="as_of" value="{quote(day)}">'

    def form(m: re.Match[str]) -> str:
        if 'name="as_of"' in m[2]:
            return m[0]
        return f"{m[1]}{hidden}{m[2]}{m[3]}"

    return _GET_FORM.sub(form, html)


class KeepDayMiddleware:
    """Adds the page's ``as_of`` to the workspace addresses of its answer (see above)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        parts = request.path.split("/")
        day = _day(request) if len(parts) > 3 and parts[1] == "c" else ""
        if not day:
            return response
        prefix = f"/c/{parts[2]}/"
        if 300 <= response.status_code < 400 and response.has_header("Location"):
            response["Location"] = with_day(response["Location"], day, prefix)
        elif (not getattr(response, "streaming", False)
              and response.get("Content-Type", "").startswith("text/html")):
            charset = response.charset or "utf-8"
            response.content = _page_with_day(response.content.decode(charset), day,
                                              prefix).encode(charset)
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        return response
