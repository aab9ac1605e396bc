"""The quote → invoice flow and recurring invoices from the command line, in-process."""

from __future__ import annotations

import pytest

from tests.support import run, run_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(capsys):
    """A company with its VAT number and a customer with a billing address (what a valid
    EN 16931 invoice needs at posting), as the command line builds them."""
    from salesledger.apps.core.models import Company

    assert run(capsys, "init", "--company", "acme", "--owner", "alice", "--name", "Acme")[0] == 0
    # The company profile (seller VAT number and address) has no command here: set it directly.
    Company.objects.filter(code="acme").update(
        tax_id="FR44732829320", address_line1="5 avenue Foch", postal_code="69006", city="Lyon")
    assert run(capsys, "customer", "add", "--code", "C1", "--name", "Dupont", "--country", "FR",
               "--address", "1 rue de la Paix", "--city", "Paris", "--postal-code", "75002",
               "--email", "compta@dupont.example", "--po-required")[0] == 0


def test_quote_to_posted_invoice(capsys, books):
    q = run_json(capsys, "quote", "create", "--customer", "C1", "--line", "Design;2;500;20",
                 "--valid-until", "2025-04-30", "--po", "PO-42", "--terms", "NET14",
                 "--as-of", "2025-03-10")
    assert (q["quote"], q["state"], q["total"]["amount"]) == ("QUO2025-00001", "draft",
                                                              "1200.00")
    code, out, _ = run(capsys, "quote", "send", "QUO2025-00001", "--as-of", "2025-03-11")
    assert code == 0
    assert out.startswith("quote QUO2025-00001 marked sent; ")
    assert "e-mailed" in out  # through the documents app

    # a revision with a better price supersedes the sent quote
    code, out, _ = run(capsys, "quote", "revise", "QUO2025-00001", "--line", "Design;2;450;20",
                       "--as-of", "2025-03-20")
    assert code == 0 and "quote QUO2025-00001 revised: QUO2025-00001-R2 replaces it" in out
    run(capsys, "quote", "send", "QUO2025-00001", "--no-email", "--as-of", "2025-03-20")
    outstanding = run_json(capsys, "quote", "list", "--outstanding", "--as-of", "2025-03-25")
    assert [(r["quote"], r["age_days"]) for r in outstanding["quotes"]] == [
        ("QUO2025-00001-R2", 5)]

    assert run(capsys, "quote", "accept", "QUO2025-00001", "--as-of", "2025-03-26")[0] == 0
    inv = run_json(capsys, "quote", "convert", "QUO2025-00001", "--post",
                   "--as-of", "2025-03-27")
    assert (inv["number"], inv["status"], inv["po_number"]) == ("INV2025-00001", "posted",
                                                                "PO-42")
    assert (inv["total"]["amount"], inv["due_date"]) == ("1080.00", "2025-04-10")
    shown = run_json(capsys, "quote", "show", "QUO2025-00001", "--as-of", "2025-03-27")
    assert (shown["state"], shown["invoice"]) == ("accepted", "INV2025-00001")

    # converting twice is a business error: code and message, exit status 2
    code, out, err = run(capsys, "quote", "convert", "QUO2025-00001", "--post")
    assert (code, out) == (2, "")
    assert err.startswith("quote_already_converted: ")
    code, _, err = run(capsys, "quote", "accept", "QUO2025-00001-R1")
    assert code == 2 and err.startswith("quote_superseded: cannot accept a superseded quote")
    assert run(capsys, "check")[:2] == (0, "acme: ok\n")


def test_an_expired_quote_cannot_be_accepted(capsys, books):
    run(capsys, "quote", "create", "--customer", "C1", "--line", "X;1;10", "--as-of",
        "2025-03-01", "--valid-until", "2025-03-31")
    run(capsys, "quote", "send", "QUO2025-00001", "--no-email", "--as-of", "2025-03-01")
    rows = run_json(capsys, "quote", "list", "--outstanding", "--expired", "--as-of",
                    "2025-04-01")
    assert [r["state"] for r in rows["quotes"]] == ["expired"]
    code, _, err = run(capsys, "quote", "accept", "QUO2025-00001", "--as-of", "2025-04-01")
    assert code == 2 and err.startswith("quote_expired: the quote was valid until 2025-03-31")


def test_recurring_add_list_run(capsys, books):
    code, out, _ = run(capsys, "recurring", "add", "--customer", "C1", "--line",
                       "Hosting;1;30;20", "--every", "1 month", "--start", "2025-01-31",
                       "--count", "12", "--po", "PO-7")
    schedule_id = out.split()[2]
    assert (code, out) == (0, f"recurring schedule {schedule_id} added for C1, every 1 month, "
                              "from 2025-01-31\n")
    code, _, err = run(capsys, "recurring", "add", "--customer", "C1", "--line", "X;1;1",
                       "--every", "1 fortnight", "--start", "2025-01-01")
    assert code == 2 and err.startswith("invalid: --every '1 fortnight'")

    summary = run_json(capsys, "recurring", "run", "--as-of", "2025-03-31")
    assert [(i["period"], i["period_start"], i["invoice"]) for i in summary["issued"]] == [
        (1, "2025-01-31", "INV2025-00001"), (2, "2025-02-28", "INV2025-00002"),
        (3, "2025-03-31", "INV2025-00003")]
    again = run_json(capsys, "recurring", "run", "--as-of", "2025-03-31")
    assert again["issued"] == []
    [row] = run_json(capsys, "recurring", "list", "--as-of", "2025-03-31")
    assert (row["issued"], row["next"], row["periods"], row["state"]) == (
        3, "2025-04-30", 12, "active")
    code, out, _ = run(capsys, "recurring", "show", schedule_id)
    assert code == 0 and "INV2025-00003" in out
    assert run(capsys, "check")[:2] == (0, "acme: ok\n")


def test_recurring_run_reports_problems_with_exit_2(capsys, books):
    added = run_json(capsys, "recurring", "add", "--customer", "C1", "--line", "X;1;10",
                     "--every", "monthly", "--start", "2025-01-01")  # C1 requires a PO
    code, out, _ = run(capsys, "recurring", "run", "--as-of", "2025-02-01")
    assert code == 2
    assert (f"schedule {added['id']} period 1 (2025-01-01): purchase_order_required: customer "
            "C1 requires a purchase order number on every invoice") in out


def test_quote_allowances_and_charges_as_the_invoices_options(capsys, books):
    q = run_json(capsys, "quote", "create", "--customer", "C1", "--line", "Design;2;500;20",
                 "--po", "PO-42", "--allowance", "Loyalty;5%;20",
                 "--charge", "Freight;25.00;20;S;FC", "--as-of", "2025-03-10")
    # 1,000.00 less 5 % (50.00) plus 25.00 of freight: 975.00 net, 195.00 tax
    assert (q["net"]["amount"], q["total"]["amount"]) == ("975.00", "1170.00")
    assert [(c["kind"], c["reason"], c["reason_code"], c["amount"]["amount"], c["percent"])
            for c in q["charges"]] == [("charge", "Freight", "FC", "25.00", None),
                                       ("allowance", "Loyalty", "", "50.00", "5")]
    code, out, _ = run(capsys, "quote", "show", "QUO2025-00001", "--as-of", "2025-03-10")
    assert code == 0 and "Freight" in out and "-50.00" in out
    # a revision keeps them unless told: --no-charges removes them, and cannot be mixed
    kept = run_json(capsys, "quote", "revise", "QUO2025-00001", "--notes", "Spring",
                    "--as-of", "2025-03-10")
    assert kept["total"]["amount"] == "1170.00" and len(kept["charges"]) == 2
    code, _, err = run(capsys, "quote", "revise", "QUO2025-00001", "--no-charges",
                       "--charge", "Freight;25.00;20")
    assert code == 2 and "--no-charges" in err
    code, _, err = run(capsys, "quote", "revise", "QUO2025-00001", "--charge", "Freight;lots;20")
    assert code == 2 and "--charge amount" in err and "Traceback" not in err
    # converted: the invoice totals what the quote did, with the same allowances and charges
    run(capsys, "quote", "send", "QUO2025-00001", "--no-email", "--as-of", "2025-03-11")
    run(capsys, "quote", "accept", "QUO2025-00001", "--as-of", "2025-03-11")
    inv = run_json(capsys, "quote", "convert", "QUO2025-00001", "--post",
                   "--as-of", "2025-03-12")
    assert (inv["net"], inv["tax"], inv["total"]) == (kept["net"], kept["tax"], kept["total"])
    assert inv["charges"] == kept["charges"]
    removed = run_json(capsys, "quote", "create", "--customer", "C1", "--line",
                       "Design;2;500;20", "--charge", "Freight;25.00;20", "--as-of",
                       "2025-03-10")
    removed = run_json(capsys, "quote", "revise", removed["quote"], "--no-charges",
                       "--as-of", "2025-03-10")
    assert removed["charges"] == [] and removed["total"]["amount"] == "1200.00"
