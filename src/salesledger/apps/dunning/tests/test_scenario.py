"""The dunning of one customer told day by day, as issue 15 tells it: levels at -3, +5, +20
and +40 days from the due date; nothing on day -4; the friendly reminder on day -3; the first
level on day 5; a dispute opened on day 10 stops the sequence; resolved on day 25 with a
partial credit note, the rest is reminded again; on day 40 the last level, with a fee and
interest whose amounts are computed here by hand; a promise to pay made on day 41 pauses
everything, and when it is broken the sequence resumes on day 50. Every message is read back
from a real SMTP server."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from salesledger.apps.collections.services import (
    DisputeSpec,
    dispute_open,
    dispute_resolve,
    promise_add,
)
from salesledger.apps.dunning.models import DunningPolicy
from salesledger.apps.dunning.run import dunning_run, fees_total
from salesledger.apps.dunning.services import policy_add
from salesledger.apps.invoicing.models import Invoice
from salesledger.domain.dunning import Level
from salesledger.domain.invoicing import LineInput

pytestmark = pytest.mark.django_db

DUE = date(2025, 3, 10)
LEVELS = [Level(0, -3, "Friendly reminder"), Level(0, 5, "Reminder"),
          Level(0, 20, "Second reminder", ("email", "letter")),
          Level(0, 40, "Final notice", ("email", "letter"), fee_percent=Decimal(2),
                interest=True)]


def on(day: int) -> date:
    return DUE + timedelta(days=day)


def test_one_customer_day_by_day(dunning, owner, make_customer, post_invoice, smtp_server,
                                 django_capture_on_commit_callbacks):
    DunningPolicy.objects.filter(company=dunning).update(is_default=False)
    policy_add(actor=owner, company=dunning, code="ISSUE15", levels=LEVELS, default=True)
    make_customer("C200", name="Martin SARL", tax_id="FR40303265045",
                  email="compta@martin.example")
    a = post_invoice("C200", lines=(("Conseil", 1, "1000.00", "20"),),
                     issue_date=on(-30))  # 30 days' terms: due on day 0
    b = post_invoice("C200", lines=(("Support", 1, "200.00", "20"),), issue_date=on(-5))
    assert (a.due_date, b.due_date) == (on(0), on(25))
    inbox = smtp_server.received

    def day(n: int):
        with django_capture_on_commit_callbacks(execute=True):
            return dunning_run(actor=owner, company=dunning, as_of=on(n), send=True)

    def last_body() -> str:
        return inbox[-1].message.get_body(("plain",)).get_content()

    assert day(-4).messages_sent == 0
    assert day(-3).messages_sent == 1
    assert inbox[-1].message["Subject"].startswith("Friendly reminder:")
    assert day(5).messages_sent == 1 and inbox[-1].message["Subject"].startswith("Reminder:")
    assert len(inbox) == 2

    # day 10: the customer disputes the whole invoice (the price)
    dispute = dispute_open(actor=owner, company=dunning, day=on(10),
                           spec=DisputeSpec(a.number, "pricing"))
    assert day(10).messages_sent == 0
    held = day(20)  # the second reminder's day: not sent, the dispute is said
    assert held.messages_sent == 0
    assert {(s["item"], s["reason"]) for s in held.skipped} == {(a.number, "dispute")}

    # day 25: resolved with a credit note for 250.00 + VAT; the rest, 900.00, is owed
    dispute_resolve(actor=owner, company=dunning, dispute_id=dispute.pk, day=on(25),
                    credit_note_lines=[LineInput("Price agreed", Decimal(1), Decimal("250.00"),
                                                 Decimal(20))])
    back = day(25)
    assert back.messages_sent == 1
    [plan] = back.planned
    assert [(i["item"], i["level"], i["amount"]["amount"]) for i in plan["items"]] == [
        (a.number, 3, "900.00"), (b.number, 1, "240.00")]
    assert "Second reminder" in last_body() and "900,00" in last_body()  # en_FR

    # day 40: the final notice, charged: 2 % of 900.00 = 18.00; interest on 900.00 from day 1
    # to day 40 (40 days, 2025-03-11 to 2025-04-19), all in the first half of 2025, whose
    # reference rate is the one in force on 1 January 2025 (4.25 %) plus 8 points:
    # 900.00 * 12.25 % * 40 / 365 = 12.0822 -> 12.08; the fixed compensation 40.00 (business).
    final = day(40)
    assert final.messages_sent == 1 and inbox[-1].message["Subject"].startswith("Final notice")
    assert fees_total(dunning, "C200") == {"fee": 1800, "interest": 1208, "compensation": 4000}
    [fee] = final.fees
    assert fee["total"] == {"amount": "70.08", "currency": "EUR"}
    assert Invoice.objects.get(number=fee["invoice"]).tax == 0
    assert fee["invoice"] in last_body()

    # day 41: a promise to pay everything by day 49 pauses the customer; on day 45 invoice B
    # reaches the second reminder, held
    promise_add(actor=owner, company=dunning, customer="C200", amount=Decimal("1140.00"),
                promised_date=on(49), day=on(41))
    paused = day(45)
    assert paused.messages_sent == 0
    assert {(s["item"], s["reason"]) for s in paused.skipped} >= {(b.number, "promise")}
    assert day(49).messages_sent == 0

    # day 50: nothing came, the promise is broken: the sequence resumes by itself
    resumed = day(50)
    assert resumed.messages_sent == 1 and len(inbox) == 5
    [plan] = resumed.planned
    # (the invoice of day 40's charges, due at once, is reminded of too, never charged for)
    assert [(i["item"], i["level"], i["new"]) for i in plan["items"]] == [
        (a.number, 4, False), (b.number, 3, True), (fee["invoice"], 2, True)]
    # nothing is charged twice: B's level has no fee, and A's final level was charged once
    assert resumed.fees == []
    assert fees_total(dunning, "C200") == {"fee": 1800, "interest": 1208, "compensation": 4000}
