"""Reading what a page was asked in its query string: days, page numbers, choices.

A value that cannot be read is ignored rather than refused with an error page: a list falls
back to its first page, a day to today. Nothing here knows a business rule.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest

PAGE_SIZE = 50


def paged(rows: list[Any], page: int) -> dict[str, Any]:
    """Rows of one page (read one more than a page to know whether another follows: no
    COUNT over the whole table)."""
    return {"rows": rows[:PAGE_SIZE], "page": page, "has_next": len(rows) > PAGE_SIZE,
            "has_previous": page > 1}


def day_param(request: HttpRequest, name: str) -> date | None:
    raw = request.GET.get(name, "").strip()
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def page_param(request: HttpRequest) -> int:
    raw = request.GET.get("page", "")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


def choice_param(request: HttpRequest, name: str, choices: tuple[str, ...]) -> str:
    raw = request.GET.get(name, "")
    return raw if raw in choices else ""
