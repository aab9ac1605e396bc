"""``company set --peppol``: a company that sends through Peppol has its postings checked
against the Peppol BIS Billing 3.0 rules, refused as ``code: message`` by hand and by import."""

from __future__ import annotations

import json

import pytest

from tests.support import run

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(capsys):
    assert run(capsys, "init", "--company", "acme", "--owner", "alice", "--name", "Acme")[0] == 0
    assert run(capsys, "company", "set", "--tax-id", "FR40303265045", "--address-line1",
               "1 rue de la Paix", "--city", "Paris", "--postal-code", "75002")[0] == 0
    assert run(capsys, "customer", "add", "--code", "C1", "--name", "Dupont", "--country", "FR",
               "--tax-id", "FR44732829320", "--address", "3 quai", "--city", "Lyon",
               "--postal-code", "69002")[0] == 0


def test_a_peppol_sender_is_refused_a_document_without_reference(capsys, books, tmp_path):
    from salesledger.apps.core.models import Company

    assert run(capsys, "company", "set", "--peppol", "yes") == (
        0, "company acme updated: sends_peppol\n", "")
    assert Company.objects.get(code="acme").sends_peppol
    assert "peppol                    yes" in run(capsys, "company", "show")[1]
    code, out, by_hand = run(capsys, "invoice", "create", "--customer", "C1", "--date",
                             "2025-03-10", "--line", "Work;1;100;20", "--post")
    assert (code, out) == (2, "")
    assert by_hand == (
        "einvoice_rule_broken: The document has neither a buyer reference nor a purchase order "
        "number (Peppol rule PEPPOL-EN16931-R003): give one of them (--buyer-reference or "
        "--po), as the customer asked for.\n")
    path = tmp_path / "new.csv"
    path.write_text("customer,issue_date,description,quantity,unit_price,tax_rate\n"
                    "C1,2025-03-10,Work,1,100,20\n", encoding="utf-8")
    code, _, err = run(capsys, "import", "invoices", str(path), "--json")
    assert code == 2
    assert json.loads(err)["problems"][0]["reason"] == by_hand.removeprefix(
        "einvoice_rule_broken: ").strip()
    # with a purchase order number it is posted, and its UBL has no Peppol warning
    assert run(capsys, "invoice", "create", "--customer", "C1", "--date", "2025-03-10",
               "--line", "Work;1;100;20", "--po", "PO-1", "--post")[0] == 0
    code, _, err = run(capsys, "invoice", "einvoice", "INV2025-00001", "--format", "ubl")
    assert (code, err) == (0, "")
    # a company that stops sending through Peppol posts what Peppol would refuse
    assert run(capsys, "company", "set", "--peppol", "no")[0] == 0
    assert run(capsys, "invoice", "create", "--customer", "C1", "--date", "2025-03-10",
               "--line", "Work;1;100;20", "--post")[0] == 0


def test_the_peppol_option_is_yes_or_no(capsys, books):
    assert run(capsys, "company", "set", "--peppol", "maybe") == (
        2, "", "invalid: sends peppol is yes or no, not 'maybe'\n")
