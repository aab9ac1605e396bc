"""Helpers shared by the database tests: read the journal, the audit log and the open items
back in a form that a test can compare with what it expects."""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any, TypeVar

from django.db import connection, transaction

from salesledger.apps.core.models import AuditEvent
from salesledger.apps.invoicing.models import Instalment, Invoice
from salesledger.apps.ledger.models import JournalEntry, JournalLine
from salesledger.apps.ledger.selectors import account_balances_by_customer
from salesledger.apps.payments.models import Allocation, Receipt
from salesledger.apps.payments.selectors import customer_balances, open_items
from salesledger.domain.journal import AccountRole


def journal(entry: JournalEntry | int | None) -> list[tuple[str, int, int, int | None]]:
    """An entry's lines as (account role, amount in document currency, amount in base
    currency, customer id), debits positive, in a stable order."""
    entry_id = entry.pk if isinstance(entry, JournalEntry) else entry
    rows = (JournalLine.objects.filter(entry_id=entry_id)
            .values_list("account__role", "amount_currency", "amount", "customer_id"))
    return sorted(rows, key=lambda r: (r[0], r[1]))


def events(company: Any, since: int = 0) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(company=company, seq__gt=since).order_by("seq"))


def last_seq(company: Any) -> int:
    return AuditEvent.objects.filter(company=company).order_by("-seq").values_list(
        "seq", flat=True).first() or 0


def open_amount(invoice: Invoice) -> int:
    return sum(i.amount - i.settled for i in Instalment.objects.filter(invoice=invoice))


def settled(invoice: Invoice) -> list[int]:
    return list(Instalment.objects.filter(invoice=invoice).order_by("seq")
                .values_list("settled", flat=True))


def ledger_state(company: Any) -> dict[str, Any]:
    """Everything an allocation could change, to prove that a refused one changed nothing."""
    return {
        "allocations": Allocation.objects.filter(company=company).count(),
        "entries": JournalEntry.objects.filter(company=company).count(),
        "lines": JournalLine.objects.filter(company=company).count(),
        "events": AuditEvent.objects.filter(company=company).count(),
        "settled": sorted(Instalment.objects.filter(company=company)
                          .values_list("id", "settled")),
        "receipts": sorted(Receipt.objects.filter(company=company).values_list("id", "allocated")),
        "credit": sorted(Invoice.objects.filter(company=company).values_list("id", "allocated")),
    }


def open_item_sums(company: Any, as_of: date | None = None) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = defaultdict(int)
    for item in open_items(company, as_of=as_of):
        out[(item["customer"], item["currency"])] += item["open"]
    return {k: v for k, v in out.items() if v}


def balances_by_code(company: Any, as_of: date | None = None) -> dict[tuple[str, str], int]:
    from salesledger.apps.customers.selectors import customer_codes

    raw = customer_balances(company, as_of=as_of)
    codes = customer_codes(company, {k[0] for k in raw})
    return {(codes[c], cur): v for (c, cur), v in raw.items() if v}


def control_by_code(company: Any) -> dict[tuple[str, str], int]:
    """Receivable control plus the (credit-signed) unapplied cash account, per customer:
    what the customer owes according to the general ledger."""
    from salesledger.apps.customers.selectors import customer_codes

    recv = account_balances_by_customer(company, AccountRole.RECEIVABLE)
    unapplied = account_balances_by_customer(company, AccountRole.UNAPPLIED)
    out: dict[tuple[int, str], int] = defaultdict(int)
    for source in (recv, unapplied):
        for key, value in source.items():
            out[key] += value
    codes = customer_codes(company, {k[0] for k in out})
    return {(codes[c], cur): v for (c, cur), v in out.items() if v}


def raw_sql(sql: str, params: list[Any] | tuple[Any, ...] = ()) -> int:
    """Run one statement in a savepoint (so that a refused statement does not poison the
    test's transaction on PostgreSQL); returns the row count."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


# ---------------------------------------------------------------- the command line in-process
def run(capsys: Any, *argv: str) -> tuple[int, str, str]:
    """Run ``salesledger ARGV`` in this process: (exit status, standard output, standard
    error)."""
    from salesledger.cli.main import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: Any, *argv: str) -> Any:
    """``salesledger ARGV --json``, which must succeed: its parsed answer."""
    import json

    code, out, err = run(capsys, *argv, "--json")
    assert (code, err) == (0, ""), err
    return json.loads(out)


T = TypeVar("T")


def loaded_once_per_module(django_db_blocker: Any, load: Callable[[], T]) -> Iterator[T]:
    """For a module-scoped fixture: books ``load`` writes once, for all the module's tests.

    They are written inside a transaction that stays open until the module's last test and
    is then rolled back. Each test runs in a savepoint within it (the ``db`` fixture's),
    rolled back after the test, so every test starts from the same books and nothing one
    writes reaches the next, as when each test loaded them itself. Only for modules whose
    tests all use ``db`` (not ``transactional_db`` or the live server, which need committed
    rows). Usage::

        @pytest.fixture(scope="module")
        def books(django_db_setup: None, django_db_blocker: Any) -> Iterator[Any]:
            yield from loaded_once_per_module(django_db_blocker, lambda: demo_load(...))
    """
    books = transaction.atomic()
    with django_db_blocker.unblock():
        books.__enter__()
        try:
            value = load()
        except BaseException:
            books.__exit__(*sys.exc_info())
            raise
    try:
        yield value
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            books.__exit__(None, None, None)
