"""The factors of a credit risk score in words, in the reader's language.

The pure core (``domain/credit_risk.py``) names each factor by a code with its figures; the
sentences are written here, once, and read by every interface: the command line (English,
the project's language) and the web pages (the user's language: English or French, from
``locale/fr``). A code this module does not know is shown as the code itself, never an error.
"""

from __future__ import annotations

from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext

from salesledger.domain.credit_risk import Factor


def _percent(share: float | None) -> str:
    # the digits of Python's "{:.0%}", which the command line always printed
    return f"{share or 0.0:.0%}"[:-1]


def _days(days: float | None) -> str:
    value = days or 0
    whole = float(value).is_integer()
    return number_format(int(value) if whole else value)


def factor_text(factor: Factor) -> str:
    """One factor as a sentence in the active language."""
    code = factor.code
    if code == "no_history":
        return gettext("no payment history yet")
    if code == "on_time":
        return gettext("pays on time")
    if code == "days_late":
        return gettext("pays %(days)s days late on average (amount-weighted)") % {
            "days": _days(factor.days)}
    if code == "share_late":
        return gettext("%(percent)s%% of the amount paid was late") % {
            "percent": _percent(factor.share)}
    if code == "worsening":
        return gettext("paying later in the last 3 months than over 12 months")
    if code == "overdue":
        return gettext("overdue now, the oldest by %(days)s days (%(percent)s%% of what it "
                       "owes)") % {"days": _days(factor.days),
                                   "percent": _percent(factor.share)}
    if code == "disputes":
        n = factor.count or 0
        return ngettext("%(count)s dispute in 12 months", "%(count)s disputes in 12 months",
                        n) % {"count": n}
    if code == "broken_promises":
        n = factor.count or 0
        return ngettext("%(count)s broken promise or payment plan in 12 months",
                        "%(count)s broken promises or payment plan in 12 months",
                        n) % {"count": n}
    if code == "model":
        return gettext("the payment model gives a %(percent)s%% chance that what it owes now "
                       "ends more than 90 days late or written off") % {
            "percent": _percent(factor.share)}
    return code


def factor_texts(factors: list[Factor]) -> list[str]:
    return [factor_text(f) for f in factors]
