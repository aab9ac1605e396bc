"""Duplicate customers found by the worker's scan and kept: the page reads a page of the
pairs kept in one query; a change to a record that detection reads marks the scan behind
and the worker's next round scans again; a merged customer's pairs leave at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from salesledger.apps.credit.tasks import duplicates_rescans_enqueue
from salesledger.apps.customers.duplicates import (
    duplicate_pairs,
    duplicate_pairs_store,
    duplicate_scan,
    duplicates_changed,
)
from salesledger.apps.customers.merge import customer_merge
from salesledger.apps.customers.selectors import duplicate_customers
from salesledger.apps.customers.services import BankAccountInput, customer_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(make_customer: Callable[..., Any]) -> None:
    make_customer("C1", name="Dupont et Fils SARL", tax_id="FR40303265045")
    make_customer("C2", name="DPF Distribution", tax_id="FR 40 303265045")
    make_customer("C3", name="Dupont & Fils")
    make_customer("C4", name="Garage du Lot 12", bank_accounts=[
        BankAccountInput("FR7630006000011234567890189")])
    make_customer("C5", name="Garage du Lot 13")
    make_customer("C7", name="SOCIETE GENERALE", tax_id="FR40303265045")
    for i in range(8):
        make_customer(f"N{i}", name=f"Boulangerie Martin {i}")  # numbers differ: no pair


def test_the_pairs_kept_are_the_pairs_found_a_page_in_one_query(
        company: Any, records: None, django_assert_num_queries: Any) -> None:
    assert duplicate_scan(company) is None
    duplicates_changed(company)  # never scanned: nothing to mark
    assert duplicate_scan(company) is None
    found = duplicate_customers(company)
    assert duplicate_pairs_store(company) == len(found) == 4
    for offset, limit in ((0, 2), (2, 2), (0, None)):
        with django_assert_num_queries(1):
            page = duplicate_pairs(company, offset=offset, limit=limit)
        assert page == found[offset:None if limit is None else offset + limit]
    scan = duplicate_scan(company)
    assert scan is not None and scan.changed_at is None


def test_a_change_is_scanned_at_the_workers_next_round_and_a_merge_leaves_at_once(
        company: Any, owner: Any, records: None, django_capture_on_commit_callbacks: Any
        ) -> None:
    from django_tasks_db.models import DBTaskResult

    duplicate_pairs_store(company)
    now = timezone.now()
    assert duplicates_rescans_enqueue(now=now) == []  # nothing changed
    # a rename that detection reads marks the scan behind; a phone number does not
    customer_update(actor=owner, company=company, code="C5", phone="+33 1 23 45 67 89")
    assert duplicate_scan(company).changed_at is None  # type: ignore[union-attr]
    customer_update(actor=owner, company=company, code="C5", name="Garage du Lot 12")
    assert duplicate_scan(company).changed_at is not None  # type: ignore[union-attr]
    assert ("C4", "C5") not in {(p["a"], p["b"]) for p in duplicate_pairs(company)}
    [task_id] = duplicates_rescans_enqueue(now=timezone.now())
    assert duplicates_rescans_enqueue(now=timezone.now()) == []  # queued once
    task = DBTaskResult.objects.get(pk=task_id)
    assert task.task_path.endswith("duplicates_scan_task") and task.args_kwargs["args"] == [
        company.code]
    duplicate_pairs_store(company)  # what the task does
    assert duplicate_scan(company).changed_at is None  # type: ignore[union-attr]
    assert ("C4", "C5") in {(p["a"], p["b"]) for p in duplicate_pairs(company)}
    # merged: its pairs are gone from the page before any scan
    customer_merge(actor=owner, company=company, alias="C2", survivor="C1", reason="same")
    kept = {(p["a"], p["b"]) for p in duplicate_pairs(company)}
    assert not {pair for pair in kept if "C2" in pair} and ("C1", "C3") in kept
