"""Concurrency on PostgreSQL for allocation by policy: two bulk runs started at once, and a
bulk run racing single allocations of the same receipts, never over-allocate a receipt nor
over-settle an instalment, and the ledger check stays clean."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from conftest import DAY
from django.db.models import F, Q

from salesledger.apps.core.invariants import check_company
from salesledger.apps.invoicing.models import Instalment
from salesledger.apps.payments.autoallocate import auto_allocate_all
from salesledger.apps.payments.models import Receipt
from salesledger.apps.payments.policies import receipt_allocate_policy
from tests.db.test_races import run_together

pytestmark = [pytest.mark.postgres]

LATER = DAY + timedelta(days=10)


@pytest.fixture
def owed(company, make_customer, post_invoice, record_receipt):
    receipts = []
    for n in range(4):
        code = f"R{n}"
        make_customer(code)
        for amount in ("100.00", "80.00"):
            post_invoice(code, lines=[("Work", "1", amount, "0")], terms="30-60-90")
        receipts.append(record_receipt(code, "150.00", DAY + timedelta(days=1)))
    return receipts


def _sound(company):
    assert not Instalment.objects.filter(Q(settled__gt=F("amount")) | Q(settled__lt=0)).exists()
    assert not Receipt.objects.filter(allocated__gt=F("amount")).exists()
    assert [str(p) for p in check_company(company)] == []


def test_two_bulk_runs_at_once_allocate_once(transactional_db, company, owner, owed):
    results = run_together([
        lambda: auto_allocate_all(actor=owner, company=company, day=LATER, chunk_customers=1)
        for _ in range(2)])
    # one run does the work; the other either finds it running (and continues it) or
    # starts after it and finds nothing left: never twice
    assert all(status == "ok" or type(value).__name__ == "RunInProgress"
               for status, value in results), results
    assert sum(r.amount - r.allocated for r in Receipt.objects.all()) == 0
    assert sorted(Receipt.objects.values_list("allocated", flat=True)) == [15000] * 4
    _sound(company)


def test_a_bulk_run_races_single_allocations(transactional_db, company, owner, owed):
    calls = [lambda: auto_allocate_all(actor=owner, company=company, day=LATER,
                                       policy="proportional", chunk_customers=2)]
    calls += [(lambda r=r: receipt_allocate_policy(actor=owner, company=company,
                                                   receipt=r.number, policy="oldest_first",
                                                   day=LATER))
              for r in owed]
    results = run_together(calls)
    assert all(status == "ok" or "exceeds" in str(value) for status, value in results), results
    # every receipt ends up used exactly once, whoever got there first
    assert sorted(Receipt.objects.values_list("allocated", flat=True)) == [15000] * 4
    assert Decimal(sum(Instalment.objects.values_list("settled", flat=True))) == 60000
    _sound(company)
