"""Applying the sure lines of a batch (``apply_lines``, what ``bank match --auto-apply``
writes): every rule of payments holds (a short payment's residual written off within the
tolerance, an early-payment discount taken, an invoice in another currency paid at the
proposal's rate), the audit chain in the same transaction, and the batch costs the same
number of queries whatever its number of lines: one ``receipts_record``, one
``allocations_make`` (one ``AllocationsMade``), one ``adjustments_write`` for the write-offs,
one for the discounts, and a fixed number of audit appends."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from salesledger.apps.banking.matching import apply_lines
from salesledger.apps.banking.models import LineMatch, StatementLine
from salesledger.apps.banking.services import statement_import
from salesledger.apps.core import events
from salesledger.apps.core.audit import audit_verify
from salesledger.apps.core.models import AuditEvent
from salesledger.apps.core.services import company_profile_update
from salesledger.apps.fx.services import rate_add
from salesledger.apps.invoicing.models import Invoice
from salesledger.apps.invoicing.tests.books import (
    ledger_problems,
    line,
    make_company,
    make_customer,
    make_owner,
    post_single,
)
from salesledger.apps.payments.adjustments.settings import settlement_settings_set
from salesledger.apps.payments.models import Adjustment, Allocation, Receipt
from salesledger.domain.cash_matching import Proposal

pytestmark = pytest.mark.django_db(transaction=False)

IBAN = "NL26VAYB8060476890"
ISSUED = date(2025, 3, 10)


@pytest.fixture
def books() -> dict[str, Any]:
    owner = make_owner("apply-owner")
    company = make_company(owner, "applyco")
    company = company_profile_update(actor=owner, company=company, iban=IBAN)
    settlement_settings_set(actor=owner, company=company,
                            writeoff_tolerance_amount=Decimal("5"),
                            writeoff_tolerance_percent=Decimal("2"))
    rate_add(actor=owner, company=company, currency="USD", rate="0.90", day=ISSUED)
    make_customer(company, owner, "ACME", name="ACME Trading GmbH")
    return {"owner": owner, "company": company, "statements": 0}


def _statement(books: dict[str, Any], amounts: list[int]) -> list[StatementLine]:
    """An MT940 statement of these credits (minor units), booked on 2025-03-15, imported."""
    books["statements"] += 1
    number = books["statements"]
    body = [":20:STMT", f":25:{IBAN}", f":28C:{number}/1", ":60F:C250301EUR0,00"]
    for n, amount in enumerate(amounts):
        body += [f":61:2503150315C{amount // 100},{amount % 100:02d}NTRFREF{number}-{n}",
                 f":86:/NAME/ACME/REMI/payment {n}"]
    total = sum(amounts)
    body += [f":62F:C250331EUR{total // 100},{total % 100:02d}", "-"]
    result = statement_import(actor=books["owner"], company=books["company"],
                              data="\r\n".join(body).encode())
    return list(StatementLine.objects.filter(statement=result.statements[0].statement)
                .select_related("bank_account").order_by("pk"))


def _batch(books: dict[str, Any], groups: int) -> list[tuple[StatementLine, Proposal]]:
    """``groups`` times four lines: one paying an invoice exactly, one paying an invoice
    2.00 short (written off), one paying a 2-10-NET30 invoice less its discount within ten
    days (the discount taken), one paying a dollar invoice in euros at the proposal's rate."""
    company, owner = books["company"], books["owner"]
    customer = make_customer(company, owner, f"C{Invoice.objects.count()}")
    plans: list[tuple[int, Any, bool, str, Decimal | None]] = []
    for n in range(groups):
        exact = post_single(company, owner, customer.code,
                            [line("Exact", "1", f"{100 + n}")], issue_date=ISSUED)
        plans.append((exact.total, exact, False, "", None))
        short = post_single(company, owner, customer.code,
                            [line("Short", "1", "200")], issue_date=ISSUED)
        plans.append((short.total - 200, short, True, "", None))
        early = post_single(company, owner, customer.code,
                            [line("Early", "1", "300")], issue_date=ISSUED,
                            terms_code="2-10-NET30")
        plans.append((early.total - early.total * 2 // 100, early, False, "", None))
        dollars = post_single(company, owner, customer.code,
                              [line("Crates", "1", "110")], issue_date=ISSUED,
                              currency="USD")
        plans.append((10000, dollars, False, "USD", Decimal("1.1")))
    rows = _statement(books, [amount for amount, *_ in plans])
    return [(row, Proposal(customer.pk, ((inv.number, inv.total if currency else amount),),
                           0.99, ("test",), write_off=write_off, currency=currency,
                           rate=rate))
            for row, (amount, inv, write_off, currency, rate) in zip(rows, plans, strict=True)]


def test_a_batch_applies_every_rule_in_as_many_queries_for_more_lines(
        books: dict[str, Any]) -> None:
    company, owner = books["company"], books["owner"]
    made: list[events.AllocationsMade] = []
    counts = []
    with events.subscribed(events.AllocationsMade, made.append):
        for groups in (1, 2, 6):  # the first batch alone makes the series and the chain
            pairs = _batch(books, groups)
            # a line of each batch was matched before and waits for review: its match row
            # is updated, the others' are inserted
            LineMatch.objects.create(company=company, line=pairs[0][0], status="suggested",
                                     rejected=["0:x=1"])
            with CaptureQueriesContext(connection) as queries:
                numbers = apply_lines(company=company, actor=owner, pairs=pairs,
                                      decided_by="auto")
            counts.append(len(queries.captured_queries))
            assert len(numbers) == 4 * groups
    # one AllocationsMade per batch, with every allocation of the batch in it
    assert [len(e.allocations) for e in made] == [4, 8, 24]
    # then the batch of 24 lines takes as many queries as the batch of 8
    assert counts[2] == counts[1], counts
    assert Receipt.objects.count() == 36
    assert LineMatch.objects.filter(status="applied", receipt__isnull=False).count() == 36
    assert LineMatch.objects.filter(rejected=["0:x=1"], decided_by="auto").count() == 3
    # the short payments' residuals written off (2.00 each), the discounts taken (2 %)
    assert sorted(Adjustment.objects.filter(kind="write_off").values_list(
        "amount", flat=True)) == [200] * 9
    assert sorted(Adjustment.objects.filter(kind="discount").values_list(
        "amount", flat=True)) == [600] * 9
    # the dollar invoices paid in full at the proposal's rate, from euro receipts
    crossed = Allocation.objects.filter(source_currency="EUR", currency="USD")
    assert sorted(crossed.values_list("amount", "source_amount")) == [(11000, 10000)] * 9
    open_left = [i.number for i in Invoice.objects.filter(kind="invoice")
                 if sum(x.amount - x.settled for x in i.instalments.all())]
    assert open_left == []
    # one audit event per receipt, per receipt's allocation and per line, in the chain
    assert AuditEvent.objects.filter(action="bank_line.apply").count() == 36
    assert AuditEvent.objects.filter(action="receipt.record").count() == 36
    assert audit_verify(company) == []
    assert ledger_problems(company) == []
