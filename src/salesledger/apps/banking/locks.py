"""The one way a writer of a statement line's outcome starts: the line's ``LineMatch`` locked
(or a new one), refused if the line is applied already, so that two writers cannot both
apply it (a receipt, a return, a posting)."""

from __future__ import annotations

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
