"""What the command line answers: imports counted in documents, a balance of zero when nothing
is open, amounts in errors in major units, dates far ahead refused unless confirmed, and
``--user`` checked on commands that only read."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from salesledger.cli.main import main

pytestmark = pytest.mark.django_db


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def books(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "init", "--company", "acme", "--owner", "alice")[0] == 0
    assert run(capsys, "customer", "add", "--code", "C1", "--name", "Dupont",
               "--country", "FR")[0] == 0


def today() -> datetime:
    return datetime.now(ZoneInfo("Europe/Paris"))


# ---------------------------------------------------------------- import counts documents
def test_import_counts_documents_and_rows(capsys, books, tmp_path: Path) -> None:
    path = tmp_path / "invoices.csv"
    path.write_text("ref,customer,issue_date,description,quantity,unit_price,tax_rate\n"
                    "A,C1,2025-03-01,Consulting,1,100,20\n"
                    "A,,,Travel,1,20,20\n"
                    "B,C1,2025-03-02,Consulting,2,100,20\n", encoding="utf-8")
    code, out, err = run(capsys, "import", "invoices", str(path))
    assert (code, err) == (0, "")
    assert out.startswith(f"imported 2 invoices from {path} (3 rows, batch ")


# ---------------------------------------------------------------- balance of nothing
def test_balance_of_nothing_open_is_zero_in_the_company_currency(capsys, books) -> None:
    code, out, _ = run(capsys, "balance", "--json")
    assert json.loads(out)["total"] == [{"amount": "0.00", "currency": "EUR"}]
    code, out, _ = run(capsys, "balance")
    assert out.splitlines()[-1] == "total  0.00 EUR"


# ---------------------------------------------------------------- amounts in errors
def test_over_allocation_speaks_in_major_units(capsys, books) -> None:
    run(capsys, "invoice", "create", "--customer", "C1", "--date", "2025-03-10",
        "--line", "A;1;185.18;20", "--post", "--as-of", "2025-03-10")
    run(capsys, "receipt", "record", "--customer", "C1", "--amount", "500", "--date",
        "2025-03-11")
    code, out, err = run(capsys, "receipt", "allocate", "RCT2025-00001", "--invoice",
                         "INV2025-00001=500", "--as-of", "2025-03-11")
    assert (code, out) == (2, "")
    assert err == ("allocation_exceeds_open_amount: allocating 500.00 EUR exceeds the "
                   "222.22 EUR still open on the instalment\n")


def test_write_off_beyond_tolerance_speaks_in_major_units(capsys, books) -> None:
    run(capsys, "invoice", "create", "--customer", "C1", "--date", "2025-03-10",
        "--line", "A;1;200;20", "--post", "--as-of", "2025-03-10")
    run(capsys, "receipt", "record", "--customer", "C1", "--amount", "100", "--date",
        "2025-03-11")
    run(capsys, "adjustment", "settings", "--write-off-amount", "5", "--write-off-percent", "1")
    code, _, err = run(capsys, "receipt", "allocate", "RCT2025-00001", "--invoice",
                       "INV2025-00001=100", "--write-off-residual", "--as-of", "2025-03-11")
    assert code == 2
    assert err == ("write_off_exceeds_tolerance: the residual of INV2025-00001 (140.00 EUR) is "
                   "outside the write-off tolerance (at most 5.00 EUR and 1 % of the invoice, "
                   "2.40 EUR); leave it open, record a deduction, or write it off as a bad "
                   "debt\n")


# ---------------------------------------------------------------- dates far ahead
def test_a_date_beyond_the_horizon_is_refused_unless_confirmed(capsys, books) -> None:
    code, out, err = run(capsys, "invoice", "create", "--customer", "C1", "--date",
                         "2099-01-01", "--line", "A;1;100;20", "--post")
    assert (code, out) == (2, "")
    assert err.startswith("date_beyond_horizon: 2099-01-01 is more than 365 days ahead of "
                          f"today ({today().date().isoformat()})")
    # nothing was written: no draft left behind, no number taken
    assert json.loads(run(capsys, "invoice", "list", "--json")[1]) == []
    inv = json.loads(run(capsys, "invoice", "create", "--customer", "C1", "--date",
                         "2099-01-01", "--line", "A;1;100;20", "--post",
                         "--allow-future-date", "--json")[1])
    assert inv["number"] == "INV2099-00001"


def test_a_refused_create_and_post_leaves_no_draft_behind(capsys, books) -> None:
    # refusals that only posting knows: a closed period, then a credit hold
    assert run(capsys, "period", "close", "--through", "2025-01-31")[0] == 0
    code, out, err = run(capsys, "invoice", "create", "--customer", "C1", "--date",
                         "2025-01-15", "--line", "A;1;100;20", "--post")
    assert (code, out) == (2, "") and "2025-01-31" in err, err
    assert run(capsys, "credit", "hold", "C1", "--reason", "cheque returned")[0] == 0
    code, out, err = run(capsys, "invoice", "create", "--customer", "C1", "--date",
                         "2025-03-10", "--line", "A;1;100;20", "--post")
    assert (code, out) == (2, "") and "hold" in err, err
    assert json.loads(run(capsys, "invoice", "list", "--json")[1]) == []
    # without --post the draft is written, as asked
    assert run(capsys, "invoice", "create", "--customer", "C1", "--date", "2025-03-10",
               "--line", "A;1;100;20")[0] == 0
    assert [d["status"] for d in json.loads(run(capsys, "invoice", "list", "--json")[1])] == [
        "draft"]


def test_the_horizon_is_a_company_setting_and_drafts_are_checked_when_posted(capsys,
                                                                            books) -> None:
    day = (today() + timedelta(days=40)).date().isoformat()
    draft = json.loads(run(capsys, "invoice", "create", "--customer", "C1", "--date", day,
                           "--line", "A;1;100;20", "--json")[1])
    assert run(capsys, "company", "set", "--future-date-horizon", "30")[0] == 0
    code, _, err = run(capsys, "invoice", "post", str(draft["id"]))
    assert code == 2 and err.startswith(f"date_beyond_horizon: {day} is more than 30 days")
    code, _, err = run(capsys, "invoice", "post", str(draft["id"]), "--allow-future-date")
    assert (code, err) == (0, "")
    code, _, err = run(capsys, "company", "set", "--future-date-horizon", "-1")
    assert code == 2 and err.startswith("invalid: the future-date horizon must be between 0")


def test_an_import_refuses_new_documents_far_ahead_but_keeps_history(capsys, books,
                                                                     tmp_path: Path) -> None:
    new = tmp_path / "new.csv"
    new.write_text("ref,customer,issue_date,description,quantity,unit_price\n"
                   "A,C1,2025-03-01,Consulting,1,100\n"
                   "B,C1,2099-01-01,Consulting,1,100\n", encoding="utf-8")
    code, out, err = run(capsys, "import", "invoices", str(new))
    assert (code, out) == (2, "")
    assert "line 3, column issue_date: 2099-01-01 is more than 365 days ahead" in err
    code, out, err = run(capsys, "import", "invoices", str(new), "--allow-future-date")
    assert (code, err) == (0, "")
    # a migrated document that keeps its number is history: not checked
    kept = tmp_path / "kept.csv"
    kept.write_text("number,customer,issue_date,description,quantity,unit_price\n"
                    "OLD-1,C1,2099-06-01,Consulting,1,100\n", encoding="utf-8")
    assert run(capsys, "import", "invoices", str(kept))[0] == 0


# ---------------------------------------------------------------- --user on reads
@pytest.mark.parametrize("argv", [("balance",), ("customer", "list"), ("invoice", "list"),
                                  ("open-items",), ("customer", "show", "C1")])
def test_an_unknown_user_is_refused_on_reads_as_on_writes(capsys, books, argv) -> None:
    code, out, err = run(capsys, *argv, "--user", "nobody")
    assert (code, out, err) == (2, "", "not_found: no user 'nobody'\n")
    code, out, err = run(capsys, "customer", "add", "--code", "C2", "--name", "X",
                         "--user", "nobody")
    assert (code, err) == (2, "not_found: no user 'nobody'\n")


def test_a_user_of_another_company_may_not_read(capsys, books) -> None:
    assert run(capsys, "init", "--company", "other", "--owner", "olga")[0] == 0
    code, out, err = run(capsys, "balance", "--company", "acme", "--user", "olga")
    assert (code, out) == (2, "")
    assert err == "permission_denied: olga needs the viewer role in acme for this\n"
    assert run(capsys, "user", "add", "vic", "--role", "viewer", "--company", "acme")[0] == 0
    assert run(capsys, "balance", "--company", "acme", "--user", "vic")[0] == 0
