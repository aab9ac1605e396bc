"""Revaluation of open foreign-currency items at a period end (docs/design/multi-currency.md).

``fx_revalue`` values what each customer owes and is owed in each foreign currency on a day
(its open instalments less its open credit notes, on the receivable account; its unapplied
receipts, on the unapplied-cash account) at that day's closing rate, and books the difference
from the base amount it is carried at (the booking rates) as an unrealised exchange gain or
loss: one journal entry dated that day, with a line per customer, account and currency
(base amount only, ``amount_currency`` 0) and the counterpart on the unrealised exchange
differences account; and its reversal dated the next day, so that the next period starts
again from the booking rates and differences are realised at allocation exactly as if no
revaluation had happened. The carried amounts are read from the journal as of the day, so
allocations, refunds and reversals dated later do not change a period-end run.

What it does not change: open amounts stay in the document currency; instalments, receipts
and credit notes keep their booking rate and base amount; realised differences at a later
allocation are computed from the booking rate, as always.

One run per company and day: running again for a day that has a run returns that run (and
refuses only when it was given other rates); ``fx_revalue_reverse`` undoes a run (the
opposite of both entries, on their own dates) so that the day can be run again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from salesledger.apps.core.actors import Actor, actor_row
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import check_open_period, require_role
from salesledger.apps.ledger.selectors import entry_lines
from salesledger.apps.ledger.services import journal_write
from salesledger.domain.errors import (
    AlreadyRevalued,
    AlreadyReversed,
    ExchangeRateMissing,
    NotFound,
    ValidationFailed,
)
from salesledger.domain.fx import normalise, parse_rate, revalue
from salesledger.domain.journal import negate
from salesledger.money import is_currency

from .models import RevaluationRun, RevaluationStatus
from .selectors import carried_balances, foreign_currencies_open, rate_quote


@dataclass(frozen=True)
class Revalued:
    run: RevaluationRun
    created: bool  # False: the day already had this run, nothing was written


def _closing_rates(company: Company, as_of: date,
                   given: dict[str, Decimal | str] | None) -> dict[str, Decimal]:
    rates: dict[str, Decimal] = {}
    for cur, value in (given or {}).items():
        code = cur.upper()
        if not is_currency(code) or code == company.base_currency:
            raise ValidationFailed(f"{cur!r} is not a foreign currency of {company.code}",
                                   field="rates")
        rates[code] = normalise(parse_rate(value, field=f"rate {code}"))
    missing = []
    for cur in foreign_currencies_open(company, as_of):
        if cur in rates:
            continue
        try:
            rates[cur] = rate_quote(company, cur, as_of).rate
        except ExchangeRateMissing:
            missing.append(cur)
    if missing:
        raise ExchangeRateMissing(
            f"no closing rate on or before {as_of.isoformat()} for {', '.join(missing)}; add "
            "them with `salesledger fx rate add` or give them to the run",
            currencies=",".join(missing), date=as_of)
    return rates


def fx_revalue(*, actor: Actor, company: Company, as_of: date,
               rates: dict[str, Decimal | str] | None = None) -> Revalued:
    """Revalue the company's open foreign-currency items as of ``as_of`` (closing rates from
    ``rates`` or the rate table) and post the entry and its reversal of the next day."""
    require_role(company, actor, Role.MANAGER)
    with transaction.atomic():
        existing = (RevaluationRun.objects.select_for_update()
                    .filter(company=company, as_of=as_of, status=RevaluationStatus.POSTED)
                    .first())
        if existing is not None:
            given = {c.upper(): format(normalise(parse_rate(v, field=f"rate {c}")), "f")
                     for c, v in (rates or {}).items()}
            if any(existing.rates.get(c) != v for c, v in given.items()):
                raise AlreadyRevalued(
                    f"{company.code} was revalued as of {as_of.isoformat()} (run "
                    f"{existing.pk}) with other rates; reverse that run first",
                    run=existing.pk)
            return Revalued(existing, False)
        closing = _closing_rates(company, as_of, rates)
        stored = {c: format(r, "f") for c, r in sorted(closing.items())}
        check_open_period(company, as_of)
        check_open_period(company, as_of + timedelta(days=1))
        result = revalue(carried_balances(company, as_of), closing, company.base_currency)
        entry = reversal = None
        if result.lines:
            memo = f"revaluation of foreign-currency items as of {as_of.isoformat()}"
            entry = journal_write(company=company, day=as_of, kind="fx_revaluation",
                                  actor=actor, source_type="fx_revaluation", memo=memo,
                                  lines=result.lines)
            reversal = journal_write(company=company, day=as_of + timedelta(days=1),
                                     kind="fx_revaluation_reversal", actor=actor,
                                     source_type="fx_revaluation", lines=negate(result.lines),
                                     memo=f"reversal of the {memo}")
        run = RevaluationRun.objects.create(
            company=company, as_of=as_of, rates=stored, positions=result.balances,
            by_currency={c: v for c, v in sorted(result.by_currency.items())}, net=result.net,
            entry=entry, reversal_entry=reversal,
            created_by=actor_row(actor))
        audit(company, actor, "fx.revalue", "revaluation_run", run.pk, after={
            "as_of": as_of.isoformat(), "rates": stored, "balances": result.balances,
            "by_currency": run.by_currency, "net": result.net,
            "entry": entry.pk if entry else None,
            "reversal_entry": reversal.pk if reversal else None})
    return Revalued(run, True)


def fx_revalue_reverse(*, actor: Actor, company: Company, run_id: int,
                       reason: str = "") -> RevaluationRun:
    """Undo a revaluation run: the opposite of its entry (same day) and of its reversal
    (the next day). The run stays in the history, marked reversed; the day may be revalued
    again."""
    require_role(company, actor, Role.MANAGER)
    with transaction.atomic():
        run = RevaluationRun.objects.select_for_update().filter(company=company,
                                                                pk=run_id).first()
        if run is None:
            raise NotFound(f"no revaluation run {run_id} in {company.code}", run=run_id)
        if run.status == RevaluationStatus.REVERSED:
            raise AlreadyReversed(f"revaluation run {run_id} is already reversed", run=run_id)
        check_open_period(company, run.as_of)
        undo = undo_reversal = None
        if run.entry_id:
            undo = journal_write(company=company, day=run.as_of, kind="fx_revaluation_undo",
                                 actor=actor, source_type="fx_revaluation",
                                 lines=negate(entry_lines(run.entry_id)),
                                 memo=f"undo revaluation run {run.pk}")
        if run.reversal_entry_id:
            undo_reversal = journal_write(
                company=company, day=run.as_of + timedelta(days=1),
                kind="fx_revaluation_undo", actor=actor, source_type="fx_revaluation",
                lines=negate(entry_lines(run.reversal_entry_id)),
                memo=f"undo reversal of revaluation run {run.pk}")
        run.status = RevaluationStatus.REVERSED
        run.undo_entry, run.undo_reversal_entry = undo, undo_reversal
        run.reversed_at = timezone.now()
        run.reversed_by = actor_row(actor)
        run.reverse_reason = reason[:255]
        run.save(update_fields=["status", "undo_entry", "undo_reversal_entry", "reversed_at",
                                "reversed_by", "reverse_reason"])
        audit(company, actor, "fx.revalue_reverse", "revaluation_run", run.pk,
              as_of=run.as_of.isoformat(), reason=reason,
              undo_entry=undo.pk if undo else None,
              undo_reversal_entry=undo_reversal.pk if undo_reversal else None)
    return run
