"""Benchmark: candidates for the payment-date model measured on every backtest at once.

    .venv/bin/python bench/bench_predict_blend.py collect /tmp/ledgers /tmp/parts
    .venv/bin/python bench/bench_predict_blend.py compare /tmp/parts --label round

``collect`` takes the ledgers that ``bench_predict_replay.py keep`` pickled (each backtest
day and 2026-11-20) and, for each backtest, in a process of its own (``--jobs`` at once),
trains the model as ``backtest_ledgers`` does and keeps what a candidate needs: the three
medians of the days left (the two regressions and the survival curve) and the features of
every item open on the day, the same three on the training rows with their targets and
weights, and each item's outcome and baseline. ``compare`` then measures every candidate of
``CANDIDATES`` (ways to combine the three medians, per-customer corrections, the
regressions refitted with other trees) on every backtest kept, with the backtest's own
measure (dates moved to paying weekdays, the mean absolute error against each customer's
average delay), and prints a table of the ratios (the target: at most 0.8 on each) and its
record (``bench/results/predict-blend-LABEL-*.json``). The survival model, the costly part
of a training, is fitted once per backtest; a candidate that refits the regressions costs
seconds, not a whole backtest. ``v6`` reproduces ``bench_predict_replay.py replay``.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_import import machine  # noqa: E402

LAST = "2026-11-20"


def collect_one(path: Path, known: Path, out: Path) -> None:
    import numpy as np
    import sklearn.ensemble  # noqa: F401
    from threadpoolctl import threadpool_limits

    from salesledger.apps.credit import prediction as P
    from salesledger.domain import payment_prediction as D

    with path.open("rb") as fh:
        past = pickle.load(fh)
    with known.open("rb") as fh:
        later = pickle.load(fh)
    cpu = time.process_time()
    day = past.as_of
    rows = D.training_rows(past, D.training_payers(past, P.MAX_TRAINING_ITEMS))
    timed = [r for r in rows if r.days_to_settle is not None]
    labelled = [r for r in rows if r.defaulted is not None]
    customers = {i.id: i.customer for i in past.items}
    todo = [i for i in past.items if i.open_on(day)]

    def survival_medians(model: Any, x: Any) -> Any:
        hazards = np.column_stack(
            [
                model.survival.predict_proba(P._with_period(x, np.full(len(x), float(s))))[:, 1]
                for s in D.PERIODS[:-1]
            ]
        )
        return np.array([D.survival_quantiles(h, (0.5,))[0] for h in hazards.tolist()])

    with threadpool_limits(limits=P.THREADS):
        model = P._fit(day, rows, timed, labelled, customers)
        x = np.array([past.features(i, day) for i in todo], dtype=float)
        xt = np.array([r.features for r in timed], dtype=float)
        took = np.array([r.days_to_settle for r in timed], dtype=float)
        windows = np.sort(np.array([(day - r.day).days for r in rows], dtype=float))
        seen = 1.0 - np.searchsorted(windows, took, side="left") / len(windows)
        weights = np.array([P.recency_weight(day, r.day) for r in timed]) / np.maximum(
            seen, P.MIN_SEEN
        )
        parts = {
            "x": x,
            "regs": [m.predict(x) + x[:, b] for m, b in zip(model.medians, P.BASES, strict=True)],
            "surv": survival_medians(model, x),
            "xt": xt,
            "took": took,
            "wt": weights,
            "regs_t": [
                m.predict(xt) + xt[:, b] for m, b in zip(model.medians, P.BASES, strict=True)
            ],
            "surv_t": survival_medians(model, xt),
        }
    cpu = time.process_time() - cpu
    company = P._company_delays(past, day)
    outcome = {i.id: i for i in later.items}
    items = []
    for it in todo:
        o = outcome[it.id]
        own = past.delays(it.customer, day)
        paid = o.settled_on if o.settled_on is not None and o.written_off_on is None else None
        items.append(
            {
                "customer": it.customer,
                "settled": paid,
                "own": own,
                "baseline": D.not_before(it.due_date, D.average_delay(own, company), day),
            }
        )
    parts.update(
        ledger=path.stem.rsplit("-", 3)[0],
        as_of=day,
        features=D.FEATURES,
        items=items,
        weekdays=D.paying_weekdays([d for c in past.payers for d in past.settled_days(c, day)]),
        t_customer=[customers[r.item] for r in timed],
        t_item=[r.item for r in timed],
        t_day=[r.day for r in timed],
        cpu=cpu,
    )
    with out.open("wb") as fh:
        pickle.dump(parts, fh)


def collect(folder: Path, out: Path, jobs: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    todo = []
    for known in sorted(folder.glob(f"*-{LAST}.pkl")):
        stem = known.name[: -len(f"-{LAST}.pkl")]
        todo += [(p, known) for p in sorted(folder.glob(f"{stem}-*.pkl")) if p != known]
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="salesledger.config.settings")
    running: list[subprocess.Popen[bytes]] = []
    while todo or running:
        while todo and len(running) < jobs:
            p, known = todo.pop(0)
            running.append(
                subprocess.Popen(
                    [sys.executable, __file__, "one", str(p), str(known), str(out / p.name)],
                    env=env,
                )
            )
        if running[0].wait() != 0:
            raise SystemExit(f"a collection failed with exit code {running[0].returncode}")
        running.pop(0)


# ---------------------------------------------------------------- the measure
def ratio(c: dict[str, Any], days_left: Any) -> float:
    """The backtest's ratio for these days left (model MAE / baseline MAE)."""
    from salesledger.domain import payment_prediction as D

    day = c["as_of"]
    guessed, actual, baseline = [], [], []
    for k, it in enumerate(c["items"]):
        if it["settled"] is None:
            continue
        guessed.append(
            D.paying_day(day + timedelta(days=max(1, round(float(days_left[k])))), c["weekdays"])
        )
        actual.append(it["settled"])
        baseline.append(it["baseline"])
    model, base = D.mae_days(guessed, actual), D.mae_days(baseline, actual)
    return float("nan") if model is None or not base else model / base


# ---------------------------------------------------------------- the candidates
def feature(c: dict[str, Any], name: str) -> Any:
    return c["x"][:, c["features"].index(name)]


def blend(c: dict[str, Any], w: tuple[float, float, float], train: bool = False) -> Any:
    regs, surv = (c["regs_t"], c["surv_t"]) if train else (c["regs"], c["surv"])
    return w[0] * regs[0] + w[1] * regs[1] + w[2] * surv


THIRD = (1 / 3, 1 / 3, 1 / 3)


def median3(c: dict[str, Any]) -> Any:
    import numpy as np

    return np.median(np.column_stack([c["regs"][0], c["regs"][1], c["surv"]]), axis=1)


def shrunk_residual(
    c: dict[str, Any], k: float, mean: bool = False, latest: int | None = None
) -> Any:
    """Version 6 plus each customer's (weighted) median residual on its training rows,
    shrunk towards none by ``k`` items: a per-customer level the trees missed."""
    import numpy as np

    residual = c["took"] - blend(c, THIRD, train=True)
    rows: dict[str, list[int]] = defaultdict(list)
    for j, customer in enumerate(c["t_customer"]):
        rows[customer].append(j)
    shift = {}
    for customer, js in rows.items():
        idx = np.array(sorted(js, key=lambda j: c["t_day"][j]))
        if latest:
            idx = idx[-latest:]
        r, w = residual[idx], c["wt"][idx]
        if mean:
            level = float(np.sum(w * r) / np.sum(w))
        else:
            order = np.argsort(r)
            cw = np.cumsum(w[order])
            level = float(r[order][np.searchsorted(cw, cw[-1] / 2)])
        n = len({c["t_item"][j] for j in idx})
        shift[customer] = level * n / (n + k)
    base = blend(c, THIRD)
    return np.array([base[i] + shift.get(it["customer"], 0.0) for i, it in enumerate(c["items"])])


def steady(c: dict[str, Any], target: str, scale: float, k: float = 5, latest: int = 10) -> Any:
    """Version 6 drawn towards one of the customer's own estimates (``target``) the more
    steady its latest delays are (their median absolute deviation against ``scale`` days)
    and the more of them there are."""
    import numpy as np

    out = blend(c, THIRD).copy()
    towards = feature(c, target)
    for i, it in enumerate(c["items"]):
        own = np.array(it["own"][-latest:], dtype=float)
        if len(own) < 3:
            continue
        spread = float(np.median(np.abs(own - np.median(own))))
        w = 1 / (1 + (spread / scale) ** 2) * len(own) / (len(own) + k)
        out[i] = (1 - w) * out[i] + w * towards[i]
    return out


def refit(
    c: dict[str, Any], bases: tuple[str, ...] = ("habit_days_left", "fitted_left"), **trees: Any
) -> Any:
    """The regressions refitted on the same rows, targets and weights with other trees or
    bases; the date the mean of them and the survival model's median."""
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingRegressor

    settings = {
        "max_iter": 300,
        "learning_rate": 0.05,
        "max_leaf_nodes": 31,
        "min_samples_leaf": 20,
        **trees,
    }
    medians = []
    for name in bases:
        b = c["features"].index(name)
        fitted = HistGradientBoostingRegressor(
            loss="quantile", quantile=0.5, random_state=0, **settings
        ).fit(c["xt"], c["took"] - c["xt"][:, b], sample_weight=c["wt"])
        medians.append(fitted.predict(c["x"]) + c["x"][:, b])
    return (np.sum(medians, axis=0) + c["surv"]) / (len(medians) + 1)


Candidate = Callable[[dict[str, Any]], Any]
CANDIDATES: dict[str, Candidate] = {
    "v6 (the mean of the three medians)": lambda c: blend(c, THIRD),
    "median of the three": median3,
    "weights 1/4, 1/4, 1/2 (survival)": lambda c: blend(c, (0.25, 0.25, 0.5)),
    "weights 2/5, 2/5, 1/5": lambda c: blend(c, (0.4, 0.4, 0.2)),
    "weights 1/2 habit, 1/5 fit, 3/10": lambda c: blend(c, (0.5, 0.2, 0.3)),
    "weights 1/5 habit, 1/2 fit, 3/10": lambda c: blend(c, (0.2, 0.5, 0.3)),
    "customer residual, median, k 5": lambda c: shrunk_residual(c, 5),
    "customer residual, median, k 10": lambda c: shrunk_residual(c, 10),
    "customer residual, median, k 20": lambda c: shrunk_residual(c, 20),
    "customer residual, mean, k 10": lambda c: shrunk_residual(c, 10, mean=True),
    "customer residual, latest 20 rows, k 10": lambda c: shrunk_residual(c, 10, latest=20),
    "4/5 v6 + 1/5 survivors' median": lambda c: (
        0.8 * blend(c, THIRD) + 0.2 * feature(c, "expected_left")
    ),
    "4/5 v6 + 1/5 own fit": lambda c: 0.8 * blend(c, THIRD) + 0.2 * feature(c, "fitted_left"),
    "steady towards own fit (2 days)": lambda c: steady(c, "fitted_left", 2),
    "steady towards habit (2 days)": lambda c: steady(c, "habit_days_left", 2),
    "steady towards survivors' median (2 days)": lambda c: steady(c, "expected_left", 2),
    "steady towards survivors' median (4 days)": lambda c: steady(c, "expected_left", 4),
    "regressions: 40 rows a leaf": lambda c: refit(c, min_samples_leaf=40),
    "regressions: 80 rows a leaf": lambda c: refit(c, min_samples_leaf=80),
    "regressions: 15 leaves": lambda c: refit(c, max_leaf_nodes=15),
    "regressions: a third correcting the survivors' median": lambda c: refit(
        c, ("habit_days_left", "fitted_left", "expected_left")
    ),
}


def compare(parts: Path, label: str, only: list[str]) -> None:
    import sklearn.ensemble  # noqa: F401  (loads OpenMP, which the limit then reaches)
    from threadpoolctl import threadpool_limits

    kept = []
    for p in sorted(parts.glob("*.pkl")):
        with p.open("rb") as fh:
            kept.append(pickle.load(fh))
    heads = [f"{c['ledger']} {c['as_of']}" for c in kept]
    print("| candidate | " + " | ".join(heads) + " | worst |")
    print("|---" * (len(heads) + 2) + "|")
    results: list[dict[str, Any]] = []
    target = HERE / "results" / f"predict-blend-{label}-{datetime.now():%Y%m%d-%H%M%S}.json"
    with threadpool_limits(limits=1):
        for name, candidate in CANDIDATES.items():
            if only and not any(o in name for o in only):
                continue
            cpu = time.process_time()
            ratios = [ratio(c, candidate(c)) for c in kept]
            results.append(
                {
                    "candidate": name,
                    "ratios": dict(zip(heads, ratios, strict=True)),
                    "cpu_seconds": round(time.process_time() - cpu, 1),
                }
            )
            print(
                f"| {name} | "
                + " | ".join(f"{r:.3f}" for r in ratios)
                + f" | **{max(ratios):.3f}** |",
                flush=True,
            )
            # the record so far, after each candidate: a run stopped early keeps what it measured
            record = {
                "benchmark": "predict-blend",
                "label": label,
                "candidates": results,
                "collect_cpu_seconds": {
                    h: round(c["cpu"], 1) for h, c in zip(heads, kept, strict=True)
                },
                "machine": machine(),
                "load_average": os.getloadavg(),
                "date": datetime.now().strftime("%Y-%m-%d %H:%M"),
            }
            target.write_text(json.dumps(record, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    k = sub.add_parser("collect")
    k.add_argument("ledgers", type=Path)
    k.add_argument("out", type=Path)
    k.add_argument("--jobs", type=int, default=2)
    r = sub.add_parser("compare")
    r.add_argument("parts", type=Path)
    r.add_argument("--label", default="run")
    r.add_argument("--only", action="append", default=[], help="candidates whose name has it")
    o = sub.add_parser("one")
    o.add_argument("path", type=Path)
    o.add_argument("known", type=Path)
    o.add_argument("out", type=Path)
    args = parser.parse_args()
    if args.mode == "collect":
        collect(args.ledgers, args.out, args.jobs)
    elif args.mode == "compare":
        compare(args.parts, args.label, args.only)
    else:
        import django

        django.setup()
        collect_one(args.path, args.known, args.out)


if __name__ == "__main__":
    main()
