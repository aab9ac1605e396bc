"""The pure rules of payment prediction: the backtest's measures worked by hand, the default
rule, the median fallback, and training rows that see nothing after their day."""

from __future__ import annotations

from datetime import date, timedelta

from salesledger.domain.payment_prediction import (
    FEATURES,
    HORIZON_DAYS,
    PERIODS,
    Item,
    Ledger,
    Payer,
    auc,
    average_delay,
    mae_days,
    median_spread,
    not_before,
    person_periods,
    survival,
    survival_quantiles,
    survived_spread,
    training_payers,
    training_rows,
    within_days,
)

D = date(2025, 6, 30)


def test_mae_and_share_within_seven_days_by_hand() -> None:
    actual = [date(2025, 7, 1), date(2025, 7, 10), date(2025, 8, 1)]
    predicted = [date(2025, 7, 4), date(2025, 7, 20), date(2025, 7, 25)]
    # errors 3, 10, 7 days
    assert mae_days(predicted, actual) == 20 / 3
    assert within_days(predicted, actual) == 2 / 3
    assert mae_days([], []) is None and within_days([], []) is None


def test_auc_by_hand() -> None:
    # positives score 0.9 and 0.4, negatives 0.5, 0.2, 0.1: of the six pairs the positive
    # ranks higher in five
    assert auc([0.9, 0.5, 0.4, 0.2, 0.1], [True, False, True, False, False]) == 5 / 6
    assert auc([0.3, 0.3], [True, False]) == 0.5  # a tie counts half
    assert auc([0.1, 0.9], [False, True]) == 1.0
    assert auc([0.1, 0.9], [True, True]) is None  # one kind only


def test_what_counts_as_a_default() -> None:
    due = date(2025, 1, 31)
    paid_late = Item(1, "A", "I1", date(2025, 1, 1), due, 100, settled_on=due + timedelta(91))
    paid = Item(2, "A", "I2", date(2025, 1, 1), due, 100, settled_on=due + timedelta(90))
    lost = Item(3, "A", "I3", date(2025, 1, 1), due, 100, written_off_on=date(2025, 3, 1))
    open_ = Item(4, "A", "I4", date(2025, 1, 1), due, 100)
    assert paid_late.defaulted(D) is True and paid.defaulted(D) is False
    assert lost.defaulted(D) is True
    assert open_.defaulted(due + timedelta(days=90)) is None  # not yet known
    assert open_.defaulted(due + timedelta(days=91)) is True


def test_fallback_and_baseline() -> None:
    s = median_spread([5, 10, 30], [0, 0, 0, 100])
    assert (s.expected, s.p10, s.p90) == (10, 6, 26)
    assert median_spread([], [2, 4]).expected == 3  # the company's without any own delay
    assert median_spread([], []).expected == 0  # the due date
    assert average_delay([5, 10, 30], [0]) == 15 and average_delay([], [1, 3]) == 2
    # an item open on the day is never expected on or before it
    assert not_before(date(2025, 6, 1), 10, D) == D + timedelta(days=1)
    assert not_before(date(2025, 6, 25), 10, D) == date(2025, 7, 5)


def test_an_item_still_open_is_judged_by_the_delays_that_outlasted_it() -> None:
    own, company = [-5, 0, 10, 20, 60], [1, 2, 3, 45, 90]
    # not due yet (5 days to go): paying 5 days early is ruled out, the rest stand
    assert survived_spread(own, company, -5).expected == 15
    # 15 days overdue: only 20 and 60 outlasted it
    assert survived_spread(own, company, 15).expected == 40
    # later than any of its own: the company's that were later still
    assert survived_spread(own, company, 70).expected == 90
    # later than anyone's: every delay (the day after, once ``not_before`` has its say)
    assert survived_spread(own, company, 100).expected == 10
    # the features: days left by the median of the survivors, their share, the latest's
    assert survival(own, 15) == (25.0, 0.4, 25.0)
    assert survival(own, 60) == (-1.0, 0.0, -1.0)


def _ledger(as_of: date) -> Ledger:
    items = []
    for k in range(30):
        issued = date(2024, 1, 1) + timedelta(days=12 * k)
        due = issued + timedelta(days=30)
        paid = due + timedelta(days=k % 20)
        items.append(Item(k, "A", f"I{k}", issued, due, 1000 + k,
                          settled_on=paid if paid <= as_of else None))
    return Ledger(as_of=as_of, items=items, payers={"A": Payer("A", date(2024, 1, 1))})


def test_training_rows_see_nothing_after_their_day() -> None:
    ledger = _ledger(D)
    rows = training_rows(ledger)
    assert rows and all(r.day <= D - timedelta(days=HORIZON_DAYS) for r in rows)
    history = FEATURES.index("history")
    by_id = {i.id: i for i in ledger.items}
    for r in rows:
        # the history a row sees is what was settled by its day, no more
        settled = sum(1 for i in ledger.items if i.settled_on and i.settled_on <= r.day)
        assert r.features[history] == settled
        assert by_id[r.item].open_on(r.day)
        assert len(r.features) == len(FEATURES)
    # a later ledger gives the same rows for the same days, except for outcomes it knows
    later = {(r.item, r.day): r.features for r in training_rows(_ledger(D + timedelta(400)))}
    assert all(later[(r.item, r.day)] == r.features for r in rows)
    # what a row was watched for: to the ledger's day, or to its write-off
    for r in rows:
        it = by_id[r.item]
        assert r.watched == ((it.written_off_on or D) - r.day).days


def test_the_survival_models_periods_and_quantiles_by_hand() -> None:
    assert PERIODS[:4] == (0, 3, 7, 10)
    # settled 8 days after it was seen: open through [0, 3) and [3, 7), settled in [7, 10)
    assert person_periods(8, 100) == [(0, False), (1, False), (2, True)]
    # not settled, watched 5 days: it was seen open in [0, 3) and [3, 7), nothing later
    assert person_periods(None, 5) == [(0, False), (1, False)]
    assert person_periods(None, 3) == [(0, False)]
    assert person_periods(None, 0) == []
    # settled on the day a period starts counts in that period
    assert person_periods(7, 10) == [(0, False), (1, False), (2, True)]
    # half are settled in [0, 3), half of the rest in [3, 7), then nobody: 3 in 4 are paid
    # within the periods, and the quantiles are of those: the median at 3 * 0.5 / 0.5 ...
    hazards = [0.5, 0.5] + [0.0] * (len(PERIODS) - 3)
    low, mid, high = survival_quantiles(hazards, (0.1, 0.5, 0.9))
    # settled by the end of [0, 3): 0.5 of 0.75 (two thirds); by the end of [3, 7): all
    assert low == 0.1 * 0.75 / 0.5 * 3
    assert mid == 0.5 * 0.75 / 0.5 * 3
    assert high == 3 + (0.9 * 0.75 - 0.5) / 0.25 * 4
    assert low <= mid <= high
    # nobody paid within the periods: the last edge
    assert survival_quantiles([0.0] * (len(PERIODS) - 1), (0.5,)) == [float(PERIODS[-1])]


def test_a_predicted_date_moves_to_a_day_receipts_arrive_on() -> None:
    from salesledger.domain.payment_prediction import paying_day, paying_weekdays

    weekdays_only = [date(2026, 3, 2) + timedelta(days=k) for k in range(200)
                     if (date(2026, 3, 2) + timedelta(days=k)).weekday() < 5]
    seen = paying_weekdays(weekdays_only)
    assert seen == frozenset(range(5))
    saturday = date(2026, 12, 19)
    assert paying_day(saturday, seen) == date(2026, 12, 21)  # the Monday after
    assert paying_day(date(2026, 12, 18), seen) == date(2026, 12, 18)
    # too little history says nothing of a weekday: every day stays
    assert paying_weekdays(weekdays_only[:10]) == frozenset(range(7))
    assert paying_day(saturday, paying_weekdays(weekdays_only[:10])) == saturday


def test_the_customers_own_fit_sees_its_drift_and_its_large_invoices() -> None:
    from salesledger.domain.payment_prediction import Item, fitted_delay

    start = date(2025, 1, 1)
    # paying 20 days later every year, and 16 days later for an invoice four times the usual
    history = [(start + timedelta(days=30 * k), 100 if k % 2 else 400,
                round(20 * 30 * k / 365) + (16 if k % 2 == 0 else 0)) for k in range(24)]
    item = Item(1, "C", "I", start + timedelta(days=30 * 24), start + timedelta(days=750), 100)
    average = sum(d for _, _, d in history) / len(history)
    fitted = fitted_delay(history, item, usual=100)
    truth = 20 * 30 * 24 / 365  # a usual invoice, two years on
    assert fitted is not None and abs(fitted - truth) < abs(average - truth) / 2
    large = fitted_delay(history, Item(2, "C", "I", item.issue_date, item.due_date, 400), 100)
    assert large is not None and large > fitted + 10  # and large invoices take longer
    assert fitted_delay(history[:2], item, usual=100) is None  # too little history


def test_a_large_ledger_trains_on_a_fixed_draw_of_whole_customers() -> None:
    """Past a number of items, a training learns from whole customers drawn by a hash of
    their codes until their items reach it: the same draw whatever the order of the books,
    every row of a drawn customer and none of the others'."""
    as_of = date(2026, 6, 30)
    items = [Item(id=c * 100 + k, customer=f"C{c:03d}", invoice=f"I{c}-{k}",
                  issue_date=date(2025, 1, 6) + timedelta(days=20 * k),
                  due_date=date(2025, 2, 5) + timedelta(days=20 * k), amount=10000,
                  settled_on=date(2025, 2, 15) + timedelta(days=20 * k))
             for c in range(40) for k in range(1 + c % 4)]  # 1 to 4 items each: 100
    payers = {i.customer: Payer(i.customer, date(2025, 1, 6)) for i in items}
    ledger = Ledger(as_of=as_of, items=items, payers=payers)
    assert training_payers(ledger, 100) is None  # all of them fit: no draw
    drawn = training_payers(ledger, 30)
    assert drawn is not None and 0 < len(drawn) < 40
    counts = {c: sum(1 for i in items if i.customer == c) for c in payers}
    total = sum(counts[c] for c in drawn)
    # the fewest customers, in the draw's order, whose items reach 30
    assert 30 <= total < 30 + max(counts.values())
    backwards = Ledger(as_of=as_of, items=items[::-1], payers=payers)
    assert training_payers(backwards, 30) == drawn
    rows = training_rows(ledger, drawn)
    assert {r.item for r in rows} == {i.id for i in items if i.customer in drawn}
    assert [r for r in training_rows(ledger) if r.item in {r.item for r in rows}] == rows


def test_promises_and_plans_collections_recorded_by_the_day_are_features() -> None:
    """Promises kept and broken and plans broken within the year up to the day seen: one
    recorded after the day, or more than a year before it, is not seen."""
    as_of = date(2025, 6, 30)
    item = Item(id=1, customer="A", invoice="I1", issue_date=date(2025, 4, 1),
                due_date=date(2025, 5, 1), amount=10000)
    signals = {"A": [(date(2024, 5, 1), "promise_broken"), (date(2025, 3, 3), "promise_kept"),
                     (date(2025, 5, 5), "promise_broken"), (date(2025, 6, 2), "plan_broken"),
                     (date(2025, 6, 10), "promise_broken")],
               "B": [(date(2025, 5, 5), "promise_broken")]}
    ledger = Ledger(as_of=as_of, items=[item], payers={"A": Payer("A", date(2025, 4, 1))},
                    signals=signals)
    at = [FEATURES.index(f) for f in ("promises_kept", "promises_broken", "plans_broken")]

    def seen(day: date) -> list[float]:
        f = ledger.features(item, day)
        return [f[k] for k in at]

    assert seen(date(2025, 6, 5)) == [1.0, 1.0, 1.0]  # 2024-05-01 is over a year before
    assert seen(date(2025, 6, 10)) == [1.0, 2.0, 1.0]
    assert seen(date(2025, 5, 4)) == [1.0, 0.0, 0.0]
    # without collections' signals the features are all nought
    bare = Ledger(as_of=as_of, items=[item], payers={"A": Payer("A", date(2025, 4, 1))})
    assert [bare.features(item, date(2025, 6, 10))[k] for k in at] == [0.0, 0.0, 0.0]
