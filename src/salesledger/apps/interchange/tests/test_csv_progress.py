"""An import tells how far it has read its file: the share done, by the bytes read over the
readings its kind makes (the invoices' import reads twice: checking, then writing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from salesledger.apps.interchange.csvio import import_file
from salesledger.apps.interchange.csvio.common import PROGRESS_LINES
from salesledger.apps.invoicing.models import Invoice

from .csv_support import write_csv

CUSTOMERS = 2 * PROGRESS_LINES + 500


def _customers(tmp_path: Path) -> Path:
    rows = "".join(f"K{n:05d},Customer {n},FR\n" for n in range(CUSTOMERS))
    return write_csv(tmp_path, "customers.csv", "code,name,country\n" + rows)


def test_an_import_reports_the_share_of_its_readings_done(csv_company: Any, csv_owner: Any,
                                                          tmp_path: Path) -> None:
    told: list[float] = []
    result = import_file(kind="customers", path=_customers(tmp_path), company=csv_company,
                         actor=csv_owner, progress=told.append)
    assert result["customers"] == CUSTOMERS
    # every thousand lines and at the end of the file; never back, and done at the end
    assert len(told) == CUSTOMERS // PROGRESS_LINES + 1
    assert told == sorted(told) and told[-1] == 1.0 and 0 < told[0] < 0.5

    told.clear()
    rows = "".join(f"d{n},K{n % 50:05d},2025-03-01,Goods,1,10.00,20\n"
                   for n in range(PROGRESS_LINES + 200))
    path = write_csv(tmp_path, "invoices.csv",
                     "ref,customer,issue_date,description,quantity,unit_price,tax_rate\n" + rows)
    result = import_file(kind="invoices", path=path, company=csv_company, actor=csv_owner,
                         progress=told.append)
    assert result["documents"] == Invoice.objects.filter(company=csv_company).count()
    # two readings: the first ends half way, the second at the end
    assert told == sorted(told) and told[-1] == 1.0
    assert 0.5 in told and any(0 < t < 0.5 for t in told) and any(0.5 < t < 1 for t in told)

