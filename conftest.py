"""Shared test fixtures and the rules that say which database a run uses.

The suite runs twice (``scripts/test``): on SQLite (``SALESLEDGER_DATABASE_URL`` unset) and on
PostgreSQL (set to a ``postgres://`` URL). Tests marked ``postgres`` need real concurrent
transactions and are skipped, with a reason that says so, on SQLite. That CI really runs the
PostgreSQL suite is checked twice: ``scripts/test`` refuses to finish without it when
``CI=true``, and ``tests/test_backend.py`` fails if a run that was given a database URL in CI
is not on PostgreSQL.

Fixtures build the books through the services, never through the ORM, so every test starts
from state that the product itself could have written (journal, audit chain, numbering).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

POSTGRES_SKIP_REASON = "needs PostgreSQL (SALESLEDGER_DATABASE_URL not set to a postgres URL)"

# Deterministic by default (house rule: no unseeded randomness in CI); set
# SALESLEDGER_HYPOTHESIS_PROFILE=explore to search with fresh random examples. No deadline:
# an example's time says how loaded the machine is, not whether the rule holds (speed is
# measured in bench/); on a shared 2-core machine a 200 ms deadline failed sound examples.
hypothesis_settings.register_profile("salesledger", derandomize=True, database=None,
                                     deadline=None)
hypothesis_settings.register_profile("explore", max_examples=1000, database=None,
                                     deadline=None)
hypothesis_settings.load_profile(os.environ.get("SALESLEDGER_HYPOTHESIS_PROFILE", "salesledger"))

# The day most scenarios happen on: fixed, never "today".
DAY = date(2025, 3, 10)


# ---------------------------------------------------------------- which database
def database_vendor() -> str:
    """``postgresql``, ``sqlite``...: the default database's backend (no connection made)."""
    from django.db import connections

    return str(connections["default"].vendor)


def _workers(config: pytest.Config) -> int:
    """How many pytest-xdist workers this (controlling) process runs the tests in; 0 when
    it runs them itself."""
    try:
        return int(config.getoption("numprocesses", 0) or 0)
    except (ValueError, TypeError):
        return 0


def _database_line(config: pytest.Config | None = None) -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    vendor = database_vendor()
    workers = _workers(config) if config is not None else 0
    if vendor == "postgresql":
        where = f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}"
        if workers:
            # each worker has its own, named by pytest-django after the worker (gw0, gw1...)
            name = _test_database_name("test_salesledger_gwN")
            return (f"database: PostgreSQL at {where} (test databases {name}, one per "
                    f"worker of {workers})")
        return f"database: PostgreSQL at {where} (test database {_test_database_name()})"
    if workers:
        return f"database: {vendor} ({workers} workers); tests marked 'postgres' are skipped"
    return f"database: {vendor}; tests marked 'postgres' are skipped"


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [_database_line(config)]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    # Repeated at the end: ``-q`` (as scripts/test runs) hides the header.
    skipped = [r for r in terminalreporter.stats.get("skipped", [])
               if POSTGRES_SKIP_REASON in str(getattr(r, "longrepr", ""))]
    line = _database_line(terminalreporter.config)
    if skipped:
        line += f" ({len(skipped)} skipped here)"
    terminalreporter.write_line(line)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if database_vendor() == "postgresql":
        return
    skip = pytest.mark.skip(reason=POSTGRES_SKIP_REASON)
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


# ---------------------------------------------------------------- parallel runs
# scripts/test runs the suite in pytest-xdist workers. With -x (or --maxfail=N), xdist stops
# handing out tests once the failures are counted, but each worker would still run every test
# already queued to it (with whole files per worker, possibly many). So the controller marks
# the stop in a file that each worker looks at after every test, and stops there as it would
# after a failure of its own.
STOP_FILE_KEY = "salesledger_stop_file"


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """In the controller, for each worker it starts: where the stop is marked."""
    node.workerinput[STOP_FILE_KEY] = str(_stop_file(node.config))


def _stop_file(config: pytest.Config) -> Any:
    stop = getattr(config, "_salesledger_stop_file", None)
    if stop is None:
        import tempfile
        from pathlib import Path

        folder = Path(tempfile.mkdtemp(prefix="salesledger-run-"))
        stop = folder / "stop"
        config._salesledger_stop_file = stop  # type: ignore[attr-defined]
        config.add_cleanup(lambda: (stop.unlink(missing_ok=True), folder.rmdir()))
    return stop


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """In the controller of a parallel run: count the failures the workers report."""
    config = _PARALLEL.get("config")
    if config is None or not report.failed:
        return
    _PARALLEL["failures"] = _PARALLEL.get("failures", 0) + 1
    maxfail = config.getoption("maxfail", 0) or 0
    if maxfail and _PARALLEL["failures"] >= maxfail:
        _stop_file(config).touch()


_PARALLEL: dict[str, Any] = {}


def pytest_configure(config: pytest.Config) -> None:
    if _workers(config) and not hasattr(config, "workerinput"):
        _PARALLEL["config"] = config  # the controller of a parallel run


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """In a worker: after each test, stop if the controller marked the stop."""
    try:
        return (yield)
    finally:
        stop = getattr(item.config, "workerinput", {}).get(STOP_FILE_KEY)
        if stop and os.path.exists(stop) and not item.session.shouldstop:
            item.session.shouldstop = "stopping: a test failed in another worker"


@pytest.fixture(autouse=True)
def _language_of_each_test_is_its_own() -> Any:
    """A page asked for in French leaves French active in the thread (the locale middleware
    activates it and nothing deactivates it after the response): each test starts in the
    project's default language, as a fresh process (a command) does."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """``SALESLEDGER_TEST_DB_SUFFIX`` gives a run its own PostgreSQL test database, so two
    people (or two CI jobs) on one server do not drop each other's database."""
    from django.conf import settings

    if database_vendor() == "postgresql":
        settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = _test_database_name()
        # Django's flush between transactional tests empties tables with TRUNCATE, which the
        # guards refuse unless the connection allows it (apps/core/guards.py).
        from salesledger.apps.core.guards import ALLOW_TRUNCATE

        options = settings.DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = f"-c {ALLOW_TRUNCATE}=on"


def _test_database_name(name: str = "") -> str:
    from django.conf import settings

    name = (name or settings.DATABASES["default"].get("TEST", {}).get("NAME")
            or "test_salesledger")
    suffix = os.environ.get("SALESLEDGER_TEST_DB_SUFFIX", "").strip()
    return f"{name}_{suffix}" if suffix and not name.endswith(f"_{suffix}") else name


# ---------------------------------------------------------------- the books
@pytest.fixture
def owner(db: None, django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("owner", email="owner@example.com")


@pytest.fixture
def company(owner: Any) -> Any:
    from salesledger.apps.core.services import company_create

    return company_create(actor=owner, code="acme", name="Acme SARL", base_currency="EUR",
                          country="FR", owner=owner)


@pytest.fixture
def make_customer(company: Any, owner: Any) -> Callable[..., Any]:
    """``make_customer(code="C001", name=..., currency=..., terms_code=..., po_required=...)``."""
    from salesledger.apps.customers.services import CustomerInput, customer_create

    def make(code: str = "C001", **kw: Any) -> Any:
        kw.setdefault("name", f"Customer {code}")
        # Every customer has a country: an invoice to one without is refused at posting
        # (EN 16931 rules BR-10/BR-11, docs/design/e-invoicing.md).
        kw.setdefault("country", company.country)
        return customer_create(actor=owner, company=company, data=CustomerInput(code=code, **kw))

    return make


@pytest.fixture
def customer(make_customer: Callable[..., Any]) -> Any:
    return make_customer("C001", name="Dupont et Fils")


LineSpec = Any  # a LineInput, or (description, quantity, unit price[, tax %[, discount %]])


def line_inputs(lines: Sequence[LineSpec]) -> list[Any]:
    from salesledger.domain.invoicing import LineInput

    out = []
    for spec in lines:
        if isinstance(spec, LineInput):
            out.append(spec)
            continue
        desc, qty, price, *rest = spec
        out.append(LineInput(desc, Decimal(qty), Decimal(price),
                             Decimal(rest[0]) if rest else Decimal(0),
                             Decimal(rest[1]) if len(rest) > 1 else Decimal(0)))
    return out


@pytest.fixture
def create_invoice(company: Any, owner: Any) -> Callable[..., Any]:
    """Write a draft through ``invoice_create`` (not posted)."""
    from salesledger.apps.invoicing.services import InvoiceInput, invoice_create

    def create(customer: str = "C001", lines: Sequence[LineSpec] = (("Consulting", 1, "100.00",
                                                                       "20"),),
               issue_date: date = DAY, terms: str = "", kind: str = "invoice",
               corrects: str = "", po_number: str = "", currency: str = "",
               rate: Decimal | None = None, actor: Any = "owner") -> Any:
        return invoice_create(
            actor=owner if actor == "owner" else actor, company=company,
            data=InvoiceInput(customer_code=customer, issue_date=issue_date,
                              lines=line_inputs(lines), currency=currency, rate=rate,
                              terms_code=terms, po_number=po_number, kind=kind,
                              corrects_number=corrects))

    return create


@pytest.fixture
def post_invoice(company: Any, owner: Any, create_invoice: Callable[..., Any]
                 ) -> Callable[..., Any]:
    """Create and post an invoice (or, with ``kind="credit_note"``, a credit note) through
    the services; returns the posted row, refreshed."""
    from salesledger.apps.invoicing.services import invoice_post

    def post(customer: str = "C001", **kw: Any) -> Any:
        draft = create_invoice(customer, **kw)
        inv = invoice_post(actor=owner, company=company, invoice_id=draft.pk)
        inv.refresh_from_db()
        return inv

    return post


@pytest.fixture
def record_receipt(company: Any, owner: Any) -> Callable[..., Any]:
    """``record_receipt("C001", "120.00", day)``: a receipt through ``receipt_record``."""
    from salesledger.apps.payments.services import ReceiptInput, receipt_record

    def record(customer: str = "C001", amount: str | Decimal = "100.00", day: date = DAY,
               currency: str = "", rate: Decimal | None = None) -> Any:
        return receipt_record(actor=owner, company=company, data=ReceiptInput(
            customer_code=customer, date=day, amount=Decimal(amount), currency=currency,
            rate=rate))

    return record


@pytest.fixture
def allocate_to(company: Any, owner: Any) -> Callable[..., Any]:
    """``allocate_to(receipt_number, {"INV2025-00001": "50.00"}, day)`` or with ``auto=True``."""
    from salesledger.apps.payments.services import Target, allocate

    def alloc(receipt: str | None = None, targets: dict[str, str] | None = None,
              day: date = DAY, auto: bool = False, credit_note: str | None = None) -> Any:
        return allocate(actor=owner, company=company, day=day, receipt=receipt,
                        credit_note=credit_note, auto=auto,
                        targets=[Target(n, Decimal(a)) for n, a in (targets or {}).items()])

    return alloc


# ---------------------------------------------------------------- the task queue
@pytest.fixture
def no_pdf_freezing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Posting queues the freezing of the issued PDF (documents app; the story of a posting
    frozen by the worker is ``tests/worker/test_pdf_freezing.py``). With this fixture the queue
    holds only the tasks a test is about, so that it can count them."""
    from salesledger.apps.documents import tasks

    monkeypatch.setattr(tasks, "pdfs_freeze_later", lambda company, invoice_ids: 0)
