"""Explain the difference between two files of ``bench/written_rows.py`` when the allocations'
journal entries are shared (one per request) in one and not in the other.

    .venv/bin/python bench/written_rows_diff.py BEFORE.jsonl AFTER.jsonl

Prints each table whose rows differ and checks that the only difference is the one decided
(docs/decisions.md, "One journal entry per allocation batch"):

* every table but the journal's, the allocations' and the adjustments' is the same;
* the allocations and the adjustments are the same but for ``journal_entry_id`` (the ids of
  the entries written after the first shared one move);
* the journal entries that are not of kind ``allocation`` are the same, lines included, but
  for their ids;
* each ``allocation`` entry of AFTER books what the entries of BEFORE of its allocations
  booked: the same lines per account, customer, currency and day, summed, with the same day.

Exits 1, saying what, if anything else differs.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

Tables = dict[str, tuple[list[str], list[list[Any]]]]


def load(path: Path) -> Tables:
    out: Tables = {}
    name = ""
    for text in path.read_text().splitlines():
        row = json.loads(text)
        # a table's header: its name and its columns (a row is a list of values)
        if (len(row) == 2 and isinstance(row[0], str) and isinstance(row[1], list)
                and all(isinstance(c, str) for c in row[1]) and row[0] not in out):
            name = row[0]
            out[name] = (row[1], [])
        else:
            out[name][1].append(row)
    return out


def without(columns: list[str], rows: list[list[Any]], *drop: str) -> Counter[str]:
    keep = [n for n, c in enumerate(columns) if c not in drop]
    return Counter(json.dumps([r[k] for k in keep]) for r in rows)


def dicts(table: tuple[list[str], list[list[Any]]]) -> list[dict[str, Any]]:
    return [dict(zip(table[0], r, strict=True)) for r in table[1]]


def entries(t: Tables) -> tuple[dict[int, dict[str, Any]], dict[int, list[dict[str, Any]]]]:
    by_id = {e["id"]: e for e in dicts(t["ledger_journalentry"])}
    lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for li in dicts(t["ledger_journalline"]):
        lines[li["entry_id"]].append(li)
    return by_id, lines


def booked(lines: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    """Lines summed per account, customer, currency and day."""
    out: Counter[tuple[Any, ...]] = Counter()
    for li in lines:
        key = (li["account_id"], li["customer_id"], li["currency"], li["date"])
        out[(*key, "amount")] += li["amount"]
        out[(*key, "amount_currency")] += li["amount_currency"]
    return Counter({k: v for k, v in out.items() if v})


def main() -> None:
    before, after = load(Path(sys.argv[1])), load(Path(sys.argv[2]))
    problems: list[str] = []
    for name in sorted(set(before) | set(after)):
        a, b = before.get(name, ([], [])), after.get(name, ([], []))
        if without(*a) != without(*b):
            print(f"{name}: {len(a[1])} rows before, {len(b[1])} after")
    for name in sorted(set(before) | set(after)):
        if name in ("ledger_journalentry", "ledger_journalline", "payments_allocation",
                    "payments_adjustment"):
            continue
        if without(*before.get(name, ([], []))) != without(*after.get(name, ([], []))):
            problems.append(f"{name} differs")
    for name in ("payments_allocation", "payments_adjustment"):
        if without(*before[name], "journal_entry_id") != without(*after[name],
                                                                  "journal_entry_id"):
            problems.append(f"{name} differs beyond journal_entry_id")
    (ea, la), (eb, lb) = entries(before), entries(after)

    def plain(es: dict[int, dict[str, Any]], ls: dict[int, list[dict[str, Any]]]
              ) -> Counter[str]:
        return Counter(json.dumps([e["date"], e["kind"], e["memo"], e["source_type"],
                                   e["source_id"], e["company_id"], sorted(
                                       json.dumps([li[c] for c in sorted(li)
                                                   if c not in ("id", "entry_id")])
                                       for li in ls[pk])])
                       for pk, e in es.items() if e["kind"] != "allocation")

    if plain(ea, la) != plain(eb, lb):
        problems.append("journal entries other than allocations' differ")
    # each allocation, known by its row without ids, to its entry in each file
    key_cols = ("date", "currency", "amount", "base_unapplied", "base_receivable",
                "credit_note_id", "customer_id", "instalment_id", "receipt_id",
                "source_amount", "reversal_of_id", "adjustment_id")
    entry_before = {tuple(r[c] for c in key_cols): r["journal_entry_id"]
                    for r in dicts(before["payments_allocation"])}
    shared: dict[int, list[int]] = defaultdict(list)
    for r in dicts(after["payments_allocation"]):
        if r["journal_entry_id"] is not None and eb[r["journal_entry_id"]]["kind"] == \
                "allocation":
            shared[r["journal_entry_id"]].append(entry_before[tuple(r[c] for c in key_cols)])
    for entry_id, old in shared.items():
        if booked(lb[entry_id]) != booked([li for pk in old for li in la[pk]]):
            problems.append(f"allocation entry {entry_id} books other amounts than {old}")
    counted = [pk for old in shared.values() for pk in old]
    if sorted(counted) != sorted(pk for pk, e in ea.items() if e["kind"] == "allocation"):
        problems.append("allocation entries before are not each those of one entry after")
    sizes = Counter(len(old) for old in shared.values())
    print(f"allocation entries: {len(counted)} before, {len(shared)} after "
          f"(allocations per entry after: {dict(sorted(sizes.items()))}); journal lines "
          f"{len(before['ledger_journalline'][1])} before, "
          f"{len(after['ledger_journalline'][1])} after")
    for p in problems:
        print("PROBLEM:", p)
    if problems:
        raise SystemExit(1)
    print("every difference is the allocation entries shared")


if __name__ == "__main__":
    main()
