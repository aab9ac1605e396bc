"""A month of receivables for the database tests: three customers, two currencies, invoices
in instalments, credit notes applied and open, payments allocated and on account."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from conftest import DAY


@pytest.fixture
def mixed_books(company, owner, make_customer, post_invoice, record_receipt, allocate_to):
    from salesledger.apps.payments.services import allocation_reverse

    make_customer("C001", name="Dupont et Fils", terms_code="NET14")
    make_customer("C002", name="Martin SARL")
    make_customer("US1", name="Acme Inc.", currency="USD")
    d = [DAY + timedelta(days=n) for n in range(31)]
    # C001: two invoices, one corrected by a credit note, a payment spread oldest first,
    # a goodwill credit note left open
    inv1 = post_invoice("C001", lines=[("Audit", "1", "100.00", "20")], issue_date=d[0])
    inv2 = post_invoice("C001", lines=[("Support", "3", "66.67", "20"),
                                       ("Travel", "1", "19.99", "0", "10")],
                        issue_date=d[1], terms="30-60-90")
    cn1 = post_invoice("C001", kind="credit_note", corrects=inv1.number,
                       lines=[("Discount", "1", "20.00", "20")], issue_date=d[2])
    r1 = record_receipt("C001", "150.00", d[5])
    allocate_to(r1.number, auto=True, day=d[6])
    cn2 = post_invoice("C001", kind="credit_note", lines=[("Goodwill", "1", "10.00", "20")],
                       issue_date=d[7])
    # C002: paid more than owed; a wrong allocation reversed and redone
    inv3 = post_invoice("C002", lines=[("Licence", "2", "25.00", "20")], issue_date=d[3])
    r2 = record_receipt("C002", "100.00", d[8])
    [wrong] = allocate_to(r2.number, {inv3.number: "30.00"}, day=d[9])
    allocation_reverse(actor=owner, company=company, allocation_id=wrong.pk, day=d[10])
    allocate_to(r2.number, {inv3.number: "60.00"}, day=d[10])
    # US1: a USD invoice at 0.90, paid in part at 0.95 (a realised exchange difference)
    inv4 = post_invoice("US1", lines=[("Hardware", "1", "1000.00", "0")], issue_date=d[4],
                        rate=Decimal("0.90"), terms="30-60-90")
    r3 = record_receipt("US1", "400.00", d[12], currency="USD", rate=Decimal("0.95"))
    allocate_to(r3.number, auto=True, day=d[12])
    return SimpleNamespace(days=d, inv1=inv1, inv2=inv2, inv3=inv3, inv4=inv4, cn1=cn1, cn2=cn2,
                           r1=r1, r2=r2, r3=r3)
