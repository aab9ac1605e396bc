"""``report kpis``, ``report trends`` and ``report forecast`` at the command line: JSON with
money as strings and figures as text (null where a figure has no divisor), CSV files, and
refusals as ``code: message``, exit 2."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.support import run, run_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "init", "--company", "acme", "--owner", "alice")[0] == 0
    for argv in (("customer", "add", "--code", "C1", "--name", "Dupont", "--country", "FR"),
                 ("invoice", "create", "--customer", "C1", "--date", "2026-01-10",
                  "--line", "Audit;1;1000;0", "--post", "--as-of", "2026-01-10"),
                 ("invoice", "create", "--customer", "C1", "--date", "2026-02-15",
                  "--line", "Audit;1;2000;0", "--post", "--as-of", "2026-02-15"),
                 ("receipt", "record", "--customer", "C1", "--amount", "1000",
                  "--date", "2026-02-19"),
                 ("receipt", "allocate", "RCT2026-00001", "--auto", "--as-of", "2026-02-19")):
        code, _, err = run(capsys, *argv)
        assert code == 0, err


def test_kpis_json_and_csv(capsys: pytest.CaptureFixture[str], books: None,
                           tmp_path: Path) -> None:
    out = run_json(capsys, "report", "kpis", "--months", "2", "--as-of", "2026-02-28")
    jan, feb = out["months"]
    assert (jan["month"], feb["month"]) == ("2026-01", "2026-02")
    # February: 2,000.00 owed (not yet due) of 2,000.00 sold in 28 days; 1,000.00 paid
    # 10 days after its due date (9 February), 40 days after the invoice
    assert feb["dso"] == "28.0" and feb["best_dso"] == "28.0" and feb["cei"] == "100.0"
    assert feb["days_to_pay"] == "40.0" and feb["days_late"] == "10.0"
    assert feb["inputs"]["paid"] == {"amount": "1000.00", "currency": "EUR"}
    assert jan["days_to_pay"] is None and jan["cei"] is None
    path = tmp_path / "kpis.csv"
    code, text, _ = run(capsys, "report", "kpis", "--months", "2", "--as-of", "2026-02-28",
                        "--csv", str(path))
    assert code == 0 and "wrote" in text
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert [r["month"] for r in rows] == ["2026-01", "2026-02"]
    assert rows[1]["sales"] == "2000.00" and rows[1]["currency"] == "EUR"
    from openpyxl import load_workbook

    path = tmp_path / "kpis.xlsx"
    assert run(capsys, "report", "kpis", "--months", "2", "--as-of", "2026-02-28",
               "--xlsx", str(path))[0] == 0
    ws = load_workbook(path).worksheets[0]
    head = [c.value for c in ws[1]]
    feb_row = {h: c for h, c in zip(head, ws[3], strict=True)}
    jan_row = {h: c.value for h, c in zip(head, ws[2], strict=True)}
    assert feb_row["month"].value == "2026-02" and feb_row["dso"].value == 28
    assert feb_row["days_to_pay"].value == 40 and jan_row["cei"] is None
    assert feb_row["sales"].value == 2000 and feb_row["sales"].data_type == "n"
    assert feb_row["sales"].number_format == '#,##0.00 "EUR"'


def test_kpis_and_trends_in_a_document_currency(capsys: pytest.CaptureFixture[str],
                                                books: None, tmp_path: Path) -> None:
    """``--document-currency``: the documents in that currency alone, every amount in it
    (docs/design/kpis.md, "In a document currency"); without it, in EUR at booking rates."""
    code, _, err = run(capsys, "invoice", "create", "--customer", "C1", "--date", "2026-02-02",
                       "--currency", "USD", "--rate", "0.5", "--line", "Audit;1;800;0",
                       "--post", "--as-of", "2026-02-02")
    assert code == 0, err
    usd = run_json(capsys, "report", "kpis", "--months", "2", "--as-of", "2026-02-28",
                   "--document-currency", "usd")
    assert usd["currency"] == "USD"
    feb = usd["months"][1]
    assert feb["inputs"]["sales"] == {"amount": "800.00", "currency": "USD"}
    assert feb["inputs"]["paid"] == {"amount": "0.00", "currency": "USD"}
    assert feb["dso"] == "28.0" and feb["days_to_pay"] is None
    whole = run_json(capsys, "report", "kpis", "--months", "2", "--as-of", "2026-02-28")
    assert whole["months"][1]["inputs"]["sales"] == {"amount": "2400.00", "currency": "EUR"}
    path = tmp_path / "usd.csv"
    assert run(capsys, "report", "kpis", "--months", "2", "--as-of", "2026-02-28",
               "--document-currency", "USD", "--csv", str(path))[0] == 0
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert (rows[1]["sales"], rows[1]["currency"]) == ("800.00", "USD")
    trends = run_json(capsys, "report", "trends", "--months", "2", "--as-of", "2026-02-28",
                      "--document-currency", "USD")
    assert trends["currency"] == "USD"
    assert [(c["cohort"], c["items"], c["amount"]) for c in trends["cohorts"]] == [
        ("2026-02", 1, {"amount": "800.00", "currency": "USD"})]
    code, _, err = run(capsys, "report", "kpis", "--document-currency", "dollars")
    assert code == 2 and "'dollars' is not an ISO 4217 currency code" in err


def test_trends_and_forecast(capsys: pytest.CaptureFixture[str], books: None) -> None:
    out = run_json(capsys, "report", "trends", "--months", "2", "--as-of", "2026-02-28")
    jan = out["cohorts"][0]
    assert jan["cohort"] == "2026-01" and jan["late"]["count"] == 1
    assert jan["late"]["amount"] == {"amount": "1000.00", "currency": "EUR"}
    assert jan["unpaid_90"]["of"] == 0 and jan["unpaid_90"]["percent"] is None
    fc = run_json(capsys, "report", "forecast", "--weeks", "4", "--as-of", "2026-02-28")
    # 2,000.00 due on 17 March, in the third week after 28 February; C1 has one delay of
    # history, too few: the company's (10 days, the same) is used
    assert [w["naive"]["amount"] for w in fc["weeks"]] == ["0.00", "0.00", "2000.00", "0.00"]
    assert [w["expected"]["amount"] for w in fc["weeks"]] == ["0.00", "0.00", "0.00",
                                                              "2000.00"]
    assert fc["weeks"][0]["from"] == "2026-03-01"


@pytest.mark.parametrize("argv", [
    ("report", "kpis", "--months", "0"),
    ("report", "trends", "--months", "500"),
    ("report", "forecast", "--weeks", "60"),
    ("report", "forecast", "--backtest", "--runs", "0"),
])
def test_refusals(capsys: pytest.CaptureFixture[str], books: None,
                  argv: tuple[str, ...]) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2 and err.startswith("invalid: ") and "Traceback" not in err


def test_charts_as_svg(capsys: pytest.CaptureFixture[str], books: None, tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    ns = {"s": "http://www.w3.org/2000/svg"}
    path = tmp_path / "aging.svg"
    code, text, _ = run(capsys, "report", "aging", "--as-of", "2026-03-31", "--buckets",
                        "current,30,60", "--svg", str(path))
    assert code == 0 and "wrote" in text
    bars = ET.parse(path).getroot().findall("s:rect[@class='bar']", ns)
    # 2,000.00 due 17 March, 14 days late on 31 March: all in 1-30
    assert [int(b.get("data-value", "")) for b in bars] == [0, 200000, 0, 0]
    path = tmp_path / "forecast.svg"
    assert run(capsys, "report", "forecast", "--as-of", "2026-02-28", "--weeks", "4",
               "--svg", str(path))[0] == 0
    root = ET.parse(path).getroot()
    assert [int(c.get("data-value", "")) for c in root.findall(
        "s:circle[@data-series='expected']", ns)] == [0, 0, 0, 200000]
    # the trends: January's invoice was paid 10 days late (one of one), February's not yet
    path = tmp_path / "trends.svg"
    assert run(capsys, "report", "trends", "--as-of", "2026-02-28", "--months", "2",
               "--svg", str(path))[0] == 0
    root = ET.parse(path).getroot()
    assert [int(c.get("data-value", "")) for c in root.findall(
        "s:circle[@data-series='paid late']", ns)] == [1000, 0]
    # no cohort is 90 days past its due date yet: no point, no line
    assert root.findall("s:circle[@data-series='unpaid 90 days']", ns) == []
    assert root.findall("s:polyline[@data-series='unpaid 90 days']", ns) == []
    code, _, err = run(capsys, "report", "trends", "--by", "country", "--svg", str(path))
    assert code == 2 and "--svg" in err


def test_the_monthly_pack(capsys: pytest.CaptureFixture[str], books: None,
                          tmp_path: Path) -> None:
    from pypdf import PdfReader

    path = tmp_path / "pack.pdf"
    out = run_json(capsys, "report", "pack", "--month", "2026-02", "--pdf", str(path))
    assert out["month"] == "2026-02" and out["as_of"] == "2026-02-28"
    assert out["bytes"] == path.stat().st_size and len(out["charts"]) == 5
    reader = PdfReader(path)
    assert len(reader.pages) >= 3
    text = " ".join(p.extract_text() for p in reader.pages)
    assert "Receivables pack 2026-02" in text
    # the headline figures of February (2,000.00 owed, not yet due, of 2,000.00 sold)
    assert "Receivable 2000.00 EUR" in text and "DSO (days) 28.0" in text
    # the aging, the trends and the forecast, with the charts' own text drawn in the PDF
    for words in ("Aged receivables on 2026-02-28", "Late-payment and default trends",
                  "Cash-flow forecast", "Expected receipts per week after 2026-02-28",
                  "DSO per month to 2026-02-28"):
        assert words in text, words
    assert reader.metadata is not None and reader.metadata.title == "Receivables pack 2026-02"
    code, _, err = run(capsys, "report", "pack", "--month", "2026-13")
    assert code == 2 and "YYYY-MM" in err


def test_trends_forecast_and_unapplied_as_workbooks(capsys: pytest.CaptureFixture[str],
                                                    books: None, tmp_path: Path) -> None:
    from datetime import datetime

    from openpyxl import load_workbook

    def sheet(*argv: str) -> list[tuple[object, ...]]:
        path = tmp_path / "out.xlsx"
        code, text, err = run(capsys, "report", *argv, "--xlsx", str(path))
        assert code == 0 and "wrote" in text, err
        return list(load_workbook(path, read_only=True).active.iter_rows(values_only=True))

    trends = sheet("trends", "--as-of", "2026-02-28", "--months", "2")
    assert trends[0][:5] == ("cohort", "country", "items", "currency", "amount")
    # January's invoice paid 10 days late: one of one, 100 %; amounts are numbers
    assert trends[1][0] == "2026-01" and trends[1][2] == 1 and trends[1][4] == 1000
    assert trends[1][5] == 1 and trends[1][6] == 100  # a figure is a number, not text
    forecast = sheet("forecast", "--as-of", "2026-02-28", "--weeks", "4")
    assert forecast[0] == ("week", "from", "currency", "naive", "expected", "low", "high")
    assert [r[0] for r in forecast[1:]] == [1, 2, 3, 4]
    assert forecast[1][1] == datetime(2026, 3, 1)
    assert sum(r[4] for r in forecast[1:]) == 2000  # the expected receipts of the 2,000.00
    code, _, err = run(capsys, "receipt", "record", "--customer", "C1", "--amount", "45.50",
                       "--date", "2026-02-20")
    assert code == 0, err
    unapplied = sheet("unapplied", "--as-of", "2026-02-28")
    assert unapplied[0][:3] == ("customer", "type", "document")
    assert [(r[0], r[1], r[6]) for r in unapplied[1:]] == [("C1", "receipt", 45.5)]


def test_kpis_and_trends_of_a_set_of_customers(capsys: pytest.CaptureFixture[str],
                                               books: None) -> None:
    whole = run_json(capsys, "report", "kpis", "--months", "2", "--as-of", "2026-02-28")
    mine = run_json(capsys, "report", "kpis", "--months", "2", "--as-of", "2026-02-28",
                    "--customer", "C1")
    # the one customer is the whole company; the casework KPIs are the company's, left out
    assert [m["dso"] for m in mine["months"]] == [m["dso"] for m in whole["months"]]
    assert "dispute_rate" in whole["months"][1] and "dispute_rate" not in mine["months"][1]
    nobody = run_json(capsys, "report", "kpis", "--months", "1", "--as-of", "2026-02-28",
                      "--country", "DE")
    assert nobody["months"][0]["inputs"]["sales"] == {"amount": "0.00", "currency": "EUR"}
    trends = run_json(capsys, "report", "trends", "--months", "2", "--as-of", "2026-02-28",
                      "--country", "FR")
    assert [r["items"] for r in trends["cohorts"]] == [1, 1]
    code, _, err = run(capsys, "report", "kpis", "--segment", "group", "--customer", "C1")
    assert code == 2 and "--segment: give it without --customer" in err


def test_the_forecast_of_a_set_of_customers(capsys: pytest.CaptureFixture[str],
                                            books: None) -> None:
    argv = ("report", "forecast", "--weeks", "4", "--as-of", "2026-02-28")
    whole = run_json(capsys, *argv)
    mine = run_json(capsys, *argv, "--customer", "C1", "--document-currency", "eur")
    assert mine["weeks"] == whole["weeks"] and mine["total"]["expected"]["amount"] == "2000.00"
    # nobody in Germany, no dollar document: nothing, in the company's currency and in
    # dollars (a forecast in a document currency is in it)
    for other, currency in ((("--country", "DE"), "EUR"), (("--document-currency", "USD"), "USD")):
        nobody = run_json(capsys, *argv, *other)
        assert nobody["currency"] == currency
        assert nobody["total"] == {"naive": {"amount": "0.00", "currency": currency},
                                   "expected": {"amount": "0.00", "currency": currency}}
    code, _, err = run(capsys, *argv, "--customer", "NOPE")
    assert code == 2 and err.startswith("unknown_customer: no customer with code 'NOPE'")
    # a collector given nobody to chase (collections assign): nothing expected
    chased = run_json(capsys, *argv, "--collector", "alice")
    assert chased["total"]["expected"] == {"amount": "0.00", "currency": "EUR"}


def test_the_backtest_and_the_segments_as_files(capsys: pytest.CaptureFixture[str],
                                                books: None, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    # forecasts made on 31 January and 28 February, against the 4 weeks after each
    argv = ("report", "forecast", "--backtest", "--weeks", "4", "--runs", "2", "--as-of",
            "2026-03-31")
    out = run_json(capsys, *argv)
    path = tmp_path / "backtest.csv"
    code, text, _ = run(capsys, *argv, "--csv", str(path))
    assert code == 0 and text.startswith(f"backtest of 2 forecasts to 2026-03-31: wrote {path}")
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert rows == [["made_on", "currency", "received", "naive", "expected"],
                    *[[r["made_on"], "EUR", r["received"]["amount"], r["naive"]["amount"],
                       r["expected"]["amount"]] for r in out["runs"]]]
    # on 31 January the 1,000.00 due 9 February was received on 19 February
    assert rows[1] == ["2026-01-31", "EUR", "1000.00", "1000.00", "1000.00"]
    book = tmp_path / "backtest.xlsx"
    assert run(capsys, *argv, "--xlsx", str(book))[0] == 0
    ws = load_workbook(book).worksheets[0]
    assert [c.value for c in ws[2]][2:] == [1000, 1000, 1000]
    for report, extra in (("aging", ("--as-of", "2026-02-28")),
                          ("kpis", ("--months", "2", "--as-of", "2026-02-28"))):
        book = tmp_path / f"{report}-size.xlsx"
        code, text, err = run(capsys, "report", report, "--segment", "size", *extra,
                              "--xlsx", str(book))
        assert code == 0, err
        sheet = [tuple(c.value for c in r) for r in load_workbook(book).worksheets[0].rows]
        assert sheet[0][0] == "size" and sheet[1][0] == "A"
        if report == "aging":  # C1's 2,000.00 not yet due, in band A alone
            assert sheet[1][1:4] == (1, "EUR", 2000)
        else:
            assert [r[1] for r in sheet[1:] if r[0] == "A"] == ["2026-01", "2026-02"]
