"""The run levels in the database (``selectors.levelled_items``, one statement); the rule item
by item is ``domain.dunning.select_reminders``. On seeded ledgers (several policies, a group
following its parent's policy, an inactive customer, instalments, items reminded already at
some levels, unapplied cash, pauses of every kind) and on several days, both choose exactly the
same customers, items, levels, amounts and skipped items."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from salesledger.apps.customers.models import Customer, PaymentTerms
from salesledger.apps.dunning.models import DunningItem, DunningNotice
from salesledger.apps.dunning.run import select
from salesledger.apps.dunning.selectors import (
    cash_that_may_pay,
    items_due,
    lead_days,
    levelled_items,
    policies,
    policy_of_customers,
    reminded,
)
from salesledger.apps.dunning.services import policy_add, policy_assign
from salesledger.apps.invoicing.models import Instalment
from salesledger.apps.invoicing.posting.check import BulkDoc
from salesledger.apps.invoicing.services import documents_post_bulk
from salesledger.apps.payments.bulk import BulkReceipt, receipts_record_bulk
from salesledger.domain.dunning import (
    CustomerPlan,
    Level,
    Pause,
    Skipped,
    plan_reminders,
    select_reminders,
)
from salesledger.domain.invoicing import LineInput

pytestmark = pytest.mark.django_db

START = date(2025, 1, 6)


def _ledger(rng: random.Random, company: Any, owner: Any, make_customer: Any) -> None:
    policy_add(actor=owner, company=company, code="FAST", name="Fast", min_amount=5000,
               levels=[Level(0, 0, "Due", ("email",)), Level(0, 10, "Late", ("email",)),
                       Level(0, 30, "Later", ("email", "letter"))])
    policy_add(actor=owner, company=company, code="SOFT", name="Soft",
               levels=[Level(0, -7, "Soon", ("email",)), Level(0, 60, "Late", ("email",))])
    make_customer("G000", name="Group")
    policy_assign(actor=owner, company=company, policy_code="FAST", customer_code="G000")
    for n in range(1, 31):
        code = f"K{n:03d}"
        make_customer(code, email=f"{code.lower()}@example.com",
                      parent_code="G000" if n % 7 == 0 else "")
        if n % 5 == 0:
            policy_assign(actor=owner, company=company, policy_code="SOFT",
                          customer_code=code)
    Customer.objects.filter(company=company, code="K013").update(is_active=False)
    ids = dict(Customer.objects.filter(company=company).values_list("code", "pk"))
    terms = list(PaymentTerms.objects.filter(company=company, code__in=["NET30", "30-60-90"])
                 .values_list("pk", flat=True))
    docs = [BulkDoc(customer_id=ids[f"K{rng.randrange(1, 31):03d}"], kind="invoice",
                    currency="EUR", terms_id=rng.choice(terms),
                    issue_date=START + timedelta(days=rng.randrange(150)),
                    lines=[LineInput("Goods", Decimal(1), Decimal(rng.randrange(20, 900)),
                                     Decimal(20))])
            for _ in range(120)]
    documents_post_bulk(actor=owner, company=company, docs=docs, allow_future_date=True)
    receipts_record_bulk(actor=owner, company=company, receipts=[
        BulkReceipt(customer_id=ids[f"K{n:03d}"], date=START, currency="EUR",
                    amount=rng.randrange(10_000, 60_000)) for n in range(2, 31, 6)])
    # some items were reminded already, at some of their levels
    items = list(Instalment.objects.filter(company=company).values_list("pk", "customer_id"))
    notices: dict[int, DunningNotice] = {}
    rows = []
    for pk, customer_id in rng.sample(items, 60):
        notice = notices.get(customer_id) or DunningNotice.objects.create(
            company=company, customer_id=customer_id, day=START)
        notices[customer_id] = notice
        for level in rng.sample([1, 2, 3], rng.randrange(1, 3)):
            rows.append(DunningItem(company=company, notice=notice, instalment_id=pk,
                                    level=level, amount=1))
    DunningItem.objects.bulk_create(rows)


def _pauses(rng: random.Random, company: Any) -> list[Pause]:
    rows = list(Instalment.objects.filter(company=company)
                .values_list("customer_id", "invoice_id"))
    out = [Pause(c, i, rng.choice(["dispute", "plan"]), rng.choice([None, 1000, 50_000]))
           for c, i in rng.sample(rows, 15)]
    out += [Pause(c, i, "promise", 2000) for c, i in rng.sample(rows, 5)]
    out += [Pause(c, None, "reply") for c, _ in rng.sample(rows, 2)]
    return out


def _shape(plans: list[CustomerPlan], skipped: list[Skipped]) -> tuple[Any, Any]:
    return ([(p.customer_id, p.policy.code, [(r.item, r.level.number, r.amount, r.new)
                                             for r in p.items]) for p in plans],
            sorted(skipped, key=lambda s: (s.customer_id, s.item_id or 0, s.reason)))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_statement_levels_as_the_rule_does_item_by_item(
        seed: int, company: Any, owner: Any, make_customer: Any) -> None:
    rng = random.Random(seed)
    _ledger(rng, company, owner, make_customer)
    pauses = _pauses(rng, company)
    by_id = policies(company)
    policy_of = {cid: by_id[pid] for cid, pid in policy_of_customers(company).items()}
    cover = cash_that_may_pay(company)
    compared = 0
    for as_of in (START + timedelta(days=d) for d in (0, 35, 70, 95, 130, 190, 260)):
        by_rule = select_reminders(
            items_due(company, by=as_of + lead_days(by_id), issued_before=as_of),
            as_of=as_of, policy_of=policy_of, sent=reminded(company), pauses=pauses,
            cover=cover)
        levelled = levelled_items(company, as_of=as_of, by_id=by_id,
                                  also={p.customer_id for p in pauses})
        by_statement = plan_reminders(levelled, pauses=pauses, cover=cover)
        assert _shape(*by_statement) == _shape(*by_rule), as_of
        # the run: a row per customer from the database, the items read afterwards
        plans, skipped, items = select(company, as_of, by_id, pauses, ())
        assert _shape(items.read(plans), skipped) == _shape(*by_rule), as_of
        compared += sum(len(p.items) for p in by_rule[0]) + len(by_rule[1])
    # the ledger is not trivial: items listed and skipped, new and reminded before
    assert compared > 100


def test_only_the_customers_with_something_new_or_to_report_are_read(
        company: Any, owner: Any, make_customer: Any) -> None:
    rng = random.Random(7)
    _ledger(rng, company, owner, make_customer)
    by_id = policies(company)
    as_of = START + timedelta(days=200)
    everything = {lv.item.customer_id for lv in levelled_items(
        company, as_of=as_of, by_id=by_id, also=set(policy_of_customers(company)))}
    read = levelled_items(company, as_of=as_of, by_id=by_id)
    new = {lv.item.customer_id for lv in read if lv.new}
    cash = {cid for cid, _ in cash_that_may_pay(company)}
    assert {lv.item.customer_id for lv in read} == everything & (new | cash)
    # once every item is reminded at its level, only the customers with cash are read
    notice = DunningNotice.objects.create(company=company, customer_id=min(everything),
                                          day=as_of)
    DunningItem.objects.bulk_create([
        DunningItem(company=company, notice=notice, instalment_id=lv.item.id,
                    level=lv.level.number, amount=lv.item.open) for lv in read if lv.new])
    again = levelled_items(company, as_of=as_of, by_id=by_id)
    assert not any(lv.new for lv in again)
    assert {lv.item.customer_id for lv in again} == everything & cash
