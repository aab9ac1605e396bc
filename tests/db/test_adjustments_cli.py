"""The adjustment commands, run in-process on books built by the services: short payments,
discounts, refunds, returned payments, write-offs, recovery, history, and errors as
``code: message`` with exit status 2."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from conftest import DAY

from salesledger.apps.core.invariants import check_company
from salesledger.cli.main import main

D = [(DAY + timedelta(days=n)).isoformat() for n in range(40)]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--company", "acme"])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv: str):
    code, out, err = run(capsys, *argv, "--json")
    assert (code, err) == (0, ""), err
    return json.loads(out)


@pytest.fixture
def books(company, make_customer, post_invoice):
    make_customer("C001", terms_code="2-10-NET30")
    return post_invoice(), post_invoice(issue_date=DAY + timedelta(days=1))


def test_settings_short_payment_and_discount(capsys, company, books, record_receipt,
                                             post_invoice):
    first, second = books
    assert run_json(capsys, "adjustment", "settings", "--write-off-amount", "1.00",
                    "--write-off-percent", "1") == {
        "writeoff_tolerance_amount": {"amount": "1.00", "currency": "EUR"},
        "writeoff_tolerance_percent": "1", "discount_tax_policy": "gross",
        "vat_on_debits": False}
    # a payment in time of the amount less its discount takes the discount
    r1 = record_receipt(amount="117.60", day=DAY + timedelta(days=4))
    rows = run_json(capsys, "receipt", "allocate", r1.number, "--invoice",
                    f"{first.number}=117.60", "--as-of", D[4])
    assert [r["amount"]["amount"] for r in rows] == ["117.60"]
    history = run_json(capsys, "invoice", "history", first.number)
    assert [(e["event"], e["amount"]["amount"], e["open"]["amount"]) for e in history] == [
        ("posted", "120.00", "120.00"), ("payment", "117.60", "2.40"),
        ("discount", "2.40", "0.00")]
    # a late payment 0.75 short: written off within the tolerance
    r2 = record_receipt(amount="119.25", day=DAY + timedelta(days=30))
    out = run_json(capsys, "receipt", "allocate", r2.number, "--invoice",
                   f"{second.number}=119.25", "--write-off-residual", "--as-of", D[30])
    assert (out["adjustment"]["kind"], out["adjustment"]["amount"]["amount"]) == ("write_off",
                                                                               "0.75")
    # the text form of the history names every event
    code, text, _ = run(capsys, "invoice", "history", second.number)
    assert code == 0
    assert [line.split()[1] for line in text.splitlines()[1:]] == ["posted", "payment",
                                                                   "write_off"]
    # beyond the tolerance: refused, with the rule's code, and nothing is allocated
    third = post_invoice(issue_date=DAY + timedelta(days=2))
    r3 = record_receipt(amount="118.00", day=DAY + timedelta(days=31))
    code, out, err = run(capsys, "receipt", "allocate", r3.number, "--invoice",
                         f"{third.number}=118.00", "--write-off-residual", "--as-of", D[31])
    assert (code, out, err.split(":")[0]) == (2, "", "write_off_exceeds_tolerance")
    assert run_json(capsys, "invoice", "show", third.number)["open"]["amount"] == "120.00"
    assert check_company(company) == []


def test_deduction_refund_reverse_and_write_off(capsys, company, books, record_receipt):
    first, second = books
    r1 = record_receipt(amount="150.00", day=DAY + timedelta(days=20))
    out = run_json(capsys, "receipt", "allocate", r1.number, "--invoice",
                   f"{first.number}=110.00", "--deduction", "promotional_allowance",
                   "--dispute", "--memo", "spring promotion", "--as-of", D[20])
    adj = out["adjustment"]
    assert (adj["kind"], adj["reason_code"], adj["amount"]["amount"],
            adj["dispute_requested"]) == ("deduction", "promotional_allowance", "10.00", True)
    assert [a["id"] for a in run_json(capsys, "adjustment", "list", "--disputed")] == [
        adj["adjustment"]]
    # 40.00 left on account: 25.00 refunded
    refund = run_json(capsys, "receipt", "refund", r1.number, "--amount", "25",
                      "--reference", "SEPA-9", "--as-of", D[21])
    assert (refund["refund"], refund["amount"]["amount"]) == ("RFD2025-00001", "25.00")
    code, _, err = run(capsys, "receipt", "refund", r1.number, "--amount", "15.01",
                       "--as-of", D[21])
    assert (code, err.split(":")[0]) == (2, "refund_exceeds_unapplied")
    # the payment bounces: everything it did is undone, except the refund, which must go first
    code, _, err = run(capsys, "receipt", "reverse", r1.number, "--reason", "R01",
                       "--as-of", D[22])
    assert (code, err.split(":")[0]) == (2, "invalid")
    assert run(capsys, "refund", "reverse", "RFD2025-00001", "--as-of", D[22])[0] == 0
    rev = run_json(capsys, "receipt", "reverse", r1.number, "--reason", "R01 account closed",
                   "--fee", "7.50", "--as-of", D[22])
    assert (rev["amount"]["amount"], rev["fee"]["amount"]) == ("150.00", "7.50")
    # the first invoice is open again, and is written off as a bad debt
    wo = run_json(capsys, "invoice", "write-off", first.number, "--reason", "insolvent",
                  "--as-of", D[25])
    assert (wo["kind"], wo["amount"]["amount"]) == ("bad_debt", "120.00")
    shown = run_json(capsys, "invoice", "show", first.number)
    assert (shown["settlement"], shown["written_off"]["amount"]) == ("written_off", "120.00")
    # a payment on it later recovers part of it
    r2 = record_receipt(amount="20.00", day=DAY + timedelta(days=26))
    rec = run_json(capsys, "invoice", "recover", first.number, "--receipt", r2.number,
                   "--as-of", D[26])
    assert (rec["recovered"]["amount"], rec["written_off_again"]["amount"]["amount"]) == (
        "20.00", "100.00")
    # and the customer's whole balance goes: the second invoice and the fee
    rows = run_json(capsys, "customer", "write-off", "C001", "--reason", "ceased trading",
                    "--as-of", D[30])
    assert [(r["invoice"], r["amount"]["amount"]) for r in rows] == [
        (second.number, "120.00"), (rev["fee_invoice"], "7.50")]
    assert run_json(capsys, "balance")["customers"] == []
    # an adjustment is undone by id
    undone = run_json(capsys, "adjustment", "reverse", str(rows[0]["adjustment"]),
                      "--reason", "paid after all", "--as-of", D[31])
    assert (undone["reverses"], undone["amount"]["amount"]) == (rows[0]["adjustment"],
                                                                "-120.00")
    code, _, err = run(capsys, "adjustment", "reverse", str(rows[0]["adjustment"]),
                       "--as-of", D[31])
    assert (code, err.split(":")[0]) == (2, "already_reversed")
    assert run(capsys, "check")[0] == 0
