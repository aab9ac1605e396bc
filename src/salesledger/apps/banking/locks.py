"""The one way a writer of a statement line's outcome starts: the line's ``LineMatch`` locked
(or a new one), refused if the line is applied already, so that two writers cannot both
apply it (a receipt, a return, a posting); for many lines at once, ``line_matches_to_apply``."""

from __future__ import annotations

from collections.abc import Sequence

from salesledger.apps.core.models import Company
from salesledger.domain.errors import ValidationFailed

from .models import LineMatch, LineStatus, StatementLine


def line_match_to_apply(company: Company, line: StatementLine) -> LineMatch:
    """The line's match row, locked until the transaction ends; a new one if the matcher has
    not seen it. Call inside ``transaction.atomic``."""
    m = LineMatch.objects.select_for_update().filter(line=line).first()
    if m is not None and m.status == LineStatus.APPLIED:
        raise ValidationFailed(f"statement line {line.pk} is applied already", field="line")
    return m if m is not None else LineMatch(company=company, line=line)


def line_matches_to_apply(line_ids: Sequence[int]) -> dict[int, LineMatch]:
    """:func:`line_match_to_apply` for many lines in one query: the match rows there are, by
    line, locked in ascending line id until the transaction ends (a line without one has
    none yet); refused if one of the lines is applied already."""
    existing = {m.line_id: m for m in LineMatch.objects.select_for_update()
                .filter(line_id__in=sorted(line_ids)).order_by("line_id")}
    done = sorted(pk for pk, m in existing.items() if m.status == LineStatus.APPLIED)
    if done:
        raise ValidationFailed(f"statement line {done[0]} is applied already", field="line")
    return existing
