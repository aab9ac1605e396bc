"""The credit panel of a customer's overview: the limit that covers it, its exposure and the
credit available (``credit.selectors.customer_exposure``), its risk class with the factors
behind it (``risk_list``), whether a stored payment model can predict when its open items
will be paid (``prediction.payment_model_usable``), and which credit forms the user's role
may use. The figures are the command line's (``credit exposure``, ``credit risk``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from salesledger.apps.core.selectors import role_allows, role_has_capability
from salesledger.apps.credit.prediction import payment_model_usable
from salesledger.apps.credit.selectors import customer_exposure, risk_list

from .tenancy import Workspace
from .writing import may

OVERRIDE = "credit_override"  # core's Capability.CREDIT_OVERRIDE


def controls_credit(ws: Workspace) -> bool:
    """Limits and holds: a manager (or the owner) or a credit controller, as the credit
    services check it."""
    return role_allows(ws.role, "manager") or role_has_capability(ws.role, OVERRIDE)


def may_release(ws: Workspace, source: str | None) -> bool:
    """Releasing the hold of ``source`` (``None``: every hold): a manual hold, or all of them,
    as ``controls_credit``; a dunning level's or a broken plan's hold, any clerk (the
    service's rule, ``credit_release``)."""
    return controls_credit(ws) if source in (None, "manual") else may(ws)


def hold_source_label(source: str) -> str:
    """A hold's source in the reader's words (the source itself when it is none of them)."""
    labels = {"manual": _("manual"), "dunning": _("dunning"), "plan": _("payment plan")}
    return labels.get(source, source)


def release_choices(ws: Workspace, holds: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """What the release form offers: each source the customer is held by that the user may
    release alone, and every hold at once (value ``""``) to those who may release them
    all."""
    sources = sorted({h["source"] for h in holds})
    choices = [(s, hold_source_label(s)) for s in sources if may_release(ws, s)]
    if choices and controls_credit(ws) and len(sources) > 1:
        choices.insert(0, ("", _("every hold")))
    return choices


def may_override(ws: Workspace) -> bool:
    """Posting through a credit refusal, with a comment: the owner or a credit controller."""
    return role_has_capability(ws.role, OVERRIDE)


def credit_panel(ws: Workspace, account: dict[str, Any]) -> dict[str, Any]:
    """What the panel shows of ``account`` (a customer's ``customer_account``) on the
    workspace's day. An alias of a merge shows its survivor's credit: it has none apart."""
    code = account.get("merged_into") or account["code"]
    risk = risk_list(ws.company, ws.as_of, code)
    credit = customer_exposure(ws.company, code, ws.as_of)
    return {"credit": credit,
            "release_choices": release_choices(ws, credit["on_hold"]),
            "risk": risk[0] if risk else None,
            "predicted": payment_model_usable(ws.company, ws.as_of),
            "controls_credit": controls_credit(ws)}
