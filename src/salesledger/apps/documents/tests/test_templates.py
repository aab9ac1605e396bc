"""A company's own layouts and e-mail texts: checked before they are saved, rendered in a
sandbox, the most specific one used."""

from __future__ import annotations

import pytest
from tests.support import events, last_seq

from salesledger.apps.core.services import membership_set, user_ensure
from salesledger.apps.documents.models import DocumentTemplate, MessageTemplate
from salesledger.apps.documents.rendering import compile_template, render_html
from salesledger.apps.documents.services import (
    document_template_reset,
    document_template_set,
    message_template_set,
    render_invoice_pdf,
)
from salesledger.domain.errors import DocumentTemplateError, PermissionDenied, ValidationFailed

from .conftest import pdf_text

LINES = (("Conseil", "3", "411.52", "20"),)
OWN = """{% extends "documents/base.html" %}
{% block content %}{% include "documents/_lines.html" %}
<p>MARKER {{ t.payment_reference }}: {{ payment_reference }}</p>{% endblock %}"""


@pytest.fixture
def french(make_customer):
    return make_customer("C001", name="Dupont", language="fr")


def test_a_company_layout_replaces_the_default_and_is_audited(seller, owner, french,
                                                              post_invoice):
    inv = post_invoice(lines=LINES)
    seq = last_seq(seller)
    # when the company sets its own invoice layout for every language
    row = document_template_set(actor=owner, company=seller, kind="invoice", language="",
                                html=OWN.replace("MARKER", "Every language"))
    # then it is stored, audited (by hash), and used
    assert (row.kind, row.language) == ("invoice", "")
    [event] = events(seller, seq)
    assert event.action == "document_template.set" and event.data["after"]["chars"] > 0
    text = pdf_text(render_invoice_pdf(seller, inv))
    assert "Every language Référence de paiement: RF81 INV2 0250 0001" in text
    # when it sets a French one too, that one wins for French customers
    document_template_set(actor=owner, company=seller, kind="invoice", language="fr",
                          html=OWN.replace("MARKER", "En français"))
    assert "En français" in pdf_text(render_invoice_pdf(seller, inv))
    # and after a reset of the French one, the every-language one is back
    assert document_template_reset(actor=owner, company=seller, kind="invoice", language="fr")
    assert "Every language" in pdf_text(render_invoice_pdf(seller, inv))
    assert not document_template_reset(actor=owner, company=seller, kind="invoice",
                                       language="fr")


@pytest.mark.parametrize(("html", "says"), [
    ("{% if %}", "does not compile"),
    ('{% extends "documents/nothing.html" %}', "there is no template documents/nothing.html"),
    ("{% load static %}{{ number }} {{ total }} {{ payment_reference }}", "load"),
    ("{% debug %}{{ number }} {{ total }} {{ payment_reference }}", "debug"),
    ("{% now 'Y' %}{{ number }} {{ total }} {{ payment_reference }}", "now"),
    ("{{ number.__class__ }}", "does not compile"),
    ('{% include "documents/missing.html" %}{{ number }} {{ total }}', "cannot be rendered"),
    ("<p>{{ number }}</p>\n<p>{% include x %}</p>", "line 2"),
    ("<p>{{ number }}</p>", "does not show the total"),
    ("<p>{{ number }} {{ total }}</p>", "does not show the payment reference"),
])
def test_a_broken_layout_is_refused_and_nothing_is_saved(seller, owner, html, says):
    with pytest.raises(DocumentTemplateError) as refused:
        document_template_set(actor=owner, company=seller, kind="invoice", language="en",
                              html=html)
    assert says in refused.value.message
    assert not DocumentTemplate.objects.filter(company=seller).exists()


def test_a_syntax_error_says_which_line(seller, owner):
    with pytest.raises(DocumentTemplateError, match=r"line 3"):
        document_template_set(actor=owner, company=seller, kind="statement", language="",
                              html="<p>{{ balance }}</p>\n<p>\n{% for x in %}</p>")


def test_customer_data_is_escaped_and_nothing_is_fetched(seller, owner, make_customer,
                                                         post_invoice, caplog):
    # a customer name that looks like markup, and a layout that tries to read a local file
    make_customer("C001", name='<img src="file:///etc/hostname">Evil & Co')
    inv = post_invoice(lines=LINES)
    document_template_set(
        actor=owner, company=seller, kind="invoice", language="",
        html=OWN.replace("MARKER", '<img src="file:///etc/hostname"><img src="http://127.0.0.1:9/x.png">'))
    pdf = render_invoice_pdf(seller, inv)
    text = pdf_text(pdf)
    # the name prints as typed; the images are not loaded (only data: URLs may be)
    assert '<img src="file:///etc/hostname">Evil & Co' in text
    from io import BytesIO

    from pypdf import PdfReader

    assert len(PdfReader(BytesIO(pdf)).pages[0].images) == 1  # the company logo only


def test_the_sandbox_has_no_debug_and_no_library_loading():
    for source in ("{% debug %}", "{% load i18n %}", "{% now 'Y' %}", "{% url 'x' %}"):
        with pytest.raises(DocumentTemplateError):
            compile_template(source)
    # the default filters are there
    assert render_html(compile_template("{{ x|upper }}"), {"x": "<a>"}) == "&lt;A&gt;"


def test_only_a_manager_changes_layouts(seller, company, owner, django_user_model):
    clerk = user_ensure(username="clerk")
    membership_set(actor=owner, company=company, username="clerk", role="clerk")
    with pytest.raises(PermissionDenied):
        document_template_set(actor=clerk, company=seller, kind="invoice", language="",
                              html=OWN)


def test_unknown_kind_or_language_is_refused(seller, owner):
    with pytest.raises(ValidationFailed, match="unknown document kind"):
        document_template_set(actor=owner, company=seller, kind="letter", language="", html=OWN)
    with pytest.raises(ValidationFailed, match="unsupported language"):
        document_template_set(actor=owner, company=seller, kind="invoice", language="it",
                              html=OWN)


def test_email_texts_are_checked_before_they_are_saved(seller, owner):
    seq = last_seq(seller)
    row = message_template_set(actor=owner, company=seller, kind="invoice", language="fr",
                               subject="Votre facture {number}",
                               body="Montant : {total}, référence {payment_reference}.")
    assert (row.subject, row.language) == ("Votre facture {number}", "fr")
    [event] = events(seller, seq)
    assert event.action == "message_template.set"
    assert event.data["after"]["subject"] == "Votre facture {number}"
    for subject, body, says in (("Facture {numero}", "x", "{numero}"),
                                ("Facture {number}", "{total.__class__}", "placeholder"),
                                ("Facture\n{number}", "x", "one line"),
                                ("Facture {number}", "{valid_until}", "{valid_until}")):
        with pytest.raises((DocumentTemplateError, ValidationFailed), match=says.replace(
                "{", r"\{").replace("}", r"\}")):
            message_template_set(actor=owner, company=seller, kind="invoice", language="en",
                                 subject=subject, body=body)
    assert MessageTemplate.objects.filter(company=seller).count() == 1
