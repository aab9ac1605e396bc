"""Bad input to the payment, adjustment and fx commands: always ``code: message`` on stderr
with exit status 2, never a traceback, and nothing written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import DAY

from salesledger.cli.main import main

D = [(DAY + timedelta(days=n)).isoformat() for n in range(40)]


@pytest.fixture
def books(company, make_customer, post_invoice, record_receipt):
    make_customer("C001")
    make_customer("US1", currency="USD")
    inv = post_invoice()
    receipt = record_receipt(amount="150.00", day=DAY + timedelta(days=2))
    return inv, receipt


CASES = [
    ("receipt", "allocate", "RCT-NOPE", "--invoice", "{inv}=10.00"),
    ("receipt", "allocate", "{rct}", "--invoice", "INV-NOPE=10.00"),
    ("receipt", "allocate", "{rct}", "--invoice", "{inv}=-10.00"),
    ("receipt", "allocate", "{rct}", "--invoice", "{inv}=1,50"),
    ("receipt", "allocate", "{rct}", "--invoice", "{inv}=abc"),
    ("receipt", "allocate", "{rct}", "--invoice", "{inv}"),
    ("receipt", "allocate", "{rct}", "--invoice", "{inv}=10.001"),
    ("receipt", "allocate", "{rct}", "--invoice", "{inv}=NaN"),
    ("receipt", "allocate", "{rct}", "--invoice", "{inv}=Infinity"),
    ("receipt", "allocate", "{rct}", "--invoice", "{inv}=1e400"),
    ("receipt", "allocate", "{rct}", "--invoice", "{inv}=500.00"),
    ("receipt", "allocate", "{rct}", "--invoice", "{inv}=10.00", "--rate", "0.9"),
    ("receipt", "allocate", "{rct}", "--invoice", "{inv}=10.00", "--write-off-residual"),
    ("receipt", "allocate", "{rct}", "--policy", "nonsense"),
    ("receipt", "allocate", "{rct}", "--policy", "proportional", "--invoice", "{inv}=1.00"),
    ("receipt", "refund", "{rct}", "--amount", "1,00"),
    ("receipt", "refund", "{rct}", "--amount", "-5"),
    ("receipt", "refund", "{rct}", "--amount", "500"),
    ("receipt", "refund", "{rct}", "--amount", "NaN"),
    ("receipt", "refund", "RCT-NOPE"),
    ("receipt", "refund", "{rct}", "--method", "bitcoin"),
    ("receipt", "reverse", "RCT-NOPE", "--reason", "x"),
    ("receipt", "reverse", "{rct}", "--reason", "x", "--fee", "1,00"),
    ("receipt", "reverse", "{rct}", "--reason", "x", "--fee", "-1"),
    ("receipt", "reverse", "{rct}", "--reason", "   "),
    ("refund", "reverse", "RFD-NOPE"),
    ("invoice", "write-off", "INV-NOPE", "--reason", "x"),
    ("invoice", "write-off", "{inv}", "--reason", "x", "--amount", "1,00"),
    ("invoice", "write-off", "{inv}", "--reason", "x", "--amount", "999"),
    ("invoice", "write-off", "{inv}", "--reason", "x", "--amount", "sNaN"),
    ("invoice", "adjust", "{inv}", "--kind", "write_off", "--amount", "0.50"),
    ("invoice", "adjust", "{inv}", "--kind", "deduction", "--amount", "0.50"),
    ("invoice", "recover", "{inv}", "--receipt", "{rct}"),
    ("invoice", "recover", "{inv}", "--receipt", "RCT-NOPE"),
    ("invoice", "history", "INV-NOPE"),
    ("adjustment", "reverse", "999"),
    ("adjustment", "settings", "--write-off-amount", "abc"),
    ("adjustment", "settings", "--write-off-percent", "150"),
    ("adjustment", "settings", "--write-off-percent", "NaN"),
    ("adjustment", "settings", "--write-off-amount", "Infinity"),
    ("adjustment", "list", "--customer", "NOPE"),
    ("customer", "write-off", "NOPE", "--reason", "x"),
    ("fx", "rate", "add", "USD", "abc"),
    ("fx", "rate", "add", "USD", "-1"),
    ("fx", "rate", "add", "XXX1", "0.9"),
    ("fx", "rate", "add", "EUR", "0.9"),
    ("fx", "rate", "add", "USD", "0,9"),
    ("fx", "rate", "add", "USD", "NaN"),
    ("fx", "rate", "show", "USD"),
    ("fx", "rate", "import", "/nonexistent/rates.csv"),
    ("fx", "revalue", "--rate", "USD"),
    ("fx", "revalue", "--rate", "USD=abc"),
    ("fx", "revalue", "--rate", "EUR=1"),
    ("fx", "revalue-reverse", "999"),
    ("receipt", "refund", "{rct}", "--amount", "1e400"),
    ("receipt", "refund", "{rct}", "--amount", "1e30"),
    ("invoice", "write-off", "{inv}", "--reason", "x", "--amount", "1e30"),
    ("receipt", "allocate", "{rct}", "--invoice", "{inv}=1e30"),
    ("receipt", "reverse", "{rct}", "--reason", "x", "--fee", "1e30"),
    ("adjustment", "settings", "--write-off-amount", "1e30"),
    ("receipt", "reverse", "{rct}", "--reason", "x", "--fee", "1e400"),
    ("invoice", "write-off", "{inv}", "--reason", "x", "--amount", "1e400"),
    ("invoice", "adjust", "{inv}", "--kind", "write_off", "--amount", "1e400"),
    ("invoice", "recover", "{inv}", "--receipt", "{rct}", "--amount", "1e400"),
    ("adjustment", "settings", "--write-off-amount", "1e400"),
    ("adjustment", "settings", "--write-off-percent", "1e400"),
    ("receipt", "allocate", "{rct}", "--invoice", "{inv}=1e-400"),
    ("fx", "rate", "add", "USD", "1e400"),
    ("fx", "revalue", "--rate", "USD=1e400"),
    ("receipt", "allocate", "{rct}", "--invoice", "{inv}=10.00", "--rate", "1e400"),
    ("receipt", "auto-allocate", "--policy", "manual"),
    ("receipt", "auto-allocate", "--resume", "999"),
    ("receipt", "record", "--customer", "C001", "--amount", "1e400"),
    ("receipt", "record", "--customer", "C001", "--amount", "1e30"),
    ("receipt", "record", "--customer", "C001", "--amount", "1e20"),
    ("receipt", "record", "--customer", "C001", "--amount", "10,00"),
    ("receipt", "record", "--customer", "C001", "--amount", "-10"),
    ("receipt", "record", "--customer", "C001", "--amount", "10", "--currency", "XYZ"),
    ("receipt", "record", "--customer", "C001", "--amount", "10", "--currency", "USD",
     "--rate", "abc"),
    ("receipt", "record", "--customer", "C001", "--amount", "10", "--currency", "USD",
     "--rate", "-1"),
    ("receipt", "record", "--customer", "C001", "--amount", "10", "--currency", "USD",
     "--rate", "1e400"),
    ("receipt", "record", "--customer", "C001", "--amount", "10", "--date", "2025-13-01"),
    ("receipt", "record", "--customer", "NOPE", "--amount", "10"),
    ("receipt", "record", "--customer", "C001", "--amount", "10", "--method", "gold"),
    ("receipt", "auto-allocate", "--chunk", "0"),
]


@pytest.mark.parametrize("argv", CASES, ids=[" ".join(c) for c in CASES])
def test_bad_input_is_a_clear_error(capsys, company, books, argv):
    from salesledger.apps.ledger.models import JournalEntry

    inv, receipt = books
    entries = JournalEntry.objects.count()
    args = [a.format(inv=inv.number, rct=receipt.number) for a in argv]
    try:
        code = main([*args, "--company", "acme", "--as-of", D[5]])
    except SystemExit as exc:  # argparse's own refusal of a choice: usage and exit 2
        code = exc.code
        out, err = capsys.readouterr()
        assert code == 2 and "error: argument" in err
        return
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert "Traceback" not in err
    first = err.strip().splitlines()[0] if err.strip() else ""
    assert ": " in first and " " not in first.split(":")[0], err
    assert JournalEntry.objects.count() == entries
