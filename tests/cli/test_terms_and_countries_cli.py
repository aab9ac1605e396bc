"""``terms add|list``, and the checks a migration leans on from the command line: a country
that is not an ISO 3166-1 code is refused where it is typed, and an import that numbers a
new invoice refuses what ``invoice create --post`` refuses."""

from __future__ import annotations

import json
from datetime import date

import pytest

from tests.support import run, run_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(capsys):
    assert run(capsys, "init", "--company", "acme", "--owner", "alice", "--name", "Acme")[0] == 0
    assert run(capsys, "user", "add", "carl", "--role", "clerk")[0] == 0


# ---------------------------------------------------------------- terms
def test_terms_add_and_list(capsys, books):
    from salesledger.apps.core.models import AuditEvent

    code, out, err = run(capsys, "terms", "add", "NET45", "--name", "45 days net",
                         "--days", "45")
    assert (code, out, err) == (0, "payment terms NET45 added: 45 days\n", "")
    eom = run_json(capsys, "terms", "add", "EOM30", "--name", "30 days end of month",
                   "--days", "30", "--end-of-month")
    assert eom == {"code": "EOM30", "name": "30 days end of month", "default": False,
                   "instalments": [{"percent": "100", "days": 30, "end_of_month": True}],
                   "discount_percent": "0", "discount_days": 0}
    half = run_json(capsys, "terms", "add", "HALF", "--name", "Half now, half in 30 days",
                    "--instalments", "50%:0,50%:30", "--discount", "2%/10")
    assert [(i["percent"], i["days"]) for i in half["instalments"]] == [("50", 0), ("50", 30)]
    assert (half["discount_percent"], half["discount_days"]) == ("2", 10)
    thirds = run_json(capsys, "terms", "add", "Q3", "--name", "Thirds",
                      "--instalments", "30/60/90")
    assert [i["percent"] for i in thirds["instalments"]] == [
        "33.3333333333", "33.3333333333", "33.3333333334"]
    rows = run_json(capsys, "terms", "list")
    assert [r["code"] for r in rows] == ["2-10-NET30", "30-60-90", "DUE", "EOM30", "HALF",
                                         "NET14", "NET30", "NET45", "Q3"]
    assert [r["code"] for r in rows if r["default"]] == ["NET30"]
    code, out, _ = run(capsys, "terms", "list")
    assert "NET30 *" in out and "50.00 % at 0 days, 50.00 % at 30 days; 2 % off within 10 days" \
        in out
    actions = list(AuditEvent.objects.filter(action="payment_terms.create")
                   .values_list("data__after__code", flat=True))
    assert actions == ["NET45", "EOM30", "HALF", "Q3"]

    # New terms are used at once: a customer on them, an invoice that falls due by them.
    assert run(capsys, "customer", "add", "--code", "C1", "--name", "Dupont", "--country",
               "FR", "--terms", "EOM30")[0] == 0
    inv = run_json(capsys, "invoice", "create", "--customer", "C1", "--date", "2025-01-10",
                   "--line", "Work;1;100;20", "--post", "--as-of", "2025-01-10")
    assert [i["due_date"] for i in inv["instalments"]] == ["2025-02-28"]


@pytest.mark.parametrize(("argv", "error"), [
    (["NET30", "--name", "Again", "--days", "30"], "duplicate_code: payment terms 'NET30' "
                                                    "already exist"),
    (["X", "--name", "x"], "invalid: give either --days N"),
    (["X", "--name", "x", "--days", "3", "--instalments", "30/60"], "invalid: give either"),
    (["X", "--name", "x", "--days", "-3"], "invalid: --days '-3' is not a whole number"),
    (["X", "--name", "x", "--days", "ten"], "invalid: --days 'ten' is not a whole number"),
    (["X", "--name", "x", "--instalments", "60%:0,50%:30"],
     "invalid: instalment percentages must add up to 100, not 110"),
    (["X", "--name", "x", "--instalments", "30/sixty"], "invalid: cannot read payment terms"),
    (["X", "--name", "x", "--days", "30", "--discount", "2%"], "invalid: cannot read the "
                                                               "discount"),
    (["X", "--name", "x", "--days", "30", "--discount", "2%/0"], "invalid: an early-payment "
                                                                 "discount needs a number"),
    (["X", "--name", "x", "--days", "99999"], "invalid: payment terms run at most 3660 days"),
    (["X", "--name", " ", "--days", "30"], "invalid: payment terms need a name"),
    (["TWO WORDS", "--name", "x", "--days", "30"], "invalid: terms code 'TWO WORDS' must be "
                                                   "one word"),
    (["X" * 31, "--name", "x", "--days", "30"], "must be one word of at most 30 characters"),
])
def test_terms_add_refuses_bad_input_clearly(capsys, books, argv, error):
    from salesledger.apps.customers.models import PaymentTerms

    before = PaymentTerms.objects.count()
    code, out, err = run(capsys, "terms", "add", *argv)
    assert (code, out) == (2, "") and error in err and "Traceback" not in err, err
    assert PaymentTerms.objects.count() == before


def test_terms_add_needs_a_manager(capsys, books):
    code, _, err = run(capsys, "terms", "add", "NET45", "--name", "x", "--days", "45",
                       "--user", "carl")
    assert code == 2 and err.startswith("permission_denied: "), err


# ---------------------------------------------------------------- countries
@pytest.mark.parametrize("country", ["ZZ", "EU", "UK", "France", "F1"])
def test_a_country_that_is_not_an_iso_code_is_refused_where_it_is_typed(capsys, books,
                                                                         country):
    from salesledger.apps.customers.models import Customer

    code, out, err = run(capsys, "customer", "add", "--code", "C9", "--name", "X",
                         "--country", country)
    assert (code, out) == (2, "") and err.startswith("invalid: country "), err
    assert "ISO 3166-1" in err
    assert not Customer.objects.filter(code="C9").exists()
    assert run(capsys, "customer", "add", "--code", "C9", "--name", "X", "--country", "gb") == (
        0, "customer C9 added\n", "")
    code, _, err = run(capsys, "customer", "update", "C9", "--country", country)
    assert code == 2 and "ISO 3166-1" in err, err
    assert Customer.objects.get(code="C9").country == "GB"
    code, _, err = run(capsys, "customer", "update", "C9", "--country", "")
    assert code == 2 and "cannot be cleared" in err, err
    # Northern Ireland (XI) is a code of EN 16931 and EU VAT, and is accepted.
    assert run(capsys, "customer", "update", "C9", "--country", "XI")[0] == 0


# ---------------------------------------------------------------- one set of posting rules
def test_an_import_that_numbers_an_invoice_refuses_what_posting_it_by_hand_refuses(
        capsys, books, tmp_path):
    from salesledger.apps.invoicing.models import Invoice

    assert run(capsys, "customer", "add", "--code", "N1", "--name", "No country")[0] == 0
    code, _, by_hand = run(capsys, "invoice", "create", "--customer", "N1", "--date",
                           "2025-03-01", "--line", "Work;1;100;20", "--post")
    assert code == 2 and by_hand.startswith("einvoice_rule_broken: ") and "BR-10" in by_hand
    path = tmp_path / "new.csv"
    path.write_text("customer,issue_date,description,quantity,unit_price,tax_rate\n"
                    "N1,2025-03-01,Work,1,100,20\n", encoding="utf-8")
    code, _, err = run(capsys, "import", "invoices", str(path), "--json")
    assert code == 2
    problem = json.loads(err)["problems"][0]
    assert (problem["line"], problem["reason"]) == (
        2, by_hand.removeprefix("einvoice_rule_broken: ").strip())
    assert not Invoice.objects.filter(status="posted").exists()
    # Migrated history keeps its number and is not re-checked as an e-invoice of this ledger.
    path.write_text("number,customer,issue_date,description,quantity,unit_price,tax_rate\n"
                    "OLD-1,N1,2025-03-01,Work,1,100,20\n", encoding="utf-8")
    assert run_json(capsys, "import", "invoices", str(path))["invoices"] == 1
    assert Invoice.objects.get(number="OLD-1").issue_date == date(2025, 3, 1)
