"""``report kpis`` with the KPIs collections gives reporting (disputes, promises): the worked
example of docs/design/kpis.md ("Disputes and promises"), written through the services
(``apps/collections/tests/test_kpis.py``), in JSON and in the text's second table."""

from __future__ import annotations

import json
from typing import Any

import pytest

from salesledger.apps.collections.tests.test_kpis import example
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
