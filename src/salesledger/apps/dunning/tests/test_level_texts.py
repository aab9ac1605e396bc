"""A text per level and language, and notices that keep the policy they were sent under.

Level 2 of the fixture policy names its own reminder text with an English and a French
version: a French customer receives the French one (e-mail and letter), an English customer
the English one, a German customer (no German version) the company's language's (French: the
seller is in France); a level that names no text sends the company's reminder text. Each
notice records its policy and the levels it listed as they were, so editing the policy
afterwards changes neither the history nor the timeline."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from salesledger.apps.collections.selectors import customer_timeline
from salesledger.apps.documents.services import message_template_set
from salesledger.apps.dunning.models import DunningNotice
from salesledger.apps.dunning.plan_reminders import groups as plan_groups
from salesledger.apps.dunning.run import dunning_run, notice_letter
from salesledger.apps.dunning.selectors import history, level_texts, policy_show
from salesledger.apps.dunning.services import level_name_set, level_text_set, policy_edit
from salesledger.apps.dunning.tests.conftest import LEVELS
from salesledger.domain.dunning import Level
from salesledger.domain.errors import DocumentTemplateError, ValidationFailed

from .conftest import pdf_text

pytestmark = pytest.mark.django_db

DUE = date(2025, 3, 10)
ISSUED = date(2025, 2, 8)
FR_BODY = ("Bonjour {customer},\n\nMalgré notre premier rappel, ces pièces de votre compte "
           "{number} restent impayées au {as_of} :\n\n{items}\n\nTotal : {total}.\n\n"
           "Merci de régler sous huit jours.\n\n{company}")
EN_BODY = ("Dear {customer},\n\nDespite our first reminder, these items on your account "
           "{number} are still unpaid on {as_of}:\n\n{items}\n\nTotal: {total}.\n\n"
           "Please pay within eight days.\n\n{company}")


@pytest.fixture
def texts(dunning, owner):
    """Level 2 of STD sends its own text, in French and in English; level 3 becomes a
    letter level so that its letter can be read."""
    name = level_text_set(actor=owner, company=dunning, code="STD", number=2, language="fr",
                          subject="Deuxième relance : {total} à régler",
                          body=FR_BODY)
    level_text_set(actor=owner, company=dunning, code="STD", number=2, language="en",
                   subject="Second reminder: {total} to pay", body=EN_BODY)
    return name


def _customers(make_customer):
    make_customer("FR1", name="Dupont SA", email="fr@dupont.example", language="fr")
    make_customer("EN1", name="Smith Ltd", email="en@smith.example", language="en",
                  country="GB")
    make_customer("DE1", name="Müller GmbH", email="de@mueller.example", language="de",
                  country="DE")


def _received(smtp_server):
    return {r.rcpt_tos[0]: r.message for r in smtp_server.received}


def _subject(message) -> str:
    """The subject as one line of plain spaces (the subject's spaces are folded to plain
    ones when it is written, the amounts' no-break ones included)."""
    return " ".join(str(message["Subject"]).split())


def test_each_customer_gets_the_level_text_in_its_language_else_the_companys(
        dunning, owner, texts, make_customer, post_invoice, smtp_server,
        django_capture_on_commit_callbacks):
    assert texts == "STD-2"
    _customers(make_customer)
    numbers = {c: post_invoice(c, lines=(("Conseil", 1, "1000.00", "0"),),
                               issue_date=ISSUED).number for c in ("FR1", "EN1", "DE1")}
    with django_capture_on_commit_callbacks(execute=True):
        summary = dunning_run(actor=owner, company=dunning, as_of=DUE + timedelta(days=5),
                              send=True)
    assert summary.messages_sent == 3
    got = _received(smtp_server)
    fr = got["fr@dupont.example"]
    assert _subject(fr) == "Deuxième relance : 1 000,00 € à régler"
    body = fr.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert body.startswith("Bonjour Dupont SA,\n\nMalgré notre premier rappel")
    assert numbers["FR1"] in body and "15 mars 2025" in body
    en = got["en@smith.example"]
    assert _subject(en) == "Second reminder: €1,000.00 to pay"
    assert "Despite our first reminder" in en.get_body(("plain",)).get_content()
    # no German version: the company's language (the seller is in France), in French
    de = got["de@mueller.example"]
    assert _subject(de).startswith("Deuxième relance")
    assert "15 mars 2025" in de.get_body(("plain",)).get_content()


def test_the_letter_of_a_level_carries_its_text_in_the_customers_language(
        dunning, owner, make_customer, post_invoice, smtp_server,
        django_capture_on_commit_callbacks):
    level_text_set(actor=owner, company=dunning, code="STD", number=3, language="fr",
                   subject="Troisième relance", body=FR_BODY.replace("premier", "second"),
                   template="SECOND-LETTER")
    make_customer("FR1", name="Dupont SA", email="fr@dupont.example", language="fr")
    inv = post_invoice("FR1", lines=(("Conseil", 1, "1000.00", "0"),), issue_date=ISSUED)
    with django_capture_on_commit_callbacks(execute=True):
        dunning_run(actor=owner, company=dunning, as_of=DUE + timedelta(days=20), send=True)
    [got] = smtp_server.received
    [pdf] = list(got.message.iter_attachments())
    text = pdf_text(pdf.get_content())
    assert "Troisième relance" in text and "Malgré notre second rappel" in text
    assert inv.number in text and "Solde" in text  # the layout's labels in French too
    assert [lv["template"] for lv in policy_show(dunning, "STD")["levels"]] == [
        "", "", "SECOND-LETTER", ""]


def test_a_level_without_a_text_of_its_own_sends_the_companys_reminder_text(
        dunning, owner, make_customer, post_invoice, smtp_server,
        django_capture_on_commit_callbacks):
    message_template_set(actor=owner, company=dunning, kind="reminder", language="fr",
                         subject="Relance {level}", body="Voici : {items}")
    make_customer("FR1", name="Dupont SA", email="fr@dupont.example", language="fr")
    post_invoice("FR1", lines=(("Conseil", 1, "1000.00", "0"),), issue_date=ISSUED)
    with django_capture_on_commit_callbacks(execute=True):
        dunning_run(actor=owner, company=dunning, as_of=DUE + timedelta(days=5), send=True)
    [got] = smtp_server.received
    assert _subject(got.message) == "Relance First reminder"


def test_what_each_language_receives_is_shown_and_bad_names_are_refused(
        dunning, owner, texts):
    shown = level_texts(dunning, "STD", 2)
    by = {t["customer_language"]: t for t in shown["texts"]}
    assert shown["template"] == "STD-2"
    assert (by["fr"]["language"], by["en"]["language"], by["de"]["language"]) == (
        "fr", "en", "fr")
    assert by["es"]["source"] == "the company's reminder text STD-2 (fr)"
    assert level_texts(dunning, "STD", 1)["texts"][0]["source"] == "the default reminder e-mail"
    with pytest.raises(ValidationFailed):
        level_text_set(actor=owner, company=dunning, code="STD", number=2, language="fr",
                       subject="x", body="x", template="two words")
    with pytest.raises(DocumentTemplateError) as refused:  # the placeholders are checked
        level_text_set(actor=owner, company=dunning, code="STD", number=2, language="fr",
                       subject="{due_date}", body="x")
    assert refused.value.fields.get("placeholder") == "due_date"


def test_a_notice_keeps_its_policy_and_levels_after_the_policy_is_edited(
        dunning, owner, make_customer, post_invoice, smtp_server,
        django_capture_on_commit_callbacks):
    make_customer("FR1", name="Dupont SA", email="fr@dupont.example", language="fr")
    inv = post_invoice("FR1", lines=(("Conseil", 1, "1000.00", "0"),), issue_date=ISSUED)
    with django_capture_on_commit_callbacks(execute=True):
        dunning_run(actor=owner, company=dunning, as_of=DUE + timedelta(days=5), send=True)
    notice = DunningNotice.objects.get()
    assert notice.policy is not None and notice.policy.code == "STD"
    assert [(lv["number"], lv["name"], lv["days"]) for lv in notice.levels] == [
        (2, "First reminder", 5)]
    letter_before = notice_letter(dunning, notice)
    # the policy renamed and re-timed afterwards: level 2 was reminded at, so it keeps its
    # number, but its name, days and text change
    levels = [Level(n, lv.days, lv.name, lv.channels, lv.fee_fixed, lv.fee_percent,
                    lv.interest, lv.hold, lv.agency) for n, lv in enumerate(LEVELS, start=1)]
    levels[1] = Level(2, 7, "Rappel", ("email",), template="OTHER")
    policy_edit(actor=owner, company=dunning, code="STD", levels=levels)
    [row] = history(dunning, customer_code="FR1")
    assert (row["policy"], row["level"], row["level_name"]) == ("STD", 2, "First reminder")
    assert row["levels"][0]["days"] == 5 and row["levels"][0]["template"] == ""
    # the letter is written from what the notice recorded, not from the policy of today
    assert pdf_text(notice_letter(dunning, DunningNotice.objects.get())) == pdf_text(
        letter_before)
    entries = [e for e in customer_timeline(dunning, "FR1", as_of=date(2025, 12, 31))
               if e.kind == "reminder"]
    assert [(e.day, e.summary) for e in entries] == [
        (DUE + timedelta(days=5),
         "reminder at level 2 (First reminder) of policy STD: 1 item(s) by email")]
    assert entries[0].status in ("sent", "queued")
    on_invoice = customer_timeline(dunning, "FR1", as_of=date(2025, 12, 31),
                                   invoice=inv.number)
    assert [e.invoice for e in on_invoice if e.kind == "reminder"] == [inv.number]


def test_a_letter_for_the_post_is_made_once_and_is_on_the_timeline(
        dunning, owner, make_customer, post_invoice, smtp_server,
        django_capture_on_commit_callbacks):
    """A level by letter alone: the run keeps the letter; the same day again makes none (it
    used to render and count it again), and the timeline shows the notice as a letter."""
    policy_edit(actor=owner, company=dunning, code="STD", levels=[
        Level(1, -3, "Friendly reminder", ("email",)), Level(2, 5, "By post", ("letter",))])
    make_customer("FR1", name="Dupont SA", email="fr@dupont.example", language="fr")
    post_invoice("FR1", lines=(("Conseil", 1, "1000.00", "0"),), issue_date=ISSUED)
    day = DUE + timedelta(days=5)
    with django_capture_on_commit_callbacks(execute=True):
        first = dunning_run(actor=owner, company=dunning, as_of=day, send=True)
        again = dunning_run(actor=owner, company=dunning, as_of=day, send=True)
    assert (first.letters, first.messages_sent) == (1, 0)
    assert (again.letters, again.messages_sent, again.customers) == (0, 0, 0)
    assert smtp_server.received == []
    [entry] = [e for e in customer_timeline(dunning, "FR1", as_of=day) if e.kind == "reminder"]
    assert entry.status == "letter" and "by letter" in entry.summary


def test_a_levels_name_is_read_in_the_language_of_the_message(
        dunning, owner, make_customer, post_invoice, smtp_server,
        django_capture_on_commit_callbacks):
    """Level 3 is named "Deuxième relance" in French: the French customer's e-mail heads
    its items with it, and so does its letter and ``{level}``; the English customer's keeps
    the level's own name. A notice keeps the names it was sent with."""
    names = level_name_set(actor=owner, company=dunning, code="STD", number=3,
                           language="fr", name=" Deuxième relance ")
    assert names == {"fr": "Deuxième relance"}
    level_text_set(actor=owner, company=dunning, code="STD", number=3, language="",
                   subject="{level}: {total}", body="{items}")
    make_customer("FR1", name="Dupont SA", email="fr@dupont.example", language="fr")
    make_customer("EN1", name="Smith Ltd", email="en@smith.example", language="en",
                  country="GB")
    for code in ("FR1", "EN1"):
        post_invoice(code, lines=(("Conseil", 1, "1000.00", "0"),), issue_date=ISSUED)
    with django_capture_on_commit_callbacks(execute=True):
        dunning_run(actor=owner, company=dunning, as_of=DUE + timedelta(days=20), send=True)
    got = _received(smtp_server)
    fr, en = got["fr@dupont.example"], got["en@smith.example"]
    assert _subject(fr).startswith("Deuxième relance:")
    assert fr.get_body(("plain",)).get_content().startswith("Deuxième relance\r\n")
    assert _subject(en).startswith("Second reminder:")
    assert en.get_body(("plain",)).get_content().startswith("Second reminder\r\n")
    [pdf] = list(fr.iter_attachments())
    assert "Deuxième relance" in pdf_text(pdf.get_content())
    notice = DunningNotice.objects.get(customer__code="FR1")
    assert notice.levels[0]["names"] == {"fr": "Deuxième relance"}
    # shown per language; refused for a language the documents do not speak
    shown = {t["customer_language"]: t["name"] for t in
             level_texts(dunning, "STD", 3)["texts"]}
    assert shown["fr"] == "Deuxième relance" and shown["en"] == "Second reminder"
    with pytest.raises(ValidationFailed):
        level_name_set(actor=owner, company=dunning, code="STD", number=3, language="xx",
                       name="?")


def test_plan_instalment_headings_are_in_the_language_of_the_message() -> None:
    """The headings of a payment plan's instalments in a message follow its language, like
    the levels' names (English when none is given)."""
    notice = DunningNotice(summary={"plan_instalments": [
        {"stage": "missed", "plan": 1, "number": 2, "due_date": "2025-04-01",
         "currency": "EUR", "amount": 10000}]})
    assert [g.name for g in plan_groups(notice, "fr")] == ["Échéancier : échéance manquée"]
    assert [g.name for g in plan_groups(notice, "de")] == ["Ratenplan: Rate versäumt"]
    assert [g.name for g in plan_groups(notice)] == ["Payment plan: instalment missed"]
