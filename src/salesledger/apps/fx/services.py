"""Entering and importing exchange rates (docs/design/multi-currency.md).

``rate_add`` records one rate typed in by a user. ``rates_import_csv`` and
``rates_import_ecb`` load a file, all or nothing: every problem is reported with its line
(and column or attribute) and nothing is written unless the whole file is clean. A file is
recognised by its SHA-256; the same file imported again into a company is refused unless
forced (``ImportBatch``, as for every other import). A rate already stored for the same
currency, day and source is left alone when the file agrees with it; when it disagrees the
import is refused, or with ``force`` the stored rate is replaced (and the audit event says
which). Revaluation runs are in ``revaluation.py``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction

from salesledger.apps.core.actors import Actor, actor_row
from salesledger.apps.core.audit import audit
from salesledger.apps.core.import_files import file_digest
from salesledger.apps.core.models import Company, ImportBatch, Role
from salesledger.apps.core.services import require_role
from salesledger.domain.errors import (
    DuplicateImport,
    DuplicateRate,
    ImportFailed,
    LedgerError,
    ValidationFailed,
)
from salesledger.domain.fx import RateSource, ecb_rates_for_base, normalise, parse_rate
from salesledger.formats.csv_rows import RowProblem
from salesledger.formats.exchange_rates import RateFile, RateRow, read_ecb_xml, read_rates_csv
from salesledger.money import is_currency

from .models import ExchangeRate
from .revaluation import fx_revalue, fx_revalue_reverse

__all__ = ["fx_revalue", "fx_revalue_reverse", "rate_add", "rates_import_csv",
           "rates_import_ecb"]


def rate_text(rate: Decimal) -> str:
    """A rate as plain decimal text (never ``1E+2``), as stored and shown."""
    return format(rate, "f")


def _user(actor: Actor) -> Any:
    return actor_row(actor)


def _currency(company: Company, currency: str) -> str:
    code = (currency or "").strip().upper()
    if not is_currency(code):
        raise ValidationFailed(f"unknown currency {currency!r} (expected an ISO 4217 code "
                               "such as USD)", field="currency")
    if code == company.base_currency:
        raise ValidationFailed(f"{code} is the base currency of {company.code}: its rate is "
                               "always 1", field="currency")
    return code


def rate_add(*, actor: Actor, company: Company, currency: str, rate: Decimal | str, day: date,
             replace: bool = False) -> ExchangeRate:
    """Record that one ``currency`` is worth ``rate`` of the base currency on ``day``.
    Entering the same rate again changes nothing; another rate for a day that has one is
    refused unless ``replace``."""
    require_role(company, actor, Role.CLERK)
    code = _currency(company, currency)
    value = normalise(parse_rate(rate))
    with transaction.atomic():
        row = (ExchangeRate.objects.select_for_update()
               .filter(company=company, currency=code, rate_date=day,
                       source=RateSource.MANUAL).first())
        if row is not None and row.rate == value:
            return row
        if row is not None and not replace:
            raise DuplicateRate(
                f"{code} already has the rate {rate_text(row.rate)} on {day.isoformat()}; "
                "give --replace to change it", currency=code, date=day)
        before = None
        if row is None:
            row = ExchangeRate.objects.create(company=company, currency=code, rate_date=day,
                                              rate=value, source=RateSource.MANUAL,
                                              created_by=_user(actor))
        else:
            before = {"rate": rate_text(row.rate)}
            row.rate = value
            row.save(update_fields=["rate"])
        audit(company, actor, "fx_rate.add" if before is None else "fx_rate.replace",
              "exchange_rate", row.pk, before=before,
              after={"currency": code, "date": day.isoformat(), "rate": rate_text(value),
                     "source": RateSource.MANUAL.value})
    return row


# ---------------------------------------------------------------------------- imports
def rates_import_csv(*, actor: Actor, company: Company, path: str | Path,
                     force: bool = False) -> dict[str, Any]:
    """Import a ``date,currency,rate`` CSV file (rates to the company's base currency)."""
    def read(p: Path) -> RateFile:
        with p.open(encoding="utf-8-sig", newline="") as fh:
            return read_rates_csv(fh, name=p.name)

    def rows(parsed: RateFile) -> list[RateRow]:
        for r in parsed.rows:
            if r.currency == company.base_currency:
                parsed.problems.append(RowProblem(r.line, "currency", (
                    f"{r.currency} is the base currency of {company.code}: its rate is "
                    "always 1")))
        return [r for r in parsed.rows if r.currency != company.base_currency]

    return _import(actor=actor, company=company, path=Path(path), force=force,
                   source=RateSource.CSV, read=read, rows=rows)


def rates_import_ecb(*, actor: Actor, company: Company, path: str | Path,
                     force: bool = False) -> dict[str, Any]:
    """Import an ECB euro reference-rate XML file (daily, 90 days or history). The ECB
    quotes units of each currency per 1 EUR: for a EUR company the stored rate is the
    inverse; for any other base currency the rates are crossed through the euro."""
    def read(p: Path) -> RateFile:
        with p.open("rb") as fh:
            return read_ecb_xml(fh, name=p.name)

    def rows(parsed: RateFile) -> list[RateRow]:
        by_day: dict[date, dict[str, RateRow]] = defaultdict(dict)
        for r in parsed.rows:
            by_day[r.day][r.currency] = r
        out: list[RateRow] = []
        for day, quotes in sorted(by_day.items()):
            try:
                derived = ecb_rates_for_base({c: r.rate for c, r in quotes.items()},
                                             company.base_currency)
            except LedgerError as exc:
                first = min(r.line for r in quotes.values())
                parsed.problems.append(RowProblem(first, "currency", f"{day}: {exc.message}"))
                continue
            for cur, rate in sorted(derived.items()):
                line = quotes[company.base_currency if cur == "EUR" else cur].line
                out.append(RateRow(line, day, cur, rate))
        return out

    return _import(actor=actor, company=company, path=Path(path), force=force,
                   source=RateSource.ECB, read=read, rows=rows)


def _import(*, actor: Actor, company: Company, path: Path, force: bool, source: RateSource,
            read: Callable[[Path], RateFile],
            rows: Callable[[RateFile], list[RateRow]]) -> dict[str, Any]:
    require_role(company, actor, Role.CLERK)
    kind = f"fx_rates_{source.value}"
    digest = file_digest(path)
    with transaction.atomic():
        previous = (ImportBatch.objects.filter(company=company, kind=kind, sha256=digest)
                    .order_by("pk").first())
        if previous is not None and not force:
            raise DuplicateImport(
                f"{path.name} was already imported into {company.code} on "
                f"{previous.created_at:%Y-%m-%d %H:%M} (batch {previous.pk}, {previous.rows} "
                "rates); import it again only with --force", batch=previous.pk, sha256=digest)
        parsed = read(path)
        wanted = rows(parsed)
        existing = _existing(company, source, wanted)
        new, replaced, unchanged = [], [], 0
        for r in wanted:
            value = normalise(r.rate)
            old = existing.get((r.currency, r.day))
            if old is None:
                new.append((r, value))
            elif old.rate == value:
                unchanged += 1
            elif force:
                replaced.append((old, value))
            else:
                parsed.problems.append(RowProblem(r.line, "rate", (
                    f"{r.currency} on {r.day} is already {rate_text(old.rate)} from an earlier "
                    f"{source.value} import, not {rate_text(value)}; import with --force to "
                    "replace it")))
        _fail_if_problems(path.name, parsed.problems)
        user = _user(actor)
        batch = ImportBatch.objects.create(company=company, kind=kind, filename=path.name[:255],
                                           sha256=digest, rows=len(wanted),
                                           forced=previous is not None, created_by=user)
        ExchangeRate.objects.bulk_create(
            [ExchangeRate(company=company, currency=r.currency, rate_date=r.day, rate=value,
                          source=source, import_batch=batch, created_by=user)
             for r, value in new], batch_size=2000)
        for old, value in replaced:
            old.rate, old.import_batch = value, batch
            old.save(update_fields=["rate", "import_batch"])
        days = [r.day for r in wanted]
        result = {
            "kind": kind, "file": path.name, "sha256": digest, "batch": batch.pk,
            "forced": previous is not None, "rates": len(wanted), "added": len(new),
            "unchanged": unchanged, "replaced": len(replaced),
            "currencies": sorted({r.currency for r in wanted}),
            "first": min(days) if days else None, "last": max(days) if days else None,
            "skipped_codes": sorted(parsed.skipped),
        }
        audit(company, actor, "fx_rate.import", "import_batch", batch.pk, **{
            k: v.isoformat() if isinstance(v, date) else v for k, v in result.items()},
            replaced_rates=[{"currency": o.currency, "date": o.rate_date.isoformat(),
                             "rate": rate_text(v)} for o, v in replaced])
    return result


def _existing(company: Company, source: RateSource, rows: list[RateRow]
              ) -> dict[tuple[str, date], ExchangeRate]:
    if not rows:
        return {}
    lo, hi = min(r.day for r in rows), max(r.day for r in rows)
    qs = ExchangeRate.objects.filter(company=company, source=source, rate_date__gte=lo,
                                     rate_date__lte=hi,
                                     currency__in=sorted({r.currency for r in rows}))
    return {(e.currency, e.rate_date): e for e in qs.iterator(chunk_size=5000)}


def _fail_if_problems(name: str, problems: list[RowProblem]) -> None:
    if problems:
        ordered = sorted(set(problems), key=lambda p: (p.line, p.column or ""))
        n = len(ordered)
        raise ImportFailed(f"{name}: {n} problem{'s' if n != 1 else ''}; nothing was imported",
                           ordered)
