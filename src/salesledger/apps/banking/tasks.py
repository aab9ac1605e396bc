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
from salesledger.apps.core.progress_files import ProgressFile, read_progress
from salesledger.apps.core.selectors import company_get, user_get
from salesledger.apps.core.services import require_role
from salesledger.apps.customers.selectors import customer_codes
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
    kept = ProgressFile(path)
    try:
        result = statement_import(
            actor=_actor(username), company=company_get(company), data=data,
            file_name=file_name, account=account, new_account=new_account, mapping=mapping,
            progress=lambda done, total: kept.keep(done=done, total=total,
                                                   final=done >= total))
    except LedgerError as exc:
        Path(path).unlink(missing_ok=True)
        return _refusal(exc)
    finally:
        kept.remove()  # the file itself stays after a crash, for the run again
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


def statement_import_progress(task_kwargs: dict[str, Any]) -> dict[str, int] | None:
    """How many of its file's lines the running statement import of these arguments has
    done (``{"done", "total"}``), as its task keeps them beside the file; None before it
    has said, or once it ended."""
    figures = read_progress(str(task_kwargs.get("path", ""))) if task_kwargs.get("path") \
        else None
    if not figures:
        return None
    done, total = figures.get("done"), figures.get("total")
    if not isinstance(done, int) or not isinstance(total, int) or total <= 0:
        return None
    return {"done": min(done, total), "total": total}


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


# How many lines of a dry run the task keeps for its page (the counts cover every line).
PREVIEW_ROWS = 200


@task()
def bank_match_task(company: str, username: str, dry_run: bool = False) -> dict[str, Any]:
    """Match every line not applied yet and apply the sure ones, as ``username`` (``bank
    match --auto-apply``); with ``dry_run``, write nothing and say what would be done
    (``--dry-run``): the first ``PREVIEW_ROWS`` lines with their decision. Returns how many
    lines came to each decision (amounts in minor units)."""
    from .matching import bank_match

    the_company = company_get(company)
    try:
        results = bank_match(actor=_actor(username), company=the_company, auto_apply=True,
                             dry_run=dry_run)
    except LedgerError as exc:
        return _refusal(exc)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.decision] = counts.get(r.decision, 0) + 1
    out: dict[str, Any] = {"ok": True, "dry_run": dry_run, "lines": len(results),
                           "decisions": counts}
    if dry_run:
        shown = results[:PREVIEW_ROWS]
        codes = customer_codes(the_company, {p.customer_id for r in shown for p in (
            *r.suggestions, *([r.proposal] if r.proposal else []))})
        rows = []
        for r in shown:
            p = r.proposal or (r.suggestions[0] if r.suggestions else None)
            rows.append({"line": r.line.pk, "amount": r.line.amount,
                         "currency": r.line.currency, "decision": r.decision,
                         "customer": codes.get(p.customer_id, "") if p else "",
                         "invoices": [n for n, _ in p.allocations] if p else [],
                         "confidence": p.confidence if p else None,
                         "evidence": list(r.evidence)})
        out["preview"] = rows
    return out


def bank_match_later(*, actor: Actor, company: Company, dry_run: bool = False) -> str:
    """Queue ``bank match --auto-apply`` (or its ``--dry-run``) for the worker; returns the
    task's id."""
    require_role(company, actor, Role.CLERK)
    return str(bank_match_task.enqueue(company=company.code,
                                       username=actor.get_username() if actor else "",
                                       dry_run=dry_run).id)
