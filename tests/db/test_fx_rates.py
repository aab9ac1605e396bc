"""Exchange rates per company and day: entered, imported from a CSV file or from the ECB's
reference-rate XML, looked up for a day, and used by default by receipts and invoices."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from conftest import DAY

from salesledger.apps.core.models import ImportBatch
from salesledger.apps.fx.models import ExchangeRate
from salesledger.apps.fx.selectors import cross_rate_on, rate_on, rate_quote
from salesledger.apps.fx.services import rate_add, rates_import_csv, rates_import_ecb
from salesledger.apps.invoicing.services import InvoiceInput, invoice_create
from salesledger.domain.errors import (
    DuplicateImport,
    DuplicateRate,
    ExchangeRateMissing,
    ImportFailed,
    ValidationFailed,
)
from salesledger.domain.invoicing import LineInput
from tests.support import events, journal, last_seq

ECB_90_DAYS = """<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"
    xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
  <gesmes:subject>Reference rates</gesmes:subject>
  <gesmes:Sender><gesmes:name>European Central Bank</gesmes:name></gesmes:Sender>
  <Cube>
    <Cube time="2025-03-07">
      <Cube currency="USD" rate="1.0830"/>
      <Cube currency="JPY" rate="160.05"/>
      <Cube currency="GBP" rate="0.84"/>
    </Cube>
    <Cube time="2025-03-06">
      <Cube currency="USD" rate="1.0791"/>
      <Cube currency="JPY" rate="159.62"/>
      <Cube currency="GBP" rate="0.8375"/>
    </Cube>
  </Cube>
</gesmes:Envelope>
"""

ECB_HISTORY_WITH_OLD_CODES = """<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"
    xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
  <Cube>
    <Cube time="2007-12-31">
      <Cube currency="USD" rate="1.4721"/>
      <Cube currency="CYP" rate="0.585274"/>
      <Cube currency="MTL" rate="0.4293"/>
    </Cube>
  </Cube>
</gesmes:Envelope>
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------- entered
def test_a_rate_entered_by_hand_is_stored_and_audited(company, owner):
    seq = last_seq(company)
    row = rate_add(actor=owner, company=company, currency="usd", rate="0.92330", day=DAY)
    assert (row.currency, row.rate_date, row.rate, row.source) == ("USD", DAY,
                                                                   Decimal("0.9233"), "manual")
    [ev] = events(company, since=seq)
    assert (ev.action, ev.entity, ev.entity_id) == ("fx_rate.add", "exchange_rate", str(row.pk))
    assert ev.data["after"] == {"currency": "USD", "date": "2025-03-10", "rate": "0.9233",
                                "source": "manual"}


def test_the_same_rate_again_changes_nothing_another_needs_replace(company, owner):
    first = rate_add(actor=owner, company=company, currency="USD", rate="0.92", day=DAY)
    seq = last_seq(company)
    assert rate_add(actor=owner, company=company, currency="USD", rate="0.920", day=DAY) == first
    assert last_seq(company) == seq
    with pytest.raises(DuplicateRate, match="--replace"):
        rate_add(actor=owner, company=company, currency="USD", rate="0.93", day=DAY)
    replaced = rate_add(actor=owner, company=company, currency="USD", rate="0.93", day=DAY,
                        replace=True)
    assert (replaced.pk, replaced.rate) == (first.pk, Decimal("0.93"))
    [ev] = events(company, since=seq)
    assert ev.action == "fx_rate.replace" and ev.data["before"] == {"rate": "0.92"}


@pytest.mark.parametrize(("currency", "rate", "message"), [
    ("EUR", "1", "base currency"), ("XYZ", "1", "unknown currency"),
    ("USD", "0", "positive"), ("USD", "-0.5", "positive"), ("USD", "abc", "not a number")])
def test_bad_rates_are_refused(company, owner, currency, rate, message):
    with pytest.raises(ValidationFailed, match=message):
        rate_add(actor=owner, company=company, currency=currency, rate=rate, day=DAY)
    assert not ExchangeRate.objects.exists()


def test_rate_on_is_the_latest_on_or_before_the_day_manual_first(company, owner):
    rate_add(actor=owner, company=company, currency="USD", rate="0.90", day=DAY)
    rate_add(actor=owner, company=company, currency="USD", rate="0.95",
             day=DAY + timedelta(days=10))
    assert rate_on(company, "USD", DAY) == Decimal("0.90")
    assert rate_on(company, "USD", DAY + timedelta(days=9)) == Decimal("0.90")
    assert rate_on(company, "USD", DAY + timedelta(days=30)) == Decimal("0.95")
    assert rate_on(company, "EUR", DAY) == 1
    with pytest.raises(ExchangeRateMissing) as exc:
        rate_on(company, "USD", DAY - timedelta(days=1))
    assert exc.value.code == "exchange_rate_missing"
    assert "no USD exchange rate on or before 2025-03-09" in exc.value.message
    # an ECB rate of the same day yields to the one entered by hand
    ExchangeRate.objects.create(company=company, currency="USD", rate_date=DAY,
                                rate=Decimal("0.91"), source="ecb")
    assert rate_quote(company, "USD", DAY).source == "manual"
    assert cross_rate_on(company, "USD", "EUR", DAY) == Decimal("0.9")


def test_rates_belong_to_their_company(company, owner):
    from salesledger.apps.core.services import company_create

    other = company_create(actor=owner, code="other", name="Other", owner=owner)
    rate_add(actor=owner, company=other, currency="USD", rate="0.5", day=DAY)
    with pytest.raises(ExchangeRateMissing):
        rate_on(company, "USD", DAY)


# ---------------------------------------------------------------------------- defaults
def test_receipts_and_invoices_default_their_rate_to_the_rate_table(company, owner,
                                                                    make_customer,
                                                                    record_receipt):
    make_customer("US1", currency="USD")
    with pytest.raises(ValidationFailed, match="rate table has none on or before 2025-03-10"):
        record_receipt("US1", "100.00", DAY)
    rate_add(actor=owner, company=company, currency="USD", rate="0.92", day=DAY)
    receipt = record_receipt("US1", "100.00", DAY + timedelta(days=2))
    assert (receipt.rate, receipt.base_amount) == (Decimal("0.92"), 9200)
    assert journal(receipt.journal_entry) == [("bank", 10000, 9200, None),
                                              ("unapplied_cash", -10000, -9200,
                                               receipt.customer_id)]
    # a rate given explicitly still wins
    given = record_receipt("US1", "100.00", DAY, rate=Decimal("0.95"))
    assert given.base_amount == 9500
    draft = invoice_create(actor=owner, company=company, data=InvoiceInput(
        customer_code="US1", issue_date=DAY, lines=[LineInput("x", Decimal(1), Decimal(10))]))
    assert draft.rate == Decimal("0.92")


# ---------------------------------------------------------------------------- CSV
def test_csv_import_stores_every_rate_and_records_the_batch(company, owner, tmp_path):
    path = write(tmp_path, "rates.csv", "date,currency,rate\n2025-03-07,USD,0.9233\n"
                                        "2025-03-07,GBP,1.19\n2025-03-10,USD,0.93\n")
    seq = last_seq(company)
    result = rates_import_csv(actor=owner, company=company, path=path)
    assert {k: result[k] for k in ("rates", "added", "unchanged", "replaced", "currencies",
                                   "first", "last")} == {
        "rates": 3, "added": 3, "unchanged": 0, "replaced": 0, "currencies": ["GBP", "USD"],
        "first": date(2025, 3, 7), "last": date(2025, 3, 10)}
    assert sorted(ExchangeRate.objects.values_list("currency", "rate_date", "rate", "source",
                                                   "import_batch_id")) == [
        ("GBP", date(2025, 3, 7), Decimal("1.19"), "csv", result["batch"]),
        ("USD", date(2025, 3, 7), Decimal("0.9233"), "csv", result["batch"]),
        ("USD", date(2025, 3, 10), Decimal("0.93"), "csv", result["batch"])]
    batch = ImportBatch.objects.get(pk=result["batch"])
    assert (batch.kind, batch.rows, batch.sha256) == ("fx_rates_csv", 3, result["sha256"])
    [ev] = events(company, since=seq)
    assert (ev.action, ev.data["added"], ev.data["first"]) == ("fx_rate.import", 3,
                                                               "2025-03-07")
    assert rate_on(company, "USD", date(2025, 3, 9)) == Decimal("0.9233")


def test_csv_import_is_all_or_nothing_with_every_problem(company, owner, tmp_path):
    path = write(tmp_path, "bad.csv", "date,currency,rate\n2025-03-07,USD,0.92\n"
                                      "2025-02-30,GBP,1.19\n2025-03-07,EUR,1\n"
                                      "2025-03-07,JPY,0,0062\n2025-03-08,CHF,\n")
    with pytest.raises(ImportFailed) as exc:
        rates_import_csv(actor=owner, company=company, path=path)
    assert [str(p) for p in exc.value.problems] == [
        "line 3, column date: 2025-02-30 is not a real date",
        "line 4, column currency: EUR is the base currency of acme: its rate is always 1",
        "line 5: the row has 4 values but the header names 3 columns",
        "line 6, column rate: a value is required",
    ]
    assert exc.value.message == "bad.csv: 4 problems; nothing was imported"
    assert not ExchangeRate.objects.exists() and not ImportBatch.objects.exists()


def test_the_same_file_twice_is_refused_unless_forced(company, owner, tmp_path):
    path = write(tmp_path, "rates.csv", "date,currency,rate\n2025-03-07,USD,0.92\n")
    rates_import_csv(actor=owner, company=company, path=path)
    with pytest.raises(DuplicateImport, match="--force"):
        rates_import_csv(actor=owner, company=company, path=path)
    again = rates_import_csv(actor=owner, company=company, path=path, force=True)
    assert (again["forced"], again["added"], again["unchanged"]) == (True, 0, 1)
    assert ExchangeRate.objects.count() == 1


def test_a_file_that_disagrees_with_a_stored_rate_is_refused_unless_forced(company, owner,
                                                                            tmp_path):
    rates_import_csv(actor=owner, company=company, path=write(
        tmp_path, "a.csv", "date,currency,rate\n2025-03-07,USD,0.92\n"))
    corrected = write(tmp_path, "b.csv", "date,currency,rate\n2025-03-07,USD,0.925\n"
                                         "2025-03-08,USD,0.93\n")
    with pytest.raises(ImportFailed) as exc:
        rates_import_csv(actor=owner, company=company, path=corrected)
    assert [str(p) for p in exc.value.problems] == [
        "line 2, column rate: USD on 2025-03-07 is already 0.92 from an earlier csv import, "
        "not 0.925; import with --force to replace it"]
    result = rates_import_csv(actor=owner, company=company, path=corrected, force=True)
    assert (result["added"], result["replaced"]) == (1, 1)
    assert rate_on(company, "USD", date(2025, 3, 7)) == Decimal("0.925")


# ---------------------------------------------------------------------------- ECB
def test_ecb_file_gives_inverted_rates_for_a_euro_company(company, owner, tmp_path):
    path = write(tmp_path, "eurofxref-hist-90d.xml", ECB_90_DAYS)
    result = rates_import_ecb(actor=owner, company=company, path=path)
    assert (result["rates"], result["added"], result["currencies"]) == (
        6, 6, ["GBP", "JPY", "USD"])
    # 1 EUR = 1.0830 USD, so 1 USD = 1 / 1.0830 EUR
    assert rate_on(company, "USD", date(2025, 3, 7)) == Decimal("0.923361034164")
    assert rate_on(company, "JPY", date(2025, 3, 6)) == Decimal("0.00626487908783")
    assert set(ExchangeRate.objects.values_list("source", flat=True)) == {"ecb"}
    assert ImportBatch.objects.get(pk=result["batch"]).kind == "fx_rates_ecb"
    # the daily file of a day already imported adds nothing and is not an error
    daily = write(tmp_path, "eurofxref-daily.xml", ECB_90_DAYS.replace(
        """    <Cube time="2025-03-06">
      <Cube currency="USD" rate="1.0791"/>
      <Cube currency="JPY" rate="159.62"/>
      <Cube currency="GBP" rate="0.8375"/>
    </Cube>
""", ""))
    again = rates_import_ecb(actor=owner, company=company, path=daily)
    assert (again["added"], again["unchanged"]) == (0, 3)


def test_ecb_file_is_crossed_through_the_euro_for_another_base(owner, tmp_path):
    from salesledger.apps.core.services import company_create

    gb = company_create(actor=owner, code="gbco", name="GB Ltd", base_currency="GBP",
                        country="GB", time_zone="Europe/London", owner=owner)
    rates_import_ecb(actor=owner, company=gb, path=write(tmp_path, "r.xml", ECB_90_DAYS))
    day = date(2025, 3, 7)
    assert rate_on(gb, "EUR", day) == Decimal("0.84")
    assert rate_on(gb, "USD", day) == Decimal("0.775623268698")  # 0.84 / 1.0830
    assert not ExchangeRate.objects.filter(company=gb, currency="GBP").exists()


def test_ecb_history_skips_currencies_the_euro_replaced(company, owner, tmp_path):
    result = rates_import_ecb(actor=owner, company=company, path=write(
        tmp_path, "eurofxref-hist.xml", ECB_HISTORY_WITH_OLD_CODES))
    assert (result["currencies"], result["skipped_codes"]) == (["USD"], ["CYP", "MTL"])


def test_a_broken_ecb_file_names_the_line(company, owner, tmp_path):
    broken = ECB_90_DAYS.replace('rate="159.62"', 'rate="-159.62"').replace(
        '<Cube currency="GBP" rate="0.84"/>', '<Cube rate="0.84"/>')
    with pytest.raises(ImportFailed) as exc:
        rates_import_ecb(actor=owner, company=company, path=write(tmp_path, "x.xml", broken))
    assert [str(p) for p in exc.value.problems] == [
        "line 10, column currency: the currency attribute is missing",
        "line 14, column rate: an exchange rate must be positive, not -159.62"]
    with pytest.raises(ImportFailed, match="not well-formed"):
        rates_import_ecb(actor=owner, company=company, path=write(
            tmp_path, "y.xml", ECB_90_DAYS[:300]))
    assert not ExchangeRate.objects.exists()


# ---------------------------------------------------------------------------- CLI
def test_cli_rate_add_import_and_show(company, tmp_path, capsys):
    from salesledger.cli.main import main

    assert main(["fx", "rate", "add", "USD", "0.92", "--date", "2025-03-01"]) == 0
    assert capsys.readouterr().out == "1 USD = 0.92 EUR on 2025-03-01\n"
    path = write(tmp_path, "r.xml", ECB_90_DAYS)
    assert main(["fx", "rate", "import", str(path)]) == 0
    assert "imported 6 rates from r.xml" in capsys.readouterr().out
    assert main(["fx", "rate", "show", "USD", "--as-of", "2025-03-08"]) == 0
    assert capsys.readouterr().out == (
        "1 USD = 0.923361034164 EUR on 2025-03-08 (rate of 2025-03-07, ecb)\n")
    assert main(["fx", "rate", "import", str(path)]) == 2
    assert capsys.readouterr().err.startswith("duplicate_import: r.xml was already imported")
    assert main(["fx", "rate", "add", "USD", "nope"]) == 2
    assert capsys.readouterr().err == "invalid: RATE: 'nope' is not a number\n"
