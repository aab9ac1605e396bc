"""The kill harness: real processes killed with SIGKILL at random moments of four jobs, then
run again, as a user would, until they finish; the books must balance after every kill and
end exactly as an uninterrupted run of the same job on the same data leaves them.

    python -m tests.faults.harness [--kills 200] [--size ci] [--seed N] [--jobs import,pdf]

The jobs, each a real command of ``salesledger``:

* ``import``: ``import invoices FILE``, a CSV file of invoices (one transaction: all or nothing;
  after a kill that came too late to stop it, running it again says ``duplicate_import``);
* ``auto_allocate``: ``receipt auto-allocate`` in chunks of three customers (each chunk and the
  run's progress commit together; running again continues the run);
* ``recurring``: ``recurring run`` over schedules that each owe four monthly periods (each period
  its own transaction);
* ``pdf``: ``worker --once``, which freezes the PDFs of posted documents queued at posting
  (each PDF its own transaction, tasks of two documents).

Why fork. Each killed process must be a real OS process, and a ``salesledger`` command that
starts from nothing spends most of a second importing Django, the apps and WeasyPrint before
it does any work: 1,000 kills would be spent mostly on start-ups, and kills at "random moments"
would mostly hit the start-up. So the harness is one process that sets Django up (and renders a
PDF once, so that WeasyPrint has loaded its fonts), closes its database connections and then
``os.fork()``s a child per command: the child is a real process with its own connection, which
runs ``salesledger.cli.main.main(argv)`` as the command line does and is killed with SIGKILL by
the parent; it starts in a millisecond, so the kills spread over the job's own work.

Each job's starting books are made once (migrated, then a company and the job's data written
through the commands and services) and copied for every trial: a file copy on SQLite,
``CREATE DATABASE ... TEMPLATE`` on PostgreSQL (tens of milliseconds). The databases are the
harness's own: files in ``SALESLEDGER_HOME`` on SQLite, or databases named after the one in
``SALESLEDGER_DATABASE_URL`` with a suffix on PostgreSQL, dropped at the end.

A job first runs three times uninterrupted, each on a fresh copy of its starting books: the
three must end the same (the reference end state), and their median duration is the job's
"typical duration". Then, trial after trial, on a fresh copy:
the command is started and killed after a delay drawn uniformly between 0 and the typical
duration (one to five times in a row: a resumed run may be killed too); after each kill

* ``salesledger check`` passes (every ledger invariant, the audit chain, frozen files);
* nothing acknowledged is lost and nothing is duplicated: what the books say is done (an import
  batch, an allocation run's progress, a recurring period, a finished task) is there, once;
  posted numbers have no gap and no duplicate;

then the command is run again, without a kill, until it finishes, and the end state (a canonical
dump: documents, instalments, receipts, allocations, journal sums per account, frozen files and
their hashes, numbering counters, runs, audit events counted by action, task outcomes, and the
output of ``balance --json`` and ``export open-items --json``) must equal the reference. A child
that finished before its kill does not count as a kill. One difference is allowed: a kill that
came after an allocation run had finished but before its answer was printed leaves the user
running the command again, which starts a new run that finds nothing to allocate; such empty
runs (and their two audit events) are a record of the attempt, not a change of the books, and are
left out of the comparison.

On PostgreSQL, ``--drops N`` also runs each job N more times on fresh books and ends its
database sessions (``pg_terminate_backend``, as an operator or a restarting server would) after
a random delay: the command must finish, or stop with one line ``database_connection_lost: ...``
(exit 2, no traceback, saying it can be run again); the books must pass the same checks, and
the command run once more must reach the same end state.

Every delay comes from ``random.Random`` seeded with ``--seed`` (and the job and trial); a
failure names the seed, job, trial and delay, and prints the command that repeats the run.
Prints one JSON object with the kills per job, the trials and the seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import select
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

JOBS = ("import", "auto_allocate", "recurring", "pdf")
DAY = "2026-06-30"
DEFAULT_SEED = 20261206
# Uninterrupted runs of each job: their median duration is the job's typical duration, and
# they must all end the same.
REFERENCE_RUNS = 3
CHILD_TIMEOUT = 120.0
# A trial kills the job, then its resumed run, and so on, one to this many times in a row
# (fewer when a run finishes before its kill), before letting it finish.
KILLS_IN_A_ROW = 5  # seconds: a command that takes longer is reported as hung


@dataclass(frozen=True)
class Size:
    """How much each job has to do."""

    name: str
    import_invoices: int  # invoices in the file (about 1.5 lines each)
    allocate_customers: int  # customers with two invoices and two receipts each
    schedules: int  # monthly schedules, four periods due each (March to June)
    pdf_documents: int  # posted documents whose PDF the worker freezes, two per task


SIZES = {
    "ci": Size("ci", import_invoices=60, allocate_customers=12, schedules=2, pdf_documents=3),
    "bench": Size("bench", import_invoices=150, allocate_customers=30, schedules=6,
                  pdf_documents=6),
}


class HarnessFailure(AssertionError):
    """A kill left the books wrong, or a resumed job ended elsewhere than the reference."""


# ---------------------------------------------------------------- the harness's databases
class Store:
    """The harness's databases: files under a directory on SQLite, databases named
    ``<configured name>_<name>`` on PostgreSQL.

    ``fresh(job)`` gives a trial the job's starting books. On SQLite it copies the job's
    starting file (a millisecond). On PostgreSQL, copying a database (``CREATE DATABASE ...
    TEMPLATE``) and dropping it cost about a second each on a busy server, for 12 MB of mostly
    empty tables; so each job's database keeps a snapshot of its starting rows in a schema of its
    own, and a trial puts them back: the sessions of killed commands are ended, every table is
    emptied and refilled from the snapshot and every sequence set back, in one transaction with
    ``session_replication_role = replica`` (the guards of posted rows and the foreign keys are
    the application's, not the harness's: a restore is not an application write).
    """

    SNAPSHOT = "kill_harness_start"

    def __init__(self, root: Path) -> None:
        from django.db import connection

        self.settings = connection.settings_dict
        self.vendor = connection.vendor
        self.root = root
        self.base_name = str(self.settings["NAME"])
        self.made: list[str] = []

    def name(self, db: str) -> str:
        if self.vendor == "sqlite":
            return str(self.root / f"{db}.sqlite3")
        return f"{self.base_name}_{db}"

    @contextlib.contextmanager
    def _connect(self, db: str = "postgres", autocommit: bool = True) -> Iterator[Any]:
        import psycopg

        conn = psycopg.connect(dbname=db, host=self.settings.get("HOST") or None,
                               port=self.settings.get("PORT") or None,
                               user=self.settings.get("USER") or None,
                               password=self.settings.get("PASSWORD") or None,
                               autocommit=autocommit)
        try:
            yield conn
        finally:
            conn.close()

    def create(self, db: str, template: str | None = None) -> None:
        """An empty database, or a copy of ``template`` (whose connections must be closed)."""
        from django.db import connections

        connections.close_all()
        self.drop(db)
        if self.vendor == "sqlite":
            if template is not None:
                shutil.copyfile(self.name(template), self.name(db))
        else:
            with self._connect() as admin:
                admin.execute(f'CREATE DATABASE "{self.name(db)}"'
                              + (f' TEMPLATE "{self.name(template)}"' if template else ""))
        if db not in self.made:
            self.made.append(db)

    def drop(self, db: str) -> None:
        if self.vendor == "sqlite":
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(self.name(db) + suffix).unlink(missing_ok=True)
            return
        with self._connect() as admin:
            # FORCE: the backend of a killed command may not have noticed yet.
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name(db)}" WITH (FORCE)')

    def use(self, db: str) -> None:
        """Point this process (and the children it forks from now on) at ``db``."""
        from django.db import connections

        connections.close_all()
        self.settings["NAME"] = self.name(db)

    def keep_start(self, db: str) -> None:
        """Remember ``db``'s rows as the starting books that ``fresh`` gives back."""
        from django.db import connections

        connections.close_all()
        if self.vendor == "sqlite":
            return
        s = self.SNAPSHOT
        with self._connect(self.name(db), autocommit=False) as conn:
            conn.execute(f"CREATE SCHEMA {s}")
            tables = [t for (t,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
            for t in tables:
                conn.execute(f'CREATE TABLE {s}."{t}" AS TABLE public."{t}"')
            conn.execute(f"CREATE TABLE {s}._sequences AS SELECT sequencename AS name, "
                         "last_value FROM pg_sequences WHERE schemaname = 'public'")
            conn.commit()

    def fresh(self, job: str) -> None:
        """Give the current trial of ``job`` its starting books, and point at them."""
        if self.vendor == "sqlite":
            self.create("trial", template=f"start_{job}")
            self.use("trial")
            return
        from django.db import connections

        connections.close_all()
        s = self.SNAPSHOT
        with self._connect(self.name(f"start_{job}"), autocommit=False) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = current_database() AND pid <> pg_backend_pid()")
            conn.execute("SET LOCAL session_replication_role = replica")
            rows = conn.execute(
                "SELECT p.tablename, s.tablename IS NOT NULL FROM pg_tables p LEFT JOIN "
                "pg_tables s ON s.schemaname = %s AND s.tablename = p.tablename "
                "WHERE p.schemaname = 'public'", [s]).fetchall()
            for t, kept in rows:
                conn.execute(f'DELETE FROM public."{t}"')
                if kept:
                    conn.execute(f'INSERT INTO public."{t}" SELECT * FROM {s}."{t}"')
            for name, last in conn.execute(f"SELECT name, last_value FROM {s}._sequences"
                                           ).fetchall():
                conn.execute("SELECT setval(%s, %s, %s)",
                             [f'public."{name}"', last or 1, last is not None])
            conn.commit()
        self.use(f"start_{job}")

    def cut(self, job: str) -> None:
        """End every session of ``job``'s database, as ``pg_terminate_backend`` from an
        operator or a restarting server would (PostgreSQL only)."""
        with self._connect() as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = %s", [self.name(f"start_{job}")])

    def close(self) -> None:
        from django.db import connections

        connections.close_all()
        for db in self.made:
            self.drop(db)
        self.made.clear()


# ---------------------------------------------------------------- running a command
@dataclass
class Outcome:
    status: int | None  # exit status, None when killed
    killed: bool
    seconds: float
    stdout: str
    stderr: str
    cut: bool = False  # its database sessions were ended while it ran


def run_command(argv: list[str], kill_after: float | None = None,
                drop: tuple[float, Callable[[], None]] | None = None) -> Outcome:
    """Run ``salesledger ARGV`` in a forked child; SIGKILL it after ``kill_after`` seconds
    if it is still running then. With ``drop=(seconds, cut)``, call ``cut`` (which ends the
    child's database sessions) after that many seconds instead, and let the child finish."""
    from django.db import connections

    connections.close_all()  # a child must never share the parent's connection
    sys.stdout.flush()
    sys.stderr.flush()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:  # the child: a real salesledger command
            code = 70
            try:
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                from salesledger.cli.main import main

                code = main(argv)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:  # reported by the parent as an unexpected traceback
                import traceback

                traceback.print_exc()
                code = 70
            finally:
                with contextlib.suppress(Exception):
                    sys.stdout.flush()
                    sys.stderr.flush()
                os._exit(code)
        cut = drop is not None and not _wait(pid, drop[0])
        if cut and drop is not None:
            drop[1]()
        finished = _wait(pid, CHILD_TIMEOUT if kill_after is None else kill_after)
        if not finished:
            os.kill(pid, signal.SIGKILL)
        _, wait_status = os.waitpid(pid, 0)
        seconds = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    killed = os.WIFSIGNALED(wait_status) and os.WTERMSIG(wait_status) == signal.SIGKILL
    if killed and kill_after is None:
        raise HarnessFailure(f"salesledger {' '.join(argv)} hung for {CHILD_TIMEOUT:g} s")
    return Outcome(None if killed else os.waitstatus_to_exitcode(wait_status), killed,
                   seconds, stdout, stderr, cut)


def _wait(pid: int, timeout: float) -> bool:
    """Whether the child ended within ``timeout`` seconds."""
    fd = os.pidfd_open(pid)
    try:
        ready, _, _ = select.select([fd], [], [], max(timeout, 0.0))
        return bool(ready)
    finally:
        os.close(fd)


def run_here(argv: list[str]) -> Outcome:
    """A command in this process: to build the starting books, and for the commands that
    only read (``check``, ``balance``, ``export``), which need no process of their own."""
    from django.db import connections

    from salesledger.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    start = time.monotonic()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(argv)
    finally:
        connections.close_all()
    return Outcome(status, False, time.monotonic() - start, out.getvalue(), err.getvalue())


def run_quietly(argv: list[str]) -> str:
    o = run_here(argv)
    if o.status != 0:
        raise HarnessFailure(f"salesledger {' '.join(argv)} failed ({o.status}): {o.stderr}")
    return o.stdout


# ---------------------------------------------------------------- the jobs
@dataclass
class Job:
    name: str
    argv: list[str]
    # Problems of the books right after a kill, beyond `check`: what is acknowledged is
    # there, nothing twice.
    after_kill: Callable[[], list[str]]
    # A resumed run may also end this way (an import that had committed before its kill).
    accepts: Callable[[Outcome], bool] = lambda o: False


def _csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _customers(work: Path, n: int, prefix: str) -> Path:
    return _csv(work / f"{prefix}-customers.csv", "code,name,country",
                [f"{prefix}{i:03d},{prefix} customer {i},FR" for i in range(1, n + 1)])


def _invoice_rows(rng: random.Random, customer: str, ref: str, month: int) -> list[str]:
    rows = [f"{ref},{customer},2026-{month:02d}-{rng.randint(1, 28):02d},Consulting,"
            f"{rng.randint(1, 5)},{rng.randint(50, 900)}.{rng.randint(0, 99):02d},20"]
    if rng.random() < 0.5:
        rows.append(f"{ref},,,Travel,1,{rng.randint(10, 99)}.00,10")
    return rows


INVOICE_HEADER = "ref,customer,issue_date,description,quantity,unit_price,tax_rate"


def build_start(job: str, size: Size, work: Path) -> list[str]:
    """Write the job's starting books into the current database; returns the job's argv."""
    rng = random.Random(f"start:{job}")
    run_quietly(["init", "--company", "acme", "--owner", "alice"])
    if job == "import":
        run_quietly(["import", "customers", str(_customers(work, 20, "I"))])
        rows = [r for n in range(size.import_invoices)
                for r in _invoice_rows(rng, f"I{n % 20 + 1:03d}", f"R{n}", 1 + n % 6)]
        path = _csv(work / "import-invoices.csv", INVOICE_HEADER, rows)
        return ["import", "invoices", str(path)]
    if job == "auto_allocate":
        n = size.allocate_customers
        run_quietly(["import", "customers", str(_customers(work, n, "A"))])
        rows = [r for c in range(1, n + 1) for k in (0, 1)
                for r in _invoice_rows(rng, f"A{c:03d}", f"R{c}-{k}", 2 + k)]
        run_quietly(["import", "invoices", str(_csv(work / "a-invoices.csv", INVOICE_HEADER,
                                                    rows))])
        receipts = [f"A{c:03d},2026-05-{d:02d},{rng.randint(100, 1500)}.00"
                    for c in range(1, n + 1) for d in (10, 20)]
        run_quietly(["import", "receipts", str(_csv(work / "a-receipts.csv",
                                                    "customer,date,amount", receipts))])
        return ["receipt", "auto-allocate", "--as-of", DAY, "--chunk", "3"]
    if job == "recurring":
        run_quietly(["import", "customers", str(_customers(work, size.schedules, "S"))])
        for s in range(1, size.schedules + 1):
            run_quietly(["recurring", "add", "--customer", f"S{s:03d}", "--every", "1 month",
                         "--start", "2026-03-01", "--as-of", "2026-03-01",
                         "--line", f"Maintenance;1;{100 + s}.00;20"])
        return ["recurring", "run", "--as-of", DAY]
    if job == "pdf":
        run_quietly(["import", "customers", str(_customers(work, 4, "P"))])
        for b in range(0, size.pdf_documents, 2):  # one import, one freeze task, per pair
            rows = [r for n in (b, b + 1) if n < size.pdf_documents
                    for r in _invoice_rows(rng, f"P{n % 4 + 1:03d}", f"R{n}", 3)]
            run_quietly(["import", "invoices", str(_csv(work / f"p-invoices-{b}.csv",
                                                        INVOICE_HEADER, rows))])
        return ["worker", "--once"]
    raise ValueError(job)


def job_checks(job: str) -> tuple[Callable[[], list[str]], Callable[[Outcome], bool]]:
    """What a kill must never break in ``job``, and the other endings a resume may have."""
    if job == "import":
        return _import_after_kill, _import_already_done
    if job == "auto_allocate":
        return _allocation_after_kill, lambda o: False
    if job == "recurring":
        return _recurring_after_kill, lambda o: False
    return _pdf_after_kill, lambda o: False


def _import_after_kill() -> list[str]:
    from salesledger.apps.core.models import ImportBatch
    from salesledger.apps.invoicing.models import Invoice

    batches = list(ImportBatch.objects.filter(kind="invoices").values_list("pk", flat=True))
    imported = Invoice.objects.filter(import_batch__isnull=False).count()
    if len(batches) > 1:
        return [f"the file was imported {len(batches)} times"]
    if not batches and imported:
        return [f"{imported} invoices written without their import batch"]
    return []


def _import_already_done(o: Outcome) -> bool:
    from salesledger.apps.core.models import ImportBatch

    return (o.status == 2 and o.stderr.startswith("duplicate_import: ")
            and ImportBatch.objects.filter(kind="invoices").count() == 1)


def _allocation_after_kill() -> list[str]:
    from django.db.models import Sum

    from salesledger.apps.payments.models import Allocation
    from salesledger.apps.runs.models import AllocationRun

    made = Allocation.objects.filter(receipt__isnull=False)
    problems = []
    pairs = Counter(made.values_list("receipt_id", "instalment_id"))
    problems += [f"receipt {r} allocated twice to instalment {i}"
                 for (r, i), n in pairs.items() if n > 1]
    runs = list(AllocationRun.objects.all())
    # A run started after the job had finished (its answer lost with the killed process)
    # allocates nothing: a record of the attempt, not a change of the books. Killed in turn
    # between recording itself and finding there is nothing left, it stays "running" with
    # nothing allocated, and the next command finishes it; only one run can be running (a
    # partial unique constraint), so doing the job's work means having allocated.
    working = [r for r in runs if r.allocations]
    if len(working) > 1:
        problems.append(f"{len(working)} allocation runs did the job's work")
    acknowledged = sum(r.allocations for r in runs)
    if acknowledged != made.count():
        problems.append(f"the run acknowledges {acknowledged} allocations, the books hold "
                        f"{made.count()}")
    total = sum(sum(r.totals.values()) for r in runs)
    if total != (made.aggregate(s=Sum("amount"))["s"] or 0):
        problems.append("the run's totals differ from the allocations in the books")
    last = max((r.last_customer_id for r in runs), default=0)
    beyond = made.filter(customer_id__gt=last).count()
    if beyond:
        problems.append(f"{beyond} allocations beyond the run's last customer {last}")
    return problems


def _recurring_after_kill() -> list[str]:
    from salesledger.apps.invoicing.models import Invoice
    from salesledger.apps.recurring.models import RecurringRun

    runs = list(RecurringRun.objects.values_list("schedule_id", "period_index", "invoice_id"))
    problems = []
    periods = Counter((s, p) for s, p, _ in runs)
    problems += [f"schedule {s} period {p} issued {n} times" for (s, p), n in periods.items()
                 if n > 1]
    invoices = set(Invoice.objects.filter(status="posted").values_list("pk", flat=True))
    if {i for _, _, i in runs} != invoices:
        problems.append("recurring periods and posted invoices differ")
    return problems


def _pdf_after_kill() -> list[str]:
    from django_tasks_db.models import DBTaskResult

    from salesledger.apps.core.models import AuditEvent
    from salesledger.apps.invoicing.models import DocumentFile

    files = Counter(DocumentFile.objects.filter(kind="pdf").values_list("invoice_id", flat=True))
    problems = [f"document {i} has {n} PDFs" for i, n in files.items() if n > 1]
    for task in DBTaskResult.objects.successful().filter(task_path__endswith="freeze_pdfs_task"):
        missing = set(task.args_kwargs["args"][1]) - set(files)
        if missing:
            problems.append(f"task {task.pk} succeeded but documents {sorted(missing)} have "
                            "no PDF")
    audited = AuditEvent.objects.filter(action__endswith=".pdf").count()
    if audited != sum(files.values()):
        problems.append(f"{audited} PDFs audited, {sum(files.values())} stored")
    return problems


# ---------------------------------------------------------------- what the books say
def numbering_problems() -> list[str]:
    """Posted numbers: each series and year 1..n, no gap, no duplicate, the counter at n."""
    from salesledger.apps.core.models import NumberCounter
    from salesledger.apps.invoicing.models import Invoice

    problems = []
    seqs: dict[tuple[str, int], list[int]] = {}
    for series, year, seq in Invoice.objects.filter(status="posted").values_list(
            "series", "fiscal_year", "seq"):
        seqs.setdefault((series, year), []).append(seq)
    counters = {(c.series, c.fiscal_year): c.last for c in NumberCounter.objects.all()}
    for key, got in seqs.items():
        if sorted(got) != list(range(1, len(got) + 1)):
            problems.append(f"numbers of {key} are not 1..{len(got)} once each")
        if counters.get(key) != len(got):
            problems.append(f"counter of {key} is {counters.get(key)}, {len(got)} posted")
    return problems


def canonical_dump() -> dict[str, Any]:
    """The end state by natural keys (numbers, codes), never by row ids, which a sequence
    that a killed transaction consumed may shift."""
    from django.db.models import Count, Sum
    from django_tasks_db.models import DBTaskResult

    from salesledger.apps.core.models import AuditEvent, ImportBatch, NumberCounter
    from salesledger.apps.invoicing.models import DocumentFile, Instalment, Invoice
    from salesledger.apps.ledger.models import JournalEntry, JournalLine
    from salesledger.apps.payments.models import Allocation, Receipt
    from salesledger.apps.recurring.models import RecurringRun
    from salesledger.apps.runs.models import AllocationRun

    def rows(qs: Any, *fields: str) -> list[list[Any]]:
        return sorted([[str(v) for v in r] for r in qs.values_list(*fields)])

    return {
        "invoices": rows(Invoice.objects, "number", "kind", "status", "customer__code",
                         "issue_date", "currency", "net", "tax", "total", "allocated",
                         "snapshot_hash"),
        "instalments": rows(Instalment.objects, "invoice__number", "seq", "due_date", "amount",
                            "settled"),
        "receipts": rows(Receipt.objects, "number", "customer__code", "date", "amount",
                         "allocated"),
        "allocations": sorted(Counter(tuple(r) for r in rows(
            Allocation.objects, "receipt__number", "instalment__invoice__number",
            "instalment__seq", "date", "amount")).items()),
        "journal": {"entries": JournalEntry.objects.count(),
                    "lines": rows(JournalLine.objects.values("account__code").annotate(
                        n=Count("id"), s=Sum("amount")), "account__code", "n", "s")},
        "files": rows(DocumentFile.objects, "invoice__number", "kind", "sha256"),
        "counters": rows(NumberCounter.objects, "series", "fiscal_year", "last"),
        # Runs that allocated nothing are attempts after the job had finished (see
        # ``_allocation_after_kill``); they and their audit events are left out.
        "allocation_runs": rows(AllocationRun.objects.exclude(allocations=0), "day", "policy",
                                "status", "customers", "receipts", "allocations", "totals"),
        "recurring_runs": rows(RecurringRun.objects, "schedule_id", "period_index",
                               "invoice__number", "send_status"),
        "import_batches": rows(ImportBatch.objects, "kind", "filename", "sha256", "rows"),
        "audit": sorted(Counter(AuditEvent.objects.exclude(entity="allocation_run", entity_id__in=[
            str(pk) for pk in AllocationRun.objects.filter(allocations=0).values_list(
                "pk", flat=True)]).values_list("action", flat=True)).items()),
        "tasks": sorted(Counter(t.rsplit(".", 1)[-1] + ":" + s for t, s in
                                DBTaskResult.objects.values_list("task_path", "status"))
                        .items()),
        "balance": _json_of(["balance", "--json", "--as-of", DAY]),
        "open_items": _json_of(["export", "open-items", "--json", "--as-of", DAY]),
    }


def _json_of(argv: list[str]) -> Any:
    o = run_here(argv)
    if o.status != 0:
        raise HarnessFailure(f"salesledger {' '.join(argv)} failed: {o.stderr}")
    return json.loads(o.stdout)


def books_problems(job: Job) -> list[str]:
    """What is wrong with the books right after a kill (empty: nothing)."""
    check = run_here(["check"])
    problems = [] if check.status == 0 else [f"check failed ({check.status}): "
                                              f"{check.stdout}{check.stderr}"]
    from django.db import connections

    try:
        return problems + numbering_problems() + job.after_kill()
    finally:
        connections.close_all()


def _diff(want: dict[str, Any], got: dict[str, Any]) -> str:
    keys = [k for k in want if want[k] != got.get(k)]
    return "; ".join(f"{k}: expected {json.dumps(want[k], default=str)[:300]}, "
                     f"got {json.dumps(got.get(k), default=str)[:300]}" for k in keys)


# ---------------------------------------------------------------- the run
@dataclass
class JobResult:
    kills: int = 0
    trials: int = 0
    finished_before_kill: int = 0
    resumes: int = 0
    drops: int = 0  # connections dropped while the command ran (PostgreSQL)
    drops_stopped: int = 0  # of which stopped it with database_connection_lost
    typical_seconds: float = 0.0
    seconds: float = 0.0
    delays: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        spread = sorted(self.delays)
        return {"kills": self.kills, "trials": self.trials,
                "finished_before_kill": self.finished_before_kill, "resumes": self.resumes,
                "connections_dropped": self.drops,
                "stopped_by_a_dropped_connection": self.drops_stopped,
                "typical_seconds": round(self.typical_seconds, 3),
                "seconds": round(self.seconds, 1),
                "kill_delay_seconds": {"min": round(spread[0], 3) if spread else None,
                                       "median": round(spread[len(spread) // 2], 3)
                                       if spread else None,
                                       "max": round(spread[-1], 3) if spread else None}}


def prepare(store: Store, size: Size, jobs: list[str], work: Path) -> dict[str, Job]:
    """Migrate once, then the starting books of each job, each its own template."""
    from django.core.management import call_command

    store.create("base")
    store.use("base")
    call_command("migrate", interactive=False, verbosity=0)
    prepared = {}
    for name in jobs:
        store.create(f"start_{name}", template="base")
        store.use(f"start_{name}")
        argv = build_start(name, size, work)
        if name == "pdf":
            _warm_pdf()
        store.keep_start(f"start_{name}")
        after_kill, accepts = job_checks(name)
        prepared[name] = Job(name, argv, after_kill, accepts)
    store.use("base")
    return prepared


def _warm_pdf() -> None:
    """Render one PDF (not stored) so that forked workers start with WeasyPrint's fonts
    loaded, as a long-running worker has them."""
    from salesledger.apps.core.selectors import company_get
    from salesledger.apps.documents.services import render_invoice_pdf
    from salesledger.apps.invoicing.models import Invoice

    company = company_get("acme")
    inv = Invoice.objects.filter(company=company, status="posted").order_by("pk").first()
    if inv is not None:
        render_invoice_pdf(company, inv)


def run_job(store: Store, job: Job, kills: int, seed: int, drops: int = 0) -> JobResult:
    result = JobResult()
    begun = time.monotonic()
    reference, durations = None, []
    for _ in range(REFERENCE_RUNS):
        store.fresh(job.name)
        ref = run_command(job.argv)
        if ref.status != 0:
            raise HarnessFailure(f"{job.name}: the uninterrupted run failed ({ref.status}): "
                                 f"{ref.stdout}{ref.stderr}")
        durations.append(ref.seconds)
        if problems := books_problems(job):
            raise HarnessFailure(f"{job.name}: the uninterrupted run left {problems}")
        dump = canonical_dump()
        if reference is not None and dump != reference:
            raise HarnessFailure(f"{job.name}: two uninterrupted runs ended differently: "
                                 f"{_diff(reference, dump)}")
        reference = dump
    assert reference is not None
    result.typical_seconds = sorted(durations)[len(durations) // 2]
    while result.kills < kills:
        result.trials += 1
        trial = result.trials
        rng = random.Random(f"{seed}:{job.name}:{trial}")
        store.fresh(job.name)
        in_a_row = rng.randint(1, KILLS_IN_A_ROW)
        finished = False
        for k in range(in_a_row):
            delay = rng.uniform(0.0, result.typical_seconds)
            where = (f"{job.name}: seed {seed}, trial {trial}, kill {k + 1} after "
                     f"{delay:.3f} s")
            o = run_command(job.argv, kill_after=delay)
            if not o.killed:
                _finished(job, o, where)
                result.finished_before_kill += 1
                if k == 0:  # a whole run from the start: the typical duration follows it
                    durations.append(o.seconds)
                    result.typical_seconds = sorted(durations)[len(durations) // 2]
                finished = True
                break
            result.kills += 1
            result.delays.append(delay)
            if problems := books_problems(job):
                raise HarnessFailure(f"{where}: {'; '.join(problems)}")
        while not finished:  # resumed as a user would: the same command again
            o = run_command(job.argv)
            result.resumes += 1
            _finished(job, o, f"{job.name}: seed {seed}, trial {trial}, resumed")
            finished = True
        got = canonical_dump()
        if got != reference:
            raise HarnessFailure(f"{job.name}: seed {seed}, trial {trial}: the resumed job "
                                 f"ended elsewhere than the uninterrupted run: "
                                 f"{_diff(reference, got)}")
    if store.vendor == "postgresql":
        _drop_connections(store, job, drops, seed, reference, result)
    result.seconds = time.monotonic() - begun
    return result


def _drop_connections(store: Store, job: Job, drops: int, seed: int,
                      reference: dict[str, Any], result: JobResult) -> None:
    """PostgreSQL: end the command's database session at a random moment instead of killing
    it. It must finish, or stop with ``database_connection_lost`` (exit 2, no traceback,
    saying it can be run again); then the books are checked, and the command run once more
    must reach the reference end state."""
    for trial in range(1, drops + 1):
        rng = random.Random(f"{seed}:{job.name}:drop:{trial}")
        delay = rng.uniform(0.0, result.typical_seconds)
        where = f"{job.name}: seed {seed}, dropped connection {trial} after {delay:.3f} s"
        store.fresh(job.name)
        o = run_command(job.argv, drop=(delay, lambda: store.cut(job.name)))
        # The worker logs before it: the error is the last line.
        last = (o.stderr.strip().splitlines() or [""])[-1]
        if o.status == 2 and last.startswith("database_connection_lost: "):
            if "Traceback" in o.stderr or "run again" not in last:
                raise HarnessFailure(f"{where}: {o.stderr}")
            result.drops_stopped += 1
        else:
            _finished(job, o, where)
        result.drops += o.cut
        if problems := books_problems(job):
            raise HarnessFailure(f"{where}: {'; '.join(problems)}")
        # Run again whatever the outcome: a worker's round that ended well may still have
        # recorded a task as failed; the next round (cron, or the resident loop) is the user's
        # "again".
        _finished(job, run_command(job.argv), f"{where}, run again")
        got = canonical_dump()
        if got != reference:
            raise HarnessFailure(f"{where}: run again, the job ended elsewhere than the "
                                 f"uninterrupted run: {_diff(reference, got)}")


def _finished(job: Job, o: Outcome, where: str) -> None:
    if o.status == 0 or job.accepts(o):
        return
    raise HarnessFailure(f"{where}: exit {o.status}: {o.stdout}{o.stderr}")


def run(*, kills: int, size: Size, seed: int, jobs: list[str], work: Path, drops: int = 0,
        report: Callable[[str], None] = lambda line: None) -> dict[str, Any]:
    """Run the harness: ``kills`` in all, spread evenly over ``jobs``; on PostgreSQL also
    ``drops`` dropped connections per job."""
    from django.db import connection

    store = Store(work)
    per_job = -(-kills // len(jobs))
    begun = time.monotonic()
    results: dict[str, Any] = {}
    try:
        prepared = prepare(store, size, jobs, work)
        for name in jobs:
            r = run_job(store, prepared[name], per_job, seed, drops)
            results[name] = r.as_dict()
            report(f"{name}: {r.kills} kills survived in {r.trials} trials"
                   + (f", {r.drops} connections dropped ({r.drops_stopped} stopped it)"
                      if r.drops else "")
                   + f", {r.seconds:.1f} s")
    finally:
        store.close()
    return {"benchmark": "kills", "size": size.name, "database": connection.vendor,
            "seed": seed, "kills": sum(r["kills"] for r in results.values()),
            "connections_dropped": sum(r["connections_dropped"] for r in results.values()),
            "seconds": round(time.monotonic() - begun, 1), "jobs": results,
            "sizes": size.__dict__}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faults.harness",
                                     description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--kills", type=int, default=200, help="kills in all (default 200)")
    parser.add_argument("--size", choices=sorted(SIZES), default="ci")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--jobs", default=",".join(JOBS))
    parser.add_argument("--drops", type=int, default=0,
                        help="PostgreSQL: also end the command's session at a random moment "
                             "this many times per job")
    args = parser.parse_args(argv)
    jobs = [j.strip() for j in args.jobs.split(",") if j.strip()]
    if unknown := set(jobs) - set(JOBS):
        parser.error(f"unknown jobs {sorted(unknown)}; choose among {', '.join(JOBS)}")
    work = Path(tempfile.mkdtemp(prefix="salesledger-kills-"))
    os.environ.setdefault("SALESLEDGER_HOME", str(work))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesledger.config.settings")
    import django

    django.setup()
    try:
        result = run(kills=args.kills, size=SIZES[args.size], seed=args.seed, jobs=jobs,
                     work=work, drops=args.drops,
                     report=lambda line: print(line, file=sys.stderr, flush=True))
    except HarnessFailure as exc:
        print(f"kill harness failed: {exc}\nrepeat with: python -m tests.faults.harness "
              f"--kills {args.kills} --size {args.size} --seed {args.seed} --jobs "
              f"{','.join(jobs)}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
