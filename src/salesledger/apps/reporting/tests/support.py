"""What the aged receivables are checked against: the journal, read independently of the
report's own SQL."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db.models import Sum

from salesledger.apps.core.models import Company
from salesledger.apps.ledger.models import JournalLine
from salesledger.domain.journal import AccountRole

# Period-end revaluation books unrealised differences on the receivable account for one day
# and reverses them the next; the report carries items at their booking rates instead.
REVALUATION = ("fx_revaluation", "fx_revaluation_reversal", "fx_revaluation_undo")


def control_account(company: Company, as_of: date, role: AccountRole = AccountRole.RECEIVABLE
                    ) -> tuple[int, dict[str, int]]:
    """The account's balance on ``as_of`` from the journal lines dated up to that day, in base
    currency and per document currency (revaluations left out)."""
    lines = (JournalLine.objects.filter(company=company, account__role=role.value,
                                        date__lte=as_of)
             .exclude(entry__kind__in=REVALUATION))
    base = lines.aggregate(s=Sum("amount"))["s"] or 0
    per: dict[str, int] = defaultdict(int)
    for r in lines.values("currency").annotate(s=Sum("amount_currency")).order_by():
        if r["s"]:
            per[r["currency"]] += r["s"]
    return base, dict(per)
