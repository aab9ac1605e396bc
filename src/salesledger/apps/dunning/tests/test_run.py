"""A dunning run against the real database and a real SMTP server: levels reached day by day,
one message per customer listing every item by level, nothing twice, charges on an invoice
not subject to VAT whose amounts match a hand computation, letters as PDFs."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from tests.support import journal

from salesledger.apps.credit.selectors import on_hold
from salesledger.apps.dunning.models import DunningItem, DunningNotice
from salesledger.apps.dunning.run import dunning_run, fees_total
from salesledger.apps.invoicing.models import Invoice
from salesledger.apps.ledger.models import JournalEntry

from .conftest import pdf_text

pytestmark = pytest.mark.django_db

DUE = date(2025, 3, 10)
ISSUED = date(2025, 2, 8)  # the default terms: 30 days


def on(day: int) -> date:
    return DUE + timedelta(days=day)


@pytest.fixture
def debtor(make_customer, dunning):
    return make_customer("C100", name="Dupont SA", tax_id="FR40303265045",
                         email="compta@dupont.example", language="fr")


def run(company, owner, day, send=True, capture=None):
    if capture is None:
        return dunning_run(actor=owner, company=company, as_of=on(day), send=send)
    with capture(execute=True):
        return dunning_run(actor=owner, company=company, as_of=on(day), send=send)


def test_levels_day_by_day_one_message_each_and_nothing_twice(
        dunning, owner, debtor, post_invoice, smtp_server,
        django_capture_on_commit_callbacks):
    inv = post_invoice("C100", lines=(("Conseil", 1, "1000.00", "20"),), issue_date=ISSUED)
    assert inv.due_date == DUE
    cap = django_capture_on_commit_callbacks
    assert run(dunning, owner, -4, capture=cap).messages_sent == 0
    first = run(dunning, owner, -3, capture=cap)
    assert (first.customers, first.messages_sent, first.fees) == (1, 1, [])
    again = run(dunning, owner, -3, capture=cap)
    assert again.messages_sent == 0 and again.customers == 0
    assert run(dunning, owner, 4, capture=cap).messages_sent == 0
    assert run(dunning, owner, 5, capture=cap).messages_sent == 1
    subjects = [r.message["Subject"] for r in smtp_server.received]
    assert subjects == ["Friendly reminder : rappel de paiement de Acme SARL",
                        "First reminder : rappel de paiement de Acme SARL"]
    body = smtp_server.received[1].message.get_body(("plain",)).get_content()
    assert inv.number in body and "1\u202f200,00\xa0€" in body
    assert DunningItem.objects.filter(notice__customer=debtor).count() == 2


def test_a_second_invoice_is_listed_with_the_first_grouped_by_level(
        dunning, owner, debtor, post_invoice, smtp_server,
        django_capture_on_commit_callbacks):
    old = post_invoice("C100", lines=(("Conseil", 1, "1000.00", "20"),), issue_date=ISSUED)
    new = post_invoice("C100", lines=(("Audit", 1, "500.00", "20"),), issue_date=on(-15))
    summary = run(dunning, owner, 20, capture=django_capture_on_commit_callbacks)
    [plan] = summary.planned
    assert [(i["item"], i["level"]) for i in plan["items"]] == [(old.number, 3), (new.number, 2)]
    [got] = smtp_server.received
    body = got.message.get_body(("plain",)).get_content()
    assert body.index("Second reminder") < body.index(old.number) < body.index(
        "First reminder") < body.index(new.number)
    # the level-3 letter went with the e-mail, as a PDF whose text says the same
    [pdf] = [p for p in got.message.iter_attachments()]
    text = pdf_text(pdf.get_content())
    assert "Second reminder" in text and old.number in text and new.number in text


def test_fee_interest_and_compensation_match_a_hand_computation(
        dunning, owner, debtor, post_invoice, smtp_server,
        django_capture_on_commit_callbacks):
    inv = post_invoice("C100", lines=(("Conseil", 1, "1000.00", "20"),), issue_date=ISSUED)
    summary = run(dunning, owner, 40, capture=django_capture_on_commit_callbacks)
    # Day 40 is 2025-04-19: the invoice reaches the final level at once (it skipped the
    # others, which are not charged). Interest on 1,200.00 EUR from 2025-03-11 to 2025-04-19,
    # 40 days, in the first half of 2025 whose reference rate is the one in force on
    # 1 January 2025 (4.25 %), plus 8 points: 1200 * 12.25 % * 40 / 365 = 16.11 EUR.
    # The final level's fee is 2 % of 1,200.00 = 24.00 EUR; the compensation 40.00 EUR.
    assert fees_total(dunning, "C100") == {"fee": 2400, "interest": 1611,
                                           "compensation": 4000}
    [fee] = summary.fees
    assert fee["total"] == {"amount": "80.11", "currency": "EUR"}
    charged = Invoice.objects.get(number=fee["invoice"])
    assert charged.tax == 0 and charged.total == 8011
    assert {li.tax_category for li in charged.lines.all()} == {"O"}
    # the charges are fee income, not sales
    assert journal(charged.journal_entry_id) == [("receivable", 8011, 8011, debtor.pk),
                                                 ("revenue", -8011, -8011, None)]
    reclass = JournalEntry.objects.get(kind="fee_reclass", source_id=charged.pk)
    assert journal(reclass) == [("fee_income", -8011, -8011, None),
                                ("revenue", 8011, 8011, None)]
    assert summary.letters == 1 and summary.calls == 1
    # again the same day: nothing new, nothing charged twice
    again = run(dunning, owner, 40, capture=django_capture_on_commit_callbacks)
    assert again.messages_sent == 0 and again.fees == []
    assert Invoice.objects.filter(customer=debtor).count() == 2
    assert DunningNotice.objects.filter(customer=debtor).count() == 1
    assert inv.number in pdf_text(bytes(DunningNotice.objects.get().letter_pdf))


def test_a_consumer_owes_no_compensation_and_a_small_balance_waits(
        dunning, owner, make_customer, post_invoice, smtp_server,
        django_capture_on_commit_callbacks):
    make_customer("P1", name="Jean Martin", email="jean@martin.example")
    post_invoice("P1", lines=(("Conseil", 1, "1000.00", "0"),), issue_date=ISSUED)
    make_customer("P2", name="Small", email="small@example.com")
    post_invoice("P2", lines=(("Stamp", 1, "5.00", "0"),), issue_date=ISSUED)
    summary = run(dunning, owner, 40, capture=django_capture_on_commit_callbacks)
    assert fees_total(dunning, "P1")["compensation"] == 0
    assert fees_total(dunning, "P1")["interest"] == 1342  # 1000 * 12.25 % * 40 / 365 = 13.42
    assert {(s["customer"], s["reason"]) for s in summary.skipped} == {("P2", "below_minimum")}


def test_unapplied_cash_that_could_pay_an_item_is_a_warning_not_a_reminder(
        dunning, owner, debtor, post_invoice, record_receipt, smtp_server,
        django_capture_on_commit_callbacks):
    inv = post_invoice("C100", lines=(("Conseil", 1, "1000.00", "20"),), issue_date=ISSUED)
    record_receipt("C100", "1200.00", on(3))
    summary = run(dunning, owner, 5, capture=django_capture_on_commit_callbacks)
    assert summary.messages_sent == 0 and smtp_server.received == []
    assert summary.skipped == [{"customer": "C100", "item": inv.number,
                                "reason": "possibly_paid", "detail": summary.skipped[0][
                                    "detail"]}]


def test_a_preview_writes_nothing(dunning, owner, debtor, post_invoice, smtp_server):
    post_invoice("C100", lines=(("Conseil", 1, "1000.00", "20"),), issue_date=ISSUED)
    summary = run(dunning, owner, 40, send=False)
    assert summary.customers == 1 and summary.planned[0]["level"] == 4
    assert not DunningNotice.objects.exists() and smtp_server.received == []
    assert Decimal(summary.planned[0]["items"][0]["amount"]["amount"]) == Decimal("1200.00")


def test_the_final_level_holds_the_customer_and_its_charges_are_still_posted(
        dunning, owner, debtor, post_invoice, smtp_server,
        django_capture_on_commit_callbacks):
    post_invoice("C100", lines=(("Conseil", 1, "1000.00", "20"),), issue_date=ISSUED)
    post_invoice("C100", lines=(("Audit", 1, "100.00", "0"),),
                 issue_date=ISSUED + timedelta(days=25))
    summary = run(dunning, owner, 40, capture=django_capture_on_commit_callbacks)
    assert [h.source for h in on_hold(dunning, debtor.pk)] == ["dunning"]
    [fee] = summary.fees
    assert Invoice.objects.get(number=fee["invoice"]).purpose == "fee"
    # the second invoice reaches the second reminder 20 days late: its fee is charged
    # although the customer is held
    later = run(dunning, owner, 45, capture=django_capture_on_commit_callbacks)
    assert later.problems == []
    assert [f["total"] for f in later.fees] == [{"amount": "15.00", "currency": "EUR"}]
