"""A business moves its receivables history in from another system, with the command line
and three CSV files: customers, invoices known only by their totals with their own due dates
(opening items, one of them payable in two instalments), and the receipts that settled them.
The ledger must then give back, on any day, exactly what the old system's history says: what
each customer owed and how many days late each unpaid amount was. The expected figures are
computed here from the history table itself, not read from the ledger."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.support import run, run_json

pytestmark = pytest.mark.django_db

CUSTOMERS = """\
code,name,country,billing_line1,billing_city
0379-NSVTF,Harbour Foods Ltd,GB,1 Quay Street,Bristol
1080-NDGAE,Dupont SA,FR,1 rue de la Paix,Paris
2820-XGXSB,Meier GmbH,DE,Hauptstr. 1,Berlin
"""

# The old system's history: invoice number, customer, invoice date, due dates and amounts
# (one, or two instalments), total, and the settlements (date, amount) it recorded.
HISTORY = [
    ("611365", "0379-NSVTF", "2024-01-02", [("2024-02-01", "1187.85")], "1187.85",
     [("2024-01-15", "1187.85")]),
    ("7900770", "0379-NSVTF", "2024-01-26", [("2024-02-25", "33.60")], "33.60",
     [("2024-03-03", "33.60")]),
    ("9231909", "1080-NDGAE", "2024-07-03", [("2024-08-02", "806.87")], "806.87",
     [("2024-08-17", "806.87")]),
    ("9888306", "1080-NDGAE", "2024-09-30", [("2024-10-30", "1430.00")], "1430.00",
     [("2024-10-25", "500.00"), ("2024-11-20", "930.00")]),
    ("15752235", "2820-XGXSB", "2024-10-01", [("2024-10-31", "500.00"),
                                               ("2024-11-30", "499.99")], "999.99",
     [("2024-11-05", "500.00"), ("2024-12-10", "499.99")]),
    ("3797847", "2820-XGXSB", "2024-11-20", [("2024-12-20", "2210.40")], "2210.40", []),
]
DAYS = ["2024-01-31", "2024-02-20", "2024-03-01", "2024-08-10", "2024-10-31", "2024-11-10",
        "2024-12-05", "2024-12-31"]


def _files(tmp_path: Path) -> tuple[Path, Path, Path]:
    invoices = ["kind,number,customer,issue_date,due_date,due_amount,total,description"]
    receipts = ["customer,date,amount,invoice,memo"]
    for number, customer, issued, dues, total, paid in HISTORY:
        dates = "|".join(d for d, _ in dues)
        amounts = "|".join(a for _, a in dues) if len(dues) > 1 else ""
        invoices.append(f"opening,{number},{customer},{issued},{dates},{amounts},{total},"
                        f"Invoice {number} of the old system")
        receipts += [f"{customer},{day},{amount},{number},settles {number}"
                     for day, amount in paid]
    paths = []
    for name, text in (("customers.csv", CUSTOMERS), ("invoices.csv", "\n".join(invoices)),
                       ("receipts.csv", "\n".join(receipts))):
        path = tmp_path / name
        path.write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
        paths.append(path)
    return paths[0], paths[1], paths[2]


def _expected(day: date) -> tuple[dict[str, Decimal], list[tuple[str, int, str, int]]]:
    """From the history alone: balance per customer, and the open instalments (number,
    instalment, open amount, days late) on ``day``; payments settle the oldest first."""
    balances: dict[str, Decimal] = defaultdict(Decimal)
    items = []
    for number, customer, issued, dues, _total, paid in HISTORY:
        if date.fromisoformat(issued) > day:
            continue
        money = sum((Decimal(a) for d, a in paid if date.fromisoformat(d) <= day), Decimal(0))
        for seq, (due, amount) in enumerate(dues, start=1):
            taken = min(money, Decimal(amount))
            money -= taken
            left = Decimal(amount) - taken
            if left:
                balances[customer] += left
                late = max((day - date.fromisoformat(due)).days, 0)
                items.append((number, seq, f"{left:.2f}", late))
    return {c: b for c, b in balances.items() if b}, sorted(items)


def test_a_legacy_history_comes_in_exact(capsys, tmp_path):
    assert run(capsys, "init", "--company", "acme", "--owner", "alice", "--name", "Acme")[0] == 0
    customers, invoices, receipts = _files(tmp_path)
    assert run_json(capsys, "import", "customers", str(customers))["customers"] == 3
    result = run_json(capsys, "import", "invoices", str(invoices))
    assert (result["documents"], result["opening_items"]) == (len(HISTORY), len(HISTORY))
    result = run_json(capsys, "import", "receipts", str(receipts))
    assert result["receipts"] == sum(len(h[5]) for h in HISTORY)

    for text in DAYS:
        day = date.fromisoformat(text)
        balances, items = _expected(day)
        got = run_json(capsys, "balance", "--as-of", text)
        assert {c["customer"]: Decimal(c["balance"]["amount"]) for c in got["customers"]
                if Decimal(c["balance"]["amount"])} == balances, text
        got_items = run_json(capsys, "open-items", "--as-of", text)
        assert all(i["type"] == "instalment" for i in got_items), got_items
        assert sorted((i["document"], i["seq"], i["open"]["amount"], i["days_overdue"])
                      for i in got_items) == items, text

    # On the last day: one invoice open, eleven days late; the rest settled to the cent.
    assert _expected(date(2024, 12, 31))[1] == [("3797847", 1, "2210.40", 11)]
    code, out, _ = run(capsys, "open-items", "--as-of", "2024-12-31")
    assert (code, out.splitlines()[1].split()) == (0, [
        "2820-XGXSB", "instalment", "3797847", "1", "2024-12-20", "2210.40", "EUR", "11"])
    shown = run_json(capsys, "invoice", "show", "3797847")
    assert (shown["kind"], shown["opening"], shown["tax"]["amount"], shown["lines"][0][
        "tax_category"]) == ("invoice", True, "0.00", "O")
    code, out, _ = run(capsys, "invoice", "show", "3797847")
    assert "invoice (opening item)" in out.splitlines()[1]
    # Nothing of the history reached sales or output tax; the books balance.
    from salesledger.apps.ledger.models import JournalLine

    roles = set(JournalLine.objects.values_list("account__role", flat=True))
    assert roles == {"receivable", "opening_balances", "bank", "unapplied_cash"}
    assert run(capsys, "check") == (0, "acme: ok\n", "")


def test_open_items_days_late_follow_the_given_due_date_not_the_terms(capsys, tmp_path):
    """The company's default terms (30 days) would make invoice 7900770 due on 2024-02-25
    too; this one is given a due date the terms would never give."""
    assert run(capsys, "init", "--company", "acme", "--owner", "alice", "--name", "Acme")[0] == 0
    (tmp_path / "c.csv").write_text(CUSTOMERS, encoding="utf-8")
    run_json(capsys, "import", "customers", str(tmp_path / "c.csv"))
    (tmp_path / "i.csv").write_text(
        "kind,number,customer,issue_date,due_date,total\n"
        "opening,X-1,1080-NDGAE,2024-01-02,2024-01-12,100.00\n", encoding="utf-8")
    run_json(capsys, "import", "invoices", str(tmp_path / "i.csv"))
    day = date(2024, 1, 12) + timedelta(days=7)
    [item] = run_json(capsys, "open-items", "--as-of", day.isoformat())
    assert (item["due_date"], item["days_overdue"]) == ("2024-01-12", 7)
