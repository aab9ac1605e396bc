"""``salesledger worker``: the database task worker with the daily calendar built in.

Each round: tick the calendar (``scheduler.daily_jobs_enqueue``: once a day per company,
in its time zone, enqueue the recurring run, the dunning run and the ranking of the
collectors' worklist (``collections.tasks``) and the scan for duplicate customers
(``credit.tasks``, also after a change of the records it reads); ``credit.tasks.
payment_models_enqueue``: the nightly training of the payment-date model of each company that
has one; ``reporting.tasks.packs_enqueue``: the monthly pack of each company whose schedule has
one due), then run every ready task with django-tasks-db's own ``Worker`` (which claims a task
row with ``SELECT ... FOR UPDATE SKIP LOCKED`` so that several workers share the queue), then
sleep. Once a day it also refreshes the database planner's statistics
(``core.maintenance``). ``once`` does one round and
returns, for cron or a test. SIGINT/SIGTERM stop it after the task in hand.

A worker that is killed (SIGKILL, a crash, the machine's power) leaves the task it had claimed
"running" for ever: django-tasks-db only runs tasks that are ready. So a worker is named after
its machine and process (``host:pid:random``), and each round first puts back in the queue the
retry-safe tasks (``RETRY_SAFE``: the work of each is written in transactions of its own and
what is done is skipped when it runs again) whose worker on this machine is no longer alive
(``tasks_reclaim``). Likewise a retry-safe task that failed because the connection to the
database was lost (the server restarted, an operator ended the session) is queued again, up
to ``MAX_ATTEMPTS`` runs in all. Both found by the kill harness (``tests/faults/``,
docs/security.md, "The kill harness").

The worker is an interface, like the command line and the web: it stands above every app and
only runs what the apps queued (each task calls one service) and what the calendar of the
recurring app says is due (docs/design/layers.md).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from salesledger.apps.banking.tasks import bank_match_task, statement_import_task
from salesledger.apps.collections.tasks import (
    JOB_WORKLIST,
    worklist_rank_enqueue,
    worklist_rank_task,
)
from salesledger.apps.core.faults import connection_lost_in
from salesledger.apps.core.maintenance import planner_statistics_refresh
from salesledger.apps.credit.tasks import (
    JOB_DUPLICATES,
    duplicates_rescans_enqueue,
    duplicates_scan_enqueue,
    duplicates_scan_task,
    payment_model_train_task,
    payment_models_enqueue,
)
from salesledger.apps.documents.tasks import freeze_pdfs_task
from salesledger.apps.dunning.tasks import (
    JOB_DUNNING,
    JOB_STATEMENTS,
    dunning_enqueue,
    dunning_run_task,
    statement_run_task,
    statements_enqueue,
)
from salesledger.apps.payments.tasks import auto_allocate_task
from salesledger.apps.recurring.scheduler import daily_jobs_enqueue
from salesledger.apps.recurring.tasks import recurring_run_all_task, recurring_run_task
from salesledger.apps.reporting.tasks import (
    JOB_AGING_SUMMARY,
    JOB_FORECAST_KEEP,
    JOB_KPI_KEEP,
    JOB_TREND_KEEP,
    aging_summary_enqueue,
    aging_summary_task,
    forecast_keep_enqueue,
    forecast_keep_task,
    kpi_keep_enqueue,
    kpi_keep_task,
    pack_run_task,
    packs_enqueue,
    trend_keep_enqueue,
    trend_keep_task,
)
from salesledger.domain.errors import ValidationFailed

log = logging.getLogger(__name__)

# Tasks that may simply run again after their worker died half-way: freezing skips the PDFs
# already stored (each stored in its own transaction), a recurring run the periods already
# issued (each issued in its own transaction). Sending an e-mail is not among them: a worker
# killed between the message leaving and its run being marked sent would send it twice; such a
# run stays "queued" (``recurring show``) and is sent by hand.
# Training the payment-date model again only stores one more model.
# Importing a statement again skips the lines imported (one transaction per file); matching
# again applies no line twice; the automatic allocation resumes after the last chunk written.
# The monthly pack sends a month once (a pack whose sending was cut off is reported, not sent).
# The aging summary is made again from the books, whole, in one transaction; the KPI figures
# are stored again (each row whole, with the version read before the books); the kept
# forecast likewise (its row whole, with the audit chain's head read before the books).
RETRY_SAFE = frozenset(t.module_path for t in (freeze_pdfs_task, recurring_run_task,
                                               recurring_run_all_task, dunning_run_task,
                                               payment_model_train_task,
                                               statement_import_task, bank_match_task,
                                               auto_allocate_task, statement_run_task,
                                               pack_run_task, worklist_rank_task,
                                               duplicates_scan_task, aging_summary_task,
                                               kpi_keep_task, forecast_keep_task,
                                               trend_keep_task))
# The jobs of the apps above recurring that the calendar enqueues once a day per company.
# The worklist is ranked after the dunning run of the day (the calendar enqueues in this
# order): the call tasks its levels ask for are on it.
DAILY = {JOB_DUNNING: dunning_enqueue, JOB_STATEMENTS: statements_enqueue,
         JOB_WORKLIST: worklist_rank_enqueue, JOB_DUPLICATES: duplicates_scan_enqueue,
         JOB_AGING_SUMMARY: aging_summary_enqueue, JOB_KPI_KEEP: kpi_keep_enqueue,
         JOB_FORECAST_KEEP: forecast_keep_enqueue, JOB_TREND_KEEP: trend_keep_enqueue}


# How often the worker refreshes the database planner's statistics (core.maintenance).
STATISTICS_EVERY = timedelta(days=1)
_statistics_at: datetime | None = None

# Runs of one task, at most, when its connection keeps being lost.
MAX_ATTEMPTS = 5
_DATABASE_ERRORS = ("django.db.utils.OperationalError", "django.db.utils.InterfaceError")


def worker_name() -> str:
    """``host:pid:random``: the machine and process that claim a task, so that another
    worker on the machine can tell when they are gone (at most 64 characters)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{get_random_string(8)}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process holds the number
    return True


def tasks_reclaim(*, alive: Callable[[int], bool] = _alive) -> list[str]:
    """Put back in the queue every retry-safe task that a worker of this machine claimed and
    did not finish because it is no longer alive, and every one that failed because its
    database connection was lost (fewer than ``MAX_ATTEMPTS`` runs); returns their ids. A
    worker on another machine, or one whose process number was given to a living process, is
    left alone: its task waits rather than ever running twice at once."""
    host = socket.gethostname()[:40]
    back = []
    for task in DBTaskResult.objects.running().filter(task_path__in=RETRY_SAFE):
        claimed_by = task.worker_ids[-1] if task.worker_ids else ""
        parts = claimed_by.split(":")
        if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
            continue
        if alive(int(parts[1])):
            continue
        # Only if no other worker took it back meanwhile.
        if DBTaskResult.objects.filter(pk=task.pk, status=task.status,
                                       started_at=task.started_at).update(
                status=TaskResultStatus.READY, started_at=None):
            log.warning("task %s (%s) of worker %s, which is gone, is queued again",
                        task.pk, task.task_path.rsplit(".", 1)[-1], claimed_by)
            back.append(str(task.pk))
    for task in DBTaskResult.objects.failed().filter(task_path__in=RETRY_SAFE,
                                                     exception_class_path__in=_DATABASE_ERRORS):
        if len(task.worker_ids) >= MAX_ATTEMPTS or not connection_lost_in(task.traceback):
            continue
        if DBTaskResult.objects.filter(pk=task.pk, status=task.status,
                                       finished_at=task.finished_at).update(
                status=TaskResultStatus.READY, started_at=None, finished_at=None):
            log.warning("task %s (%s) lost its database connection; queued again (run %d of "
                        "at most %d)", task.pk, task.task_path.rsplit(".", 1)[-1],
                        len(task.worker_ids) + 1, MAX_ATTEMPTS)
            back.append(str(task.pk))
    return back


def make_worker(*, worker_id: str | None = None, queues: str = "default") -> Any:
    """django-tasks-db's worker, set to run what is ready and return (its batch mode)."""
    from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
    from django_tasks_db import DatabaseBackend
    from django_tasks_db.management.commands.db_worker import Worker

    backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
    if not isinstance(backend, DatabaseBackend):
        raise ValidationFailed(
            "the worker needs the database task backend: set TASKS to "
            "django_tasks_db.DatabaseBackend in the settings")
    return Worker(queue_names=queues.split(","), interval=0, batch=True,
                  backend_name=backend.alias, startup_delay=False,
                  max_tasks=None, worker_id=worker_id or worker_name(),
                  excluded_queue_names=[])


def worker_round(worker: Any, *, now: Callable[[], datetime] | None = None) -> int:
    """Take back the tasks of dead workers, tick the calendar, then run the ready tasks;
    returns how many tasks ran."""
    global _statistics_at
    tasks_reclaim()
    moment = now() if now else timezone.now()
    if _statistics_at is None or moment - _statistics_at >= STATISTICS_EVERY:
        planner_statistics_refresh()
        _statistics_at = moment
    for job in [*daily_jobs_enqueue(now=moment, more=DAILY),
                *payment_models_enqueue(now=moment), *packs_enqueue(now=moment)]:
        log.info("enqueued %s for %s, day %s (attempt %d)", job.job, job.company, job.day,
                 job.attempt)
    for task_id in duplicates_rescans_enqueue(now=moment):
        log.info("enqueued a duplicate scan after a change of records (task %s)", task_id)
    before = worker._run_tasks
    worker.run()
    return int(worker._run_tasks - before)


def worker_loop(*, once: bool = False, interval: float = 5.0,
                report: Callable[[str], None] = print) -> int:
    """Run rounds until stopped (or one round with ``once``); returns the tasks run."""
    if interval < 0.1:
        raise ValidationFailed("--interval must be at least 0.1 second")
    worker = make_worker()
    if not once:
        worker.configure_signals()
    report(f"worker {worker.worker_id} started"
           + (" (one round)" if once else f", polling every {interval:g}s"))
    ran = 0
    while worker.running:
        ran += worker_round(worker)
        if once:
            break
        time.sleep(interval)
    report(f"worker {worker.worker_id} stopped after {ran} task(s)")
    return ran
