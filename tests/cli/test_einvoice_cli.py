"""The e-invoice commands: ``invoice create`` with exemption reasons, units, charges and
allowances, refusal at posting as ``code: message``, and ``invoice einvoice``."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from salesledger.formats.einvoice import read_cii, read_ubl
from salesledger.formats.einvoice.facturx import xml_from_facturx
from tests.support import run

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(capsys):
    from salesledger.apps.core.models import Company

    assert run(capsys, "init", "--company", "acme", "--owner", "alice", "--name", "Acme")[0] == 0
    # The company profile has no command: the back office sets it.
    Company.objects.filter(code="acme").update(
        tax_id="FR40303265045", registration_id="303265045", address_line1="1 rue de la Paix",
        city="Paris", postal_code="75002", iban="FR7630006000011234567890189", bic="AGRIFRPP")
    assert run(capsys, "customer", "add", "--code", "C1", "--name", "Dupont", "--country", "FR",
               "--tax-id", "FR44732829320", "--address", "3 quai", "--city", "Lyon",
               "--postal-code", "69002")[0] == 0
    assert run(capsys, "customer", "add", "--code", "C2", "--name", "Nowhere")[0] == 0


def test_create_post_and_write_the_e_invoices(capsys, books, tmp_path):
    code, _, err = run(
        capsys, "invoice", "create", "--customer", "C1", "--date", "2025-03-10", "--post",
        "--line", "Consulting;2;100;20;10;;;HUR",
        "--line", "Training;1;500;0;;E;Exonération, article 261-4-4° du CGI",
        "--charge", "Freight;15;20;S;FC", "--allowance", "Loyalty;10;20",
        "--po", "PO-1")
    assert (code, err) == (0, "")
    # UBL to standard output, read back
    code, out, err = run(capsys, "invoice", "einvoice", "INV2025-00001", "--format", "ubl")
    assert (code, err) == (0, "")
    doc = read_ubl(out.encode())
    assert (doc.number, doc.order_reference, doc.totals.payable) == (
        "INV2025-00001", "PO-1", Decimal("722.00"))
    assert [(li.unit_code, li.vat_category) for li in doc.lines] == [("HUR", "S"), ("C62", "E")]
    assert doc.vat_breakdown[0].exemption_reason == "Exonération, article 261-4-4° du CGI"
    assert [(a.is_charge, a.amount, a.reason_code) for a in doc.allowances_charges] == [
        (True, Decimal("15.00"), "FC"), (False, Decimal("10.00"), "")]
    # CII to a file
    target = tmp_path / "inv.xml"
    code, _, err = run(capsys, "invoice", "einvoice", "INV2025-00001", "--format", "cii",
                       "--output", str(target))
    assert code == 0 and "written to" in err
    assert read_cii(target.read_bytes()) == doc
    # a PDF is never written to the terminal; to a file, it carries the same CII
    code, _, err = run(capsys, "invoice", "einvoice", "INV2025-00001", "--format", "facturx")
    assert (code, err) == (2, "invalid: a Factur-X PDF needs --output FILE (it is not text)\n")
    pdf = tmp_path / "inv.pdf"
    code, out, _ = run(capsys, "invoice", "einvoice", "INV2025-00001", "--format", "facturx",
                       "--output", str(pdf), "--json")
    assert code == 0 and json.loads(out)["name"] == "INV2025-00001.pdf"
    assert xml_from_facturx(pdf.read_bytes()) == target.read_bytes()


def test_posting_an_invalid_e_invoice_is_refused_with_the_rule(capsys, books):
    code, out, err = run(capsys, "invoice", "create", "--customer", "C2", "--date",
                         "2025-03-10", "--line", "Consulting;1;100;20", "--post")
    assert (code, out) == (2, "")
    assert err == ("einvoice_rule_broken: The customer has no billing address and no country "
                   "(EN 16931 rule BR-10): add a billing address with its country to the "
                   "customer before posting.\n")
    code, _, err = run(capsys, "invoice", "create", "--customer", "C1", "--date", "2025-03-10",
                       "--line", "Training;1;500;0;;E", "--post")
    assert code == 2 and err.startswith("einvoice_rule_broken: The exempt lines (VAT category "
                                        "E) give no reason why no VAT is charged (EN 16931 "
                                        "rule BR-E-10)")


def test_bad_charges_and_units_say_what_is_wrong(capsys, books):
    code, _, err = run(capsys, "invoice", "create", "--customer", "C1", "--line", "A;1;1;20",
                       "--charge", "Freight;15")
    assert (code, err) == (2, "invalid: --charge 'Freight;15': write "
                              "'reason;amount;tax %[;category[;code]]'\n")
    code, _, err = run(capsys, "invoice", "create", "--customer", "C1",
                       "--line", "A;1;1;20;;;;BOX")
    assert code == 2 and err.startswith("invalid: line 1: unknown unit 'BOX'")
    code, _, err = run(capsys, "invoice", "einvoice", "NOPE", "--format", "ubl")
    assert (code, err) == (2, "not_found: no invoice or credit note 'NOPE'\n")
