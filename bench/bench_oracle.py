"""Benchmark: the ceiling of the payment-date backtest on a generated ledger: an oracle that
knows how the generator draws each item's payment.

    .venv/bin/python bench/bench_oracle.py medium                       # seed 20261206
    .venv/bin/python bench/bench_oracle.py medium --seed 20261123 --model  # the demo's ledger

The ledger is the demo's seeded generator's (``apps/interchange/demo_plan.py``), loaded as
``bench_predict.py`` loads it. The plan is drawn again from the same seed, and while it is
drawn the parameters the generator keeps to itself are recorded (each customer's ``Habits``:
its level, drift, size effect, noise and holiday factor; a chronic payer's stop day): nothing
of the payments' own draws, which are the outcome. For each backtest day D (``--as-of``,
default 2026-03-31 and 2026-05-31) the items are those ``credit backtest --as-of D --until
2026-11-20`` measures (open on D, settled later, not written off). The **oracle** predicts
each item's median settlement day from the generator's rules and that customer's true
parameters, by drawing the item's payment ``--draws`` times with a fresh random source
(``_events`` and ``_payments``' rules: holiday slips, business days, monthly runs, dispute
holds, write-offs), keeping the draws that agree with what is known on D (not settled by D;
part paid by D or not, as the item was) and that are settled by 2026-11-20 (the backtest
measures paid items only). It knows more than any model can: the true parameters, not
estimates from a short history, and the dispute's outcome. So its error is a floor: a
ratio to the baseline above 0.8 says no model can reach the target on that ledger and day.

Its error, the baseline's (each customer's average delay, as the backtest computes it) and,
with ``--model``, the model's (``train`` and ``predict`` on the same ledger of D, as the
backtest does) are given over all the items and by class of item. One JSON object is printed
and written to ``bench/results/``; with ``--keep DIR`` the ledgers read are pickled there for
replays outside the database.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import statistics
import sys
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_import import bench_database, machine  # noqa: E402

SIZES = {"small": 100, "medium": 300, "large": 1_000}
LAST = date(2026, 11, 20)
DAYS = (date(2026, 3, 31), date(2026, 5, 31))
DRIFTER = 10.0  # days a year: a customer whose habit moves at least this much is a drifter


def recorded_plan(seed: int, customers: int) -> tuple[Any, dict[int, Any], dict[int, Any]]:
    """The demo plan of ``seed`` and, per customer index, its ``Habits`` and its stop day
    (chronic payers), recorded as the generator draws them (the same draws, in the same
    order: the plan is the one ``demo_load`` loads)."""
    from salesledger.apps.interchange import demo_plan

    habits: dict[int, Any] = {}
    stops: dict[int, Any] = {}
    real_habits, real_events = demo_plan._habits, demo_plan._events

    def spy_habits(rng: random.Random, customer: Any, *args: Any) -> Any:
        h = real_habits(rng, customer, *args)
        habits[customer.index] = h
        return h

    def spy_events(rng: random.Random, customer: Any, h: Any, issue: date, start: date,
                   net: float, stop: date | None) -> Any:
        stops[customer.index] = stop
        return real_events(rng, customer, h, issue, start, net, stop)

    demo_plan._habits, demo_plan._events = spy_habits, spy_events  # type: ignore[assignment]
    try:
        plan = demo_plan.build_plan(random.Random(seed), customers=customers, today=LAST)
    finally:
        demo_plan._habits, demo_plan._events = real_habits, real_events  # type: ignore
    return plan, habits, stops


def draw_settlement(rng: random.Random, plan: Any, inv: Any, customer: Any, h: Any,
                    stop: date | None, due: date) -> tuple[date | None, date | None]:
    """One draw of when an instalment of ``inv`` due on ``due`` is settled in full by
    receipts (``None``: never, by the plan's day) and when a first part of it was paid,
    by the generator's rules (``demo_plan._events`` and ``_payments``)."""
    from salesledger.apps.interchange import demo_plan

    start = plan.today - timedelta(days=demo_plan.HISTORY_DAYS)
    if inv.credited_in_full is not None:  # a dispute settled by a credit note for all of it
        return inv.credited_in_full, None
    events = [] if inv.disputed_open else demo_plan._events(
        rng, customer, h, inv.issue_date, start, demo_plan._net(inv.lines), stop)
    first_part: date | None = None
    settled: date | None = None
    for delay, share in events:
        day = due + timedelta(days=delay)
        day += timedelta(days=round(inv.seasonal * demo_plan.HOLIDAY_SLIP.get(day.month, 0)))
        day = max(day, inv.issue_date)
        if inv.pay_not_before:
            day = max(day, inv.pay_not_before)
        day = demo_plan.business_day(day)
        lost = customer.written_off
        if day > plan.today or (lost is not None and day >= lost):
            continue
        if customer.batch:
            day = min(demo_plan.month_end_business_day(day), plan.today)
        if share is None:
            settled = day
        else:
            first_part = first_part or day
    return settled, first_part


def oracle_date(plan: Any, inv: Any, customer: Any, h: Any, stop: date | None, item: Any,
                day: date, draws: int, seed: int) -> tuple[date, int]:
    """The median settlement day of the draws that agree with what is known on ``day``;
    the day after ``day`` when none does. Returns it and the draws kept."""
    rng = random.Random(f"oracle-{seed}-{item.id}")
    kept: list[int] = []
    part_paid = item.part_paid_on is not None and item.part_paid_on <= day
    tries = 0
    while len(kept) < draws and tries < draws * 40:
        tries += 1
        settled, first = draw_settlement(rng, plan, inv, customer, h, stop, item.due_date)
        if settled is None or settled <= day:
            continue
        if (first is not None and first <= day) != part_paid:
            continue
        kept.append(settled.toordinal())
    if not kept:
        return day + timedelta(days=1), 0
    return date.fromordinal(round(statistics.median_low(kept))), len(kept)


def classes(plan: Any, inv: Any, customer: Any, h: Any, item: Any) -> list[str]:
    out = [customer.behaviour]
    if customer.turns_bad is not None and inv.issue_date >= customer.turns_bad:
        out.append("turned_bad")
    if abs(h.drift) >= DRIFTER:
        out.append("drifter")
    if customer.batch:
        out.append("monthly_run")
    if inv.pay_not_before is not None or inv.disputed_open:
        out.append("disputed")
    if item.part_paid_on is not None:
        out.append("part_paid_by_day")
    return out


def measure(size: str, seed: int, days: list[date], draws: int, with_model: bool,
            keep: Path | None) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from salesledger.apps.core.selectors import company_get
    from salesledger.apps.credit.prediction import ledger_as_of, predict, train
    from salesledger.apps.interchange.demo import demo_load
    from salesledger.domain.payment_prediction import average_delay, not_before

    started = time.perf_counter()
    demo_load(code="bench", customers=SIZES[size], seed=seed, today=LAST)
    load_seconds = time.perf_counter() - started
    company = company_get("bench")
    plan, habits, stops = recorded_plan(seed, SIZES[size])
    by_code = {c.code: c for c in plan.customers}
    # Invoices were posted in the plan's order: their ids follow plan.invoices.
    from salesledger.apps.invoicing.models import Invoice

    numbers = list(Invoice.objects.filter(company=company, kind="invoice")
                   .order_by("id").values_list("number", "customer__code", "issue_date"))
    assert len(numbers) == len(plan.invoices), (len(numbers), len(plan.invoices))
    credited = {cn.corrects: cn.issue_date for cn in plan.credit_notes
                if cn.corrects is not None}
    by_number = {}
    for (number, code, issued), inv in zip(numbers, plan.invoices, strict=True):
        assert code == plan.customers[inv.customer].code and issued == inv.issue_date
        # a dispute whose outcome was "open" (or a full credit note) emptied its events
        full = not inv.events and inv.index in credited
        inv.credited_in_full = max(credited[inv.index], inv.issue_date) if full else None
        inv.disputed_open = not inv.events and not full
        by_number[number] = inv
    later = {i.id: i for i in ledger_as_of(company, LAST).items}
    out: dict[str, Any] = {"benchmark": "oracle", "size": size, "seed": seed,
                           "customers": len(plan.customers), "invoices": len(plan.invoices),
                           "draws": draws, "load_seconds": round(load_seconds, 1), "days": []}
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
        with (keep / f"{size}-{seed}-{LAST}.pkl").open("wb") as fh:
            pickle.dump(ledger_as_of(company, LAST), fh)
    for day in days:
        cpu = time.process_time()
        past = ledger_as_of(company, day)
        if keep:
            with (keep / f"{size}-{seed}-{day}.pkl").open("wb") as fh:
                pickle.dump(past, fh)
        company_delays = [d for c in past.payers for d in past.delays(c, day)]
        model_dates: dict[int, date] = {}
        model_cpu = 0.0
        if with_model:
            mcpu = time.process_time()
            model = train(past)
            model_dates = {p.item.id: p.expected for p in predict(past, model)}
            model_cpu = time.process_time() - mcpu
        err: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        empty = 0
        for item in past.items:
            if not item.open_on(day):
                continue
            outcome = later[item.id]
            if outcome.settled_on is None or outcome.written_off_on is not None:
                continue
            inv = by_number[item.invoice]
            customer = by_code[item.customer]
            h = habits[customer.index]
            guess, kept = oracle_date(plan, inv, customer, h, stops.get(customer.index),
                                      item, day, draws, seed)
            empty += kept == 0
            own = past.delays(item.customer, day)
            base = not_before(item.due_date, average_delay(own, company_delays), day)
            actual = outcome.settled_on
            for cls in ["all", *classes(plan, inv, customer, h, item)]:
                err[cls]["oracle"].append(abs((guess - actual).days))
                err[cls]["baseline"].append(abs((base - actual).days))
                if with_model:
                    err[cls]["model"].append(abs((model_dates[item.id] - actual).days))
        total_base = sum(err["all"]["baseline"])
        table = {}
        for cls, e in sorted(err.items(), key=lambda kv: -len(kv[1]["baseline"])):
            n = len(e["baseline"])
            row: dict[str, Any] = {"items": n}
            for who in ("baseline", "oracle", "model"):
                if e.get(who):
                    row[f"{who}_mae"] = round(sum(e[who]) / n, 2)
                    row[f"{who}_share_of_baseline_error"] = round(sum(e[who]) / total_base, 3)
            row["oracle_ratio"] = round(sum(e["oracle"]) / sum(e["baseline"]), 3) \
                if sum(e["baseline"]) else None
            if e.get("model"):
                row["model_ratio"] = round(sum(e["model"]) / sum(e["baseline"]), 3) \
                    if sum(e["baseline"]) else None
            table[cls] = row
        out["days"].append({"as_of": day.isoformat(), "items": len(err["all"]["baseline"]),
                            "no_draw_agreed": empty, "classes": table,
                            "cpu_seconds": round(time.process_time() - cpu, 1),
                            "model_cpu_seconds": round(model_cpu, 1)})
    out.update(load_average=os.getloadavg(), machine=machine(),
               date=datetime.now().strftime("%Y-%m-%d %H:%M"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size", choices=SIZES)
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--as-of", action="append", help="a backtest day (repeatable)")
    parser.add_argument("--draws", type=int, default=400)
    parser.add_argument("--model", action="store_true", help="the model's error beside it")
    parser.add_argument("--keep", type=Path, help="pickle the ledgers read into this folder")
    parser.add_argument("--results", default=str(HERE / "results"))
    args = parser.parse_args()
    days = [date.fromisoformat(d) for d in args.as_of] if args.as_of else list(DAYS)
    with bench_database(None):
        out = measure(args.size, args.seed, days, args.draws, args.model, args.keep)
    print(json.dumps(out))
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    (results / f"oracle-{args.size}-{args.seed}-{stamp}.json").write_text(
        json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
