"""Duplicate customers, found at night and kept: the pairs the page reads.

Finding the pairs compares every customer's tax id, IBANs and name with the others'
(``selectors.duplicate_customers``, the blocked comparison of ``domain/duplicates.py``): 1.5 s
of work at 100,000 customers, too much for each visit to the page. The worker scans each
company once a day and whenever a record that detection reads changed since the last scan
(``duplicates_changed``, called by the services that change a name, a tax id, a country, an
IBAN, or merge, unmerge or anonymise a customer, and the CSV import of customers, in their
transaction), and keeps the pairs in
order (``DuplicatePair``); the page reads one page of them (``duplicate_pairs``), leaving out
a pair one of whose customers has since been merged or anonymised. Between a change and the
scan that follows it (the worker's next round) a new pair is not shown yet; the page says so.
The IBANs customers were seen paying from (banking's, passed in) are read at each scan.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from salesledger.apps.core.bulkinsert import insert_rows
from salesledger.apps.core.models import Company

from .models import Customer, DuplicatePair, DuplicateScan
from .selectors import duplicate_customers

__all__ = ["duplicate_pairs", "duplicate_pairs_store", "duplicate_scan", "duplicates_changed"]


def duplicate_pairs_store(company: Company, *, payer_ibans: Iterable[tuple[str, int]] = ()
                          ) -> int:
    """Scan ``company``'s customers for duplicates and keep the pairs found, replacing the
    last scan's (one transaction). A change made while it ran leaves the scan marked
    changed, for the next. Returns the number of pairs."""
    started = timezone.now()
    pairs = duplicate_customers(company, payer_ibans=payer_ibans)
    ids = dict(_ids(company, {p["a"] for p in pairs} | {p["b"] for p in pairs}))
    with transaction.atomic():
        DuplicatePair.objects.filter(company=company).delete()
        insert_rows(DuplicatePair, ("company_id", "position", "a_id", "b_id", "score",
                                    "reasons", "shared"),
                    ((company.pk, n, ids[p["a"]], ids[p["b"]], p["score"],
                      ",".join(p["reasons"]), p["shared"]) for n, p in enumerate(pairs)))
        scan, made = DuplicateScan.objects.select_for_update().get_or_create(
            company=company, defaults={"scanned_at": started})
        if not made:
            scan.scanned_at = started
            if scan.changed_at is not None and scan.changed_at <= started:
                scan.changed_at = scan.queued_at = None
            scan.save()
    return len(pairs)


def _ids(company: Company, codes: set[str]) -> Iterable[tuple[str, int]]:
    wanted = sorted(codes)
    for i in range(0, len(wanted), 5000):
        yield from Customer.objects.filter(company=company, code__in=wanted[i:i + 5000]
                                           ).values_list("code", "id")


def duplicates_changed(company: Company) -> None:
    """A record that duplicate detection reads changed: the kept pairs are marked behind, for
    the worker to scan again (one query; nothing when the company was never scanned)."""
    DuplicateScan.objects.filter(company=company).update(changed_at=timezone.now())


def duplicate_scan(company: Company) -> DuplicateScan | None:
    """The company's last scan (when, and whether records changed since), if any."""
    return DuplicateScan.objects.filter(company=company).first()


def _live_pairs(company: Company) -> QuerySet[DuplicatePair]:
    """The kept pairs neither of whose customers has since been merged or anonymised."""
    return DuplicatePair.objects.filter(company=company, a__merged_into__isnull=True,
                                        b__merged_into__isnull=True,
                                        a__anonymised_at__isnull=True,
                                        b__anonymised_at__isnull=True)


def duplicate_pairs_count(company: Company) -> int:
    """How many kept pairs wait to be reviewed (the dashboard's alert): one count over the
    last scan's pairs (the company's index on them), never a scan of the customers."""
    return _live_pairs(company).count()


def duplicate_pairs(company: Company, *, offset: int = 0, limit: int | None = None
                    ) -> list[dict[str, Any]]:
    """A page of the kept pairs, best first, as ``selectors.duplicate_customers`` gives
    them, without the pairs one of whose customers has since been merged or anonymised. One
    query."""
    qs = (_live_pairs(company).order_by("position")
          .values_list("a__code", "a__name", "b__code", "b__name", "reasons", "score",
                       "shared"))
    qs = qs[offset:] if limit is None else qs[offset:offset + limit]
    return [{"a": a, "a_name": an, "b": b, "b_name": bn, "reasons": reasons.split(","),
             "score": score, "shared": shared} for a, an, b, bn, reasons, score, shared in qs]
