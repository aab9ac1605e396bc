"""``report aging --segment`` and ``report kpis --segment``: the aging and the KPIs per
customer group (parent) and per size band (A, B, C by the year's sales), whose parts add up to
the company's figures (docs/design/reporting.md, "Segments")."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.support import run, run_json

pytestmark = pytest.mark.django_db

AS_OF = "2026-03-31"


@pytest.fixture
def books(capsys: pytest.CaptureFixture[str]) -> None:
    """A group HQ with a subsidiary SUB, two customers on their own; sales over the year:
    HQ 6,000, SUB 2,500, SOLO 1,000, TINY 500 (10,000 in all)."""
    assert run(capsys, "init", "--company", "acme", "--owner", "alice")[0] == 0
    steps: list[tuple[str, ...]] = [
        ("customer", "add", "--code", "HQ", "--name", "Head office", "--country", "FR"),
        ("customer", "add", "--code", "SUB", "--name", "Subsidiary", "--country", "FR",
         "--parent", "HQ"),
        ("customer", "add", "--code", "SOLO", "--name", "Solo", "--country", "FR"),
        ("customer", "add", "--code", "TINY", "--name", "Tiny", "--country", "FR")]
    for code, day, amount in (("HQ", "2026-01-10", "6000"), ("SUB", "2026-01-20", "2500"),
                              ("SOLO", "2026-02-15", "1000"), ("TINY", "2026-03-20", "500")):
        steps.append(("invoice", "create", "--customer", code, "--date", day,
                      "--line", f"Audit;1;{amount};0", "--post", "--as-of", day))
    steps += [("receipt", "record", "--customer", "HQ", "--amount", "1000",
               "--date", "2026-02-19"),
              ("receipt", "allocate", "RCT2026-00001", "--auto", "--as-of", "2026-02-19")]
    for argv in steps:
        code, _, err = run(capsys, *argv)
        assert code == 0, (argv, err)


def _amount(m: dict[str, str]) -> Decimal:
    return Decimal(m["amount"])


def test_aging_by_group_and_by_size(capsys: pytest.CaptureFixture[str], books: None,
                                    tmp_path: Path) -> None:
    out = run_json(capsys, "report", "aging", "--as-of", AS_OF, "--segment", "group")
    assert out["segment"] == "group"
    groups = {s["segment"]: s for s in out["segments"]}
    # SUB's items are in its parent's group; the head office is its own group's
    assert set(groups) == {"HQ", "SOLO", "TINY"}
    assert groups["HQ"]["customers"] == 2
    assert _amount(groups["HQ"]["total"]) == Decimal("7500.00")  # 6,000 − 1,000 + 2,500
    assert groups["HQ"]["total"]["currency"] == "EUR"
    total = _amount(out["total"])
    assert sum(_amount(s["total"]) for s in out["segments"]) == total == Decimal("9000.00")
    for k, bucket in enumerate(out["buckets"]):
        assert sum(_amount(s["buckets"][k]) for s in out["segments"]) == _amount(
            bucket["amount"])
    # the same total as the report per customer
    assert _amount(run_json(capsys, "report", "aging", "--as-of", AS_OF)["total"]) == total

    by_size = run_json(capsys, "report", "aging", "--as-of", AS_OF, "--segment", "size")
    bands = {s["segment"]: s for s in by_size["segments"]}
    # HQ has 60 % of the sales (A), SUB brings A to 85 % (B), then SOLO is 95 % (C)...
    # HQ: nothing before it, A; SUB: 60 % before it, A; SOLO: 85 %, B; TINY: 95 %, C
    assert [s["segment"] for s in by_size["segments"]] == ["A", "B", "C"]
    assert _amount(bands["A"]["total"]) == Decimal("7500.00")
    assert _amount(bands["B"]["total"]) == Decimal("1000.00")
    assert _amount(bands["C"]["total"]) == Decimal("500.00")

    path = tmp_path / "segments.csv"
    code, text, _ = run(capsys, "report", "aging", "--as-of", AS_OF, "--segment", "size",
                        "--csv", str(path))
    assert code == 0 and "3 segments" in text
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert [(r["size"], r["total"], r["currency"]) for r in rows] == [
        ("A", "7500.00", "EUR"), ("B", "1000.00", "EUR"), ("C", "500.00", "EUR")]


def test_kpis_by_segment_add_up_to_the_companys(capsys: pytest.CaptureFixture[str],
                                                books: None, tmp_path: Path) -> None:
    whole = run_json(capsys, "report", "kpis", "--months", "3", "--as-of", AS_OF)["months"]
    for by, names in (("group", ["HQ", "SOLO", "TINY"]), ("size", ["A", "B", "C"])):
        out = run_json(capsys, "report", "kpis", "--months", "3", "--as-of", AS_OF,
                       "--segment", by)
        assert out["segment"] == by
        assert [s["segment"] for s in out["segments"]] == names
        for k, month in enumerate(whole):
            for field in ("sales", "receivable_end", "current_end", "paid", "bad_debt"):
                parts = [_amount(s["months"][k]["inputs"][field]) for s in out["segments"]]
                assert sum(parts) == _amount(month["inputs"][field]), (by, k, field)
    out = run_json(capsys, "report", "kpis", "--months", "3", "--as-of", AS_OF,
                   "--segment", "group")
    hq: dict[str, Any] = {s["segment"]: s for s in out["segments"]}["HQ"]
    jan, feb, _ = hq["months"]
    assert _amount(jan["inputs"]["sales"]) == Decimal("8500.00")  # HQ and SUB
    assert _amount(feb["inputs"]["paid"]) == Decimal("1000.00")
    path = tmp_path / "kpis.csv"
    assert run(capsys, "report", "kpis", "--months", "3", "--as-of", AS_OF,
               "--segment", "size", "--csv", str(path))[0] == 0
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert [(r["size"], r["month"]) for r in rows][:3] == [
        ("A", "2026-01"), ("A", "2026-02"), ("A", "2026-03")]


def test_bad_segment_and_detail_together_are_refused(capsys: pytest.CaptureFixture[str],
                                                     books: None) -> None:
    with pytest.raises(SystemExit) as refused:  # argparse's own refusal of a choice
        run(capsys, "report", "aging", "--segment", "region")
    assert refused.value.code == 2 and "--segment" in capsys.readouterr().err
    code, _, err = run(capsys, "report", "aging", "--segment", "group", "--detail")
    assert code == 2 and "--detail" in err and "Traceback" not in err


def test_segments_in_a_workbook(capsys: pytest.CaptureFixture[str], books: None,
                                tmp_path: Path) -> None:
    """``--segment`` with ``--xlsx`` writes the segments' rows (they were refused once)."""
    from openpyxl import load_workbook

    for report, segment, names in (("aging", "group", {"HQ", "SOLO", "TINY"}),
                                   ("kpis", "size", {"A", "B", "C"})):
        path = tmp_path / f"{report}.xlsx"
        code, _, err = run(capsys, "report", report, "--as-of", AS_OF, "--segment", segment,
                           "--xlsx", str(path))
        assert code == 0, err
        rows = list(load_workbook(path).worksheets[0].iter_rows(values_only=True))
        cells = {str(v) for row in rows for v in row if v is not None}
        assert names <= cells, (report, rows[:5])


def test_aging_and_unapplied_filtered_by_group_and_collector(
        capsys: pytest.CaptureFixture[str], books: None, tmp_path: Path) -> None:
    # the HQ group: HQ and its subsidiary SUB, not the others
    out = run_json(capsys, "report", "aging", "--as-of", AS_OF, "--group", "HQ")
    assert [c["customer"] for c in out["customers"]] == ["HQ", "SUB"]
    assert _amount(out["total"]) == Decimal("7500.00")
    detail = run_json(capsys, "report", "aging", "--as-of", AS_OF, "--group", "HQ",
                      "--detail")
    assert {i["customer"] for i in detail["items"]} == {"HQ", "SUB"}
    # a group and a customer outside it: nothing, reported as zero in the company currency
    none = run_json(capsys, "report", "aging", "--as-of", AS_OF, "--group", "HQ",
                    "--customer", "SOLO")
    assert none["customers"] == [] and none["total"] == {"amount": "0.00", "currency": "EUR"}
    # a collector's customers (given to bob with worklist assign)
    for argv in (("user", "add", "bob", "--role", "collector"),
                 ("worklist", "assign", "SOLO", "TINY", "bob"),
                 ("user", "add", "cy", "--role", "collector")):
        code, _, err = run(capsys, *argv)
        assert code == 0, (argv, err)
    mine = run_json(capsys, "report", "aging", "--as-of", AS_OF, "--collector", "bob")
    assert [c["customer"] for c in mine["customers"]] == ["SOLO", "TINY"]
    assert _amount(mine["total"]) == Decimal("1500.00")
    nobody = run_json(capsys, "report", "aging", "--as-of", AS_OF, "--collector", "cy")
    assert nobody["customers"] == [] and _amount(nobody["total"]) == 0
    # unapplied cash of TINY (bob's): in bob's list and not in the HQ group's
    code, _, err = run(capsys, "receipt", "record", "--customer", "TINY", "--amount", "80",
                       "--date", "2026-03-25")
    assert code == 0, err
    cash = run_json(capsys, "report", "unapplied", "--as-of", AS_OF, "--collector", "bob")
    assert [(i["customer"], i["open"]["amount"]) for i in cash["items"]] == [("TINY", "80.00")]
    assert run_json(capsys, "report", "unapplied", "--as-of", AS_OF, "--group",
                    "HQ")["items"] == []
    for args, said in ((("--group", "NOPE"), "NOPE"),
                       (("--collector", "zoe"), "--collector zoe: not a user of acme")):
        code, _, err = run(capsys, "report", "aging", *args)
        assert code == 2 and said in err and "Traceback" not in err


def test_trends_by_group_and_by_size(capsys: pytest.CaptureFixture[str], books: None,
                                     tmp_path: Path) -> None:
    whole = run_json(capsys, "report", "trends", "--as-of", AS_OF, "--months", "3")
    by_group = run_json(capsys, "report", "trends", "--as-of", AS_OF, "--months", "3",
                        "--by", "group")
    assert [(c["cohort"], c["group"], c["items"]) for c in by_group["cohorts"]] == [
        ("2026-01", "HQ", 2), ("2026-02", "SOLO", 1), ("2026-03", "TINY", 1)]
    by_size = run_json(capsys, "report", "trends", "--as-of", AS_OF, "--months", "3",
                       "--by", "size")
    # bands of 31 March: HQ A (60 %), SUB A (85 % after HQ's 60), SOLO B, TINY C
    assert [(c["cohort"], c["size"], c["items"]) for c in by_size["cohorts"]] == [
        ("2026-01", "A", 2), ("2026-02", "B", 1), ("2026-03", "C", 1)]
    # the segments' items and amounts add up to each cohort's
    for month in whole["cohorts"]:
        parts = [c for c in by_size["cohorts"] if c["cohort"] == month["cohort"]]
        assert sum(c["items"] for c in parts) == month["items"]
        assert sum(_amount(c["amount"]) for c in parts) == _amount(month["amount"])
    path = tmp_path / "trends.csv"
    assert run(capsys, "report", "trends", "--as-of", AS_OF, "--by", "group", "--csv",
               str(path))[0] == 0
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert rows[0][:3] == ["cohort", "group", "items"] and rows[1][1] == "HQ"
