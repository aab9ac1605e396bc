"""Readers of dunning: policies, rates, and what a run reads, set-based (docs/design/dunning.md).

A run reads its items levelled in the database, one statement whatever the number of
customers (``levelled_items``: each customer's policy, its own, else its parent's, else the
company's default; each open item's level; whether it was reminded at that level already;
only the customers with something new to say), and the cash that might already pay an item.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import F, Q, Sum

from salesledger.apps.banking.models import LineMatch, LineStatus, StatementLine
from salesledger.apps.collections.selectors import TimelineEntry
from salesledger.apps.core.models import Company
from salesledger.apps.core.selectors import queued_task
from salesledger.apps.customers.models import Customer
from salesledger.apps.documents.labels import LANGUAGES
from salesledger.apps.documents.selectors import named_message_texts_each, named_texts_list
from salesledger.apps.invoicing.models import DocKind, Instalment, Invoice, Purpose
from salesledger.apps.payments.models import Receipt
from salesledger.domain.dunning import InterestRule as Rule
from salesledger.domain.dunning import Item, Level, Levelled, Policy
from salesledger.domain.errors import NotFound, ValidationFailed

from .models import (
    DunningItem,
    DunningLevel,
    DunningNotice,
    DunningPolicy,
    InterestRule,
    PolicyAssignment,
    ReferenceRate,
)


def level_of_row(row: DunningLevel) -> Level:
    """A stored level as the pure rules see it."""
    return Level(row.number, row.days, row.name, tuple(filter(None, row.channels.split(","))),
                 row.fee_fixed, Decimal(row.fee_percent), row.interest, row.hold, row.agency,
                 row.template, tuple(sorted((row.names or {}).items())))


def level_json(lv: Level) -> dict[str, Any]:
    """A level's definition as the audit trail and a notice keep it (amounts as strings of
    minor units)."""
    return {"number": lv.number, "days": lv.days, "name": lv.name, "channels": list(lv.channels),
            "fee_fixed": str(lv.fee_fixed), "fee_percent": str(lv.fee_percent),
            "interest": lv.interest, "hold": lv.hold, "agency": lv.agency,
            "template": lv.template, "names": dict(lv.names)}


def policies(company: Company) -> dict[int, Policy]:
    """Every policy of the company by id, with its levels."""
    levels: dict[int, list[Level]] = {}
    for row in DunningLevel.objects.filter(company=company).order_by("policy_id", "number"):
        levels.setdefault(row.policy_id, []).append(level_of_row(row))
    return {p.pk: Policy(p.code, tuple(levels.get(p.pk, ())), p.min_amount)
            for p in DunningPolicy.objects.filter(company=company)}


def policy_list(company: Company) -> list[dict[str, Any]]:
    counts = dict(PolicyAssignment.objects.filter(company=company).values("policy_id")
                  .annotate(n=Sum(1)).values_list("policy_id", "n"))
    out = []
    by_id = policies(company)
    for p in DunningPolicy.objects.filter(company=company).order_by("code"):
        out.append({"code": p.code, "name": p.name, "default": p.is_default,
                    "levels": len(by_id[p.pk].levels), "customers": counts.get(p.pk, 0),
                    "min_amount": p.min_amount})
    return out


def policy_show(company: Company, code: str) -> dict[str, Any]:
    p = DunningPolicy.objects.filter(company=company, code=code).first()
    if p is None:
        raise NotFound(f"no dunning policy {code}", policy=code)
    levels = policies(company)[p.pk].levels
    # the languages each level's text has a version in ("" for every language)
    texts = named_texts_list(company, "reminder",
                             sorted({lv.template for lv in levels if lv.template}))
    return {"code": p.code, "name": p.name, "default": p.is_default,
            "min_amount": p.min_amount,
            "levels": [{"number": lv.number, "days": lv.days, "name": lv.name,
                        "channels": list(lv.channels), "fee_fixed": lv.fee_fixed,
                        "fee_percent": str(lv.fee_percent), "interest": lv.interest,
                        "hold": lv.hold, "agency": lv.agency, "template": lv.template,
                        "names": dict(lv.names), "texts": texts.get(lv.template, [])}
                       for lv in levels]}


def level_texts(company: Company, code: str, number: int) -> dict[str, Any]:
    """The texts level ``number`` of policy ``code`` sends: its template's name and, for a
    customer of each language, the version picked, its language and where it comes from."""
    p = DunningPolicy.objects.filter(company=company, code=code).first()
    level = (DunningLevel.objects.filter(policy=p, number=number).first()
             if p is not None else None)
    if p is None or level is None:
        raise NotFound(f"dunning policy {code} has no level {number}", policy=code,
                       level=number)
    out = []
    each = named_message_texts_each(company, "reminder", level.template, list(LANGUAGES))
    for language, t in each.items():
        out.append({"customer_language": language, "language": t.language,
                    "source": t.source, "subject": t.subject, "body": t.body})
    names = level.names or {}
    for t in out:  # the name a customer of each language reads
        t["name"] = names.get(t["language"]) or level.name
    return {"policy": p.code, "level": number, "name": level.name, "names": dict(names),
            "template": level.template, "texts": out}


def reminded_levels(company: Company, policy_id: int) -> set[int]:
    """The level numbers of a policy that customers have been reminded at: those keep their
    number when the policy is edited. The items of the notices that name the policy, and of
    those that name none (a run's notices do not record it) to the customers who follow the
    policy now (their own, their group's or the default): when in doubt, a level counts as
    reminded at."""
    following = [cid for cid, pid in policy_of_customers(company).items() if pid == policy_id]
    items = DunningItem.objects.filter(company=company)
    named = set(items.filter(notice__policy_id=policy_id).values_list("level", flat=True)
                .distinct())
    unnamed = items.filter(notice__policy__isnull=True)
    for start in range(0, len(following), 500):
        named |= set(unnamed.filter(notice__customer_id__in=following[start:start + 500])
                     .values_list("level", flat=True).distinct())
    return named


def policy_of_customers(company: Company) -> dict[int, int]:
    """customer id -> policy id: its own, else its parent's (its group), else the default.
    Customers with none of these are not dunned."""
    own = dict(PolicyAssignment.objects.filter(company=company)
               .values_list("customer_id", "policy_id"))
    default = (DunningPolicy.objects.filter(company=company, is_default=True)
               .values_list("pk", flat=True).first())
    out = {}
    for cid, parent in Customer.objects.filter(company=company, is_active=True).values_list(
            "pk", "parent_id"):
        pid = own.get(cid) or (own.get(parent) if parent else None) or default
        if pid:
            out[cid] = pid
    return out


def items_due(company: Company, *, by: date, issued_before: date) -> list[Item]:
    """(With ``reminded`` and ``policy_of_customers``, what ``domain.dunning.select_reminders``
    levels item by item: the reference the run's statement, ``levelled_items``, is tested
    against.) The open instalments due on or before ``by`` of invoices issued before
    ``issued_before`` (an invoice issued on the run's day, such as the run's own charges, has
    just been sent), in one query over the open-items index (what is open now: the cached
    settled amount)."""
    inst, inv = Instalment._meta.db_table, Invoice._meta.db_table
    sql = (f"SELECT i.id, i.customer_id, i.invoice_id, v.number, i.due_date, i.currency, "
           f"i.amount - i.settled, v.purpose FROM {inst} i JOIN {inv} v ON v.id = i.invoice_id "
           f"WHERE i.company_id = %s AND i.due_date <= %s AND i.amount > i.settled "
           f"AND v.issue_date < %s")
    with connection.cursor() as cur:
        cur.execute(sql, [company.pk, by, issued_before])
        rows = cur.fetchall()
    return [Item(r[0], r[1], r[2], r[3] or "", r[4] if isinstance(r[4], date)
                 else date.fromisoformat(r[4]), r[5], r[6], r[7] == Purpose.SALE)
            for r in rows]


def _levelled_sql(company: Company, as_of: date, by_id: dict[int, Policy],
                  only: Collection[int] | None = None,
                  without: Collection[int] = (), cash: str = "",
                  default: int | None | object = ...) -> tuple[str, list[Any]] | None:
    """The common table expressions ``p`` (each active customer's policy: its own, else its
    parent's, else the default) and ``y`` (every open item at a level of its customer's
    policy on ``as_of``: ``lvl`` the last level whose day has come, a ``CASE`` over the
    policies' days, and ``new`` 1 if it was never reminded at that level, the unique key of
    ``DunningItem``), for a statement to select from; ``only``: of these customers alone;
    ``without``: not of these; ``cash``: of the customers in ``k``, a table expression the
    statement defines (the cash of ``_cash_sql``); ``default``: the default policy's id, if
    the caller has read it (``default_policy``). None when no policy has a level."""
    if default is ...:
        default = default_policy(company)
    whens: list[str] = []
    params: list[Any] = []
    for pid, policy in by_id.items():
        for level in sorted(policy.levels, key=lambda lv: lv.days, reverse=True):
            whens.append("WHEN p.pid = %s AND i.due_date <= %s THEN %s")
            params += [pid, as_of - timedelta(days=level.days), level.number]
    if not whens:
        return None
    inst, inv = Instalment._meta.db_table, Invoice._meta.db_table
    cust, assign = Customer._meta.db_table, PolicyAssignment._meta.db_table
    item = DunningItem._meta.db_table
    some_c = some_i = not_i = ""
    some: list[Any] = []
    if only is not None:
        some = sorted(set(only))
        marks = ", ".join(["%s"] * len(some)) or "NULL"
        some_c, some_i = f" AND c.id IN ({marks})", f" AND i.customer_id IN ({marks})"
    skip = sorted(set(without))
    if skip:
        not_i = f" AND i.customer_id NOT IN ({', '.join(['%s'] * len(skip))})"
    if cash:
        not_i += " AND i.customer_id IN (SELECT k.customer_id FROM k)"
    lead = max((-lv.days for p in by_id.values() for lv in p.levels), default=0)
    sql = (
        f"p AS (SELECT c.id AS cid, COALESCE(a.policy_id, pa.policy_id, %s) AS pid "
        f"FROM {cust} c LEFT JOIN {assign} a ON a.customer_id = c.id AND a.company_id = %s "
        f"LEFT JOIN {assign} pa ON pa.customer_id = c.parent_id AND pa.company_id = %s "
        f"WHERE c.company_id = %s AND c.is_active{some_c}), "
        f"x AS (SELECT i.id, i.customer_id, i.invoice_id, v.number, "
        f"CAST(i.due_date AS TEXT) AS due_date, i.currency, i.amount - i.settled AS open, "
        f"CASE WHEN v.purpose = %s THEN 1 ELSE 0 END AS purpose, p.pid, "
        f"CASE {' '.join(whens)} END AS lvl "
        f"FROM {inst} i JOIN p ON p.cid = i.customer_id JOIN {inv} v ON v.id = i.invoice_id "
        f"WHERE i.company_id = %s AND i.due_date <= %s AND i.settled < i.amount "
        f"AND v.issue_date < %s{some_i}{not_i}), "
        f"y AS (SELECT x.*, CASE WHEN EXISTS (SELECT 1 FROM {item} d "
        f"WHERE d.instalment_id = x.id AND d.level = x.lvl) THEN 0 ELSE 1 END AS new "
        f"FROM x WHERE x.lvl IS NOT NULL)")
    return sql, [default, company.pk, company.pk, company.pk, *some, Purpose.SALE, *params,
                 company.pk, as_of + timedelta(days=max(lead, 0)), as_of, *some, *skip]


def default_policy(company: Company) -> int | None:
    """The id of the company's default policy, if it has one."""
    return (DunningPolicy.objects.filter(company=company, is_default=True)
            .values_list("pk", flat=True).first())


def levelled_items(company: Company, *, as_of: date, by_id: dict[int, Policy],
                   also: Collection[int] = (), only: Collection[int] | None = None,
                   default: int | None | object = ...) -> list[Levelled]:
    """Every open item at a level of its customer's policy on ``as_of``, levelled in the
    database in one statement (docs/design/dunning.md, "A run"): each customer's policy (its
    own, else its parent's, else the default), the item's level (a ``CASE`` over the
    policy's days: the last level whose day has come), whether the item was reminded at that
    level already (the unique key of ``DunningItem``), and only for the customers who have an
    item at a level never reminded, or who are in ``also`` (the customers with a pause, whose
    items are reported as skipped even when nothing is new) or have cash that might pay an
    item (same reason). What the others hold is the same as what the last run said, so it is
    not read at all. ``only``: every levelled item of these customers, and of no others (a
    run reads its customers' items this way, a batch at a time, ``run_outline``)."""
    common = _levelled_sql(company, as_of, by_id, only=only, default=default)
    if common is None:
        return []
    cte, params = common
    if only is not None:
        where, more = "", []
    else:
        cash_sql, cash_params = _cash_sql(company)
        cash = f"SELECT k.customer_id FROM ({cash_sql}) k"
        also = sorted(set(also))
        also_sql = f" OR y.customer_id IN ({', '.join(['%s'] * len(also))})" if also else ""
        where = (f" WHERE y.customer_id IN (SELECT customer_id FROM y WHERE new = 1) "
                 f"OR y.customer_id IN ({cash}){also_sql}")
        more = [*cash_params, *also]
    sql = (f"WITH {cte} SELECT y.id, y.customer_id, y.invoice_id, y.number, y.due_date, "
           f"y.currency, y.open, y.purpose, y.pid, y.lvl, y.new FROM y{where}")
    with connection.cursor() as cur:
        cur.execute(sql, [*params, *more])
        rows = cur.fetchall()
    levels = {pid: {lv.number: lv for lv in p.levels} for pid, p in by_id.items()}
    # (the due dates come as text, each parsed once: a run reads few distinct days, and a
    # million rows through the database driver's own date conversion cost a second)
    days: dict[str, date] = {}
    out = []
    for r in rows:
        day = days.get(r[4])
        if day is None:
            day = days[r[4]] = date.fromisoformat(r[4])
        out.append(Levelled(Item(r[0], r[1], r[2], r[3] or "", day, r[5], r[6], r[7] == 1),
                            by_id[r[8]], levels[r[8]][r[9]], r[10] == 1))
    return out


@dataclass
class Outline:
    """What the database says of a run before any item is read (``run_outline``).

    ``plans``: customer id -> (policy id, the levels its items newly reached: a bit each,
    ``1 << number``),
    the customers to remind, whose items are read only when their notice is written or the
    preview is shown; ``possibly_paid``: (customer id, item id, number) of the items that
    cash of the customer might pay, skipped; ``below_minimum``: the customers with something
    new whose policy has a minimum and whose total is below it, or who owe in several
    currencies (a minimum is per currency): the run reads their items and plans them with
    ``plan_reminders``, which reports each item below the minimum."""

    plans: dict[int, tuple[int, int]]
    possibly_paid: list[tuple[int, int, str]]
    below_minimum: set[int]


def run_outline(company: Company, *, as_of: date, by_id: dict[int, Policy],
                without: Collection[int] = (), default: int | None | object = ...
                ) -> Outline:
    """A run's selection and levelling as set operations in the database, one row per
    customer (docs/design/dunning.md, "A run"): the items levelled as ``levelled_items``
    does, those that the customer's cash might pay left out (the cash of
    ``cash_that_may_pay``, by customer and currency), and per customer the total asked for,
    whether its currencies differ, and the levels its items newly reached (a bit per item,
    ``1 << level`` when never reminded at it, summed distinct: the levels' set); a second
    statement lists the items left out. The customers in ``without`` (those with a pause, or
    a plan instalment to be told of) are left to ``levelled_items`` and ``plan_reminders``.
    Which item is excluded and why is decided by ``plan_reminders`` alone for every customer
    whose items are read; this statement only says which customers have something new to be
    told, and ``test_levelling.py`` (seeded days and generated situations) holds it to
    ``select_reminders``.

    The statement is shaped for the open-items index (``instalment_open``, partial and
    covering): the customers are the outer loop (``CROSS JOIN`` fixes the order on SQLite),
    each customer's open items are read from the index in one range, so that the grouping
    by customer needs no sort; the invoice is not joined (an invoice issued on the run's
    day is left out by a short list of the invoices issued since, read from the
    ``(company, issue_date)`` index); the item's level, and whether it is new, are each
    computed once per item, and whether the customer has anything new is read from the
    result rather than a ``HAVING`` (which SQLite computes with a second pass over each
    item: a third of the statement)."""
    if default is ...:
        default = default_policy(company)
    whens: list[str] = []
    params: list[Any] = []
    for pid, policy in by_id.items():
        for level in sorted(policy.levels, key=lambda lv: lv.days, reverse=True):
            whens.append("WHEN y.pid = %s AND y.due_date <= %s THEN %s")
            params += [pid, as_of - timedelta(days=level.days), level.number]
    if not whens:
        return Outline({}, [], set())
    inst, inv = Instalment._meta.db_table, Invoice._meta.db_table
    cust, assign = Customer._meta.db_table, PolicyAssignment._meta.db_table
    item = DunningItem._meta.db_table
    skip = sorted(set(without))
    not_c = f" AND c.id NOT IN ({', '.join(['%s'] * len(skip))})" if skip else ""
    lead = max((-lv.days for p in by_id.values() for lv in p.levels), default=0)
    cash, cash_params = _cash_sql(company)
    totals = (
        f"WITH k AS ({cash}), "
        f"y AS (SELECT c.id AS cid, COALESCE(a.policy_id, pa.policy_id, %s) AS pid, i.id, "
        f"i.currency, i.amount - i.settled AS open, i.due_date "
        f"FROM {cust} c LEFT JOIN {assign} a ON a.customer_id = c.id AND a.company_id = %s "
        f"LEFT JOIN {assign} pa ON pa.customer_id = c.parent_id AND pa.company_id = %s "
        f"CROSS JOIN {inst} i "
        f"WHERE c.company_id = %s AND c.is_active{not_c} AND i.customer_id = c.id "
        f"AND i.company_id = %s AND i.due_date <= %s AND i.settled < i.amount "
        f"AND i.invoice_id NOT IN (SELECT v.id FROM {inv} v "
        f"WHERE v.company_id = %s AND v.issue_date >= %s)), "
        f"z AS (SELECT y.cid, y.pid, y.id, y.currency, y.open, "
        f"CASE {' '.join(whens)} END AS lvl FROM y), "
        f"w AS (SELECT z.cid, z.pid, z.currency, z.open, CASE WHEN EXISTS (SELECT 1 "
        f"FROM {item} d WHERE d.instalment_id = z.id AND d.level = z.lvl) THEN 0 "
        f"ELSE CAST(1 AS BIGINT) << z.lvl END AS b FROM z WHERE z.lvl IS NOT NULL) "
        f"SELECT w.cid, MAX(w.pid), SUM(w.open), CAST(SUM(DISTINCT w.b) AS BIGINT), "
        f"CASE WHEN MIN(w.currency) <> MAX(w.currency) THEN 1 ELSE 0 END "
        f"FROM w LEFT JOIN k ON k.customer_id = w.cid AND k.currency = w.currency "
        f"WHERE k.amount IS NULL OR k.amount < w.open "
        f"GROUP BY w.cid")
    totals_params = [*cash_params, default, company.pk, company.pk, company.pk, *skip,
                     company.pk, as_of + timedelta(days=max(lead, 0)), company.pk, as_of,
                     *params]
    # the items cash might pay, of the customers with cash alone
    paid_common = _levelled_sql(company, as_of, by_id, without=without, cash=cash,
                                default=default)
    assert paid_common is not None
    paid_cte, paid_params = paid_common
    paid = (f"WITH k AS ({cash}), {paid_cte} SELECT y.customer_id, y.id, y.number FROM y "
            f"JOIN k ON k.customer_id = y.customer_id AND k.currency = y.currency "
            f"WHERE k.amount >= y.open")
    with connection.cursor() as cur:
        cur.execute(totals, totals_params)
        rows = cur.fetchall()
        cur.execute(paid, [*cash_params, *paid_params])
        paid_rows = cur.fetchall()
    plans: dict[int, tuple[int, int]] = {}
    below: set[int] = set()
    minimum = {pid: p.min_amount for pid, p in by_id.items() if p.min_amount > 0}
    for cid, pid, total, mask, mixed in rows:
        if not mask:
            continue  # nothing new: every item was reminded at its level already
        least = minimum.get(pid)
        if least is not None and (mixed or total < least):
            below.add(cid)  # read item by item: a minimum is per currency
        else:
            plans[cid] = (pid, int(mask))
    return Outline(plans, [(c, i, n or "") for c, i, n in paid_rows if c not in below], below)


def _cash_sql(company: Company) -> tuple[str, list[Any]]:
    """What ``cash_that_may_pay`` sums, as a statement to nest: ``customer_id``,
    ``currency``, ``amount``."""
    parts = [q.query.sql_with_params() for q in (
        Receipt.objects.filter(company=company, amount__gt=F("allocated"))
        .values("customer_id", "currency").annotate(cash=Sum(F("amount") - F("allocated")))
        .order_by(),
        Invoice.objects.filter(company=company, kind=DocKind.CREDIT_NOTE, status="posted",
                               total__gt=F("allocated"))
        .values("customer_id", "currency").annotate(cash=Sum(F("total") - F("allocated")))
        .order_by(),
        LineMatch.objects.filter(company=company, customer__isnull=False,
                                 status__in=[LineStatus.UNMATCHED, LineStatus.SUGGESTED],
                                 line__amount__gt=0)
        .values("customer_id", "line__currency").annotate(cash=Sum("line__amount"))
        .order_by())]
    union = " UNION ALL ".join(sql for sql, _ in parts)
    return (f"SELECT u.customer_id, u.currency, SUM(u.cash) AS amount FROM ({union}) u "
            f"GROUP BY u.customer_id, u.currency", [p for _, ps in parts for p in ps])


def reminded(company: Company) -> set[tuple[int, int]]:
    """The (instalment, level) pairs already reminded."""
    return set(DunningItem.objects.filter(company=company).values_list("instalment_id",
                                                                       "level"))


def cash_that_may_pay(company: Company) -> dict[tuple[int, str], int]:
    """(customer, currency) -> the largest sum that might already pay an item of the
    customer: what is left of its receipts and credit notes, plus the money in of statement
    lines not yet applied that the matcher tied to it (one statement, ``_cash_sql``)."""
    sql, params = _cash_sql(company)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return {(cid, currency): int(amount) for cid, currency, amount in cur.fetchall()}


def unmatched_lines_count(company: Company) -> int:
    """Statement lines the matcher could tie to no customer: a warning for the run."""
    matched = LineMatch.objects.filter(company=company).exclude(
        status=LineStatus.UNMATCHED, customer__isnull=True).values("line_id")
    return (StatementLine.objects.filter(company=company, amount__gt=0)
            .exclude(pk__in=matched).count())


def reference_rates(company: Company) -> list[tuple[date, Decimal]]:
    return [(d, Decimal(p)) for d, p in ReferenceRate.objects.filter(company=company)
            .order_by("valid_from").values_list("valid_from", "percent")]


def rate_list(company: Company) -> list[dict[str, Any]]:
    return [{"valid_from": r.valid_from.isoformat(), "percent": str(r.percent),
             "source": r.source}
            for r in ReferenceRate.objects.filter(company=company).order_by("valid_from")]


def interest_rules(company: Company) -> dict[str, Rule]:
    """country ("" for the others) -> its rule; none: no statutory interest is charged."""
    return {r.country: Rule(Decimal(r.margin), r.compensation, r.compensation_currency,
                            Decimal(r.fee_vat_rate) if r.fee_vat_rate else None)
            for r in InterestRule.objects.filter(company=company)}


def interest_rule_list(company: Company) -> list[dict[str, Any]]:
    return [{"country": r.country or "*", "margin": str(r.margin),
             "compensation": r.compensation, "currency": r.compensation_currency,
             "fee_vat": r.fee_vat_rate or None}
            for r in InterestRule.objects.filter(company=company).order_by("country")]


def history(company: Company, *, customer_code: str = "", limit: int = 100
            ) -> list[dict[str, Any]]:
    """The notices sent, newest first, each with the policy and the levels it was sent under
    as they were defined that day (``policy`` and ``levels`` None and empty for a notice
    written before notices recorded them, and for statements)."""
    qs = DunningNotice.objects.filter(company=company).select_related(
        "customer", "fee_invoice", "vat_fee_invoice", "communication", "policy")
    if customer_code:
        qs = qs.filter(customer__code=customer_code)
    return [_notice_row(n) for n in qs.order_by("-day", "customer__code")[:limit]]


def _notice_row(n: DunningNotice) -> dict[str, Any]:
    return {"id": n.pk, "day": n.day.isoformat(), "kind": n.kind, "customer": n.customer.code,
            "policy": n.policy.code if n.policy else None, "level": n.level,
            "level_name": level_name(n), "levels": n.levels,
            "channels": n.channels.split(",") if n.channels else [],
            "items": n.summary.get("items", []),
            "fee_invoice": n.fee_invoice.number if n.fee_invoice else None,
            "vat_fee_invoice": n.vat_fee_invoice.number if n.vat_fee_invoice else None,
            "email": n.communication.status if n.communication else None,
            "letter": bool(n.letter_sha256), "agency": bool(n.agency_export)}


def notice_detail(company: Company, notice_id: int) -> dict[str, Any]:
    """One notice as ``history`` lists it, with the customer's name: its page."""
    n = (DunningNotice.objects.filter(company=company, pk=notice_id)
         .select_related("customer", "fee_invoice", "vat_fee_invoice", "communication",
                         "policy").first())
    if n is None:
        raise NotFound(f"no dunning notice {notice_id}", notice=notice_id)
    return {**_notice_row(n), "customer_name": n.customer.name}


def notice_agency_file(company: Company, notice_id: int) -> bytes:
    """The CSV a notice handed to the collection agency, as it was written at the run (UTF-8):
    the same bytes for ``dunning agency`` and the notice's page. A notice that handed nothing
    is refused (and so is one whose customer's personal data were erased since)."""
    notice = notice_get(company, notice_id)
    if not notice.agency_export:
        raise ValidationFailed(f"notice {notice.pk} handed nothing to a collection agency",
                               field="notice")
    return notice.agency_export.encode()


def level_name(notice: DunningNotice) -> str:
    """The name of the highest level a notice lists, as it was when the notice was written."""
    for lv in notice.levels or ():
        if lv.get("number") == notice.level:
            return str(lv.get("name", ""))
    return next((str(it.get("level_name", "")) for it in notice.summary.get("items", [])
                 if it.get("level") == notice.level), "")


def notice_timeline(company: Company, customer: Customer, as_of: date, invoice: Any
                    ) -> list[TimelineEntry]:
    """A customer's reminder notices on its timeline (``collections.selectors
    .timeline_source``): the day, the policy and level each was sent under, its items, its
    fee invoice; with ``invoice``, only the notices that list it. The e-mail itself is on
    the timeline beside it, with its delivery status; a letter for the post is here."""
    qs = (DunningNotice.objects.filter(company=company, customer=customer, day__lte=as_of,
                                       kind="reminder")
          .select_related("policy", "fee_invoice", "vat_fee_invoice", "communication")
          .order_by("day", "pk"))
    zone = ZoneInfo(company.time_zone)
    out = []
    for n in qs:
        numbers = [it.get("number", "") for it in n.summary.get("items", [])]
        if invoice is not None and invoice.number not in numbers:
            continue
        text = (f"reminder at level {n.level} ({level_name(n)})"
                + (f" of policy {n.policy.code}" if n.policy else "")
                + f": {len(numbers)} item(s) by {n.channels.replace(',', '+')}"
                + (f", fee invoice {n.fee_invoice.number}" if n.fee_invoice else "")
                + (f", fee invoice with VAT {n.vat_fee_invoice.number}"
                   if n.vat_fee_invoice else ""))
        status = (n.communication.status if n.communication else
                  "letter" if n.letter_sha256 else "written")
        at = datetime.combine(n.day, n.created_at.astimezone(zone).time(), tzinfo=zone)
        out.append(TimelineEntry(n.day, at, "reminder", text, status,
                                 invoice.number if invoice is not None else "", n.pk))
    return out


def notice_get(company: Company, notice_id: int) -> DunningNotice:
    n = DunningNotice.objects.filter(company=company, pk=notice_id).first()
    if n is None:
        raise NotFound(f"no dunning notice {notice_id}", notice=notice_id)
    return n


@dataclass(frozen=True)
class QueuedRun:
    """A run queued for the worker. ``state``: queued, running, done (``result`` is the run's
    summary, as ``dunning run --send --json`` gives it) or failed (the task itself crashed:
    the worker's log says why; a resumed run sends nothing twice)."""

    task_id: str
    as_of: str
    state: str
    result: dict[str, Any]
    send: bool = True  # False: a dry run (a statement run's preview)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")


def dunning_run_state(company: Company, task_id: str) -> QueuedRun:
    """The dunning run task ``task_id`` of ``company`` (queued from the workspace, or by the
    worker's calendar); another company's task, or any other task, is "not found"."""
    try:
        task = queued_task(company, task_id, frozenset({"dunning_run_task"}))
    except NotFound:
        raise NotFound(f"no dunning run {task_id!r}") from None
    return QueuedRun(task.task_id, str(task.kwargs.get("as_of", "")), task.state, task.result)


def lead_days(by_id: dict[int, Policy]) -> timedelta:
    return timedelta(days=max((p.lead_days for p in by_id.values()), default=0))


def business_customers(company: Company, ids: list[int]
                       ) -> dict[int, tuple[bool, str, str]]:
    """customer id -> (is a business, country, currency): a business has a VAT or
    registration number (the EU late-payment directive's fixed compensation is owed by
    businesses only)."""
    return {cid: (bool(tax or legal), country, cur) for cid, tax, legal, country, cur in
            Customer.objects.filter(Q(company=company) & Q(pk__in=ids))
            .values_list("pk", "tax_id", "legal_id", "country", "currency")}
