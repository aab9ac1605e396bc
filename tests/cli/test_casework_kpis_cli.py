"""``report kpis`` with the KPIs collections gives reporting (disputes, promises): the worked
example of docs/design/kpis.md ("Disputes and promises"), written through the services
(``apps/collections/tests/test_kpis.py``), in JSON and in the text's second table."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from salesledger.apps.collections.tests.test_kpis import example
from salesledger.apps.customers.models import Customer
from salesledger.cli.main import main

__all__ = ["example"]
pytestmark = pytest.mark.django_db


def test_the_kpis_at_the_command_line(example: None, company: Any, owner: Any,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["report", "kpis", "--company", company.code, "--user", owner.username,
            "--months", "2", "--as-of", "2026-04-30"]
    assert main([*argv, "--json"]) == 0
    mar, apr = json.loads(capsys.readouterr().out)["months"]
    assert (mar["dispute_rate"], mar["dispute_amount_rate"], mar["days_to_resolve"],
            mar["promise_kept_rate"], mar["promises_due"]) == ("50.0", "27.5", "19.5", "66.7", 3)
    assert (apr["dispute_rate"], apr["days_to_resolve"], apr["promise_kept_rate"]) == (
        None, "21.0", "0.0")
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "disputed %" in text and "promises kept %" in text
    [row] = [line.split() for line in text.splitlines() if line.startswith("2026-03")][1:]
    assert row == ["2026-03", "50.0", "27.5", "19.5", "2", "66.7", "3"]


def test_the_casework_kpis_in_the_csv_and_the_workbook(
        example: None, company: Any, owner: Any, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    """The same figures as the JSON, in columns after the company's KPIs: text in the CSV,
    numbers in the workbook; empty for a set of customers (they are the whole company's)."""
    from openpyxl import load_workbook

    argv = ["report", "kpis", "--company", company.code, "--user", owner.username,
            "--months", "2", "--as-of", "2026-04-30"]
    path = tmp_path / "kpis.csv"
    assert main([*argv, "--csv", str(path)]) == 0
    mar, apr = list(csv.DictReader(path.open(encoding="utf-8")))
    assert (mar["dispute_rate"], mar["dispute_amount_rate"], mar["days_to_resolve"],
            mar["disputes_closed"], mar["promise_kept_rate"], mar["promises_due"]) == (
        "50.0", "27.5", "19.5", "2", "66.7", "3")
    assert (apr["dispute_rate"], apr["days_to_resolve"], apr["promise_kept_rate"]) == (
        "", "21.0", "0.0")
    # no bank statements in the example: no lines, no rate
    assert (mar["bank_lines"], mar["auto_match_rate"]) == ("0", "")
    book = tmp_path / "kpis.xlsx"
    assert main([*argv, "--xlsx", str(book)]) == 0
    ws = load_workbook(book).worksheets[0]
    head = [c.value for c in ws[1]]
    row = {h: c.value for h, c in zip(head, ws[2], strict=True)}
    assert (row["month"], row["dispute_rate"], row["days_to_resolve"],
            row["promises_due"]) == ("2026-03", 50, 19.5, 3)
    [customer] = sorted(_customers(company))[:1]
    assert main([*argv, "--customer", customer, "--csv", str(path)]) == 0
    mine = list(csv.DictReader(path.open(encoding="utf-8")))
    assert mine[0]["dispute_rate"] == "" and mine[0]["bank_lines"] == ""


def _customers(company: Any) -> list[str]:
    return list(Customer.objects.filter(company=company).values_list("code", flat=True))


def test_the_casework_kpis_in_the_monthly_pack(
        example: None, company: Any, owner: Any, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    """The pack's table of the casework per month: the months of the worked example, read
    back from the PDF, in English and in French."""
    from salesledger.apps.documents.tests.conftest import pdf_text

    path = tmp_path / "pack.pdf"
    argv = ["report", "pack", "--company", company.code, "--user", owner.username,
            "--month", "2026-04", "--pdf", str(path)]
    assert main(argv) == 0
    text = pdf_text(path.read_bytes())
    # (the narrow columns break "auto-matched" after its hyphen)
    assert ("Casework and bank matching per month month auto- matched % auto- matched amount "
            "% disputed % disputed amount % days to resolve disputes closed promises kept % "
            "promises due") in text
    # March: half the invoices disputed (27.5 % of the amount), 19.5 days to resolve the two
    # closed, two of three promises kept; no bank lines: no auto-match rate
    assert "2026-03 – – 50.0 27.5 19.5 2 66.7 3" in text
    assert "2026-04 – – – – 21.0 1 0.0 1" in text
    assert main([*argv, "--language", "fr"]) == 0
    text = pdf_text(path.read_bytes())
    assert "Litiges, promesses et rapprochement bancaire par mois" in text
    assert "en litige %" in text and "promesses tenues %" in text
