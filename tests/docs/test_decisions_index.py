"""The decisions log opens with a list of its entries: every entry is listed, in order, and
every link reaches its entry."""

from __future__ import annotations

import re
from pathlib import Path

LOG = Path(__file__).resolve().parents[2] / "docs" / "decisions.md"


def anchor(heading: str) -> str:
    """The anchor a Markdown renderer gives a heading: lower case, punctuation dropped,
    spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def test_every_decision_is_listed_in_order_and_each_link_reaches_it() -> None:
    text = LOG.read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    listed = re.findall(r"^- \[(.+?)\]\(#(.+?)\)$", text, flags=re.M)
    assert [a for _, a in listed] == [anchor(h) for h in headings]
    assert [t for t, _ in listed] == [h.split(": ", 1)[1] for h in headings]


def test_the_entries_are_in_date_order() -> None:
    days = re.findall(r"^## (\d{4}-\d{2}-\d{2}): ", LOG.read_text(encoding="utf-8"), flags=re.M)
    late = [(a, b) for a, b in zip(days, days[1:], strict=False) if b < a]
    assert not late, f"an entry of {late[0][1]} follows one of {late[0][0]}"
