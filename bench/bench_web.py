"""Benchmark: the web workspace's pages, server time and queries per page.

    .venv/bin/python bench/bench_web.py small            # 10,000 open items, 100 customers
    .venv/bin/python bench/bench_web.py medium --database-url postgres://postgres@127.0.0.1:5432/postgres

Builds the books of ``bench_allocate.py`` (its seeded generator, in a child process) and
allocates the receipts oldest first, as ``bench_aging.py`` does, then requests each main page
of the workspace (docs/design/web.md) through Django's test client, signed in as the
company's owner: the time measured is the server's (URL routing, middleware, the selectors,
the template), without a network or a browser. Each page is requested ``--repeat`` times
(default 5) and the best and median milliseconds are reported, with the number of queries
the page issued: wall-clock (``best_ms``, ``median_ms``), the CPU time of this process
(``cpu_median_ms``: user and system, SQLite's work included, as it runs in the process) and,
on PostgreSQL, the CPU time of the server's backend that answered (``db_cpu_median_ms``, read
from ``/proc/<pid>/stat`` before and after). On a shared machine the CPU figures are the
ones to compare: wall-clock time also counts the waits for a core. One JSON object is
printed and written to ``bench/results/``.

On the issue's books (100,000 customers, about 1,000,000 open items), made once by
``books.py`` and shared, read only::

    .venv/bin/python bench/bench_web.py issue-h1 --books /var/tmp/books
    .venv/bin/python bench/bench_web.py issue-h1 --books --database-url postgres://postgres@127.0.0.1:5432/postgres

With ``--books`` nothing is generated and nothing is written: the books must be built
already (``books.py``; this never builds them), the connection is opened read only (SQLite:
``PRAGMA query_only``; PostgreSQL: ``default_transaction_read_only``), the session is a signed
cookie and the sign-in sends no signal (no last-login or access-log row), and the back office
is asked as a superuser made in memory. A page that would write fails with the database's
refusal and is reported as such (``error``) instead of being timed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_aging import TODAY  # noqa: E402
from bench_allocate import ALLOCATE_ON, COMPANY, generated  # noqa: E402
from bench_allocate import SIZES as GENERATED_SIZES  # noqa: E402
from bench_import import bench_database, machine, server_cpu_seconds  # noqa: E402
from books import OWNER, books_key  # noqa: E402
from books import SIZES as BOOKS_SIZES  # noqa: E402


def _cpu_ms() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return (usage.ru_utime + usage.ru_stime) * 1000


def _backend_cpu_ms() -> float | None:
    """The CPU time the PostgreSQL backend of this connection has used, in milliseconds;
    None on SQLite."""
    seconds = server_cpu_seconds()
    return None if seconds is None else seconds * 1000


def rolled_back(call: Any) -> Any:
    """``call`` in a transaction rolled back after it: what a page writes (a forecast or
    trend cohorts it kept, a job it queued) is undone, so the next request computes again."""
    from django.db import transaction

    def run() -> Any:
        with transaction.atomic():
            response = call()
            transaction.set_rollback(True)
        return response

    return run


def timed(call: Any, repeat: int) -> dict[str, Any]:
    """``call()`` ``repeat`` times: its wall-clock, process CPU and backend CPU
    milliseconds (best and medians) and the queries of the last call."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, cpus, db_cpus, queries = [], [], [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            db0 = _backend_cpu_ms()
            cpu0, start = _cpu_ms(), time.perf_counter()
            try:
                response = call()
            except Exception as exc:  # noqa: BLE001 - reported, the other pages still timed
                if connection.vendor == "postgresql":
                    connection.close()  # a refused transaction: start the next one afresh
                return {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"}
            times.append((time.perf_counter() - start) * 1000)
            cpus.append(_cpu_ms() - cpu0)
            db1 = _backend_cpu_ms()
            if db0 is not None and db1 is not None:
                db_cpus.append(db1 - db0)
        assert getattr(response, "status_code", 200) == 200, (call, response)
        # the transaction's own statements (``--rollback``) are not the page's
        queries = len([q for q in captured.captured_queries if not q["sql"].startswith(
            ("BEGIN", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK"))]) - (
            2 if db0 is not None else 0)
    out = {"best_ms": round(min(times), 1), "median_ms": round(statistics.median(times), 1),
           "cpu_median_ms": round(statistics.median(cpus), 1), "queries": queries}
    if db_cpus:
        out["db_cpu_median_ms"] = round(statistics.median(db_cpus), 1)
    return out


def read_only(rollback: bool = False) -> None:
    """Before ``django.setup()``: open the database read only, keep the session in a signed
    cookie (no session row), so that the shared books are only read. With ``rollback`` (a
    copy of the books), the database is opened as usual and each request is rolled back
    instead (``timed``): a page that keeps what it computed is timed computing it each time."""
    from django.conf import settings

    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    if rollback:
        return
    db = settings.DATABASES["default"]
    options = dict(db.get("OPTIONS") or {})
    if str(db["ENGINE"]).endswith("sqlite3"):
        # a deferred transaction takes no write lock; query_only refuses any write
        options["transaction_mode"] = "DEFERRED"
        options["init_command"] = "PRAGMA foreign_keys=ON; PRAGMA query_only=ON;"
    else:
        options["options"] = "-c default_transaction_read_only=on"
    db["OPTIONS"] = options


def signed_in(user: Any) -> Any:
    """A test client signed in as ``user`` by a session cookie alone: what ``force_login``
    leaves in the session, without its signal (which writes the last login and the access
    log) and, with signed-cookie sessions, without a row."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.test import Client
    from django.utils.module_loading import import_string

    client = Client(HTTP_HOST="localhost")
    session = import_string(f"{settings.SESSION_ENGINE}.SessionStore")()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = next(  # as force_login picks it
        b for b in settings.AUTHENTICATION_BACKENDS if hasattr(import_string(b), "get_user"))
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return client


def measure(size: str, repeat: int, db: str, made: dict[str, Any],
            books: bool = False, only: frozenset[str] = frozenset(),
            rollback: bool = False) -> dict[str, Any]:
    import django

    if books:
        read_only(rollback)
    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection

    from salesledger.apps.core.maintenance import planner_statistics_refresh
    from salesledger.apps.core.selectors import company_resolve
    from salesledger.apps.customers.selectors import customer_list
    from salesledger.apps.invoicing.selectors import invoice_list
    from salesledger.apps.payments.autoallocate import auto_allocate_all
    from salesledger.apps.payments.selectors import receipt_list

    company = company_resolve(COMPANY)
    owner = get_user_model().objects.get(username=OWNER)
    if not books:  # books.py's are allocated and analysed when built
        auto_allocate_all(actor=owner, company=company, day=ALLOCATE_ON)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        else:
            # the planner's statistics, as the worker gathers them daily on SQLite
            # (core.maintenance.planner_statistics_refresh): without them the customer
            # overview's balances took twice the time on medium books
            planner_statistics_refresh()
    client = signed_in(owner)
    customer = customer_list(company, limit=1, offset=made["customers"] // 2)[0]
    invoice = invoice_list(company, status="posted", limit=1)[0]
    receipt = (receipt_list(company, customer_id=customer["id"], limit=1)
               or receipt_list(company, limit=1))[0]
    day = f"as_of={TODAY.isoformat()}"
    base = f"/c/{company.code}"
    # the first of each kind of record a page shows, when the books hold one
    terms, policy, quote, schedule, draft = _firsts(company)
    pages = {
        "dashboard": f"{base}/?{day}",
        "customers": f"{base}/customers/?sort=name&page=2",
        "customers_search": f"{base}/customers/?q={customer['name'][:4]}",
        "customer": f"{base}/customers/{customer['code']}/?{day}",
        "invoices": f"{base}/invoices/?page=3",
        "invoices_overdue": f"{base}/invoices/?overdue=1&{day}",
        # the settlement filter (invoicing.selectors.settled_as): the state kept on each
        # document, read through its (company, settlement, issue date) index
        "invoices_open": f"{base}/invoices/?settlement=open",
        "invoices_partially_paid": f"{base}/invoices/?settlement=partially_paid",
        "invoices_paid": f"{base}/invoices/?settlement=paid",
        "invoices_written_off": f"{base}/invoices/?settlement=written_off",
        "invoice": f"{base}/invoices/{invoice['number']}",
        "receipts": f"{base}/receipts/?page=2",
        "receipt": f"{base}/receipts/{receipt['number']}",
        "draft_new": f"{base}/drafts/new/?customer={customer['code']}",
        # reports, settings and the portfolio (report_views, settings_views, portfolio_views)
        "portfolio": f"{base}/portfolio/?{day}",
        "report_aging": f"{base}/reports/aging/?{day}",
        "report_aging_detail": f"{base}/reports/aging/?detail=1&page=3&{day}",
        "report_unapplied": f"{base}/reports/unapplied/?{day}",
        "report_forecast": f"{base}/reports/forecast/?{day}",
        "report_kpis": f"{base}/reports/kpis/?{day}",
        "report_kpis_24": f"{base}/reports/kpis/?months=24&{day}",
        "report_trends": f"{base}/reports/trends/?{day}",
        "report_statement": f"{base}/reports/statement/?customer={customer['code']}"
                            f"&from=2024-01-01&to={TODAY.isoformat()}",
        "settings": f"{base}/settings/",
        "settings_terms": f"{base}/settings/terms/",
        "settings_rates": f"{base}/settings/rates/",
        # collections and dunning (collections_views, dunning_views)
        "worklist": f"{base}/collections/?{day}",
        "timeline": f"{base}/customers/{customer['code']}/timeline/?{day}",
        "disputes": f"{base}/disputes/",
        "promises": f"{base}/promises/?{day}",
        "dunning_history": f"{base}/dunning/history/",
        "dunning_policies": f"{base}/dunning/policies/",
        "dunning_interest": f"{base}/dunning/interest/",
        "settings_statements": f"{base}/settings/statements/",
        # credit and the customers' records (credit_views)
        "credit": f"{base}/credit/?{day}",
        "credit_page_3": f"{base}/credit/?page=3&{day}",
        "credit_suggestions": f"{base}/credit/suggestions/?{day}",
        "credit_review": f"{base}/credit/review/?{day}",
        "credit_duplicates": f"{base}/credit/duplicates/",
        "credit_settings": f"{base}/credit/settings/",
        # a customer's payment behaviour (credit behaviour CUSTOMER --as-of)
        "credit_behaviour": f"{base}/credit/behaviour/{customer['code']}/?{day}",
        # the daily actions' pages (quote_views, recurring_views, ledger_views)
        "quote_new": f"{base}/quotes/new/?customer={customer['code']}",
        "recurring_new": f"{base}/recurring/new/",
        "adjustments": f"{base}/adjustments/?page=2",
        "adjustments_of_customer": f"{base}/adjustments/?customer={customer['code']}",
        "revaluation": f"{base}/revaluation/",
        "exports": f"{base}/exports/",
        # the rest of the workspace's pages (web/urls.py), added 2026-12-08
        "invoices_of_customer": f"{base}/invoices/?customer={customer['code']}",
        "reports": f"{base}/reports/",
        "report_aging_group": f"{base}/reports/aging/?segment=group&{day}",
        "report_kpis_size": f"{base}/reports/kpis/?segment=size&{day}",
        "report_bank": f"{base}/reports/bank/?{day}",
        "portfolio_overdue": f"{base}/portfolio/?only=overdue&{day}",
        "customer_new": f"{base}/customer/new/",
        "customer_edit": f"{base}/customer/{customer['code']}/edit/",
        "quotes": f"{base}/quotes/",
        "recurring": f"{base}/recurring/",
        "receipt_new": f"{base}/receipts/new/?customer={customer['code']}",
        "settings_users": f"{base}/settings/users/",
        "settings_banks": f"{base}/settings/banks/",
        "settings_templates": f"{base}/settings/templates/",
        "settings_period": f"{base}/settings/period/",
        "settings_pack": f"{base}/settings/pack/",
        "settings_numbering": f"{base}/settings/numbering/",
        "settings_tax": f"{base}/settings/tax/",
        "imports": f"{base}/imports/",
        "dispute_new": f"{base}/disputes/new/",
        "promise_new": f"{base}/promises/new/",
        "plans": f"{base}/plans/",
        "plan_new": f"{base}/plans/new/",
        "dunning": f"{base}/dunning/?{day}",
        "dunning_policy_new": f"{base}/dunning/new-policy/",
        "credit_predictions": f"{base}/credit/predictions/{customer['code']}/?{day}",
        "credit_backtest": f"{base}/credit/backtest/",
        "bank": f"{base}/bank/",
        "bank_import": f"{base}/bank/import/",
        "bank_lines": f"{base}/bank/lines/",
        "bank_review": f"{base}/bank/review/",
        "bank_match": f"{base}/bank/match/",
        "bank_rules": f"{base}/bank/rules/",
        "bank_mappings": f"{base}/bank/mappings/",
        "bank_direct_debit": f"{base}/bank/direct-debit/",
        "bank_settings": f"{base}/bank/settings/",
        "job_allocate": f"{base}/jobs/allocate/",
        "job_pdfs": f"{base}/jobs/pdfs/",
    }
    for name, url in (("settings_terms_edit", terms and f"{base}/settings/terms/{terms}/"),
                      ("dunning_policy", policy and f"{base}/dunning/policies/{policy}/"),
                      ("quote", quote and f"{base}/quotes/{quote}"),
                      ("recurring_schedule", schedule and f"{base}/recurring/{schedule}/"),
                      ("draft", draft and f"{base}/drafts/{draft}/")):
        if url:  # none in the books: not a page to time
            pages[name] = url
    # The writing pages' partial answers (htmx): the editor's totals of ten lines, and the
    # dry run of an allocation by policy (the running remainder).
    lines = {"customer": customer["code"], "rows": "10"} | {
        f"line-{i}-{k}": v for i in range(1, 11) for k, v in (
            ("description", f"Item {i}"), ("quantity", str(i)), ("unit_price", "19.99"),
            ("tax_rate", "20"), ("discount", "5"), ("category", "S"))}
    posts = {
        "draft_totals": (f"{base}/drafts/totals/", lines),
        "allocate_preview": (f"{base}/receipt/preview/{receipt['number']}",
                             {"policy": "oldest_first"}),
    }
    out: dict[str, Any] = {}
    # the dashboard's alerts alone (web.views.today_alerts: a count each), the rest of the
    # page being the aged receivables'
    if not only or "dashboard_alerts" in only:
        from salesledger.web.views import today_alerts

        out["dashboard_alerts"] = timed(lambda: today_alerts(
            SimpleNamespace(company=company, as_of=TODAY)), repeat)
        print(f"dashboard_alerts: {out['dashboard_alerts']}", file=sys.stderr, flush=True)
    requests = {name: (url, None) for name, url in pages.items()} | posts
    for name, (url, data) in requests.items():
        if only and name not in only:
            continue
        call = ((lambda u=url: client.get(u)) if data is None else
                (lambda u=url, d=data: client.post(u, d)))
        out[name] = timed(rolled_back(call) if rollback else call, repeat)
        print(f"{name}: {out[name]}", file=sys.stderr, flush=True)
    if not only or only & {"admin_invoices", "admin_invoices_filtered",
                           "removed_date_hierarchy_query"}:
        out.update(_back_office(owner, repeat))
    return {"benchmark": "web", "size": size, "db": db, "open_items": made["items"],
            "customers": made["customers"], "books": "books.py" if books else "generated",
            "read_only": books and not rollback, "rolled_back": rollback, "pages": out,
            "machine": machine(),
            "date": datetime.now().strftime("%Y-%m-%d %H:%M"),
            "load_average": [round(x, 1) for x in os.getloadavg()]}


def _firsts(company: Any) -> tuple[str, str, str, int, int]:
    """The code (or number, or id) of the company's first payment terms, dunning policy,
    quote, recurring schedule and draft invoice; "" or 0 where the books hold none."""
    from salesledger.apps.customers.models import PaymentTerms
    from salesledger.apps.dunning.models import DunningPolicy
    from salesledger.apps.invoicing.models import Invoice
    from salesledger.apps.quotes.models import Quote
    from salesledger.apps.recurring.models import RecurringSchedule

    def first(qs: Any, field: str) -> Any:
        return qs.filter(company=company).order_by("pk").values_list(field, flat=True).first()

    quote = Quote.objects.filter(company=company).order_by("pk").first()
    return (first(PaymentTerms.objects, "code") or "",
            first(DunningPolicy.objects, "code") or "",
            quote.label if quote else "",
            first(RecurringSchedule.objects, "pk") or 0,
            first(Invoice.objects.filter(status="draft"), "pk") or 0)


def _back_office(owner: Any, repeat: int) -> dict[str, Any]:
    """The back office's invoice list as a superuser sees it (every company), and the query
    its date hierarchy ran before it was removed (``dates('issue_date', 'year')``, a
    DISTINCT over every invoice's truncated date), timed alone for comparison. The superuser
    is the owner's row made staff in memory (nothing written), and the admin's view is called
    with a request of its own (the middleware's few queries left out)."""
    import copy

    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.test import RequestFactory
    from django.urls import resolve
    from django.utils.module_loading import import_string

    from salesledger.apps.invoicing.models import Invoice

    staff = copy.copy(owner)
    staff.is_staff = staff.is_superuser = True
    factory = RequestFactory(HTTP_HOST="localhost")

    def admin(path: str) -> Any:
        from django.conf import settings

        request = factory.get(path)
        request.user = staff
        request.session = import_string(f"{settings.SESSION_ENGINE}.SessionStore")()
        request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
        match = resolve(request.path_info)
        response = match.func(request, *match.args, **match.kwargs)
        response.render()
        return response

    out: dict[str, Any] = {}
    for name, call in (("admin_invoices", lambda: admin("/admin/invoicing/invoice/")),
                       ("admin_invoices_filtered",
                        lambda: admin("/admin/invoicing/invoice/?status__exact=posted")),
                       ("removed_date_hierarchy_query",
                        lambda: list(Invoice.objects.dates("issue_date", "month")))):
        out[name] = timed(call, repeat)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size", nargs="?", default="small",
                        choices=sorted(set(GENERATED_SIZES) | set(BOOKS_SIZES)))
    parser.add_argument("--seed", type=int, help="the generator's seed (20261123), or the "
                                                 "books' (20261207)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--books", nargs="?", const="", metavar="FOLDER",
                        help="read books.py's books of SIZE, read only (SQLite: the folder "
                             "they are kept in; PostgreSQL: with --database-url)")
    parser.add_argument("--database-url", help="PostgreSQL server to run on (generated: a new "
                                               "database next to the one named, dropped after)")
    parser.add_argument("--books-database", default="",
                        help="with --books on PostgreSQL: read this database (a copy of the "
                             "books, e.g. with the worker's kept rankings) instead of the "
                             "shared one")
    parser.add_argument("--rollback", action="store_true",
                        help="with --books on a copy of the books: open it as usual and roll "
                             "each request back (a page that keeps what it computes is timed "
                             "computing it; the allocation's dry run takes its lock)")
    parser.add_argument("--pages", default="", help="only these pages (names, by commas)")
    parser.add_argument("--results", default=str(HERE / "results"))
    args = parser.parse_args()
    only = frozenset(filter(None, args.pages.split(",")))
    if args.books is None:
        if args.size not in GENERATED_SIZES:
            parser.error(f"{args.size} books are books.py's: add --books")
        with bench_database(args.database_url) as (_, db):
            result = measure(args.size, args.repeat, db,
                             generated(args.size, args.seed or 20261123), only=only)
    else:
        if args.size not in BOOKS_SIZES:
            parser.error(f"books.py has no size {args.size}")
        result = _on_books(args, only)
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    (out / f"web-{args.size}-{result['db']}-{stamp}.json").write_text(
        json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


def _on_books(args: argparse.Namespace, only: frozenset[str]) -> dict[str, Any]:
    """Point the environment at books.py's books of ``args.size`` (built already: shared
    books are never built here) and measure them read only."""
    from urllib.parse import urlsplit, urlunsplit

    seed = args.seed or 20261207
    key = books_key(args.size, seed, min(1000, BOOKS_SIZES[args.size][0]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesledger.config.settings")
    os.environ["SALESLEDGER_SECRET_KEY"] = "bench-not-secret"
    if args.database_url:
        import psycopg

        # or SALESLEDGER_BOOKS_DATABASE, as books.books_database reads it
        name = args.books_database or os.environ.get("SALESLEDGER_BOOKS_DATABASE") or (
            "salesledger_books_" + re.sub(r"[^a-z0-9]", "_", key.lower()))
        with psycopg.connect(args.database_url, autocommit=True) as admin:
            if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                 (name,)).fetchone():
                raise SystemExit(f"no database {name}: build the books with books.py first")
            with psycopg.connect(urlunsplit(urlsplit(args.database_url)._replace(
                    path=f"/{name}"))) as books:
                made = _counts(books.cursor())
        os.environ["SALESLEDGER_DATABASE_URL"] = urlunsplit(
            urlsplit(args.database_url)._replace(path=f"/{name}"))
        home = Path(tempfile.mkdtemp(prefix="salesledger-web-"))
        db = "postgresql"
    else:
        home = Path(args.books or "/var/tmp/books") / key
        done = home / "books.json"
        if not done.exists():
            raise SystemExit(f"no {done}: build the books with books.py first (or wait for "
                             "the build to finish)")
        made = json.loads(done.read_text())
        made = {"customers": made["customers_count"], "items": made["open_items"]}
        os.environ.pop("SALESLEDGER_DATABASE_URL", None)
        db = "sqlite"
    os.environ["SALESLEDGER_HOME"] = str(home)
    try:
        result = measure(args.size, args.repeat, db, made, books=True, only=only,
                         rollback=args.rollback)
    finally:
        if db == "postgresql":
            shutil.rmtree(home, ignore_errors=True)
    result["books_key"] = key
    return result


def _counts(cursor: Any) -> dict[str, int]:
    cursor.execute("SELECT count(*) FROM customers_customer")
    customers = int(cursor.fetchone()[0])
    cursor.execute("SELECT count(*) FROM invoicing_instalment WHERE settled < amount")
    return {"customers": customers, "items": int(cursor.fetchone()[0])}


if __name__ == "__main__":
    main()
