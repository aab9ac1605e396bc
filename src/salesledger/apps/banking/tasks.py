"""The background tasks of the bank pages (run by ``salesledger worker``): a statement file
imported (``services.statement_import``, as ``bank import`` does) and the matching of every
line with the sure ones applied (``matching.bank_match(auto_apply=True)``, as ``bank match
--auto-apply`` does). Each returns what its page shows; a refusal is a result too (its code
and message), not a failed task.

Both may simply run again after their worker died half-way: a statement is imported in one
transaction and a line the account has already is skipped; ``bank match`` applies each chunk
of sure lines in one transaction and never applies a line twice."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django_tasks import task

from salesledger.apps.core.actors import Actor
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.selectors import company_get, user_get
from salesledger.apps.core.services import require_role
from salesledger.domain.errors import LedgerError, NotFound, ValidationFailed

MAX_STATEMENT_BYTES = 50 * 1024 * 1024
# The task functions the bank pages follow (core.selectors.queued_task).
BANK_TASKS = frozenset({"statement_import_task", "bank_match_task"})


def statements_dir(company: Company) -> Path:
    return Path(settings.VAR_DIR) / "bank" / company.code


def _actor(username: str) -> Any:
    return user_get(username) if username else None


def _refusal(exc: LedgerError) -> dict[str, Any]:
    return {"ok": False, "code": exc.code, "message": str(exc)}


@task()
def statement_import_task(company: str, path: str, username: str, file_name: str = "",
                          account: str = "", new_account: bool = False,
                          mapping: str = "") -> dict[str, Any]:
    """Import the statement file kept at ``path`` as ``username``; the file is removed once
    imported or refused. Returns the import report (amounts in minor units)."""
    from .services import statement_import

    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:  # a run again after the file was imported and removed
        return _refusal(NotFound(f"the file {file_name} is gone: imported already (see the "
                                 "statements), or removed", field="file"))
    try:
        result = statement_import(actor=_actor(username), company=company_get(company),
                                  data=data, file_name=file_name,
                                  account=account, new_account=new_account, mapping=mapping)
    except LedgerError as exc:
        Path(path).unlink(missing_ok=True)
        return _refusal(exc)
    Path(path).unlink(missing_ok=True)
    return {"ok": True, "format": result.format, "version": result.version,
            "warnings": list(result.warnings), "statements": [{
                "id": sr.statement.pk, "account": sr.account.code,
                "account_created": sr.created_account,
                "statement": sr.statement.statement_id, "currency": sr.statement.currency,
                "lines": sr.statement.line_count, "imported": sr.statement.imported_lines,
                "duplicates_skipped": sr.duplicates, "opening": sr.statement.opening,
                "closing": sr.statement.closing,
                "balance_difference": sr.statement.balance_difference,
                "continuity_difference": sr.statement.continuity_difference}
                for sr in result.statements]}


def statement_import_later(*, actor: Actor, company: Company, content: bytes,
                           file_name: str, account: str = "", new_account: bool = False,
                           mapping: str = "") -> str:
    """Keep the uploaded statement under the instance's ``var/bank/`` and queue its import
    (the role is checked here and again when it runs); returns the task's id."""
    require_role(company, actor, Role.CLERK)
    if not content:
        raise ValidationFailed("the file is empty", field="file")
    if len(content) > MAX_STATEMENT_BYTES:
        raise ValidationFailed(f"the file has {len(content):,} bytes; at most "
                               f"{MAX_STATEMENT_BYTES:,} are taken here (use salesledger bank "
                               "import)", field="file")
    folder = statements_dir(company)
    folder.mkdir(parents=True, exist_ok=True)
    name = "".join(c if c.isalnum() or c in "._-" else "_"
                   for c in Path(file_name).name)[-100:] or "statement"
    path = folder / f"{secrets.token_hex(8)}-{name}"
    path.write_bytes(content)
    result = statement_import_task.enqueue(
        company=company.code, path=str(path), username=actor.get_username() if actor else "",
        file_name=Path(file_name).name[:255], account=account, new_account=new_account,
        mapping=mapping)
    return str(result.id)


@task()
def bank_match_task(company: str, username: str) -> dict[str, Any]:
    """Match every line not applied yet and apply the sure ones, as ``username``. Returns
    how many lines came to each decision."""
    from .matching import bank_match

    try:
        results = bank_match(actor=_actor(username), company=company_get(company),
                             auto_apply=True)
    except LedgerError as exc:
        return _refusal(exc)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.decision] = counts.get(r.decision, 0) + 1
    return {"ok": True, "lines": len(results), "decisions": counts}


def bank_match_later(*, actor: Actor, company: Company) -> str:
    """Queue ``bank match --auto-apply`` for the worker; returns the task's id."""
    require_role(company, actor, Role.CLERK)
    return str(bank_match_task.enqueue(company=company.code,
                                       username=actor.get_username() if actor else "").id)
