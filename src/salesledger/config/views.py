"""Site-level views: the home page and the health check."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from salesledger.apps.core.selectors import memberships_of

logger = logging.getLogger(__name__)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Who is signed in, and the workspace of each company they belong to."""
    return render(request, "home.html", {"memberships": memberships_of(request.user)})


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness/readiness probe: 200 {"status": "ok"} when the database answers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("health check: database unavailable")
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})
