"""The kept KPI figures of ended months (docs/design/kpis.md, "Kept months"): read instead of
the books while nothing dated in an ended month was written since, and never after: a
back-dated allocation, the reversal (today) of an allocation of an ended month and a
back-dated invoice each change the answer, which is then the books' again."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from django.db.models import F
from django.utils import timezone
from tests.unit.test_kpis import FEB, MAR

from salesledger.apps.core.invariants import check_company
from salesledger.apps.invoicing.models import Invoice
from salesledger.apps.payments.services import allocation_reverse
from salesledger.apps.reporting.kpi_keep import kept_parts, version_bump
from salesledger.apps.reporting.kpis import months_ending
from salesledger.apps.reporting.models import KpiFigure, KpiKeep
from salesledger.apps.reporting.selectors import ReportFilters, kpi_report
from salesledger.money import format_minor

from .test_kpis_story import _write_example

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 4, 3)


def _kept(company: Any, currency: str = "") -> bool:
    return kept_parts(company, months_ending(AS_OF, 3), currency) is not None


@pytest.fixture
def example(company: Any, owner: Any, make_customer: Any, post_invoice: Any,
            record_receipt: Any, allocate_to: Any) -> None:
    make_customer("C001")
    _write_example(company, owner, post_invoice, record_receipt, allocate_to, "C001")


def test_kept_figures_are_the_books_until_a_back_dated_entry(
        example: None, company: Any, owner: Any, record_receipt: Any, allocate_to: Any,
        post_invoice: Any) -> None:
    live = kpi_report(company, as_of=AS_OF, months=3)
    assert not _kept(company)
    # a page (keep=False) never writes; the command keeps the ended months
    assert not KpiFigure.objects.filter(company=company).exists()
    assert kpi_report(company, as_of=AS_OF, months=3, keep=True) == live
    assert _kept(company)
    # 25 + 2 months of sales (the countback's two years), 4 month ends, 3 months paid
    assert KpiFigure.objects.filter(company=company).count() == 27 + 4 + 3
    assert kpi_report(company, as_of=AS_OF, months=3) == live  # now read from them

    # 1. a back-dated allocation: invoice 4 (600.00) paid on 25 March, entered now
    inv4 = Invoice.objects.get(company=company, issue_date=date(2026, 3, 10)).number
    r = record_receipt("C001", "600.00", date(2026, 3, 25))
    [late] = allocate_to(r.number, {inv4: "600.00"}, day=date(2026, 3, 25))
    assert not _kept(company)
    mar = kpi_report(company, as_of=AS_OF, months=3, keep=True)[2]
    assert mar.inputs.receivable_end == MAR.receivable_end - 60000
    assert mar.inputs.current_end == 0
    assert mar.inputs.paid == MAR.paid + 60000
    assert _kept(company)
    assert kpi_report(company, as_of=AS_OF, months=3)[2] == mar

    # 2. that allocation undone today (a month not ended): March's receipt no longer
    # counts as paid (a reversed allocation never does), though the day is today's
    today = timezone.localdate()
    allocation_reverse(actor=owner, company=company, allocation_id=late.pk, day=today)
    assert not _kept(company)
    again = kpi_report(company, as_of=AS_OF, months=3, keep=True)[2]
    assert again.inputs.paid == MAR.paid
    assert again.inputs.receivable_end == mar.inputs.receivable_end  # open again after E
    assert kpi_report(company, as_of=AS_OF, months=3) == kpi_report(
        company, as_of=AS_OF, months=3, filters=ReportFilters(customer="C001"))

    # 3. a back-dated invoice in February: February's sales and month end change
    post_invoice("C001", lines=[("Work", "1", "50.00", "0")], issue_date=date(2026, 2, 20),
                 terms="NET30")
    assert not _kept(company)
    feb = kpi_report(company, as_of=AS_OF, months=3)[1]
    assert feb.inputs == replace(FEB, sales=FEB.sales + 5000,
                                 receivable_end=FEB.receivable_end + 5000,
                                 current_end=FEB.current_end + 5000)


def test_a_document_currency_is_kept_apart(example: None, company: Any) -> None:
    eur = ReportFilters(currency="EUR")
    usd = ReportFilters(currency="USD")
    whole = kpi_report(company, as_of=AS_OF, months=3, filters=eur, keep=True)
    assert _kept(company, "EUR") and not _kept(company, "USD") and not _kept(company)
    none = kpi_report(company, as_of=AS_OF, months=3, filters=usd, keep=True)
    assert [m.inputs.sales for m in none] == [0, 0, 0]
    assert kpi_report(company, as_of=AS_OF, months=3, filters=eur) == whole
    assert [m.inputs for m in whole][1:] == [FEB, MAR]


def test_only_what_is_dated_in_an_ended_month_makes_them_stale(company: Any) -> None:
    version = KpiKeep.objects.get(company=company).version
    assert not version_bump(company.pk, [])
    assert not version_bump(company.pk, [date(2999, 1, 15)])
    assert KpiKeep.objects.get(company=company).version == version
    assert version_bump(company.pk, [date(2999, 1, 15), date(2026, 3, 5)])
    assert KpiKeep.objects.get(company=company).version == version + 1


def test_a_month_not_ended_is_computed_not_kept(example: None, company: Any) -> None:
    today = timezone.localdate()
    kpi_report(company, as_of=today, months=2, keep=True)
    newest = KpiFigure.objects.filter(company=company).order_by("-month").first()
    assert newest is not None and newest.month < today.replace(day=1)


def test_check_finds_a_kept_figure_that_is_not_the_books(example: None, company: Any) -> None:
    kpi_report(company, as_of=AS_OF, months=3, keep=True)
    kpi_report(company, as_of=AS_OF, months=3, filters=ReportFilters(currency="EUR"),
               keep=True)
    assert _kept(company) and _kept(company, "EUR")
    assert check_company(company) == []  # freshly kept: every figure is the books'

    # March's receivable at its end, altered by hand in the company's figures
    KpiFigure.objects.filter(company=company, currency="", part="end",
                             month=date(2026, 3, 1)).update(a=MAR.receivable_end + 123)
    [found] = [str(p) for p in check_company(company)]
    base = company.base_currency
    assert found == (
        f"kept KPIs: company {company.code}, the company's figures at the booking rates, "
        f"2026-03, part 'end': receivable kept {format_minor(MAR.receivable_end + 123, base)}, "
        f"books {format_minor(MAR.receivable_end, base)}")
    # and February's receipts × days late in the EUR documents' figures
    KpiFigure.objects.filter(company=company, currency="EUR", part="paid",
                             month=date(2026, 2, 1)).update(c=F("c") + 1)
    found = [str(p) for p in check_company(company)]
    assert len(found) == 2 and found[1].startswith(
        f"kept KPIs: company {company.code}, EUR documents, 2026-02, part 'paid': "
        f"receipts × days late kept {format_minor(FEB.late_days + 1, 'EUR')} × days")

    # once stale (a newer version), the figures are not read, so not findings
    version_bump(company.pk, [date(2026, 3, 5)])
    assert check_company(company) == []
