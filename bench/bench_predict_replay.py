"""Benchmark: the payment-date model's backtests on ledgers read once, replayed.

    .venv/bin/python bench/bench_predict_replay.py keep medium --seed 20261206 --out /tmp/ledgers
    .venv/bin/python bench/bench_predict_replay.py replay /tmp/ledgers

``keep`` loads a generated ledger as ``bench_predict.py`` does (``demo_load`` into a fresh
SQLite database; ``--seed 20261123`` is the demo's), reads the ledger of each backtest day
(``--as-of``, default 2026-03-31 and 2026-05-31) and of 2026-11-20 with ``ledger_as_of``, and
pickles them (``SIZE-SEED-DAY.pkl``). ``replay`` runs ``backtest_ledgers`` (what ``credit
backtest --as-of D --until 2026-11-20`` runs once it has read the two ledgers: the same
training, predictions, paying weekdays and baseline) on every ledger and day kept in the
folder, each in a process of its own (``--jobs`` at once), and prints one JSON object per
backtest and a table: the model's and the baseline's mean absolute error, their ratio, the
AUC, and the CPU seconds of the backtest (``time.process_time()`` of its process). The
eight backtests of docs/design/payment-prediction.md are the four ledgers (demo, medium,
small, held out) on the two days.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_import import bench_database, machine  # noqa: E402

# "test": the 40 customers of tests/db/test_payment_model_demo.py (``--seed 5 --as-of
# 2026-06-30``), whose backtest guards the 0.8 target in CI.
SIZES = {"test": 40, "small": 100, "medium": 300, "large": 1_000}
LAST = date(2026, 11, 20)
DAYS = ("2026-03-31", "2026-05-31")


def keep(size: str, seed: int, days: list[date], out: Path) -> None:
    with bench_database(None):
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from salesledger.apps.core.selectors import company_get
        from salesledger.apps.credit.prediction import ledger_as_of
        from salesledger.apps.interchange.demo import demo_load

        demo_load(code="bench", customers=SIZES[size], seed=seed, today=LAST)
        company = company_get("bench")
        out.mkdir(parents=True, exist_ok=True)
        for day in [*days, LAST]:
            with (out / f"{size}-{seed}-{day}.pkl").open("wb") as fh:
                pickle.dump(ledger_as_of(company, day), fh)


def one(path: Path, known: Path) -> dict[str, Any]:
    from salesledger.apps.credit.prediction import MODEL_VERSION, backtest_ledgers

    with path.open("rb") as fh:
        past = pickle.load(fh)
    with known.open("rb") as fh:
        later = pickle.load(fh)
    cpu = time.process_time()
    result = backtest_ledgers(past, later)
    figures = result.as_dict()
    mae, base = figures["model"]["mae_days"], figures["baseline"]["mae_days"]
    return {"ledger": path.stem.rsplit("-", 3)[0], "as_of": figures["as_of"],
            "model_version": MODEL_VERSION, "items": result.invoices,
            "model_mae": mae, "baseline_mae": base,
            "ratio": round(mae / base, 3) if mae is not None and base else None,
            "auc": figures["model"]["auc"], "training_rows": result.trained_rows,
            "cpu_seconds": round(time.process_time() - cpu, 1)}


def replay(folder: Path, jobs: int, label: str) -> None:
    todo = []
    for known in sorted(folder.glob(f"*-{LAST}.pkl")):
        stem = known.name[: -len(f"-{LAST}.pkl")]
        todo += [(p, known) for p in sorted(folder.glob(f"{stem}-*.pkl")) if p != known]
    running: list[tuple[subprocess.Popen[bytes], Any]] = []
    results = []
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="salesledger.config.settings")
    while todo or running:
        while todo and len(running) < jobs:
            p, known = todo.pop(0)
            running.append((subprocess.Popen(
                [sys.executable, __file__, "one", str(p), str(known)],
                stdout=subprocess.PIPE, env=env), p))
        proc, _ = running.pop(0)
        out, _ = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"a replay failed with exit code {proc.returncode}")
        results.append(json.loads(out))
        print(out.decode().strip(), flush=True)
    results.sort(key=lambda r: (r["ledger"], r["as_of"]))
    print("| ledger | D | items | baseline MAE | model MAE | ratio | AUC | CPU s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['ledger']} | {r['as_of']} | {r['items']} | {r['baseline_mae']:.2f} | "
              f"{r['model_mae']:.2f} | **{r['ratio']:.3f}** | {r['auc']:.3f} | "
              f"{r['cpu_seconds']} |")
    record = {"benchmark": "predict-replay", "label": label, "backtests": results,
              "machine": machine(), "load_average": os.getloadavg(),
              "date": datetime.now().strftime("%Y-%m-%d %H:%M")}
    target = HERE / "results" / f"predict-replay-{label}-{datetime.now():%Y%m%d-%H%M%S}.json"
    target.write_text(json.dumps(record, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    k = sub.add_parser("keep")
    k.add_argument("size", choices=SIZES)
    k.add_argument("--seed", type=int, default=20261206)
    k.add_argument("--as-of", action="append", help="a backtest day (repeatable)")
    k.add_argument("--out", type=Path, required=True)
    r = sub.add_parser("replay")
    r.add_argument("folder", type=Path)
    r.add_argument("--jobs", type=int, default=4)
    r.add_argument("--label", default="run")
    o = sub.add_parser("one")
    o.add_argument("path", type=Path)
    o.add_argument("known", type=Path)
    args = parser.parse_args()
    if args.mode == "keep":
        keep(args.size, args.seed,
             [date.fromisoformat(d) for d in (args.as_of or DAYS)], args.out)
    elif args.mode == "replay":
        replay(args.folder, args.jobs, args.label)
    else:
        import django

        django.setup()
        print(json.dumps(one(args.path, args.known)))


if __name__ == "__main__":
    main()
