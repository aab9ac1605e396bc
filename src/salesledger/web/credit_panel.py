"""The credit panel of a customer's overview: the limit that covers it, its exposure and the
credit available (``credit.selectors.customer_exposure``), its risk class with the factors
behind it (``risk_list``), whether a stored payment model can predict when its open items
will be paid (``prediction.payment_model_usable``), and which credit forms the user's role
may use. The figures are the command line's (``credit exposure``, ``credit risk``)."""

from __future__ import annotations

from typing import Any

from salesledger.apps.core.selectors import role_allows, role_has_capability
from salesledger.apps.credit.prediction import payment_model_usable
from salesledger.apps.credit.selectors import customer_exposure, risk_list

from .tenancy import Workspace

OVERRIDE = "credit_override"  # core's Capability.CREDIT_OVERRIDE


def controls_credit(ws: Workspace) -> bool:
    """Limits and holds: a manager (or the owner) or a credit controller, as the credit
    services check it."""
    return role_allows(ws.role, "manager") or role_has_capability(ws.role, OVERRIDE)


def may_override(ws: Workspace) -> bool:
    """Posting through a credit refusal, with a comment: the owner or a credit controller."""
    return role_has_capability(ws.role, OVERRIDE)


def credit_panel(ws: Workspace, account: dict[str, Any]) -> dict[str, Any]:
    """What the panel shows of ``account`` (a customer's ``customer_account``) on the
    workspace's day. An alias of a merge shows its survivor's credit: it has none apart."""
    code = account.get("merged_into") or account["code"]
    risk = risk_list(ws.company, ws.as_of, code)
    return {"credit": customer_exposure(ws.company, code, ws.as_of),
            "risk": risk[0] if risk else None,
            "predicted": payment_model_usable(ws.company, ws.as_of),
            "controls_credit": controls_credit(ws)}
