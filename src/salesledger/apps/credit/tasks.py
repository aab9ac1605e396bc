"""Background tasks of the credit app (django-tasks), run by ``salesledger worker``: thin
shells that resolve the company and the day and call one service.

The payment-date model is trained again each night for every company that has one
(``payment_models_enqueue``, ticked by the worker's calendar): a company starts with the
customers' median delays and takes a model when someone trains one (``credit predict
--retrain``); from then on the worker keeps it current (docs/design/payment-prediction.md).

Duplicate customers are scanned each night for every company (``duplicates_scan``, a job of
the calendar) and again, at the worker's next round, after a change to a record that
detection reads (``duplicates_rescans_enqueue``): the page reads the pairs kept
(customers/duplicates.py).

The backtest of the payment model (``credit backtest``) runs in the worker when the
workspace starts it (``credit_backtest_later``): it reads the ledger twice and trains a
model, seconds to minutes on a large book.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db.models import Exists, F, OuterRef, Q
from django_tasks import task

from salesledger.apps.banking.selectors import payer_ibans
from salesledger.apps.core.actors import Actor
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.selectors import company_get
from salesledger.apps.core.services import require_role
from salesledger.apps.customers.duplicates import duplicate_pairs_store
from salesledger.apps.customers.models import DuplicateScan
from salesledger.apps.recurring.models import DailyJob
from salesledger.apps.recurring.scheduler import Enqueued, daily_job_claim
from salesledger.apps.recurring.services import now_local
from salesledger.domain.errors import LedgerError

from .models import PaymentModel
from .prediction import backtest, backtest_days_check, payment_model_train

JOB_PAYMENT_MODEL = "payment_model_train"


@task()
def payment_model_train_task(company: str, as_of: str) -> dict[str, Any]:
    """Train and store one company's (by code) payment-date model on its ledger of ``as_of``
    (ISO date); the acting user is the system."""
    row = payment_model_train(actor=None, company=company_get(company),
                              as_of=date.fromisoformat(as_of))
    if row is None:
        return {"company": company, "as_of": as_of, "trained": False}
    return {"company": company, "as_of": as_of, "trained": True, "model": row.pk,
            "rows": row.rows, "seconds": row.seconds}


# ---------------------------------------------------------------- the backtest
# The task functions of this app the workspace follows on its job page
# (core.selectors.queued_task).
CREDIT_TASKS = frozenset({"credit_backtest_task"})


@task()
def credit_backtest_task(company: str, as_of: str, until: str) -> dict[str, Any]:
    """``credit backtest --as-of --until`` of one company (by code): the model's and the
    baseline's figures (``BacktestResult.as_dict``) with what they were measured on."""
    try:
        result = backtest(company_get(company), as_of=date.fromisoformat(as_of),
                          known=date.fromisoformat(until))
    except LedgerError as exc:
        return {"ok": False, "code": exc.code, "message": str(exc)}
    return {"ok": True, **result.as_dict(), "until": until,
            "trained_rows": result.trained_rows, "defaults": result.defaults,
            "scored": result.scored}


def credit_backtest_later(*, actor: Actor, company: Company, as_of: date, until: date) -> str:
    """Queue the backtest (the role and the days are checked here: a clerk spends the
    worker's time, any member reads the result); returns the task's id."""
    require_role(company, actor, Role.CLERK)
    backtest_days_check(as_of, until)
    return str(credit_backtest_task.enqueue(company=company.code, as_of=as_of.isoformat(),
                                            until=until.isoformat()).id)


def _enqueue(company: Company, day: str) -> str:
    return str(payment_model_train_task.enqueue(company.code, day).id)


def payment_models_enqueue(*, now: datetime) -> list[Enqueued]:
    """One tick of the calendar for the nightly training: each company that has a model gets
    one training task per local day (claimed like the recurring run, so several workers
    enqueue it once). Two queries when there is nothing to enqueue."""
    companies = list(Company.objects.filter(Exists(PaymentModel.objects.filter(
        company=OuterRef("pk")))).order_by("code"))
    if not companies:
        return []
    days = {c.pk: now_local(c, now) for c in companies}
    claimed = set(DailyJob.objects.filter(job=JOB_PAYMENT_MODEL, day__in=set(days.values()))
                  .values_list("company_id", "day"))
    out = []
    for company in companies:
        if (company.pk, days[company.pk]) in claimed:
            continue
        done = daily_job_claim(company, job=JOB_PAYMENT_MODEL, day=days[company.pk], now=now,
                               enqueue=_enqueue)
        if done is not None:
            out.append(done)
    return out


# ---------------------------------------------------------------- duplicate customers
JOB_DUPLICATES = "duplicates_scan"


@task()
def duplicates_scan_task(company: str) -> dict[str, Any]:
    """Scan one company's (by code) customers for duplicates, with the IBANs they were seen
    paying from, and keep the pairs (customers.duplicates)."""
    pairs = duplicate_pairs_store(company_get(company), payer_ibans=payer_ibans(
        company_get(company)))
    return {"company": company, "pairs": pairs}


def duplicates_scan_enqueue(company: Company, day: str) -> str:
    """The calendar's hook: the nightly scan of every company."""
    return str(duplicates_scan_task.enqueue(company.code).id)


def duplicates_rescans_enqueue(*, now: datetime) -> list[str]:
    """One tick of the worker: a scan for each company whose customers' records changed
    since its last scan and that has none queued since the change (one query when none
    has)."""
    out = []
    for scan in (DuplicateScan.objects.filter(changed_at__isnull=False)
                 .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=F("changed_at")))
                 .select_related("company").order_by("company__code")):
        out.append(str(duplicates_scan_task.enqueue(scan.company.code).id))
        DuplicateScan.objects.filter(pk=scan.pk).update(queued_at=now)
    return out
