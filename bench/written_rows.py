"""What applying a statement writes, row by row: to compare two versions of the writing path.

    .venv/bin/python bench/bench_match.py small --books BOOKS --threshold 0.776 \
        --apply-only --no-check
    .venv/bin/python bench/written_rows.py BOOKS/match-small-20261206-sqlite OUT.jsonl

Copies the books ``bench_match.py --books`` kept (the SQLite file and its JSON), builds the
aging summary and the worklist ranking of the statement's last day on the copy (so that the
handlers of ``AllocationsMade`` and ``AdjustmentsWritten`` write too), runs ``bank_match
--auto-apply`` on its statement at the given threshold, and writes every row of every table
(the books' own included: what an update changed shows there), sorted, one JSON array per
line, leaving out only what differs from one run to the next whatever the code (the time
rows were written, and the audit chain's hashes, which cover that time). Two versions of
the code given the same books must write the same file: ``cmp A.jsonl B.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

# columns left out (they hold the time of writing, or hash it)
VOLATILE = {"created_at", "updated_at", "at", "hash", "prev_hash", "last_hash", "built_at",
            "ranked_at", "decided_at"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("books", type=Path, help="the kept books, without .sqlite3/.json")
    parser.add_argument("out", type=Path)
    parser.add_argument("--threshold", type=float, default=0.776)
    args = parser.parse_args()
    meta = json.loads(args.books.with_suffix(".json").read_text())["bench"]
    with tempfile.TemporaryDirectory(prefix="salesledger-rows-") as tmp:
        home = Path(tmp)
        (home / "var").mkdir()
        shutil.copyfile(args.books.with_suffix(".sqlite3"), home / "var" / "salesledger.sqlite3")
        os.environ.update(DJANGO_SETTINGS_MODULE="salesledger.config.settings",
                          SALESLEDGER_HOME=str(home), SALESLEDGER_SECRET_KEY="rows-not-secret")
        os.environ.pop("SALESLEDGER_DATABASE_URL", None)
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.db import connection

        from salesledger.apps.banking.matching import bank_match
        from salesledger.apps.banking.models import StatementLine
        from salesledger.apps.collections.ranking import worklist_rank_build
        from salesledger.apps.core.models import Company
        from salesledger.apps.reporting.aging_summary import summary_build

        call_command("migrate", verbosity=0)
        company = Company.objects.get(code=meta["company"])
        owner = get_user_model().objects.get(username=meta["owner"])
        last = max(StatementLine.objects.filter(company=company).values_list(
            "booking_date", flat=True))
        summary_build(company, day=last)
        worklist_rank_build(company, day=last)
        with connection.cursor() as cur:
            cur.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                        "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'django_%' ORDER BY name")
            tables = [r[0] for r in cur.fetchall()]
        results = bank_match(actor=owner, company=company, auto_apply=True,
                             threshold=args.threshold)
        applied = sum(1 for r in results if r.decision == "applied")
        with connection.cursor() as cur, args.out.open("w") as out:
            for t in tables:
                cur.execute(f'SELECT * FROM "{t}" LIMIT 0')
                names = [d[0] for d in cur.description]
                keep = [n for n, name in enumerate(names) if name not in VOLATILE]
                out.write(json.dumps([t, [names[k] for k in keep]]) + "\n")
                cur.execute(f'SELECT * FROM "{t}"')
                rows = sorted(json.dumps([row[k] for k in keep], default=str)
                              for row in cur.fetchall())
                out.writelines(r + "\n" for r in rows)
        print(json.dumps({"applied": applied, "lines": len(results), "out": str(args.out)}),
              file=sys.stderr)


if __name__ == "__main__":
    main()
