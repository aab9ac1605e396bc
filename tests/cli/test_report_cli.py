"""``report aging`` and ``report unapplied`` at the command line: the JSON object the issue
names (buckets in order with their limits, money as strings), zero in the company's currency on
an empty ledger, CSV files, document currencies, and refusals as ``code: message``, exit 2."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from salesledger.apps.documents.tests.conftest import pdf_text
from tests.support import run, run_json

pytestmark = pytest.mark.django_db

EUR0 = {"amount": "0.00", "currency": "EUR"}


@pytest.fixture
def books(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "init", "--company", "acme", "--owner", "alice")[0] == 0
    for argv in (("customer", "add", "--code", "C1", "--name", "Dupont", "--country", "FR"),
                 ("customer", "add", "--code", "U1", "--name", "Acme Inc", "--country", "US",
                  "--currency", "USD"),
                 ("invoice", "create", "--customer", "C1", "--date", "2026-01-10",
                  "--line", "Audit;1;100;20", "--post", "--as-of", "2026-01-10"),
                 ("invoice", "create", "--customer", "U1", "--date", "2026-02-01",
                  "--line", "Kit;1;200;0", "--rate", "0.9", "--post", "--as-of", "2026-02-01"),
                 ("receipt", "record", "--customer", "C1", "--amount", "150",
                  "--date", "2026-03-01"),
                 ("receipt", "allocate", "RCT2026-00001", "--auto", "--as-of", "2026-03-05")):
        code, _, err = run(capsys, *argv)
        assert code == 0, err


def test_an_empty_ledger_reports_zeros_in_the_company_currency(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(capsys, "init", "--company", "acme", "--owner", "alice")[0] == 0
    out = run_json(capsys, "report", "aging", "--as-of", "2026-01-31", "--buckets", "30,60")
    assert out == {
        "as_of": "2026-01-31", "by": "due", "currency": "EUR",
        "buckets": [{"label": "up to 30", "from_days": None, "to_days": 30, "amount": EUR0},
                    {"label": "31-60", "from_days": 31, "to_days": 60, "amount": EUR0},
                    {"label": "over 60", "from_days": 61, "to_days": None, "amount": EUR0}],
        "total": EUR0, "unapplied_cash": EUR0, "customers": []}
    doc = run_json(capsys, "report", "aging", "--currency", "document", "--detail",
                   "--as-of", "2026-01-31")
    assert doc["items"] == [] and doc["total"] == [EUR0]
    assert [b["amount"] for b in doc["buckets"]] == [[EUR0]] * 6
    assert run_json(capsys, "report", "unapplied", "--as-of", "2026-01-31") == {
        "as_of": "2026-01-31", "items": [], "total": {"receipt": EUR0, "credit_note": EUR0}}
    # every other report: zero amounts in the company currency where an amount is expected,
    # no value (null) where a figure has no divisor
    seg = run_json(capsys, "report", "aging", "--segment", "size", "--as-of", "2026-01-31")
    assert seg["total"] == EUR0 and [b["amount"] for b in seg["buckets"]] == [EUR0] * 6
    [month] = run_json(capsys, "report", "kpis", "--months", "1", "--as-of", "2026-01-31")[
        "months"]
    assert month["dso"] is None and month["cei"] is None
    assert month["inputs"] and all(v == EUR0 for v in month["inputs"].values())
    forecast = run_json(capsys, "report", "forecast", "--weeks", "2", "--as-of", "2026-01-31")
    assert [w["expected"] for w in forecast["weeks"]] == [EUR0, EUR0]
    assert forecast["total"] == {"naive": EUR0, "expected": EUR0}
    assert run_json(capsys, "report", "trends", "--as-of", "2026-01-31")["cohorts"] == []
    [company] = run_json(capsys, "report", "portfolio", "--as-of", "2026-01-31")["companies"]
    assert (company["receivable"], company["unapplied_cash"], company["dso"]) == (
        EUR0, EUR0, None)
    pack = run_json(capsys, "report", "pack", "--month", "2026-01", "--pdf",
                    str(tmp_path / "pack.pdf"))
    assert pack["bytes"] > 0 and len(pack["charts"]) == 5


def test_aging_json_on_a_past_day_and_today(capsys: pytest.CaptureFixture[str],
                                            books: None) -> None:
    # 1 March: C1's 120.00 is 20 days late (NET30 from 10 January: due 9 February); U1's
    # 200.00 USD (180.00 EUR at 0.9) is not yet due (3 March); the receipt is not applied
    out = run_json(capsys, "report", "aging", "--as-of", "2026-03-01")
    assert [(b["label"], b["amount"]["amount"]) for b in out["buckets"]] == [
        ("current", "180.00"), ("1-30", "120.00"), ("31-60", "0.00"), ("61-90", "0.00"),
        ("91-120", "0.00"), ("over 120", "0.00")]
    assert out["total"] == {"amount": "300.00", "currency": "EUR"}
    assert out["unapplied_cash"] == {"amount": "150.00", "currency": "EUR"}
    assert [(c["customer"], c["total"]["amount"]) for c in out["customers"]] == [
        ("C1", "120.00"), ("U1", "180.00")]
    # after the allocation of 5 March: C1 paid, 30.00 of the receipt left unapplied
    out = run_json(capsys, "report", "aging", "--as-of", "2026-03-10", "--currency", "document")
    assert out["currency"] == "document"
    assert out["total"] == [{"amount": "200.00", "currency": "USD"}]
    assert out["buckets"][1]["amount"] == [{"amount": "200.00", "currency": "USD"}]
    assert out["unapplied_cash"] == [{"amount": "30.00", "currency": "EUR"}]


def test_detail_and_csv(capsys: pytest.CaptureFixture[str], books: None,
                        tmp_path: Path) -> None:
    out = run_json(capsys, "report", "aging", "--detail", "--as-of", "2026-03-01",
                   "--by", "issue", "--buckets", "current,30,60")
    assert [(i["customer"], i["document"], i["days"], i["bucket"], i["base_open"]["amount"])
            for i in out["items"]] == [("C1", "INV2026-00001", 50, "31-60", "120.00"),
                                       ("U1", "INV2026-00002", 28, "1-30", "180.00")]
    assert out["items"][1]["open"] == {"amount": "200.00", "currency": "USD"}
    assert [b["amount"]["amount"] for b in out["buckets"]] == ["0.00", "180.00", "120.00",
                                                              "0.00"]
    path = tmp_path / "aging.csv"
    code, text, _ = run(capsys, "report", "aging", "--as-of", "2026-03-01", "--csv", str(path))
    assert (code, text) == (0, f"aging on 2026-03-01: wrote {path} (2 customers)\n")
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert rows == [
        ["customer", "name", "country", "currency", "current", "1-30", "31-60", "61-90",
         "91-120", "over 120", "total"],
        ["C1", "Dupont", "FR", "EUR", "0.00", "120.00", "0.00", "0.00", "0.00", "0.00",
         "120.00"],
        ["U1", "Acme Inc", "US", "EUR", "180.00", "0.00", "0.00", "0.00", "0.00", "0.00",
         "180.00"]]
    path = tmp_path / "unapplied.csv"
    code, text, _ = run(capsys, "report", "unapplied", "--as-of", "2026-03-10",
                        "--csv", str(path))
    assert code == 0 and list(csv.reader(path.open(encoding="utf-8")))[1] == [
        "C1", "receipt", "RCT2026-00001", "2026-03-01", "EUR", "150.00", "30.00", "EUR",
        "30.00"]


def test_filters_and_refusals(capsys: pytest.CaptureFixture[str], books: None) -> None:
    out = run_json(capsys, "report", "aging", "--as-of", "2026-03-01", "--country", "us")
    assert [c["customer"] for c in out["customers"]] == ["U1"]
    out = run_json(capsys, "report", "aging", "--as-of", "2026-03-01",
                   "--document-currency", "EUR")
    assert out["total"] == {"amount": "120.00", "currency": "EUR"}
    for argv, code in (
            (("--buckets", "60,30"), "invalid"),
            (("--country", "XX"), "invalid"),
            (("--customer", "NOPE"), "unknown_customer"),
            (("--as-of", "2026-02-30"), "invalid")):
        status, out_text, err = run(capsys, "report", "aging", *argv)
        assert status == 2 and out_text == "" and err.startswith(f"{code}: "), err
        assert "Traceback" not in err
    status, _, err = run(capsys, "report", "aging", "--buckets", "x", "--json")
    assert status == 2 and json.loads(err)["code"] == "invalid"


def test_a_statement_for_a_period(capsys: pytest.CaptureFixture[str], books: None,
                                  tmp_path: Path) -> None:
    out = run_json(capsys, "customer", "statement", "C1", "--from", "2026-02-01",
                   "--to", "2026-03-31")
    assert (out["from"], out["to"]) == ("2026-02-01", "2026-03-31")
    [eur] = out["currencies"]
    assert eur["opening"] == {"amount": "120.00", "currency": "EUR"}
    assert [(m["date"], m["type"], m["document"], m["amount"]["amount"],
             m["balance"]["amount"]) for m in eur["movements"]] == [
        ("2026-03-01", "receipt", "RCT2026-00001", "-150.00", "-30.00")]
    assert eur["closing"] == {"amount": "-30.00", "currency": "EUR"}
    # nothing open on 31 March: zero in every bucket, in the company's currency
    assert out["aging"]["total"] == [EUR0]
    path = tmp_path / "statement.csv"
    code, text, _ = run(capsys, "customer", "statement", "C1", "--from", "2026-01-01",
                        "--to", "2026-03-31", "--csv", str(path))
    assert (code, text) == (0, f"statement of C1 from 2026-01-01 to 2026-03-31: wrote {path} "
                               "(2 movements)\n")
    assert list(csv.reader(path.open(encoding="utf-8"))) == [
        ["date", "type", "document", "currency", "amount", "balance"],
        ["2026-01-01", "opening_balance", "", "EUR", "", "0.00"],
        ["2026-01-10", "invoice", "INV2026-00001", "EUR", "120.00", "120.00"],
        ["2026-03-01", "receipt", "RCT2026-00001", "EUR", "-150.00", "-30.00"],
        ["2026-03-31", "closing_balance", "", "EUR", "", "-30.00"]]
    # an address is for --email only; the period ends on the --to that is a date
    status, _, err = run(capsys, "customer", "statement", "C1", "--from", "2026-01-01",
                         "--to", "2026-03-31", "--to", "ap@dupont.example")
    assert status == 2 and err.startswith("invalid: --to ap@dupont.example: an address is "
                                          "for --email")
    status, _, err = run(capsys, "customer", "statement", "C1", "--from", "2026-03-31",
                         "--to", "2026-01-01")
    assert status == 2 and err.startswith("invalid: --to 2026-01-01 is before --from")
    code, text, _ = run(capsys, "customer", "statement", "C1", "--as-of", "2026-03-31",
                        "--output", str(tmp_path / "s.pdf"))
    assert code == 0 and (tmp_path / "s.pdf").read_bytes().startswith(b"%PDF")


def test_a_statement_for_a_period_as_a_pdf_and_by_e_mail(
        capsys: pytest.CaptureFixture[str], books: None, tmp_path: Path, smtp_server: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    """The period's statement in the statement's layout, read back from the PDF: opening
    balance, each movement with the balance after it, closing balance, the aging on the last
    day; and the same PDF e-mailed through a real SMTP server."""
    path = tmp_path / "period.pdf"
    code, text, err = run(capsys, "customer", "statement", "C1", "--from", "2026-01-01",
                          "--to", "2026-02-28", "--output", str(path))
    assert code == 0, err
    assert text.startswith(f"statement of C1 from 2026-01-01 to 2026-02-28: wrote {path} (")
    assert text.endswith(" bytes, 1 movements)\n")
    pdf = pdf_text(path.read_bytes())
    assert "Statement from 1 January 2026 to 28 February 2026" in pdf
    assert "Movements (EUR)" in pdf
    assert "1 Jan 2026 Opening balance 0,00 €" in pdf
    assert "10 Jan 2026 Invoice INV2026-00001 120,00 € 120,00 €" in pdf
    assert "28 Feb 2026 Closing balance 120,00 €" in pdf
    # due 9 February (30 days): 19 days late on 28 February, in 1-30 days
    assert ("Aging (EUR) Not yet due 1-30 days 31-60 days 61-90 days Over 90 days "
            "0,00 € 120,00 € 0,00 € 0,00 € 0,00 €") in pdf
    assert "RCT2026-00001" not in pdf  # received on 1 March, after the period
    # the next period: the receipt, and a closing balance the customer is owed
    later = tmp_path / "later.pdf"
    assert run(capsys, "customer", "statement", "C1", "--from", "2026-03-01", "--to",
               "2026-03-31", "--output", str(later))[0] == 0
    pdf = pdf_text(later.read_bytes())
    assert "1 Mar 2026 Opening balance 120,00 €" in pdf
    assert "1 Mar 2026 Payment received RCT2026-00001 -150,00 € -30,00 €" in pdf
    assert "31 Mar 2026 Closing balance -30,00 €" in pdf
    assert "Unapplied payments and credits -30,00 € Balance -30,00 €" in pdf
    # e-mailed, to an address given beside the period's last day
    with django_capture_on_commit_callbacks(execute=True):
        out = run_json(capsys, "customer", "statement", "C1", "--from", "2026-01-01", "--to",
                       "2026-02-28", "--to", "ap@dupont.example", "--email")
    assert (out["customer"], out["recipients"]) == ("C1", "ap@dupont.example")
    [got] = smtp_server.received
    assert got.rcpt_tos == ["ap@dupont.example"]
    [part] = [p for p in got.message.iter_attachments()]
    assert part.get_filename() == "statement-C1-2026-01-01-2026-02-28.pdf"
    mailed = pdf_text(part.get_content())
    assert "10 Jan 2026 Invoice INV2026-00001 120,00 € 120,00 €" in mailed
    assert "28 Feb 2026 Closing balance 120,00 €" in mailed
    status, _, err = run(capsys, "customer", "statement", "C1", "--from", "2026-01-01",
                         "--to", "2026-02-28", "--output", str(path), "--csv", str(path))
    assert status == 2 and err.startswith("invalid: give one of --output, --email")


def test_the_portfolio_as_csv_and_xlsx(capsys: pytest.CaptureFixture[str], books: None,
                                      tmp_path: Path) -> None:
    from openpyxl import load_workbook

    # 1 USD = 0.80 EUR on the company's table: 180.00 EUR is 225.00 USD
    assert run(capsys, "fx", "rate", "add", "USD", "0.8", "--date", "2026-03-30")[0] == 0
    path = tmp_path / "portfolio.csv"
    code, text, _ = run(capsys, "report", "portfolio", "--as-of", "2026-03-31", "--in", "usd",
                        "--csv", str(path))
    assert (code, text) == (0, f"portfolio on 2026-03-31: wrote {path} (1 companies)\n")
    assert list(csv.reader(path.open(encoding="utf-8"))) == [
        ["company", "name", "role", "currency", "receivable", "overdue", "over_90",
         "over_90_share", "dso", "unapplied_cash", "in_currency", "rate", "receivable_in",
         "overdue_in", "over_90_in", "unapplied_cash_in"],
        # U1's 200.00 USD at 0.9 (due 3 March: overdue); C1's 30.00 paid over, unapplied
        ["acme", "acme", "owner", "EUR", "180.00", "180.00", "0.00", "0.0", "", "30.00",
         "USD", "0.8", "225.00", "225.00", "0.00", "37.50"],
        ["total", "", "", "", "", "", "", "", "", "", "USD", "", "225.00", "225.00", "0.00",
         "37.50"]]
    # the JSON says the same
    [company] = run_json(capsys, "report", "portfolio", "--as-of", "2026-03-31")["companies"]
    assert company["receivable"] == {"amount": "180.00", "currency": "EUR"}
    book = tmp_path / "portfolio.xlsx"
    assert run(capsys, "report", "portfolio", "--as-of", "2026-03-31", "--xlsx",
               str(book))[0] == 0
    ws = load_workbook(book).worksheets[0]
    head = [c.value for c in ws[1]]
    assert head == ["company", "name", "role", "currency", "receivable", "overdue", "over_90",
                    "over_90_share", "dso", "unapplied_cash"]
    row = {h: c for h, c in zip(head, ws[2], strict=True)}
    assert row["receivable"].value == 180 and row["receivable"].data_type == "n"
    assert row["receivable"].number_format == '#,##0.00 "EUR"'
    assert row["unapplied_cash"].value == 30 and row["dso"].value is None


def test_xlsx_holds_numbers_in_major_units(capsys: pytest.CaptureFixture[str], books: None,
                                           tmp_path: Path) -> None:
    from openpyxl import load_workbook

    path = tmp_path / "aging.xlsx"
    code, out, _ = run(capsys, "report", "aging", "--as-of", "2026-03-01", "--xlsx", str(path))
    assert code == 0 and "wrote" in out
    ws = load_workbook(path).worksheets[0]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    assert rows[0][:6] == ["customer", "name", "country", "currency", "current", "1-30"]
    assert rows[1][:6] == ["C1", "Dupont", "FR", "EUR", 0, 120]
    assert rows[-1][0] == "total" and rows[-1][4:6] == [180, 120] and rows[-1][-1] == 300
    assert ws.cell(2, 6).data_type == "n" and ws.cell(2, 6).number_format == '#,##0.00 "EUR"'
    # the detail, in document currencies: U1's 200.00 USD beside its 180.00 EUR
    path = tmp_path / "detail.xlsx"
    assert run(capsys, "report", "aging", "--detail", "--as-of", "2026-03-01",
               "--xlsx", str(path))[0] == 0
    ws = load_workbook(path).worksheets[0]
    u1 = [[c for c in r] for r in ws.iter_rows(min_row=2) if r[0].value == "U1"][0]
    assert [c.value for c in u1][8:] == ["USD", 200, "EUR", 180]
    assert u1[9].number_format == '#,##0.00 "USD"'
    # a customer's statement for a period
    path = tmp_path / "statement.xlsx"
    assert run(capsys, "customer", "statement", "C1", "--from", "2026-01-01", "--to",
               "2026-03-31", "--xlsx", str(path))[0] == 0
    rows = [[c.value for c in r] for r in load_workbook(path).worksheets[0].iter_rows()]
    assert [r[1] for r in rows] == ["type", "opening_balance", "invoice", "receipt",
                                    "closing_balance"]
    assert [r[5] for r in rows[1:]] == [0, 120, -30, -30]
