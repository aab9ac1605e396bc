"""The document commands, run in-process: the company profile, an invoice's PDF, sending it
to a real SMTP server, a statement, a layout; bad input as ``code: message``, exit 2."""

from __future__ import annotations

import hashlib
import json

import pytest

from salesledger.apps.customers.models import Communication
from salesledger.apps.documents.tests.conftest import pdf_text, png
from salesledger.apps.invoicing.models import DocumentFile
from tests.support import run

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(capsys, tmp_path):
    """A company with its profile, a French customer and a posted invoice, all by command."""
    assert run(capsys, "init", "--company", "acme", "--owner", "alice", "--name", "Acme")[0] == 0
    logo = tmp_path / "logo.png"
    logo.write_bytes(png())
    code, out, err = run(
        capsys, "company", "set", "--iban", "FR7630006000011234567890189", "--bic", "AGRIFRPP",
        "--address-line1", "12 rue de la Paix", "--city", "Paris", "--postal-code", "75002",
        "--email", "billing@acme.example", "--brand-color", "#336699", "--logo", str(logo),
        "--footer", "Acme SAS au capital de 10 000 EUR", "--legal-mentions",
        "Pénalités de retard : trois fois le taux légal.", "--tax-id", "FR40303265045")
    assert code == 0, err
    assert out.startswith("company acme updated: address_line1, bic, brand_color, city")
    code, _, err = run(capsys, "customer", "add", "--code", "C1", "--name", "Dupont",
                       "--country", "FR", "--language", "fr", "--email",
                       "compta@dupont.example")
    assert code == 0, err
    code, _, err = run(capsys, "invoice", "create", "--customer", "C1", "--date", "2025-03-10",
                       "--line", "Conseil;3;411.52;20", "--post", "--as-of", "2025-03-10")
    assert code == 0, err


def test_company_show_and_bad_values(capsys, books):
    code, out, _ = run(capsys, "company", "show", "--json")
    profile = json.loads(out)
    assert (profile["iban"], profile["bic"], profile["brand_color"]) == (
        "FR7630006000011234567890189", "AGRIFRPP", "#336699")
    assert profile["logo"] == f"image/png, {len(png())} bytes"
    code, _, err = run(capsys, "company", "set", "--iban", "FR7630006000011234567890180")
    assert code == 2 and err.startswith("invalid_bank_account: IBAN")
    code, _, err = run(capsys, "company", "set", "--brand-color", "blue")
    assert code == 2 and err.startswith("invalid: brand colour 'blue' must be written #rrggbb")
    code, _, err = run(capsys, "company", "set")
    assert code == 2 and "nothing to change" in err


def test_invoice_pdf_writes_the_frozen_file(capsys, books, tmp_path):
    target = tmp_path / "out.pdf"
    code, out, err = run(capsys, "invoice", "pdf", "INV2025-00001", "--output", str(target))
    assert code == 0, err
    data = target.read_bytes()
    stored = DocumentFile.objects.get(kind="pdf")
    assert hashlib.sha256(data).hexdigest() == stored.sha256 and stored.sha256 in out
    text = pdf_text(data)
    assert "Facture" in text and "1 481,47 €" in text and "RF81 INV2 0250 0001" in text
    assert "Acme SAS au capital de 10 000 EUR" in text
    code, _, err = run(capsys, "invoice", "pdf", "INV2025-00099", "--output", str(target))
    assert code == 2 and err.startswith("not_found:")


def test_invoice_send_reaches_the_smtp_server(capsys, books, smtp_server,
                                              django_capture_on_commit_callbacks):
    # (the test runs in a transaction: the message leaves when its callbacks run, as it
    # would on commit; outside tests the command sends before it prints)
    with django_capture_on_commit_callbacks(execute=True):
        code, out, err = run(capsys, "invoice", "send", "INV2025-00001", "--as-of",
                             "2025-03-11")
    assert code == 0, err
    [got] = smtp_server.received
    assert got.rcpt_tos == ["compta@dupont.example"]
    assert got.message["Subject"] == "Facture INV2025-00001 de Acme"
    comm = Communication.objects.get()
    assert f"message id {comm.message_id}" in out and comm.status == "sent"
    assert out.startswith("INV2025-00001 e-mailed to compta@dupont.example: queued")
    code, out, err = run(capsys, "invoice", "send", "INV2025-00001", "--to",
                         "bounce@dupont.example", "--json")
    assert code == 0, err  # inside the test's transaction the send is only queued
    code, _, err = run(capsys, "invoice", "send", "INV2025-00001", "--attach", "pdf,doc")
    assert code == 2 and err.startswith("invalid: cannot attach 'doc'")


def test_customer_statement_writes_a_pdf(capsys, books, tmp_path):
    target = tmp_path / "statement.pdf"
    code, out, err = run(capsys, "customer", "statement", "C1", "--as-of", "2025-06-30",
                         "--output", str(target))
    assert code == 0, err
    text = pdf_text(target.read_bytes())
    assert "Relevé de compte" in text and "Solde 1 481,47 €" in text
    assert "61 à 90 jours 1 481,47 €" not in text  # due 9 April: 82 days late on 30 June
    assert "INV2025-00001" in text and "82" in text


def test_templates_are_previewed_set_listed_and_reset(capsys, books, tmp_path):
    layout = tmp_path / "invoice.html"
    layout.write_text('{% extends "documents/invoice.html" %}{% block head %}'
                      "<style>h1 { color: black; }</style>{% endblock %}", encoding="utf-8")
    sample = tmp_path / "sample.pdf"
    code, out, err = run(capsys, "template", "preview", "invoice", "--language", "fr",
                         "--file", str(layout), "--output", str(sample))
    assert code == 0, err
    assert "SAMPLE-2099-00042" in pdf_text(sample.read_bytes())
    assert run(capsys, "template", "set", "invoice", "--file", str(layout))[0] == 0
    code, out, _ = run(capsys, "template", "list", "--json")
    assert [(r["type"], r["kind"], r["language"]) for r in json.loads(out)] == [
        ("document", "invoice", "*")]
    broken = tmp_path / "broken.html"
    broken.write_text("{% block %}", encoding="utf-8")
    code, _, err = run(capsys, "template", "set", "invoice", "--file", str(broken))
    assert code == 2 and err.startswith("document_template_error: the invoice template does "
                                        "not compile")
    code, out, _ = run(capsys, "template", "reset", "invoice")
    assert code == 0 and "back to the default" in out
    code, out, _ = run(capsys, "template", "show", "invoice", "--message", "--language", "de")
    assert out.startswith("Subject: Rechnung {number} von {company}")
