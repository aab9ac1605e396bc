"""Reading companies, users and memberships."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model

from salesledger.domain.errors import NotFound, ValidationFailed

from .models import ROLE_CAPABILITIES, ROLE_RANK, Capability, Company, Membership, Role


def company_get(code: str) -> Company:
    company = Company.objects.filter(code=code).first()
    if company is None:
        raise NotFound(f"no company with code {code!r}", company=code)
    return company


def company_resolve(code: str | None) -> Company:
    """The company named by ``code``, or the only company when none is named."""
    if code:
        return company_get(code)
    companies = list(Company.objects.order_by("code")[:2])
    if len(companies) == 1:
        return companies[0]
    if not companies:
        raise NotFound("there is no company yet: create one with 'salesledger init --company "
                       "CODE --owner USER', or load the demo with 'salesledger demo'")
    raise ValidationFailed("say which company with --company CODE (or $SALESLEDGER_COMPANY)")


def companies_all() -> list[Company]:
    return list(Company.objects.order_by("code"))


def user_get(username: str) -> Any:
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise NotFound(f"no user {username!r}", user=username)
    return user


def company_owner(company: Company) -> Any:
    """The first owner of the company: who the command line acts as by default."""
    m = (Membership.objects.filter(company=company, role="owner").select_related("user")
         .order_by("id").first())
    return m.user if m else None


def company_has_data() -> bool:
    return Company.objects.exists()


def memberships_of(user: Any) -> list[tuple[Company, str]]:
    """The companies ``user`` belongs to, by code, each with the user's role there: what a
    workspace offers to switch between. A superuser is a member of nothing by this: the
    workspace shows only the companies one was made a member of. One query."""
    if user is None or not getattr(user, "pk", None):
        return []
    rows = Membership.objects.filter(user=user).select_related("company").order_by(
        "company__code")
    return [(m.company, m.role) for m in rows]


def membership_of(user: Any, code: str) -> tuple[Company, str] | None:
    """The company ``code`` and ``user``'s role in it, or ``None`` when the user is not a
    member (or there is no such company: the caller cannot tell which). One query."""
    if user is None or not getattr(user, "pk", None):
        return None
    m = (Membership.objects.filter(user=user, company__code=code).select_related("company")
         .first())
    return (m.company, m.role) if m is not None else None



def role_allows(role: str, minimum: str) -> bool:
    """Whether a member with ``role`` holds at least ``minimum`` (the ranks that
    ``services.require_role`` checks): for the pages to offer only what a role may do."""
    return ROLE_RANK[Role(role)] >= ROLE_RANK[Role(minimum)]


def role_has_capability(role: str, capability: str) -> bool:
    """Whether a member with ``role`` holds ``capability`` (what
    ``services.require_capability`` checks), for the pages likewise."""
    return Role(role) in ROLE_CAPABILITIES[Capability(capability)]


def company_members(company: Company) -> list[dict[str, Any]]:
    """The company's members by user name, each with their e-mail and role. One query."""
    rows = (Membership.objects.filter(company=company).select_related("user")
            .order_by("user__username"))
    return [{"username": m.user.get_username(), "email": m.user.email, "role": m.role}
            for m in rows]


def number_counters(company: Company) -> list[dict[str, Any]]:
    """The company's numbering series, one row per series and fiscal year (newest year
    first): its prefix and the last number taken. One query."""
    from .models import NumberCounter

    return list(NumberCounter.objects.filter(company=company)
                .order_by("-fiscal_year", "series")
                .values("series", "fiscal_year", "prefix", "last"))


# ---------------------------------------------------------------- work queued for the worker
_TASK_STATES = {"READY": "queued", "RUNNING": "running", "SUCCESSFUL": "done",
                "FAILED": "failed"}


@dataclass(frozen=True)
class QueuedTask:
    """Where a task queued for the worker stands: ``state`` is queued, running, done
    (``result`` is what the task returned) or failed (the task itself crashed; ``result``
    is empty). ``name`` is the task function's name, ``kwargs`` what it was given."""

    task_id: str
    name: str
    kwargs: dict[str, Any]
    state: str
    result: dict[str, Any]
    started_at: datetime | None = None  # when the worker took it (None: not yet)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")


def queued_task(company: Company, task_id: str, names: frozenset[str]) -> QueuedTask:
    """The task ``task_id`` of ``company`` whose function is one of ``names``: another
    company's task, a task of another kind, or an id that is no task, is "not found" (the
    company is the task's ``company`` argument, its code). One query."""
    from django_tasks import default_task_backend
    from django_tasks.exceptions import TaskResultDoesNotExist

    try:
        result = default_task_backend.get_result(task_id)
    except (TaskResultDoesNotExist, ValueError, TypeError):
        raise NotFound(f"no task {task_id!r}") from None
    # the arguments by name, whether the task was queued with them by name or by position
    # (the calendar queues ``(company, day)``)
    try:
        kwargs = dict(inspect.signature(result.task.func).bind_partial(
            *(result.args or ()), **(result.kwargs or {})).arguments)
    except TypeError:
        raise NotFound(f"no task {task_id!r}") from None
    owner = kwargs.get("company")
    name = result.task.name.rsplit(".", 1)[-1]
    if name not in names or owner != company.code:
        raise NotFound(f"no task {task_id!r}")
    state = _TASK_STATES.get(str(result.status), "queued")
    value = result.return_value if state == "done" else {}
    return QueuedTask(str(task_id), name, kwargs, state, value if isinstance(value, dict)
                      else {}, result.started_at)
