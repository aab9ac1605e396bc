"""The run's statement (``selectors.run_outline``: which customers have something new to be
told, in SQL) against the rule item by item (``domain.dunning.select_reminders``), over
situations Hypothesis generates: open items in two currencies with one or two instalments,
invoices of fees, invoices issued on the run's day, items already reminded at some levels,
unapplied cash, pauses of every kind, a minimum or none, a group following its parent's
policy, an inactive customer, and the run's day before, inside and after the levels.

Why the rule lives in two forms at all (docs/design/dunning.md, "One rule, two forms"): the
run must not read a million items into Python to find the hundred thousand customers to
remind, so the database levels and groups them; which item is listed, skipped and why is then
decided by ``plan_reminders`` alone, for every customer whose items are read. What the
statement decides by itself (the item's level, whether it is new, whether cash might pay it,
whether a total reaches the minimum) is what this test and ``test_levelling.py`` hold to the
rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesledger.apps.customers.models import Customer
from salesledger.apps.dunning.models import DunningItem, DunningNotice, DunningPolicy
from salesledger.apps.dunning.run import select
from salesledger.apps.dunning.selectors import (
    cash_that_may_pay,
    items_due,
    lead_days,
    policies,
    policy_of_customers,
    reminded,
)
from salesledger.apps.dunning.services import policy_add, policy_assign
from salesledger.apps.invoicing.models import Instalment
from salesledger.apps.invoicing.posting.check import BulkDoc
from salesledger.apps.invoicing.services import documents_post_bulk
from salesledger.apps.payments.bulk import BulkReceipt, receipts_record_bulk
from salesledger.domain.dunning import CustomerPlan, Level, Pause, Skipped, select_reminders
from salesledger.domain.invoicing import LineInput

pytestmark = pytest.mark.django_db

START = date(2025, 3, 3)
CUSTOMERS = ("K1", "K2", "K3", "K4", "K5")  # K2 in group G; K3 SOFT; K5 inactive


@dataclass(frozen=True)
class Doc:
    customer: int
    currency: str
    issued: int  # days after START
    due: tuple[int, ...]  # days after issue, one per instalment
    amount: int  # major units
    fee: bool  # an invoice of charges (reminded of, never charged for)


docs = st.builds(Doc, st.integers(0, len(CUSTOMERS) - 1), st.sampled_from(["EUR", "USD"]),
                 st.integers(0, 60), st.lists(st.integers(0, 45), min_size=1, max_size=2,
                                              unique=True).map(lambda d: tuple(sorted(d))),
                 st.integers(20, 900), st.booleans())


@dataclass(frozen=True)
class Situation:
    docs: list[Doc]
    reminded: list[tuple[int, int]]  # (item index, level)
    cash: list[tuple[int, str, int]]  # (customer, currency, minor units)
    pauses: list[tuple[int, int | None, str, int | None]]  # (customer, doc or None, reason, amount)
    minimum: int
    as_of: int  # days after START


situations = st.builds(
    Situation, st.lists(docs, min_size=1, max_size=12),
    st.lists(st.tuples(st.integers(0, 30), st.integers(1, 3)), max_size=8),
    st.lists(st.tuples(st.integers(0, len(CUSTOMERS) - 1), st.sampled_from(["EUR", "USD"]),
                       st.integers(100, 60_000)), max_size=3),
    st.lists(st.tuples(st.integers(0, len(CUSTOMERS) - 1), st.one_of(st.none(),
                                                                       st.integers(0, 11)),
                       st.sampled_from(["dispute", "promise", "plan", "reply"]),
                       st.one_of(st.none(), st.integers(100, 50_000))), max_size=3),
    st.sampled_from([0, 5000, 100_000]), st.integers(-10, 160))


@pytest.fixture
def world(company: Any, owner: Any, make_customer: Any) -> dict[str, int]:
    policy_add(actor=owner, company=company, code="FAST", name="Fast", default=True,
               levels=[Level(0, 0, "Due", ("email",)), Level(0, 10, "Late", ("email",)),
                       Level(0, 30, "Later", ("email", "letter"))])
    policy_add(actor=owner, company=company, code="SOFT", name="Soft",
               levels=[Level(0, -7, "Soon", ("email",)), Level(0, 60, "Late", ("email",))])
    make_customer("G", name="Group")
    for code in CUSTOMERS:
        make_customer(code, parent_code="G" if code == "K2" else "")
    policy_assign(actor=owner, company=company, policy_code="SOFT", customer_code="K3")
    policy_assign(actor=owner, company=company, policy_code="FAST", customer_code="G")
    Customer.objects.filter(company=company, code="K5").update(is_active=False)
    return dict(Customer.objects.filter(company=company).values_list("code", "pk"))


def _shape(plans: list[CustomerPlan], skipped: list[Skipped]) -> tuple[Any, Any]:
    return ([(p.customer_id, p.policy.code, [(r.item, r.level.number, r.amount, r.new)
                                             for r in p.items]) for p in plans],
            sorted(skipped, key=lambda s: (s.customer_id, s.item_id or 0, s.reason)))


def _due(d: Doc) -> list[tuple[date, Decimal | None]]:
    days = [START + timedelta(days=d.issued + n) for n in d.due]
    if len(days) == 1:
        return [(days[0], None)]
    half = Decimal(d.amount // 2)
    return [(days[0], half), (days[1], Decimal(d.amount) - half)]


def _write(company: Any, owner: Any, ids: dict[str, int], s: Situation) -> list[Pause]:
    posted = documents_post_bulk(actor=owner, company=company, allow_future_date=True, docs=[
        BulkDoc(customer_id=ids[CUSTOMERS[d.customer]], kind="invoice", currency=d.currency,
                rate=Decimal(1) if d.currency == "EUR" else Decimal("0.9"),
                issue_date=START + timedelta(days=d.issued),
                due=_due(d),
                lines=[LineInput("Goods", Decimal(1), Decimal(d.amount), Decimal(0))],
                purpose="fee" if d.fee else "sale")
        for d in s.docs])
    assert posted is not None
    items = list(Instalment.objects.filter(company=company).order_by("pk")
                 .values_list("pk", "customer_id", "invoice_id"))
    invoices = sorted({inv for _, _, inv in items})
    if s.cash:
        receipts_record_bulk(actor=owner, company=company, receipts=[
            BulkReceipt(customer_id=ids[CUSTOMERS[c]], date=START, currency=cur,
                        amount=amount, rate=Decimal(1) if cur == "EUR" else Decimal("0.9"))
            for c, cur, amount in s.cash])
    seen = set()
    for index, level in s.reminded:
        if index >= len(items) or (index, level) in seen:
            continue
        seen.add((index, level))
        pk, customer_id, _ = items[index]
        notice, _ = DunningNotice.objects.get_or_create(company=company,
                                                        customer_id=customer_id, day=START)
        DunningItem.objects.create(company=company, notice=notice, instalment_id=pk,
                                   level=level, amount=1)
    DunningPolicy.objects.filter(company=company, code="FAST").update(min_amount=s.minimum)
    return [Pause(ids[CUSTOMERS[c]], None if doc is None or reason == "reply"
                  else invoices[doc % len(invoices)], reason,
                  None if reason == "reply" else amount)
            for c, doc, reason, amount in s.pauses]


class _Rollback(Exception):
    pass


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(s=situations)
def test_the_run_selects_as_the_rule_does_in_generated_situations(
        s: Situation, company: Any, owner: Any, world: dict[str, int]) -> None:
    try:
        with transaction.atomic():
            pauses = _write(company, owner, world, s)
            as_of = START + timedelta(days=s.as_of)
            by_id = policies(company)
            policy_of = {cid: by_id[pid] for cid, pid in policy_of_customers(company).items()}
            by_rule = select_reminders(
                items_due(company, by=as_of + lead_days(by_id), issued_before=as_of),
                as_of=as_of, policy_of=policy_of, sent=reminded(company), pauses=pauses,
                cover=cash_that_may_pay(company))
            plans, skipped, items = select(company, as_of, by_id, pauses, ())
            outlined = [p.customer_id for p in plans]
            read = items.read(plans)
            assert _shape(read, skipped) == _shape(*by_rule)
            # and the statement's outline is exact, not only safe: every customer it
            # outlined has something to be told once its items are read
            assert [p.customer_id for p in read] == outlined
            raise _Rollback
    except _Rollback:
        pass
