"""The CSV columns of how e-invoices identify a customer (registration number, electronic
address, direct-debit mandate) and of what a document says about its supply (delivery date,
invoicing period, contract, project, nature of the operation) and its items (BT-155,
BT-157): checked by the same pure rules as the commands, every problem named by line and
column with nothing written, and an export that imports back to the same export."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from salesledger.apps.core.services import company_profile_update
from salesledger.apps.customers.models import Customer
from salesledger.apps.interchange.csvio import export_csv, import_file
from salesledger.apps.invoicing.models import Invoice, InvoiceLine
from salesledger.apps.invoicing.tests.books import ledger_problems, make_company
from salesledger.domain.errors import ImportFailed

from .csv_support import write_csv

CUSTOMERS = """
    code,name,country,tax_id,legal_id,endpoint,mandate_reference,iban
    FR1,Dupont SA,FR,FR44732829320,732829320,0009:73282932000074,MD-0042,FR1420041010050500013M02606
    BE1,Brussels NV,BE,BE0403170701,0208:0403 170 701,9925:BE0403170701,,
    US1,Acme Inc,US,,,0088:5790000435951,,
"""

INVOICES = "\n".join((
    "number,customer,issue_date,description,quantity,unit_price,tax_rate,delivery_date,"
    "period_start,period_end,contract_reference,project_reference,supply_type,seller_item_id,"
    "standard_item_id",
    "OLD-1,FR1,2025-03-10,Maintenance,3,180.00,20,2025-03-07,2025-02-01,2025-02-28,CT-2024-17,"
    "Lyon plant,services,MNT-H,",
    "OLD-1,,,Drill,2,129.00,20,,,,,,,DR-18V,4006381333931",
    "OLD-2,BE1,2025-03-11,Router,1,89.90,21,,,,,,Goods,,0160:4006381333931",
    ""))


@pytest.fixture
def books(csv_owner: Any) -> Any:
    company = make_company(csv_owner, "supplyco", country="FR")
    company_profile_update(actor=csv_owner, company=company, creditor_id="FR72ZZZ123456")
    company.refresh_from_db()
    return company


def _import(kind: str, tmp_path: Path, text: str, company: Any, owner: Any) -> dict[str, Any]:
    return import_file(kind=kind, path=write_csv(tmp_path, f"{kind}.csv", text),
                       company=company, actor=owner)


def _problems(kind: str, tmp_path: Path, text: str, company: Any, owner: Any
              ) -> list[tuple[int, str | None, str]]:
    with pytest.raises(ImportFailed) as failed:
        _import(kind, tmp_path, text, company, owner)
    return [(p.line, p.column, p.reason) for p in failed.value.problems]


def _export(kind: str, company: Any) -> str:
    out = io.StringIO()
    export_csv(kind=kind, company=company, out=out, as_of=date(2025, 12, 31))
    return out.getvalue()


def test_the_new_columns_import_and_an_export_round_trips(books: Any, csv_owner: Any,
                                                           tmp_path: Path) -> None:
    _import("customers", tmp_path, CUSTOMERS, books, csv_owner)
    fr1 = Customer.objects.get(company=books, code="FR1")
    assert (fr1.legal_id_scheme, fr1.legal_id, fr1.endpoint_scheme, fr1.endpoint_id,
            fr1.mandate_reference) == ("0002", "732829320", "0009", "73282932000074", "MD-0042")
    be1 = Customer.objects.get(company=books, code="BE1")
    assert (be1.legal_id_scheme, be1.legal_id) == ("0208", "0403170701")  # compacted
    _import("invoices", tmp_path, INVOICES, books, csv_owner)
    old1 = Invoice.objects.get(company=books, number="OLD-1")
    assert (old1.delivery_date, old1.period_start, old1.period_end, old1.contract_reference,
            old1.project_reference, old1.supply_type) == (
        date(2025, 3, 7), date(2025, 2, 1), date(2025, 2, 28), "CT-2024-17", "Lyon plant",
        "services")
    assert old1.snapshot["supply"]["contract_reference"] == "CT-2024-17"
    assert old1.snapshot["customer"]["mandate"] == {"reference": "MD-0042",
                                                    "iban": "FR1420041010050500013M02606"}
    assert list(InvoiceLine.objects.filter(invoice=old1).values_list(
        "seller_item_id", "standard_item_scheme", "standard_item_id")) == [
        ("MNT-H", "", ""), ("DR-18V", "0160", "4006381333931")]
    assert Invoice.objects.get(company=books, number="OLD-2").supply_type == "goods"
    assert ledger_problems(books) == []
    # the export writes them as the import reads them, and imports back to itself
    exports = {k: _export(k, books) for k in ("customers", "invoices")}
    assert "FR1,Dupont SA," in exports["customers"]
    assert ",0002:732829320,0009:73282932000074,MD-0042" in exports["customers"]
    assert (",2025-03-07,2025-02-01,2025-02-28,CT-2024-17,Lyon plant,services,DR-18V,"
            "0160:4006381333931") in exports["invoices"]
    copy = make_company(csv_owner, "supplycopy", country="FR")
    company_profile_update(actor=csv_owner, company=copy, creditor_id="FR72ZZZ123456")
    copy.refresh_from_db()
    for kind in ("customers", "invoices"):
        path = tmp_path / f"{kind}-export.csv"
        path.write_text(exports[kind], encoding="utf-8")
        import_file(kind=kind, path=path, company=copy, actor=csv_owner)
    assert {k: _export(k, copy) for k in exports} == exports
    assert ledger_problems(copy) == []


def test_bad_identifiers_are_named_by_line_and_column_and_nothing_is_written(
        books: Any, csv_owner: Any, tmp_path: Path) -> None:
    text = """
        code,name,country,legal_id,endpoint,mandate_reference,iban
        A1,Bad Siren,FR,732829321,,,
        A2,Mail endpoint,FR,,EM:billing@example.com,,
        A3,Mandate no account,FR,,,MD-1,
        A4,Bad mandate,FR,,,MD#1,FR1420041010050500013M02606
        A5,Fine,FR,0002:732829320,0088:5790000435951,,
    """
    problems = _problems("customers", tmp_path, text, books, csv_owner)
    assert [(line, col) for line, col, _ in problems] == [
        (2, "legal_id"), (3, "endpoint"), (4, "mandate_reference"), (5, "mandate_reference")]
    assert "is not a valid SIREN (scheme 0002)" in problems[0][2]
    assert "needs the customer's bank account to debit" in problems[2][2]
    assert not Customer.objects.filter(company=books).exists()


def test_a_mandate_needs_the_companys_creditor_id(csv_owner: Any, tmp_path: Path) -> None:
    company = make_company(csv_owner, "nocreditor", country="FR")
    text = """
        code,name,country,mandate_reference,iban
        A1,Debited,FR,MD-1,FR1420041010050500013M02606
    """
    assert _problems("customers", tmp_path, text, company, csv_owner) == [
        (2, "mandate_reference", "a direct-debit mandate needs the company's SEPA creditor "
                                 "identifier: set it first (company set --creditor-id)")]


def test_bad_supply_details_and_item_ids_are_named_and_nothing_is_written(
        books: Any, csv_owner: Any, tmp_path: Path) -> None:
    _import("customers", tmp_path, CUSTOMERS, books, csv_owner)
    text = """
        number,customer,issue_date,description,quantity,unit_price,tax_rate,delivery_date,period_start,period_end,contract_reference,supply_type,standard_item_id
        X-1,FR1,2025-03-10,A,1,10,20,2025-02-30,,,,,
        X-2,FR1,2025-03-10,B,1,10,20,,2025-03-01,2025-02-01,,,
        X-3,FR1,2025-03-10,C,1,10,20,,,,,barter,
        X-4,FR1,2025-03-10,D,1,10,20,,,,,,4006381333932
        X-5,FR1,2025-03-10,E,1,10,20,,,,,services,
        X-5,,,F,1,10,20,,,,,goods,
        X-6,FR1,2025-03-10,G,1,10,20,,,,{long},,
    """.replace("{long}", "C" * 61)
    problems = _problems("invoices", tmp_path, text, books, csv_owner)
    assert [(line, col) for line, col, _ in problems] == [
        (2, "delivery_date"), (3, "period_end"), (4, "supply_type"), (5, "standard_item_id"),
        (7, "supply_type"), (8, "contract_reference")]
    reasons = dict(((line, col), reason) for line, col, reason in problems)
    assert reasons[(2, "delivery_date")] == "2025-02-30 is not a real date"
    assert reasons[(3, "period_end")] == ("the invoicing period ends (2025-02-01) before it "
                                          "starts (2025-03-01) (EN 16931 rule BR-29)")
    assert reasons[(4, "supply_type")] == ("nature of the operation 'barter': use goods, "
                                           "services or mixed")
    assert "is not a valid GTIN" in reasons[(5, "standard_item_id")]
    assert reasons[(7, "supply_type")].startswith("goods differs from services on line 6")
    assert not Invoice.objects.filter(company=books).exists()
