"""VAT rounded per line, and exempt lines, as every posting path issues them, proven with the
official EN 16931 validation.

Every path that posts a document (a draft posted, bulk posting, the CSV import of invoices,
the recurring run) computes its totals with one pure function and checks it with one
checker; these tests post the same documents through each path and validate what comes out:

- VAT rounded per line that would drift a VAT group more than one unit from its taxable
  amount x rate (three lines of 105 JPY at 10 %, two hundred lines of 1.05 EUR at 10 %)
  gives e-invoices that pass BR-CO-17 and BR-S-09, whose lines add up to the VAT breakdown;
- a document whose exempt lines give different exemption reasons is refused on every path,
  naming the lines (EN 16931 has one VAT breakdown, one reason, per category); the same
  lines with one reason post and validate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from salesledger.apps.interchange.csvio import import_file
from salesledger.apps.invoicing.einvoice import einvoice_build
from salesledger.apps.invoicing.models import Invoice
from salesledger.apps.invoicing.posting.check import BulkDoc
from salesledger.apps.invoicing.services import documents_post_bulk
from salesledger.apps.recurring.services import ScheduleInput, recurring_add, recurring_run
from salesledger.domain.errors import EInvoiceRuleBroken, ImportFailed, LedgerError
from salesledger.domain.invoicing import LineInput
from salesledger.formats.einvoice import write_cii, write_ubl

from .scenarios import DAY, Books, line
from .validator import Validator

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def books(seller: Any, owner: Any) -> Books:
    return Books(seller, owner)


# ---------------------------------------------------------------- the four paths
def _single(b: Books, customer: str, lines: list[LineInput], tmp: Path, **kw: Any) -> Invoice:
    return b.post(customer, lines, **kw)


def _bulk(b: Books, customer: str, lines: list[LineInput], tmp: Path, **kw: Any) -> Invoice:
    c = b.customer(customer)
    [pk] = documents_post_bulk(actor=b.owner, company=b.company, docs=[BulkDoc(
        customer_id=c.pk, kind="invoice", issue_date=DAY, currency=kw.get("currency", "EUR"),
        rate=kw.get("rate", D(1)), lines=lines, po_number=kw.get("po_number", ""))])
    return Invoice.objects.get(pk=pk)


def _csv(b: Books, customer: str, lines: list[LineInput], tmp: Path, **kw: Any) -> Invoice:
    rows = ["ref,customer,issue_date,currency,rate,po_number,description,quantity,unit_price,"
            "tax_rate,tax_category,exemption_reason"]
    for li in lines:
        rows.append(",".join([
            "A", customer, DAY.isoformat(), kw.get("currency", ""), str(kw.get("rate", "")),
            kw.get("po_number", ""), li.description, str(li.quantity), str(li.unit_price),
            str(li.tax_rate), li.tax_category, f'"{li.exemption_reason}"']))
    path = tmp / "invoices.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    try:
        import_file(kind="invoices", path=path, company=b.company, actor=b.owner)
    except ImportFailed as exc:  # the document's problem, with the code posting gives
        [problem] = exc.problems
        assert (problem.line, problem.code) == (2, "einvoice_rule_broken")
        raise LedgerError(problem.reason) from exc
    return Invoice.objects.get(company=b.company, customer__code=customer)


def _recurring(b: Books, customer: str, lines: list[LineInput], tmp: Path, **kw: Any
               ) -> Invoice:
    b.customer(customer)
    recurring_add(actor=b.owner, company=b.company, as_of=DAY, data=ScheduleInput(
        customer_code=customer, lines=lines, every="1 month", start=DAY, count=1,
        currency=kw.get("currency", ""), rate=kw.get("rate"),
        po_number=kw.get("po_number", "")))
    summary = recurring_run(actor=b.owner, company=b.company, as_of=DAY)
    if summary.problems:
        problem = summary.problems[0]
        raise LedgerError(f"{problem['code']}: {problem['message']}")
    return Invoice.objects.get(company=b.company, customer__code=customer)


PATHS: dict[str, Callable[..., Invoice]] = {
    "single": _single, "bulk": _bulk, "csv": _csv, "recurring": _recurring}


def _valid(validator: Validator, books: Books, inv: Invoice) -> Any:
    doc = einvoice_build(company=books.company, invoice=inv)
    for report in (validator.ubl(write_ubl(doc), peppol=False), validator.cii(write_cii(doc))):
        assert report.ok, str(report)
    return doc


# ---------------------------------------------------------------- rounding per line
@pytest.mark.parametrize("path", list(PATHS))
def test_three_lines_of_105_yen_at_10_percent_make_a_valid_e_invoice(
        path: str, books: Books, validator: Validator, tmp_path: Path) -> None:
    # given a company that rounds VAT per line (the default) and a customer billed in yen
    assert books.company.tax_rounding == "per_line"
    books.customer("JP1", country="JP", currency="JPY")
    # when three lines of 105 JPY at 10 % are posted (10.5 JPY of VAT each)
    inv = PATHS[path](books, "JP1", [line("Adapter", "1", "105", "10")] * 3, tmp_path,
                      currency="JPY", rate=D("0.0061"), po_number="JP-1")
    # then the VAT is 32 JPY, not 33, and the lines add up to it
    assert (inv.net, inv.tax, inv.total) == (315, 32, 347)
    assert sorted(li.tax for li in inv.lines.all()) == [10, 11, 11]
    # and the e-invoice passes the official rules (BR-CO-17, BR-S-09 among them)
    doc = _valid(validator, books, inv)
    assert [(b.taxable_amount, b.tax_amount) for b in doc.vat_breakdown] == [(D(315), D(32))]


def test_the_validator_refuses_the_vat_that_rounding_per_line_alone_gave(
        books: Books, validator: Validator) -> None:
    # The same document with 33 JPY of VAT, the sum of the lines rounded one by one: the
    # official rules refuse it, so the bound the product keeps is theirs.
    books.customer("JP1", country="JP", currency="JPY")
    inv = books.post("JP1", [line("Adapter", "1", "105", "10")] * 3, currency="JPY",
                     rate=D("0.0061"), po_number="JP-1")
    doc = einvoice_build(company=books.company, invoice=inv)
    [group] = doc.vat_breakdown
    drifted = replace(doc, vat_breakdown=(replace(group, tax_amount=D(33)),),
                      totals=replace(doc.totals, tax_total=D(33), tax_inclusive=D(348),
                                     payable=D(348)))
    assert {"BR-CO-17", "BR-S-09"} <= set(validator.cii(write_cii(drifted)).fatal)
    assert "BR-CO-17" in validator.ubl(write_ubl(drifted), peppol=False).fatal


def test_two_hundred_lines_of_1_05_euro_at_10_percent_make_a_valid_e_invoice(
        books: Books, validator: Validator) -> None:
    books.customer("FR1", tax_id="FR44732829320")
    inv = books.post("FR1", [line("Screw", "1", "1.05", "10")] * 200, po_number="PO-1")
    assert (inv.net, inv.tax) == (21000, 2100)  # 22.00 EUR summed per line, 21.00 now
    assert sum(li.tax for li in inv.lines.all()) == inv.tax
    doc = _valid(validator, books, inv)
    assert [b.tax_amount for b in doc.vat_breakdown] == [D("21.00")]


# ---------------------------------------------------------------- exemption reasons
TWO_REASONS = [
    line("Training", "2", "450.00", "0", category="E",
         reason="Exonération de TVA, article 261-4-4° du CGI"),
    line("Medical care", "1", "80.00", "0", category="E", reason="VATEX-EU-132 Medical care"),
    line("Service", "1", "100.00", "20"),
]


@pytest.mark.parametrize("path", list(PATHS))
def test_exempt_lines_with_two_reasons_are_refused_on_every_path(
        path: str, books: Books, tmp_path: Path) -> None:
    books.customer("FR2", tax_id="FR44732829320")
    with pytest.raises(LedgerError) as refused:
        PATHS[path](books, "FR2", TWO_REASONS, tmp_path, po_number="PO-2")
    text = str(refused.value.message)
    assert "BR-E-01" in text and "Lines 1 and 2 are exempt" in text, text
    assert "line 1: 'Exonération" in text and "line 2: 'VATEX-EU-132 Medical care'" in text
    if path in ("single", "bulk"):  # the import and the run report it with its code
        assert isinstance(refused.value, EInvoiceRuleBroken)
        assert refused.value.fields["rule"] == "BR-E-01"
    assert not Invoice.objects.filter(company=books.company, customer__code="FR2",
                                      seq__isnull=False).exists()


def test_exempt_lines_with_one_reason_post_and_validate(books: Books,
                                                        validator: Validator) -> None:
    books.customer("FR2", tax_id="FR44732829320")
    reason = "VATEX-EU-132 Medical care"
    inv = books.post("FR2", [line("Consultation", "1", "80.00", "0", category="E",
                                  reason=reason),
                             line("Blood test", "2", "35.00", "0", category="E",
                                  reason="VATEX-EU-132  Medical care"),  # spaces aside
                             line("Report copy", "1", "5.00", "0", category="E")],
                     po_number="PO-3")
    doc = _valid(validator, books, inv)
    [exempt] = [b for b in doc.vat_breakdown if b.category == "E"]
    assert (exempt.exemption_code, exempt.exemption_reason) == ("VATEX-EU-132", "Medical care")


def test_the_refusal_holds_when_the_e_invoice_of_migrated_history_is_written(
        books: Books, tmp_path: Path) -> None:
    # given a document of another system, brought in with its number (not checked then)
    books.customer("FR2", tax_id="FR44732829320")
    path = tmp_path / "history.csv"
    path.write_text(
        "number,customer,issue_date,description,quantity,unit_price,tax_rate,tax_category,"
        "exemption_reason\n"
        + "".join(f"OLD-1,FR2,{DAY},{li.description},{li.quantity},{li.unit_price},"
                  f"{li.tax_rate},{li.tax_category},\"{li.exemption_reason}\"\n"
                  for li in TWO_REASONS), encoding="utf-8")
    import_file(kind="invoices", path=path, company=books.company, actor=books.owner)
    inv = Invoice.objects.get(company=books.company, number="OLD-1")
    # when its e-invoice is written, then it is refused as posting would refuse it
    with pytest.raises(EInvoiceRuleBroken, match="BR-E-01"):
        einvoice_build(company=books.company, invoice=inv)
    assert inv.issue_date == date(2025, 3, 10)
