"""``credit backtest --json`` prints exactly the documented keys; ``credit predict`` lists
the open items with their method; a day after --until is refused, not a traceback."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from salesledger.cli.main import main

pytestmark = pytest.mark.django_db

D = date(2025, 5, 15)
KNOWN = date(2025, 9, 30)


@pytest.fixture
def story(make_customer: Any, post_invoice: Any) -> None:
    make_customer("A")
    post_invoice("A", lines=[("Work", "1", "100.00", "0")], issue_date=date(2025, 4, 7),
                 terms="NET30")


def test_the_cli_backtest_prints_exactly_the_documented_json(
        story: None, company: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["credit", "backtest", "--as-of", D.isoformat(), "--until",
                 KNOWN.isoformat(), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data) == ["as_of", "invoices", "model", "baseline"]
    assert list(data["model"]) == ["mae_days", "within_7_days", "auc"]
    assert list(data["baseline"]) == ["mae_days", "within_7_days"]
    assert data["as_of"] == D.isoformat() and data["invoices"] == 0
    assert main(["credit", "predict", "A", "--as-of", D.isoformat(), "--json"]) == 0
    [item] = json.loads(capsys.readouterr().out)["items"]
    assert (item["customer"], item["method"], item["due_date"]) == ("A", "median",
                                                                    "2025-05-07")
    assert main(["credit", "backtest", "--as-of", D.isoformat(), "--until",
                 D.isoformat()]) == 2
    assert "must be after" in capsys.readouterr().err
