"""Credit from the command line: a refusal is one line on standard error with its code and exit
status 2, no traceback; a clerk cannot override, a credit controller can; a fee invoice passes a
hold; ``credit risk --json`` lists every customer with its class, score and factors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from salesledger.apps.core.models import AuditEvent, Company
from tests.support import run, run_json

pytestmark = pytest.mark.django_db

DAY = ("--as-of", "2026-12-01")


@pytest.fixture
def acme(capsys: Any) -> Company:
    for argv in (("init", "--company", "acme", "--owner", "alice"),
                 ("user", "add", "clara", "--role", "clerk"),
                 ("user", "add", "carl", "--role", "credit_controller"),
                 ("customer", "add", "--code", "C1", "--name", "Dupont", "--country", "FR"),
                 ("customer", "add", "--code", "C2", "--name", "Martin", "--country", "FR")):
        assert run(capsys, *argv)[0] == 0
    return Company.objects.get(code="acme")


def _invoice(*extra: str) -> tuple[str, ...]:
    return ("invoice", "create", "--customer", "C1", "--date", "2026-12-01", "--line",
            "Conseil;1;100;20", "--post", *DAY, *extra)


def test_a_held_customer_is_refused_and_a_controller_overrides(capsys, acme):
    assert run(capsys, "credit", "hold", "C1", "--reason", "cheque returned")[0] == 0
    code, out, err = run(capsys, *_invoice("--user", "clara"))
    assert (code, out) == (2, "")
    assert err.startswith("credit_hold: customer C1 is on credit hold (manual: cheque "
                          "returned)") and "Traceback" not in err
    code, out, err = run(capsys, *_invoice("--user", "clara", "--override-credit", "ok"))
    assert code == 2 and err.startswith("permission_denied:")
    answer = run_json(capsys, *_invoice("--user", "carl", "--override-credit",
                                        "paid by card"))
    assert answer["status"] == "posted"
    override = AuditEvent.objects.get(company=acme, action="credit.override")
    assert (override.actor_name, override.data["comment"]) == ("carl", "paid by card")
    # a fee invoice is never held
    fee = run_json(capsys, "invoice", "create", "--customer", "C1", "--date", "2026-12-01",
                   "--line", "Reminder fee;1;40;0;;O", "--purpose", "fee", "--post", *DAY)
    assert fee["status"] == "posted"


def test_over_the_limit_the_json_error_names_the_amounts(capsys, acme):
    run_json(capsys, "credit", "limit", "set", "C1", "150", "--reason", "new customer")
    run_json(capsys, *_invoice())
    code, out, err = run(capsys, *_invoice("--json"))
    assert code == 2
    error = json.loads(err)
    assert (error["code"], error["limit"], error["exposure"]) == (
        "credit_limit_exceeded", "150.00 EUR", "120.00 EUR")
    exposure = run_json(capsys, "credit", "exposure", "C1", *DAY)
    assert (exposure["exposure"], exposure["available"]) == (
        {"amount": "120.00", "currency": "EUR"}, {"amount": "30.00", "currency": "EUR"})


def test_risk_lists_every_customer_with_class_score_and_factors(capsys, acme):
    run_json(capsys, *_invoice())
    rows = run_json(capsys, "credit", "risk", "--as-of", "2027-02-15")
    assert [r["customer"] for r in rows] == ["C1", "C2"]
    c1 = rows[0]
    assert c1["risk_class"] in "ABCD" and 0 <= c1["score"] <= 100
    assert any(f.startswith("overdue now, the oldest by 46 days") for f in c1["factors"])
    assert rows[1]["factors"] == ["no payment history yet"]
    code, out, err = run(capsys, "credit", "limit", "set", "C1", "--reason", "x")
    assert code == 2 and err.startswith("invalid: give the customer and the amount")
