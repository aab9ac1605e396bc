"""``receipt allocate DOCUMENT`` allocates a receipt or a credit note by what the document is,
not by how its number looks: a credit note imported with the number another system gave it
(docs/csv-formats.md) need not start with ``CN``."""

from __future__ import annotations

import pytest

from tests.support import run, run_json

pytestmark = pytest.mark.django_db

HISTORY = """number,kind,customer,issue_date,description,quantity,unit_price,tax_rate
F-2025-001,invoice,C1,2025-03-10,Consulting,1,100.00,20
AV-2025-001,credit_note,C1,2025-03-12,Goodwill,1,20.00,20
"""


@pytest.fixture
def books(capsys, tmp_path):
    """A company whose invoice and credit note kept the numbers of the system before."""
    assert run(capsys, "init", "--company", "acme", "--owner", "alice")[0] == 0
    assert run(capsys, "customer", "add", "--code", "C1", "--name", "Dupont",
               "--country", "FR")[0] == 0
    path = tmp_path / "history.csv"
    path.write_text(HISTORY, encoding="utf-8")
    done = run_json(capsys, "import", "invoices", str(path))
    assert (done["invoices"], done["credit_notes"]) == (1, 1)


def test_a_credit_note_is_allocated_whatever_its_number(capsys, books):
    rows = run_json(capsys, "receipt", "allocate", "AV-2025-001", "--invoice",
                    "F-2025-001=24.00", "--as-of", "2025-03-15")
    assert [(r["invoice"], r["amount"]["amount"]) for r in rows] == [("F-2025-001", "24.00")]
    shown = run_json(capsys, "invoice", "show", "F-2025-001", "--as-of", "2025-03-15")
    assert shown["open"] == {"amount": "96.00", "currency": "EUR"}


def test_a_policy_allocates_receipts_only(capsys, books):
    code, out, err = run(capsys, "receipt", "allocate", "AV-2025-001", "--policy",
                         "oldest_first", "--as-of", "2025-03-15")
    assert (code, out) == (2, "")
    assert err == ("invalid: policies allocate receipts; allocate a credit note "
                   "with --invoice NUMBER=AMOUNT or --auto\n")
