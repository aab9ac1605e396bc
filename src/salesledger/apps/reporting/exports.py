"""The rows of the aging's item-by-item CSV, one definition for ``report aging --detail
--csv`` and the web page's CSV download.

A million open items is a million rows: the amounts' text is made by one formatter per
currency (``major_texter``: integer arithmetic) rather than a ``Decimal`` per amount, and the
rows are produced one at a time from the streamed items, so memory does not grow with them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from salesledger.domain.aging import Bucket
from salesledger.formats.csv_rows import neutralise_cell
from salesledger.money import major_texter

AGING_DETAIL_HEADERS = ["customer", "type", "document", "seq", "issue_date", "due_date",
                        "days", "bucket", "currency", "open", "base_currency", "base_open"]


def aging_detail_rows(buckets: Sequence[Bucket], items: Iterable[dict[str, Any]], base: str
                      ) -> Iterator[list[Any]]:
    """A CSV row per item of ``aging_items``, in ``AGING_DETAIL_HEADERS`` order."""
    texts: dict[str, Callable[[int], str]] = {}
    base_text = major_texter(base)
    labels = [b.label for b in buckets]
    for i in items:
        currency = i["currency"]
        text = texts.get(currency) or texts.setdefault(currency, major_texter(currency))
        yield [neutralise_cell(i["customer"]), i["type"], neutralise_cell(i["document"]),
               i["seq"] or "", i["issue_date"], i["due_date"], i["days"], labels[i["bucket"]],
               currency, text(i["open"]), base, base_text(i["base_open"])]
