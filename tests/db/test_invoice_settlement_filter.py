"""The invoice list's settlement filter (``invoicing.selectors.settled_as``) says of each
document what the invoice's own page says (``payments.selectors.invoice_detail``), from the
settlement kept on the document by the writer of its allocations and adjustments
(``payments.settlement_keep``), in one query whatever the number of documents; `salesledger
check` finds a kept settlement that its rows do not tell."""

from __future__ import annotations

import importlib
import json
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.db import connection

from salesledger.apps.core.guards import install_guards
from salesledger.apps.core.invariants import check_company
from salesledger.apps.invoicing.models import Invoice
from salesledger.apps.invoicing.selectors import SETTLEMENTS, invoice_list
from salesledger.apps.payments.adjustments.bad_debts import invoice_write_off
from salesledger.apps.payments.adjustments.writer import adjustment_reverse
from salesledger.apps.payments.selectors import invoice_detail
from salesledger.apps.payments.services import allocation_reverse


def _listed(company: Any) -> dict[str, list[str]]:
    return {state: sorted(r["number"] for r in invoice_list(company, settlement=state))
            for state in SETTLEMENTS}


def _pages(company: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {state: [] for state in SETTLEMENTS}
    for r in invoice_list(company, status="posted", limit=1000):
        out[invoice_detail(company, r["number"])["settlement"]].append(r["number"])
    return {state: sorted(numbers) for state, numbers in out.items()}


def test_each_settlement_lists_what_the_documents_pages_say(
        mixed_books: Any, company: Any, owner: Any, create_invoice: Any) -> None:
    create_invoice("C002")  # a draft: in no settlement
    listed = _listed(company)
    assert listed == _pages(company)
    b = mixed_books
    assert b.inv1.number in listed["paid"] and b.inv3.number in listed["paid"]
    assert b.inv4.number in listed["partially_paid"]  # 400 of 1,000 USD
    assert b.cn2.number in listed["open"]  # the goodwill credit note, applied to nothing
    assert sum(map(len, listed.values())) == len(invoice_list(company, status="posted"))
    # a bad debt settles what was open: written off on the list as on the page
    later = b.days[-1] + timedelta(days=1)
    bad_debt = invoice_write_off(actor=owner, company=company, number=b.inv4.number,
                                 day=later, reason="insolvent")
    assert invoice_detail(company, b.inv4.number)["settlement"] == "written_off"
    after = _listed(company)
    assert after["written_off"] == [b.inv4.number] and after == _pages(company)
    # undone, it is partially paid again; a payment undone leaves its invoice open
    adjustment_reverse(actor=owner, company=company, adjustment_id=bad_debt.pk, day=later)
    allocation = b.inv3.instalments.get().allocations.filter(amount__gt=0,
                                                             reversed_by__isnull=True).get()
    allocation_reverse(actor=owner, company=company, allocation_id=allocation.pk, day=later)
    again = _listed(company)
    assert b.inv4.number in again["partially_paid"] and b.inv3.number in again["open"]
    assert again == _pages(company) and check_company(company) == []


def test_the_check_finds_a_kept_settlement_its_rows_do_not_tell(
        mixed_books: Any, company: Any) -> None:
    assert check_company(company) == []
    # as a bug in a writer would leave it (the model lets the column move on a posted row)
    Invoice.objects.filter(pk=mixed_books.inv1.pk).update(settlement="open")
    found = [str(p) for p in check_company(company)]
    assert found == [f"kept_settlement: invoice {mixed_books.inv1.number}: kept open, "
                     "its allocations and adjustments say paid"]


def test_the_filter_is_one_query_and_refuses_another_state(
        mixed_books: Any, company: Any, django_assert_num_queries: Any) -> None:
    for state in SETTLEMENTS:
        with django_assert_num_queries(1):
            invoice_list(company, settlement=state, customer_code="C001", limit=5)
    with pytest.raises(ValueError, match="no settlement 'overdue'"):
        invoice_list(company, settlement="overdue")


def test_the_command_line_lists_by_settlement(mixed_books: Any, company: Any,
                                              capsys: Any) -> None:
    from salesledger.cli.main import main

    for state in SETTLEMENTS:
        assert main(["invoice", "list", "--settlement", state, "--json",
                     "--company", "acme"]) == 0
        listed = sorted(r["number"] for r in json.loads(capsys.readouterr().out))
        assert listed == _listed(company)[state]
    assert main(["invoice", "list", "--settlement", "partially_paid",
                 "--company", "acme"]) == 0
    assert mixed_books.inv4.number in capsys.readouterr().out


def test_the_migration_that_filled_the_column_finds_what_the_writer_keeps(
        mixed_books: Any, company: Any, owner: Any) -> None:
    """payments 0010 filled the kept settlement of books written before it: run on every
    state (paid, partially paid, open, written off, a credit note applied or not), it
    gives each document what the writer has kept."""
    later = mixed_books.days[-1] + timedelta(days=1)
    invoice_write_off(actor=owner, company=company, number=mixed_books.inv4.number, day=later,
                      reason="insolvent")
    kept = dict(Invoice.objects.filter(status="posted").values_list("number", "settlement"))
    assert set(kept.values()) >= {"paid", "open", "written_off"}
    Invoice.objects.update(settlement="open")  # as invoicing 0016 left every row
    fill = importlib.import_module(
        "salesledger.apps.payments.migrations.0010_invoice_settlement_kept").fill_settlement
    fill(apps, SimpleNamespace(connection=connection))
    install_guards()  # as the end of migrate does
    assert dict(Invoice.objects.filter(status="posted")
                .values_list("number", "settlement")) == kept
    assert check_company(company) == []
