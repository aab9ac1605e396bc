"""``report aging|unapplied``: the receivables of a day as reports (docs/design/reporting.md).
Parsing and rendering only: text tables, ``--json``, ``--csv FILE`` and ``--xlsx FILE``;
detail rows are written as they are read."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any, TextIO

from salesledger.apps.reporting.exports import (
    FORECAST_HEADERS,
    FORECAST_SERIES,
    KPI_INPUTS,
    KPI_NAMES,
    TREND_MEASURES,
    UNAPPLIED_HEADERS,
    aging_segment_headers,
    aging_segment_rows,
    aging_summary_headers,
    aging_summary_rows,
    figure,
    forecast_rows,
    kpi_headers,
    kpi_rows,
    kpi_segment_headers,
    kpi_segment_rows,
    portfolio_headers,
    portfolio_rows,
    trend_headers,
    trend_rows,
    unapplied_rows,
)
from salesledger.domain.aging import DEFAULT_BUCKETS
from salesledger.domain.errors import ValidationFailed
from salesledger.money import major_text

from .common import Subparsers, actor_of, add_command, add_group, as_of_day, company_of
from .render import emit_json, money, money_text, table


def _filters(args: argparse.Namespace) -> Any:
    from salesledger.apps.reporting.selectors import ReportFilters

    customers = None
    if getattr(args, "collector", None):
        # the collections app (above reporting) knows who chases whom: the command asks it
        from salesledger.apps.collections.selectors import collector_customers

        customers = collector_customers(company_of(args), args.collector)
    return ReportFilters(customer=args.customer or "", country=args.country or "",
                         currency=getattr(args, "document_currency", None) or "",
                         group=getattr(args, "group", None) or "", customers=customers)


def _bucket_json(b: Any, amount: Any) -> dict[str, Any]:
    return {"label": b.label, "from_days": b.from_days, "to_days": b.to_days, "amount": amount}


def _amounts(report: Any, values: dict[str, list[int]] | list[int], n: int) -> Any:
    """Per bucket: one money in base currency; in document currency, a list of money, one
    per currency (a zero in the company's currency when nothing is open)."""
    if isinstance(values, list):
        return [money(values[b], report.base_currency) for b in range(n)]
    per = values or {report.base_currency: [0] * n}
    return [[money(v[b], cur) for cur, v in sorted(per.items())] for b in range(n)]


def _total(report: Any, values: dict[str, list[int]] | list[int]) -> Any:
    if isinstance(values, list):
        return money(sum(values), report.base_currency)
    per = values or {report.base_currency: [0]}
    return [money(sum(v), cur) for cur, v in sorted(per.items())]


def _write_text(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


@contextmanager
def _csv_out(path: str) -> Iterator[Any]:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        yield csv.writer(fh)


def cmd_report_aging(args: argparse.Namespace) -> int:
    from salesledger.apps.reporting.selectors import aging_items, aging_report

    company = company_of(args)
    as_of = as_of_day(args, company)
    in_base = args.currency == "base"
    if args.rebuild_summary:
        from salesledger.apps.reporting.selectors import aging_summary_rebuild

        rows = aging_summary_rebuild(company, as_of=as_of)
        print(f"aging summary of {as_of}: {rows} customer and currency rows")
        return 0
    if args.detail and args.segment:
        raise ValidationFailed("--detail and --segment: give one of them", segment=args.segment)
    if args.detail:
        buckets, items = aging_items(company, as_of=as_of, by=args.by, buckets=args.buckets,
                                     filters=_filters(args))
        return _aging_detail(args, company, as_of, buckets, items, in_base)
    if args.segment:
        return _aging_segments(args, company, as_of)
    report = aging_report(company, as_of=as_of, by=args.by, buckets=args.buckets,
                          filters=_filters(args), build_summary=True)
    n = len(report.buckets)
    values = report.base if in_base else report.by_currency
    if args.svg:
        from salesledger.formats.charts import aging_chart, to_svg

        _write_text(args.svg, to_svg(aging_chart([b.label for b in report.buckets],
                                                 report.base, report.base_currency,
                                                 as_of.isoformat())))
        print(f"aging on {as_of}: wrote {args.svg} (a chart, in {report.base_currency})")
        return 0
    if args.csv:
        _aging_summary_csv(args.csv, report, in_base)
        print(f"aging on {as_of}: wrote {args.csv} ({len(report.customers)} customers)")
        return 0
    if args.xlsx:
        _aging_summary_xlsx(args.xlsx, report, in_base)
        print(f"aging on {as_of}: wrote {args.xlsx} ({len(report.customers)} customers)")
        return 0
    if args.json:
        amounts = _amounts(report, values, n)
        emit_json({
            "as_of": as_of, "by": report.by.value,
            "currency": report.base_currency if in_base else "document",
            "buckets": [_bucket_json(b, amounts[k]) for k, b in enumerate(report.buckets)],
            "total": _total(report, values),
            "unapplied_cash": _unapplied_json(report, in_base),
            "customers": [
                {"customer": c.code, "name": c.name, "country": c.country,
                 "buckets": _amounts(report, c.base if in_base else c.amounts, n),
                 "total": _total(report, c.base if in_base else c.amounts)}
                for c in report.customers],
        })
        return 0
    _aging_summary_text(report, in_base)
    return 0


def _aging_segments(args: argparse.Namespace, company: Any, as_of: Any) -> int:
    """``report aging --segment group|size``: the buckets per segment, in base currency."""
    from salesledger.apps.reporting.selectors import aging_by_segment

    if args.currency != "base" or args.svg:
        raise ValidationFailed("--segment: give it with --json, --csv, --xlsx or alone (base "
                               "currency)", segment=args.segment)
    report, segments = aging_by_segment(company, as_of=as_of, segment=args.segment,
                                        by=args.by, buckets=args.buckets,
                                        filters=_filters(args))
    base, labels = report.base_currency, [b.label for b in report.buckets]
    if args.csv:
        with _csv_out(args.csv) as w:
            w.writerow(aging_segment_headers(args.segment, report.buckets))
            w.writerows(aging_segment_rows(segments, base))
        print(f"aging on {as_of} by {args.segment}: wrote {args.csv} "
              f"({len(segments)} segments)")
        return 0
    if args.xlsx:
        from salesledger.formats.xlsx import Amount, Sheet, write_xlsx

        write_xlsx(args.xlsx, [Sheet(
            f"Aging {as_of} by {args.segment}",
            aging_segment_headers(args.segment, report.buckets),
            ([seg.segment, seg.customers, base, *[Amount(x, base) for x in seg.base],
              Amount(sum(seg.base), base)] for seg in segments))])
        print(f"aging on {as_of} by {args.segment}: wrote {args.xlsx} "
              f"({len(segments)} segments)")
        return 0
    if args.json:
        emit_json({
            "as_of": as_of, "by": report.by.value, "currency": base, "segment": args.segment,
            "buckets": [_bucket_json(b, money(report.base[k], base))
                        for k, b in enumerate(report.buckets)],
            "total": money(report.base_total, base),
            "segments": [{"segment": seg.segment, "customers": seg.customers,
                          "buckets": [money(x, base) for x in seg.base],
                          "total": money(sum(seg.base), base)} for seg in segments]})
        return 0
    table(([seg.segment, seg.customers, *[money_text(x, base) for x in seg.base],
            money_text(sum(seg.base), base)] for seg in segments),
          [args.segment, "customers", *labels, "total"])
    print(f"total {money_text(report.base_total, base)} on {as_of}")
    return 0


def _unapplied_json(report: Any, in_base: bool) -> Any:
    """Unapplied cash beside the buckets: one amount in base currency, or one per currency
    (zero in the company's currency when there is none)."""
    if in_base:
        return money(sum(b for _, b in report.unapplied.values()), report.base_currency)
    per = report.unapplied or {report.base_currency: (0, 0)}
    return [money(a, cur) for cur, (a, _) in sorted(per.items())]


def _aging_summary_text(report: Any, in_base: bool) -> None:
    n = len(report.buckets)
    rows: list[list[str]] = []
    for c in report.customers:
        if in_base:
            rows.append([c.code, report.base_currency]
                        + [major_text(v, report.base_currency) for v in c.base]
                        + [major_text(sum(c.base), report.base_currency)])
        else:
            for cur, v in sorted(c.amounts.items()):
                rows.append([c.code, cur] + [major_text(x, cur) for x in v]
                            + [major_text(sum(v), cur)])
    per = ({report.base_currency: report.base} if in_base
           else report.by_currency or {report.base_currency: [0] * n})
    for cur, v in sorted(per.items()):
        rows.append(["total", cur] + [major_text(x, cur) for x in v] + [major_text(sum(v), cur)])
    table(rows, ["customer", "currency", *[b.label for b in report.buckets], "total"])
    how = "days past due" if report.by.value == "due" else "days since issue"
    print(f"aged on {report.as_of} by {how}; amounts in "
          + ("the base currency at booking rates" if in_base else "document currencies"))
    if in_base and report.unapplied:
        cash = sum(base for _, base in report.unapplied.values())
        print(f"unapplied cash, not in the buckets: {money_text(cash, report.base_currency)}")
    elif report.unapplied:
        print("unapplied cash, not in the buckets: " + ", ".join(
            money_text(amount, cur) for cur, (amount, _) in sorted(report.unapplied.items())))


def _aging_summary_csv(path: str, report: Any, in_base: bool) -> None:
    with _csv_out(path) as w:
        w.writerow(aging_summary_headers(report.buckets))
        w.writerows(aging_summary_rows(report, in_base=in_base))


def _aging_summary_xlsx(path: str, report: Any, in_base: bool) -> None:
    from salesledger.formats.xlsx import Amount, Sheet, write_xlsx

    def rows() -> Iterator[list[Any]]:
        for c in report.customers:
            per = {report.base_currency: c.base} if in_base else c.amounts
            for cur, v in sorted(per.items()):
                yield [c.code, c.name, c.country, cur, *[Amount(x, cur) for x in v],
                       Amount(sum(v), cur)]
        n = len(report.buckets)
        totals = ({report.base_currency: report.base} if in_base
                  else report.by_currency or {report.base_currency: [0] * n})
        for cur, v in sorted(totals.items()):
            yield ["total", "", "", cur, *[Amount(x, cur) for x in v], Amount(sum(v), cur)]

    how = "due" if report.by.value == "due" else "issue"
    write_xlsx(path, [Sheet(f"Aging {report.as_of} by {how}",
                            ["customer", "name", "country", "currency",
                             *[b.label for b in report.buckets], "total"], rows(),
                            widths=[12, 30, 8, 9])])


def _aging_detail(args: argparse.Namespace, company: Any, as_of: Any, buckets: Any,
                  items: Iterable[dict[str, Any]], in_base: bool) -> int:
    from salesledger.apps.reporting.exports import AGING_DETAIL_HEADERS, aging_detail_rows

    base = company.base_currency
    if args.csv:
        count = 0
        with _csv_out(args.csv) as w:
            w.writerow(AGING_DETAIL_HEADERS)
            for row in aging_detail_rows(buckets, items, base):
                w.writerow(row)
                count += 1
        print(f"aging on {as_of}: wrote {args.csv} ({count} items)")
        return 0
    if args.xlsx:
        from salesledger.formats.xlsx import Amount, Sheet, write_xlsx

        count = write_xlsx(args.xlsx, [Sheet(f"Open items {as_of}", AGING_DETAIL_HEADERS, (
            [i["customer"], i["type"], i["document"], i["seq"], i["issue_date"], i["due_date"],
             i["days"], buckets[i["bucket"]].label, i["currency"],
             Amount(i["open"], i["currency"]), base, Amount(i["base_open"], base)]
            for i in items))])
        print(f"aging on {as_of}: wrote {args.xlsx} ({count} items)")
        return 0
    if args.json:
        _stream_json(sys.stdout, as_of, base if in_base else "document", buckets, items, base)
        return 0
    table(((i["customer"], i["type"], i["document"], i["seq"] or "", i["due_date"], i["days"],
            buckets[i["bucket"]].label,
            money_text(i["base_open"], base) if in_base else money_text(i["open"], i["currency"]))
           for i in items),
          ["customer", "type", "document", "#", "due", "days", "bucket", "open"])
    return 0


def _stream_json(out: TextIO, as_of: Any, currency: str, buckets: Any,
                 items: Iterable[dict[str, Any]], base: str) -> None:
    """The detail as one JSON object, written item by item: the bucket totals come last
    but the keys are those of the summary."""
    n = len(buckets)
    totals: dict[str, list[int]] = {}
    out.write("{\n" + f'  "as_of": "{as_of.isoformat()}",\n  "currency": {json.dumps(currency)},'
              + '\n  "items": [')
    first = True
    for i in items:
        cur = base if currency != "document" else i["currency"]
        amount = i["base_open"] if currency != "document" else i["open"]
        totals.setdefault(cur, [0] * n)[i["bucket"]] += amount
        row = {"customer": i["customer"], "type": i["type"], "document": i["document"],
               "seq": i["seq"], "issue_date": i["issue_date"].isoformat(),
               "due_date": i["due_date"].isoformat(), "days": i["days"],
               "bucket": buckets[i["bucket"]].label, "open": money(i["open"], i["currency"]),
               "base_open": money(i["base_open"], base)}
        out.write(("\n    " if first else ",\n    ") + json.dumps(row, ensure_ascii=False))
        first = False
    out.write("\n  ],\n" if not first else "],\n")
    totals = totals or {base: [0] * n}
    if currency != "document":
        amounts: list[Any] = [money(totals[base][b], base) for b in range(n)]
        total: Any = money(sum(totals[base]), base)
    else:
        amounts = [[money(v[b], c) for c, v in sorted(totals.items())] for b in range(n)]
        total = [money(sum(v), c) for c, v in sorted(totals.items())]
    rest = {"buckets": [_bucket_json(b, amounts[k]) for k, b in enumerate(buckets)],
            "total": total}
    body = json.dumps(rest, indent=2, ensure_ascii=False)
    out.write(body[2:] + "\n")  # the object's remaining keys, after "items"


def cmd_report_unapplied(args: argparse.Namespace) -> int:
    from salesledger.apps.reporting.selectors import unapplied_items

    company = company_of(args)
    as_of = as_of_day(args, company)
    kind = args.kind.replace("-", "_")
    items = unapplied_items(company, as_of=as_of, kind=kind, filters=_filters(args))
    base = company.base_currency
    if args.csv:
        count = 0
        with _csv_out(args.csv) as w:
            w.writerow(UNAPPLIED_HEADERS)
            for row in unapplied_rows(items, base):
                w.writerow(row)
                count += 1
        print(f"unapplied on {as_of}: wrote {args.csv} ({count} documents)")
        return 0
    if args.xlsx:
        from salesledger.formats.xlsx import Amount, Sheet, write_xlsx

        count = write_xlsx(args.xlsx, [Sheet(f"Unapplied {as_of}", UNAPPLIED_HEADERS, (
            [i["customer"], i["type"], i["document"], i["date"], i["currency"],
             Amount(i["amount"], i["currency"]), Amount(i["open"], i["currency"]), base,
             Amount(i["base_open"], base)] for i in items))])
        print(f"unapplied on {as_of}: wrote {args.xlsx} ({count} documents)")
        return 0
    if args.json:
        rows, totals = [], {"receipt": 0, "credit_note": 0}
        for i in items:
            rows.append({"customer": i["customer"], "type": i["type"],
                         "document": i["document"], "date": i["date"],
                         "amount": money(i["amount"], i["currency"]),
                         "open": money(i["open"], i["currency"]),
                         "base_open": money(i["base_open"], base)})
            totals[i["type"]] += i["base_open"]
        emit_json({"as_of": as_of, "items": rows,
                   "total": {t: money(v, base) for t, v in totals.items()}})
        return 0
    table(((i["customer"], i["type"], i["document"], i["date"],
            money_text(i["amount"], i["currency"]), money_text(i["open"], i["currency"]))
           for i in items), ["customer", "type", "document", "date", "amount", "unapplied"])
    return 0


def cmd_report_kpis(args: argparse.Namespace) -> int:
    from salesledger.apps.reporting.selectors import document_currency, kpi_report

    company = company_of(args)
    as_of = as_of_day(args, company)
    filters = _filters(args)
    filtered = filters != type(filters)()
    if args.segment:
        if filtered:
            raise ValidationFailed("--segment: give it without --customer, --group, "
                                   "--collector, --country or --document-currency (each "
                                   "segment is a set of customers already, in the "
                                   "company's currency)", segment=args.segment)
        return _kpi_segments(args, company, as_of)
    # the command keeps the figures of ended months for the next report and the pages
    # (docs/design/kpis.md, "Kept months"); a page only reads them
    months = kpi_report(company, as_of=as_of, months=args.months, filters=filters, keep=True)
    # with --document-currency, the amounts are in it (docs/design/kpis.md)
    base = document_currency(filters) or company.base_currency
    if args.csv or args.xlsx:
        from salesledger.apps.reporting.selectors import company_kpis

        # the auto-match rate and the casework's KPIs, in columns after the others (empty
        # when the report is of a set of customers: they are the whole company's)
        whole = company_kpis(company, as_of=as_of, months=args.months, filtered=filtered)
    if args.csv:
        with _csv_out(args.csv) as w:
            w.writerow(kpi_headers(whole))
            w.writerows(kpi_rows(months, base, whole))
        print(f"kpis of {len(months)} months to {as_of}: wrote {args.csv}")
        return 0
    if args.xlsx:
        from salesledger.formats.xlsx import Amount, Sheet, write_xlsx

        write_xlsx(args.xlsx, [Sheet(
            f"KPIs to {as_of}", ["month", *KPI_NAMES, *KPI_INPUTS, *whole.names], (
                [m.month, *[getattr(m.kpis, k) for k in KPI_NAMES],
                 *[Amount(getattr(m.inputs, k), base) for k in KPI_INPUTS],
                 *[whole.months[m.month][n] for n in whole.names]] for m in months))])
        print(f"kpis of {len(months)} months to {as_of}: wrote {args.xlsx}")
        return 0
    from salesledger.apps.reporting.providers import provided
    from salesledger.apps.reporting.selectors import provided_kpi_report

    # The KPIs the apps above reporting give (disputes, promises: docs/design/kpis.md).
    # (of the whole company: with a filter of customers they are left out)
    given = ({m.month: {} for m in months} if filtered
             else provided_kpi_report(company, as_of=as_of, months=args.months))
    if args.json:
        from salesledger.apps.reporting.selectors import auto_match_report

        matched = auto_match_report(company, as_of=as_of, months=args.months)

        def with_bank(m: Any) -> dict[str, Any]:
            by_count, by_amount = matched[m.month]
            return {**_kpi_month_json(m, base),
                    "bank_lines": by_count.whole,
                    "auto_match_rate": figure(by_count.percent) or None,
                    "auto_match_amount_rate": figure(by_amount.percent) or None,
                    **{k: _provided_json(v) for k, v in given[m.month].items()}}

        emit_json({"as_of": as_of, "currency": base, "months": [with_bank(m) for m in months]})
        return 0
    table(([m.month, *[figure(getattr(m.kpis, k)) for k in KPI_NAMES]] for m in months),
          ["month", "dso", "countback", "best", "add", "cei %", "to pay", "late",
           "current %", "over 90 %", "bad debt %"])
    print("days, amount-weighted where paid; CEI over one month; percentages of the receivable "
          "at the month's end, bad debts of the month's sales"
          + (f"; of the documents in {base} alone" if base != company.base_currency else ""))
    kpis = provided()
    if kpis and not filtered:
        print()
        table(([m.month, *[_provided_text(given[m.month][k.name]) for k in kpis]]
               for m in months), ["month", *[k.label for k in kpis]])
        print("disputed: invoices (and their amount) disputed in the month, of those issued in "
              "it; days to resolve: of the disputes closed in it; promises kept: of those due "
              "in it")
    return 0


def _provided_json(value: Any) -> Any:
    """A provided KPI in JSON: a figure as text, like the others; a count as a number."""
    return str(value) if isinstance(value, Decimal) else value


def _provided_text(value: Any) -> str:
    return "" if value is None else str(value)


def _kpi_month_json(m: Any, base: str) -> dict[str, Any]:
    return {"month": m.month,
            **{k: None if getattr(m.kpis, k) is None else str(getattr(m.kpis, k))
               for k in KPI_NAMES},
            "inputs": {k: money(getattr(m.inputs, k), base) for k in KPI_INPUTS}}


def _kpi_segments(args: argparse.Namespace, company: Any, as_of: Any) -> int:
    """``report kpis --segment group|size``: the months of each segment."""
    from salesledger.apps.reporting.selectors import kpis_by_segment

    per = kpis_by_segment(company, as_of=as_of, months=args.months, segment=args.segment)
    base = company.base_currency
    if args.xlsx:
        from salesledger.formats.xlsx import Amount, Sheet, write_xlsx

        write_xlsx(args.xlsx, [Sheet(
            f"KPIs to {as_of} by {args.segment}",
            [args.segment, "month", *KPI_NAMES, *KPI_INPUTS],
            ([name, m.month, *[getattr(m.kpis, k) for k in KPI_NAMES],
              *[Amount(getattr(m.inputs, k), base) for k in KPI_INPUTS]]
             for name, months in per.items() for m in months))])
        print(f"kpis of {args.months} months to {as_of} by {args.segment}: wrote {args.xlsx} "
              f"({len(per)} segments)")
        return 0
    if args.csv:
        with _csv_out(args.csv) as w:
            w.writerow(kpi_segment_headers(args.segment))
            w.writerows(kpi_segment_rows(per, base))
        print(f"kpis of {args.months} months to {as_of} by {args.segment}: wrote {args.csv} "
              f"({len(per)} segments)")
        return 0
    if args.json:
        emit_json({"as_of": as_of, "currency": base, "segment": args.segment,
                   "segments": [{"segment": name, "months": [_kpi_month_json(m, base)
                                                             for m in months]}
                                for name, months in per.items()]})
        return 0
    table(([name, m.month, *[figure(getattr(m.kpis, k)) for k in KPI_NAMES]]
           for name, months in per.items() for m in months),
          [args.segment, "month", "dso", "countback", "best", "add", "cei %", "to pay", "late",
           "current %", "over 90 %", "bad debt %"])
    return 0


def cmd_report_trends(args: argparse.Namespace) -> int:
    from salesledger.apps.reporting.selectors import document_currency, trend_report

    company = company_of(args)
    as_of = as_of_day(args, company)
    filters = _filters(args)
    # the command keeps the company's cohorts it computes (trend_keep.py)
    rows = trend_report(company, as_of=as_of, months=args.months, by=args.by,
                        filters=filters, keep=True)
    base = document_currency(filters) or company.base_currency
    if args.svg:
        from salesledger.apps.reporting.pack import tenths
        from salesledger.formats.charts import kpi_chart, to_svg

        if args.by != "cohort":
            raise ValidationFailed(f"--svg draws the trends by cohort: leave out --by {args.by}")
        _write_text(args.svg, to_svg(kpi_chart(
            [t.row.cohort for t in rows],
            {"paid late": [tenths(t.row.late.percent) for t in rows],
             "unpaid 90 days": [tenths(t.row.unpaid_90.percent) for t in rows],
             "written off": [tenths(t.row.written_off.percent) for t in rows]},
            "%", f"Late and default rates by invoice month to {as_of}")))
        print(f"trends of {len(rows)} cohorts to {as_of}: wrote {args.svg} (a chart, by count)")
        return 0
    if args.csv:
        with _csv_out(args.csv) as w:
            w.writerow(trend_headers(args.by))
            w.writerows(trend_rows(rows, base))
        print(f"trends of {len(rows)} cohorts to {as_of}: wrote {args.csv}")
        return 0
    if args.xlsx:
        from salesledger.formats.xlsx import Amount, Sheet, write_xlsx

        def trend_cells(t: Any) -> list[Any]:
            r = t.row
            cells: list[Any] = [r.cohort, r.segment, r.items, base, Amount(r.amount, base)]
            for m, am in TREND_MEASURES:
                c, a = getattr(r, m), getattr(r, am)
                cells += [c.part, c.percent, Amount(a.part, base), a.percent]
            return [*cells, " ".join(t.flagged)]

        write_xlsx(args.xlsx, [Sheet(f"Trends to {as_of}", trend_headers(args.by),
                                     (trend_cells(t) for t in rows))])
        print(f"trends of {len(rows)} cohorts to {as_of}: wrote {args.xlsx}")
        return 0
    if args.json:
        emit_json({"as_of": as_of, "by": args.by, "currency": base, "cohorts": [
            {"cohort": t.row.cohort, **({args.by: t.row.segment} if args.by != "cohort"
                                        else {}),
             "items": t.row.items, "amount": money(t.row.amount, base),
             **{m: {"count": getattr(t.row, m).part, "of": getattr(t.row, m).whole,
                    "percent": figure(getattr(t.row, m).percent) or None,
                    "amount": money(getattr(t.row, am).part, base),
                    "amount_percent": figure(getattr(t.row, am).percent) or None}
                for m, am in TREND_MEASURES},
             "flagged": list(t.flagged)} for t in rows]})
        return 0
    headers = ["cohort", *([args.by] if args.by != "cohort" else []), "items",
               "late %", "late amt %", "unpaid 90 %", "unpaid 90 amt %", "bad debt %",
               "bad debt amt %", "flagged"]
    table(([t.row.cohort, *([t.row.segment] if args.by != "cohort" else []), t.row.items,
            *[figure(getattr(t.row, k).percent) for m, am in TREND_MEASURES
              for k in (m, am)], " ".join(t.flagged)] for t in rows), headers)
    print("by invoice month; unpaid 90 counts items due at least 90 days before "
          f"{as_of}; flagged: a rate above the trailing months' (docs/design/kpis.md)")
    return 0


def cmd_report_forecast(args: argparse.Namespace) -> int:
    from salesledger.apps.reporting.selectors import (
        cash_forecast,
        document_currency,
        forecast_backtest,
        forecast_estimator,
    )

    company = company_of(args)
    as_of = as_of_day(args, company)
    # with --document-currency, the amounts are in it (docs/design/forecast.md)
    base = document_currency(_filters(args)) or company.base_currency
    estimator = forecast_estimator(company, as_of=as_of, estimator=args.estimator)
    by = ("each customer's median delay" if estimator == "median"
          else "the payment model's predicted dates")
    if args.backtest:
        bt = forecast_backtest(company, as_of=as_of, weeks=args.weeks, runs=args.runs,
                               estimator=estimator, filters=_filters(args))
        if args.svg:
            raise ValidationFailed("--backtest: give it with --json, --csv, --xlsx or alone")
        heads = ["made_on", "currency", "received", "naive", "expected"]
        if args.csv:
            with _csv_out(args.csv) as out:
                out.writerow(heads)
                out.writerows([r.made_on, base, major_text(sum(r.actual), base),
                               major_text(sum(r.forecast.naive), base),
                               major_text(sum(r.forecast.expected), base)] for r in bt.runs)
            print(f"backtest of {len(bt.runs)} forecasts to {as_of}: wrote {args.csv} (error "
                  f"naive {figure(bt.naive_error) or '-'} %, expected "
                  f"{figure(bt.expected_error) or '-'} %)")
            return 0
        if args.xlsx:
            from salesledger.formats.xlsx import Amount, Sheet, write_xlsx

            write_xlsx(args.xlsx, [Sheet(f"Backtest to {as_of}", heads, (
                [r.made_on, base, Amount(sum(r.actual), base),
                 Amount(sum(r.forecast.naive), base), Amount(sum(r.forecast.expected), base)]
                for r in bt.runs))])
            print(f"backtest of {len(bt.runs)} forecasts to {as_of}: wrote {args.xlsx}")
            return 0
        if args.json:
            emit_json({"as_of": as_of, "weeks": args.weeks, "currency": base,
                       "estimator": estimator,
                       "naive_error": figure(bt.naive_error) or None,
                       "expected_error": figure(bt.expected_error) or None,
                       "runs": [{"made_on": r.made_on,
                                 "received": money(sum(r.actual), base),
                                 "naive": money(sum(r.forecast.naive), base),
                                 "expected": money(sum(r.forecast.expected), base)}
                                for r in bt.runs]})
            return 0
        table(([r.made_on, major_text(sum(r.actual), base),
                major_text(sum(r.forecast.naive), base),
                major_text(sum(r.forecast.expected), base)] for r in bt.runs),
              ["made on", "received", "naive", "expected"])
        print(f"error over every week (Σ|forecast − received| ÷ Σ received): naive "
              f"{figure(bt.naive_error) or '-'} %, expected {figure(bt.expected_error) or '-'} %"
              f" (by {by}); amounts in {base}")
        return 0
    w = cash_forecast(company, as_of=as_of, weeks=args.weeks, estimator=estimator,
                      filters=_filters(args))
    starts = [as_of + timedelta(days=1 + 7 * k) for k in range(args.weeks)]
    series = FORECAST_SERIES
    if args.svg:
        from salesledger.formats.charts import forecast_chart, to_svg

        _write_text(args.svg, to_svg(forecast_chart(
            [str(k + 1) for k in range(args.weeks)], w.naive, w.expected, w.low, w.high, base,
            as_of.isoformat())))
        print(f"forecast of {args.weeks} weeks after {as_of}: wrote {args.svg} (a chart)")
        return 0
    if args.csv:
        with _csv_out(args.csv) as out:
            out.writerow(FORECAST_HEADERS)
            out.writerows(forecast_rows(w, starts, base))
        print(f"forecast of {args.weeks} weeks after {as_of}: wrote {args.csv}")
        return 0
    if args.xlsx:
        from salesledger.formats.xlsx import Amount, Sheet, write_xlsx

        write_xlsx(args.xlsx, [Sheet(f"Forecast after {as_of}", FORECAST_HEADERS, (
            [k + 1, d, base, *[Amount(getattr(w, s)[k], base) for s in series]]
            for k, d in enumerate(starts)))])
        print(f"forecast of {args.weeks} weeks after {as_of}: wrote {args.xlsx}")
        return 0
    if args.json:
        emit_json({"as_of": as_of, "currency": base, "estimator": estimator, "weeks": [
            {"week": k + 1, "from": d, **{s: money(getattr(w, s)[k], base) for s in series}}
            for k, d in enumerate(starts)],
            # the low and high of each week are a band, not amounts that add up
            "total": {s: money(sum(getattr(w, s)), base) for s in ("naive", "expected")}})
        return 0
    rows = [[k + 1, d, *[major_text(getattr(w, s)[k], base) for s in series]]
            for k, d in enumerate(starts)]
    rows.append(["total", "", major_text(sum(w.naive), base), major_text(sum(w.expected), base),
                 "", ""])
    table(rows, ["week", "from", "naive", "expected", "low", "high"])
    print(f"receipts expected after {as_of} in {base}: naive on the due dates (overdue in "
          f"week 1); expected by {by}; low-high the band of each week from the spread of "
          "the delays (a band, not a sum)")
    return 0


def cmd_report_pack(args: argparse.Namespace) -> int:
    from salesledger.apps.reporting.pack import monthly_pack, parse_month

    if args.schedule:
        return _pack_schedule(args)
    if not args.month:
        raise ValidationFailed("report pack needs --month YYYY-MM (or --schedule "
                               "set|show|stop|run)")
    company = company_of(args)
    month = parse_month(args.month)
    if args.send:
        from salesledger.apps.reporting.kpis import month_end
        from salesledger.apps.reporting.pack_sending import pack_send

        run = pack_send(actor=actor_of(args, company), company=company, month=month,
                        day=month_end(month))
        return _pack_run_out(args, run)
    pack = monthly_pack(company, month=month, language=args.language)
    path = args.pdf or f"receivables-{company.code}-{pack.month}.pdf"
    with open(path, "wb") as fh:
        fh.write(pack.pdf)
    if args.json:
        emit_json({"month": pack.month, "as_of": pack.as_of, "file": path,
                   "bytes": len(pack.pdf), "charts": [c.title for c in pack.charts]})
        return 0
    print(f"receivables pack of {pack.month} (as of {pack.as_of}): wrote {path} "
          f"({len(pack.pdf):,} bytes, {len(pack.charts)} charts)")
    return 0


def _pack_schedule(args: argparse.Namespace) -> int:
    """``--schedule set|show|stop|run``: the pack every month to chosen users, sent by the
    worker (docs/design/reporting.md, "The pack on a schedule")."""
    from salesledger.apps.reporting.pack_sending import (
        pack_run,
        pack_schedule_set,
        pack_schedule_show,
        pack_schedule_stop,
    )

    company = company_of(args)
    actor, as_of = actor_of(args, company), as_of_day(args, company)
    if args.month or args.pdf:
        raise ValidationFailed(f"--schedule {args.schedule} takes no --month or --pdf: the "
                               "schedule sends the last whole month on its day")
    if args.schedule == "set":
        if args.day is None or not args.to:
            raise ValidationFailed("--schedule set needs --day N (31: the last day of the "
                                   "month) and --to USER (repeat for each user)")
        pack_schedule_set(actor=actor, company=company, day=args.day, users=args.to,
                          as_of=as_of)
    elif args.schedule == "stop":
        pack_schedule_stop(actor=actor, company=company)
    elif args.schedule == "run":
        return _pack_run_out(args, pack_run(actor=actor, company=company, as_of=as_of,
                                            send=args.send))
    shown = pack_schedule_show(company)
    if args.json:
        emit_json(shown)
        return 0
    s = shown["schedule"]
    if s is None:
        print(f"no pack schedule in {company.code} (report pack --schedule set --day N --to "
              "USER)")
        return 0
    to = ", ".join(u if s["languages"][u] == "en" else f"{u} ({s['languages'][u]})"
                   for u in s["users"])
    print(f"pack schedule: every month on day {s['day']}, to {to or '-'}, "
          f"from {s['starts_on']}" + ("" if s["active"] else " (stopped)"))
    if args.schedule == "show" and shown["sent"]:
        table(([r["month"], r["language"], r["day"], r["status"], r["recipients"]]
               for r in shown["sent"]), ["month", "language", "sent for", "status", "to"])
    return 0


def _pack_run_out(args: argparse.Namespace, run: Any) -> int:
    if args.json:
        emit_json(run.as_dict())
    elif run.month:
        print(f"pack of {run.month}: {run.state.replace('_', ' ')}"
              + (f" (to {', '.join(run.recipients)})" if run.recipients else ""))
        for p in run.problems:
            print(f"{p['code']}: {p['message']}")
    else:
        print(f"no pack due on {run.as_of}")
    return 2 if run.problems else 0


ONLY_SAID = {"overdue": "something overdue", "over-90": "something over 90 days past due",
             "unapplied": "unapplied cash"}


def cmd_report_portfolio(args: argparse.Namespace) -> int:
    from salesledger.apps.reporting.selectors import portfolio, portfolio_total

    company = company_of(args)
    user = actor_of(args, company)
    as_of = as_of_day(args, company)
    target = (args.into or "").upper()
    rows = portfolio(user, as_of=as_of, currency=target, only=args.only or "")
    names = ("receivable", "overdue", "over_90", "unapplied_cash")
    if args.csv:
        with _csv_out(args.csv) as w:
            w.writerow(portfolio_headers(target))
            w.writerows(portfolio_rows(rows, target, portfolio_total(rows) if target else ()))
        print(f"portfolio on {as_of}: wrote {args.csv} ({len(rows)} companies)")
        return 0
    if args.xlsx:
        from salesledger.formats.xlsx import Amount, Sheet, write_xlsx

        def cells(r: Any) -> list[Any]:
            return [r.code, r.name, r.role, r.currency,
                    *[Amount(a, r.currency) for a in (r.receivable, r.overdue, r.over_90)],
                    r.over_90_share, r.dso, Amount(r.unapplied, r.currency),
                    *([target, r.rate, *[Amount(a, target) for a in r.converted]]
                      if target and r.converted is not None else [])]

        total = ([["total", "", "", "", None, None, None, None, None, None, target, None,
                   *[Amount(a, target) for a in portfolio_total(rows)]]] if target else [])
        write_xlsx(args.xlsx, [Sheet(f"Portfolio {as_of}", portfolio_headers(target),
                                     [*(cells(r) for r in rows), *total])])
        print(f"portfolio on {as_of}: wrote {args.xlsx} ({len(rows)} companies)")
        return 0
    if args.json:
        out: dict[str, Any] = {"as_of": as_of, "user": user.get_username(), "companies": [
            {"company": r.code, "name": r.name, "role": r.role,
             "receivable": money(r.receivable, r.currency),
             "overdue": money(r.overdue, r.currency),
             "over_90": money(r.over_90, r.currency),
             "over_90_share": figure(r.over_90_share) or None,
             "dso": figure(r.dso) or None,
             "unapplied_cash": money(r.unapplied, r.currency),
             **({"rate": str(r.rate), "converted": {
                 k: money(v, target) for k, v in zip(names, r.converted, strict=True)}}
                if r.converted is not None else {})} for r in rows]}
        if target:
            out["total"] = {k: money(v, target)
                            for k, v in zip(names, portfolio_total(rows), strict=True)}
        emit_json(out)
        return 0
    lines = [[r.code, r.role, r.currency, major_text(r.receivable, r.currency),
              major_text(r.overdue, r.currency), major_text(r.over_90, r.currency),
              figure(r.over_90_share), figure(r.dso), major_text(r.unapplied, r.currency),
              *([major_text(r.converted[0], target)] if r.converted is not None else [])]
             for r in rows]
    if target:
        total = portfolio_total(rows)
        lines.append(["total", "", target, major_text(total[0], target),
                      major_text(total[1], target), major_text(total[2], target), "", "",
                      major_text(total[3], target), major_text(total[0], target)])
    table(lines, ["company", "role", "currency", "receivable", "overdue", "over 90",
                  "over 90 %", "dso", "unapplied", *([f"receivable {target}"] if target
                                                      else [])])
    print(f"the companies {user.get_username()} belongs to, on {as_of}, each in its own "
          "currency; DSO of the last whole month"
          + (f"; only those with {ONLY_SAID[args.only]}" if args.only else "")
          + (f"; the total in {target} at each company's rate of the day" if target else ""))
    return 0


# ---------------------------------------------------------------- registration
def _filter_options(p: argparse.ArgumentParser) -> None:
    _customer_options(p)
    p.add_argument("--document-currency", help="items in one currency (ISO 4217 code)")
    p.add_argument("--csv", metavar="FILE", help="write CSV to FILE")


def _customer_options(p: argparse.ArgumentParser) -> None:
    """The filters that keep a set of customers."""
    p.add_argument("--customer", help="one customer (code)")
    p.add_argument("--group", metavar="CODE",
                   help="one customer group: the customer CODE and those whose parent it is")
    p.add_argument("--collector", metavar="USER",
                   help="the customers given to one collector (collections assign)")
    p.add_argument("--country", help="customers of one country (ISO 3166 code)")


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    g = add_group(sub, "report", "reports on the receivables of a day")
    p = add_command(g, common, "aging", cmd_report_aging,
                    "aged receivables on --as-of, per customer or (--detail) per open item")
    p.add_argument("--by", choices=["due", "issue"], default="due",
                   help="age from the due date (how late) or the issue date (how old)")
    p.add_argument("--segment", choices=["group", "size"],
                   help="the buckets per customer group (parent) or size band (A, B, C: "
                        "the customers' share of the year's sales), base currency")
    p.add_argument("--buckets", default=DEFAULT_BUCKETS,
                   help=f"age limits in days (default {DEFAULT_BUCKETS})")
    p.add_argument("--detail", action="store_true", help="one row per open item")
    p.add_argument("--rebuild-summary", action="store_true",
                   help="make the aging summary that of --as-of from the books (the worker "
                        "does it each night; the report of today reads it)")
    p.add_argument("--svg", metavar="FILE",
                   help="draw the buckets (base currency) as an SVG chart in FILE")
    p.add_argument("--currency", choices=["base", "document"], default="base",
                   help="amounts in the company's currency at booking rates, or as invoiced")
    _filter_options(p)
    p.add_argument("--xlsx", metavar="FILE", help="write an Excel workbook to FILE")
    p = add_command(g, common, "unapplied", cmd_report_unapplied,
                    "receipts and credit notes not yet applied on --as-of")
    p.add_argument("--kind", default="all", choices=["all", "receipts", "credit-notes"])
    _filter_options(p)
    p.add_argument("--xlsx", metavar="FILE", help="write an Excel workbook to FILE")
    p = add_command(g, common, "kpis", cmd_report_kpis,
                    "DSO, CEI, days to pay and the other KPIs, month by month")
    p.add_argument("--months", type=int, default=12, help="whole months up to --as-of")
    p.add_argument("--segment", choices=["group", "size"],
                   help="the KPIs of each customer group (parent) or size band (A, B, C)")
    _customer_options(p)
    p.add_argument("--document-currency", metavar="CURRENCY",
                   help="of the documents in one currency alone, every amount in it")
    p.add_argument("--csv", metavar="FILE", help="write CSV to FILE")
    p.add_argument("--xlsx", metavar="FILE", help="write an Excel workbook to FILE")
    p = add_command(g, common, "trends", cmd_report_trends,
                    "shares paid late, unpaid past 90 days and written off, by invoice month")
    p.add_argument("--months", type=int, default=12, help="invoice months up to --as-of")
    p.add_argument("--svg", metavar="FILE",
                   help="draw the rates by count per cohort as an SVG chart in FILE")
    p.add_argument("--by", choices=["cohort", "country", "group", "size"], default="cohort",
                   help="per invoice month, or per invoice month and country, customer group "
                        "(parent) or size band (A, B, C)")
    _customer_options(p)
    p.add_argument("--document-currency", metavar="CURRENCY",
                   help="of the invoices in one currency alone, every amount in it")
    p.add_argument("--csv", metavar="FILE", help="write CSV to FILE")
    p.add_argument("--xlsx", metavar="FILE", help="write an Excel workbook to FILE")
    p = add_command(g, common, "forecast", cmd_report_forecast,
                    "expected receipts per week after --as-of, or (--backtest) its error")
    p.add_argument("--weeks", type=int, default=13, help="weeks ahead (default 13)")
    p.add_argument("--backtest", action="store_true",
                   help="replay forecasts made on past month ends against what was received")
    p.add_argument("--runs", type=int, default=12, help="month ends replayed by --backtest")
    p.add_argument("--estimator", choices=["median", "model"],
                   help="when an item is expected: on the payment-date model's prediction "
                        "(credit predict; the default when a model is trained) or after its "
                        "payer's median delay (the default without one)")
    p.add_argument("--svg", metavar="FILE", help="draw the forecast as an SVG chart in FILE")
    _customer_options(p)
    p.add_argument("--document-currency", metavar="CURRENCY",
                   help="of the documents in one currency alone, every amount in it")
    p.add_argument("--csv", metavar="FILE", help="write CSV to FILE")
    p.add_argument("--xlsx", metavar="FILE", help="write an Excel workbook to FILE")
    p = add_command(g, common, "pack", cmd_report_pack,
                    "the monthly receivables pack as one PDF: KPIs, aging, trends, forecast "
                    "and their charts, as of the month's last day")
    p.add_argument("--month", metavar="YYYY-MM", help="the month")
    p.add_argument("--pdf", metavar="FILE",
                   help="file to write (default receivables-COMPANY-YYYY-MM.pdf)")
    p.add_argument("--schedule", choices=["set", "show", "stop", "run"],
                   help="set, show or stop the pack every month by e-mail to chosen users "
                        "(the worker sends it), or run what is due on --as-of")
    p.add_argument("--day", type=int,
                   help="with --schedule set: day of the month (31: the last day)")
    p.add_argument("--to", action="append", metavar="USER[:LANG]",
                   help="with --schedule set: a user to receive the pack (repeat), and the "
                        "language it goes to them in: en (the default), fr or de")
    p.add_argument("--language", default="en", choices=["en", "fr", "de"],
                   help="with --month: the language of the PDF written (default en)")
    p.add_argument("--send", action="store_true",
                   help="with --month: e-mail that month's pack to the schedule's users "
                        "(once); with --schedule run: send, not preview")
    p = add_command(g, common, "portfolio", cmd_report_portfolio,
                    "receivable, overdue, over 90 days, DSO and unapplied cash of every "
                    "company the user (--user, else the company's owner) belongs to")
    p.add_argument("--in", dest="into", metavar="CURRENCY",
                   help="also convert each company's amounts to CURRENCY at its own rate of "
                        "the day (fx rate add), and total them")
    p.add_argument("--only", choices=["overdue", "over-90", "unapplied"],
                   help="only the companies with something overdue, something over 90 days "
                        "past due, or unapplied cash (the total is theirs)")
    p.add_argument("--csv", metavar="FILE", help="write CSV to FILE")
    p.add_argument("--xlsx", metavar="FILE", help="write an Excel workbook to FILE")
