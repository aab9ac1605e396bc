"""The words of documents and e-mails: every language has every label and every default
e-mail, with the same placeholders."""

from __future__ import annotations

from string import Formatter

import pytest

from salesledger.apps.documents.labels import LABELS, normalise_language, pick_language
from salesledger.apps.documents.messages import DEFAULTS, PLACEHOLDERS, check_text, fill
from salesledger.domain.errors import DocumentTemplateError


def fields(text: str) -> set[str]:
    return {f for _, f, _, _ in Formatter().parse(text) if f}


def test_every_language_has_every_label_with_the_same_placeholders():
    english = LABELS["en"]
    assert set(LABELS) == {"en", "fr", "de", "es", "pt"}
    for language, table in LABELS.items():
        assert set(table) == set(english), language
        for key, text in table.items():
            assert text.strip(), (language, key)
            assert fields(text) == fields(english[key]), (language, key)


def test_every_kind_has_a_default_email_in_every_language_using_known_placeholders():
    for kind, texts in DEFAULTS.items():
        assert set(texts) == set(LABELS), kind
        for subject, body in texts.values():
            check_text(kind, subject, what="subject")
            check_text(kind, body, what="body")
            # a statement and a reminder are about the account, not one numbered document
            assert "{number}" in subject or kind in ("statement", "reminder")


def test_languages_are_normalised_and_fall_back_to_english():
    assert normalise_language(" FR-be ") == "fr" and normalise_language("pt_BR") == "pt"
    assert normalise_language("it") == "" and normalise_language(None) == ""
    assert pick_language(["it", "", "de"]) == "de" and pick_language(["xx"]) == "en"


@pytest.mark.parametrize("text", ["{number.__class__}", "{number!r}", "{total:>20}",
                                  "{secret}", "{0}", "unclosed {number"])
def test_only_plain_known_placeholders_are_accepted(text):
    with pytest.raises(DocumentTemplateError):
        check_text("invoice", text, what="body")


def test_fill_places_values_and_nothing_else():
    assert fill("invoice", "{{literal}} {number} for {total}",
                {"number": "INV-1", "total": "1,00 €", "other": "x"}, what="body") == (
        "{literal} INV-1 for 1,00 €")
    assert set(PLACEHOLDERS["invoice"]) >= {"number", "total", "due_date", "payment_reference",
                                            "company"}
