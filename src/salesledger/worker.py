"""``salesledger worker``: the database task worker with the daily calendar built in.

Each round: tick the calendar (``scheduler.daily_jobs_enqueue``: once a day per company,
in its time zone, enqueue the recurring run), then run every ready task with
django-tasks-db's own ``Worker`` (which claims a task row with ``SELECT ... FOR UPDATE SKIP
LOCKED`` so that several workers share the queue), then sleep. ``once`` does one round and
returns, for cron or a test. SIGINT/SIGTERM stop it after the task in hand.

The worker is an interface, like the command line and the web: it stands above every app and
only runs what the apps queued (each task calls one service) and what the calendar of the
recurring app says is due (docs/design/layers.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.crypto import get_random_string

from salesledger.apps.recurring.scheduler import daily_jobs_enqueue
from salesledger.domain.errors import ValidationFailed

log = logging.getLogger(__name__)


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
                  max_tasks=None, worker_id=worker_id or get_random_string(32),
                  excluded_queue_names=[])


def worker_round(worker: Any, *, now: Callable[[], datetime] | None = None) -> int:
    """Tick the calendar, then run the ready tasks; returns how many tasks ran."""
    for job in daily_jobs_enqueue(now=now() if now else timezone.now()):
        log.info("enqueued %s for %s, day %s (attempt %d)", job.job, job.company, job.day,
                 job.attempt)
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
