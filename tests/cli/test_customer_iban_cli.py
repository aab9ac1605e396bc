"""``customer add-iban`` and ``customer remove-iban``: a customer's bank accounts added and
removed through the customer services, what they print and answer in JSON, and refusals as
``code: message`` with exit status 2 (the services' rules: banking/tests/test_payers.py)."""

from __future__ import annotations

import pytest

from tests.support import run, run_json

pytestmark = pytest.mark.django_db

IBAN = "DE89370400440532013000"


@pytest.fixture
def books(capsys):
    assert run(capsys, "init", "--company", "acme", "--owner", "alice")[0] == 0
    assert run(capsys, "customer", "add", "--code", "C1", "--name", "Dupont",
               "--country", "FR")[0] == 0


def test_an_iban_added_and_removed(capsys, books):
    code, out, err = run(capsys, "customer", "add-iban", "C1", "DE89 3704 0044 0532 0130 00")
    assert (code, err) == (0, "") and out == f"customer C1: bank account {IBAN} added\n"
    assert [b["iban"] for b in run_json(capsys, "customer", "show", "C1")["bank_accounts"]] == [
        IBAN]
    assert run_json(capsys, "customer", "remove-iban", "C1", "de89 3704 0044 0532 0130 00") == {
        "code": "C1", "removed": IBAN}
    assert run_json(capsys, "customer", "show", "C1")["bank_accounts"] == []


@pytest.mark.parametrize(("argv", "error"), [
    (("customer", "remove-iban", "C1", IBAN),
     f"not_found: customer C1 has no bank account '{IBAN}' (its IBANs: none)"),
    (("customer", "remove-iban", "C9", IBAN), "unknown_customer: no customer with code 'C9'"),
    (("customer", "add-iban", "C1", "DE00 0000"),
     "invalid_bank_account: IBAN 'DE00 0000' is not valid"),
])
def test_a_refusal_says_why_and_exits_2(capsys, books, argv, error):
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "") and err.startswith(error), err
    assert "Traceback" not in err
