"""The command line, run in-process: a month of receivables from ``init`` to ``check``,
JSON with money as strings, and business errors as ``code: message`` with exit status 2."""

from __future__ import annotations

import json

import pytest

from tests.support import run, run_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(capsys):
    """A company with one customer, as the command line builds it."""
    assert run(capsys, "init", "--company", "acme", "--owner", "alice", "--name", "Acme")[0] == 0
    code, out, _ = run(capsys, "customer", "add", "--code", "C1", "--name", "Dupont",
                       "--terms", "30-60-90", "--country", "FR")
    assert (code, out) == (0, "customer C1 added\n")


def test_a_month_of_receivables(capsys, books):
    # an invoice of 2 x 40.00 at 25 %, posted at once, due in thirds
    inv = run_json(capsys, "invoice", "create", "--customer", "C1", "--date", "2025-03-10",
                   "--line", "Consulting;2;40.00;25", "--post", "--as-of", "2025-03-10")
    assert (inv["number"], inv["status"], inv["settlement"]) == ("INV2025-00001", "posted",
                                                                 "open")
    assert inv["total"] == {"amount": "100.00", "currency": "EUR"}
    assert inv["tax"] == {"amount": "20.00", "currency": "EUR"}
    assert [i["amount"]["amount"] for i in inv["instalments"]] == ["33.33", "33.33", "33.34"]

    receipt = run_json(capsys, "receipt", "record", "--customer", "C1", "--amount", "50",
                       "--date", "2025-03-20")
    assert receipt["number"] == "RCT2025-00001"
    assert receipt["amount"] == {"amount": "50.00", "currency": "EUR"}

    rows = run_json(capsys, "receipt", "allocate", "RCT2025-00001", "--auto",
                    "--as-of", "2025-03-21")
    assert [(r["invoice"], r["amount"]["amount"]) for r in rows] == [
        ("INV2025-00001", "33.33"), ("INV2025-00001", "16.67")]

    balance = run_json(capsys, "balance", "--as-of", "2025-03-31")
    assert balance == {"as_of": "2025-03-31",
                       "customers": [{"customer": "C1",
                                      "balance": {"amount": "50.00", "currency": "EUR"}}],
                       "total": [{"amount": "50.00", "currency": "EUR"}]}

    items = run_json(capsys, "open-items", "--as-of", "2025-05-01")
    assert [(i["type"], i["seq"], i["open"], i["days_overdue"]) for i in items] == [
        ("instalment", 2, {"amount": "16.66", "currency": "EUR"}, 0),
        ("instalment", 3, {"amount": "33.34", "currency": "EUR"}, 0)]
    overdue = run_json(capsys, "open-items", "--as-of", "2025-05-20", "--overdue")
    assert [(i["seq"], i["days_overdue"]) for i in overdue] == [(2, 11)]

    code, out, err = run(capsys, "check")
    assert (code, out, err) == (0, "acme: ok\n", "")


def test_as_of_changes_the_balance(capsys, books):
    run(capsys, "invoice", "create", "--customer", "C1", "--date", "2025-03-10",
        "--line", "A;1;100;0", "--post", "--as-of", "2025-03-10")
    run(capsys, "receipt", "record", "--customer", "C1", "--amount", "30", "--date", "2025-04-02")

    def balance(day: str) -> list[dict]:
        return run_json(capsys, "balance", "--as-of", day)["total"]

    assert balance("2025-03-09") == [{"amount": "0.00", "currency": "EUR"}]
    assert balance("2025-03-10") == [{"amount": "100.00", "currency": "EUR"}]
    assert balance("2025-04-02") == [{"amount": "70.00", "currency": "EUR"}]
    code, out, _ = run(capsys, "balance", "--as-of", "2025-04-02")
    assert code == 0 and "C1        70.00 EUR" in out and "total  70.00 EUR" in out


def test_unknown_customer_is_a_business_error(capsys, books):
    code, out, err = run(capsys, "receipt", "record", "--customer", "NOPE", "--amount", "10",
                         "--date", "2025-03-10")
    assert (code, out) == (2, "")
    assert err == "unknown_customer: no customer with code 'NOPE'\n"
    code, _, err = run(capsys, "invoice", "create", "--customer", "NOPE", "--date",
                       "2025-03-10", "--line", "A;1;1")
    assert code == 2 and err.startswith("unknown_customer: ")


def test_errors_in_json_are_problem_objects(capsys, books):
    code, out, err = run(capsys, "balance", "--customer", "NOPE", "--json")
    assert (code, out) == (2, "")
    assert json.loads(err) == {"code": "unknown_customer",
                               "message": "no customer with code 'NOPE'", "customer": "NOPE"}


@pytest.mark.parametrize("argv", [
    ("invoice", "create", "--customer", "C1", "--date", "2025-13-01", "--line", "A;1;1"),
    ("receipt", "record", "--customer", "C1", "--amount", "10", "--date", "10/03/2025"),
    ("balance", "--as-of", "yesterday"),
    ("receipt", "record", "--customer", "C1", "--amount", "ten", "--date", "2025-03-10"),
])
def test_bad_input_is_refused_with_invalid(capsys, books, argv):
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert err.startswith("invalid: ")
    assert "Traceback" not in err


def test_over_allocation_and_check_failure(capsys, books):
    run(capsys, "invoice", "create", "--customer", "C1", "--date", "2025-03-10",
        "--line", "A;1;100;0", "--post", "--as-of", "2025-03-10")
    run(capsys, "receipt", "record", "--customer", "C1", "--amount", "30", "--date", "2025-03-12")
    code, _, err = run(capsys, "receipt", "allocate", "RCT2025-00001",
                       "--invoice", "INV2025-00001=40", "--as-of", "2025-03-12")
    assert code == 2 and err.startswith("allocation_exceeds_unallocated: ")
    # a tampered cache makes check exit 1 and name the problem
    from tests.support import raw_sql

    raw_sql("UPDATE payments_receipt SET allocated = 100")
    code, out, _ = run(capsys, "check")
    assert code == 1
    assert "acme: 2 problem(s)" in out and "settlement_cache: receipt RCT2025-00001" in out


def test_customer_update_changes_only_what_is_given_and_is_audited(capsys, books):
    from salesledger.apps.core.models import AuditEvent
    from salesledger.apps.customers.models import Customer

    code, out, err = run(capsys, "customer", "update", "C1", "--credit-limit", "2500.50",
                         "--po-required", "--language", "fr", "--verified")
    assert (code, err) == (0, ""), err
    c = Customer.objects.get(code="C1")
    assert (c.credit_limit, c.po_required, c.language, c.name) == (250050, True, "fr", "Dupont")
    assert c.verified_at is not None
    actions = list(AuditEvent.objects.filter(entity="customer", entity_id=c.pk)
                   .order_by("seq").values_list("action", flat=True))
    assert actions[-2:] == ["customer.update", "customer.verify"]
    # clearing the limit, and bad values refused with the field named
    assert run(capsys, "customer", "update", "C1", "--credit-limit", "")[0] == 0
    assert Customer.objects.get(code="C1").credit_limit is None
    for argv, words in ((["--credit-limit", "-5"], "cannot be negative"),
                        (["--country", "France"], "two-letter"),
                        (["--name", " "], "needs a name"),
                        ([], "say what to change")):
        code, _, err = run(capsys, "customer", "update", "C1", *argv)
        assert code == 2 and err.startswith("invalid: ") and words in err, err


def test_customer_update_writes_and_audits_only_what_differs(capsys, books):
    from salesledger.apps.core.models import AuditEvent
    from salesledger.apps.customers.models import Customer

    def updates() -> list[dict]:
        return [e.data for e in AuditEvent.objects.filter(action="customer.update")
                .order_by("seq")]

    stamped = Customer.objects.get(code="C1").verified_at
    # the current values again: no write, no event, no stamp
    assert run(capsys, "customer", "update", "C1", "--name", "Dupont")[0] == 0
    assert updates() == []
    assert Customer.objects.get(code="C1").verified_at == stamped
    # one field changed among unchanged ones: the event names that field alone
    assert run(capsys, "customer", "update", "C1", "--name", "Dupont",
               "--credit-limit", "10", "--phone", "+33 1 23 45 67 89")[0] == 0
    [event] = updates()
    assert event["fields"] == ["credit_limit", "phone"]
    assert event["before"] == {"credit_limit": None}
    assert event["after"] == {"credit_limit": 1000}
    assert Customer.objects.get(code="C1").verified_at is not None
