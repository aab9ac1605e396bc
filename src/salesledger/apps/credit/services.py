"""Writing credit: holds and their release, limits, the company's credit settings, the
signals collections sends, overrides of a refusal and accepted limit suggestions
(docs/design/credit.md). Each write is audited in its own transaction.

Who may do what: a manual hold, a release of every hold or of a manual one, a limit and the
settings need a manager (or above) or a credit controller; a hold set or released by dunning or
a payment plan comes from those apps' own runs (a clerk or the system). Overriding a refusal
needs ``Capability.CREDIT_OVERRIDE`` (owner, credit controller).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from salesledger.apps.core import events
from salesledger.apps.core.actors import Actor, actor_row
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Capability, Company, Role
from salesledger.apps.core.services import has_capability, require_capability, require_role
from salesledger.apps.customers.models import Customer
from salesledger.apps.customers.selectors import customer_family
from salesledger.apps.customers.services import parse_credit_limit
from salesledger.domain.credit_risk import Thresholds
from salesledger.domain.errors import (
    CurrencyMismatch,
    NotFound,
    PermissionDenied,
    UnknownCustomer,
    ValidationFailed,
)
from salesledger.money import Money, is_currency

from .models import CreditHold, CreditOverride, CreditSettings, CreditSignal, HoldSource, SignalKind
from .selectors import limit_suggestions

HOLD_SOURCES = frozenset(HoldSource.values)
SIGNAL_KINDS = frozenset(SignalKind.values)


def _require_controller(company: Company, actor: Actor, what: str) -> None:
    """A manager (or above) or a credit controller."""
    if has_capability(company, actor, Capability.CREDIT_OVERRIDE):
        return
    try:
        require_role(company, actor, Role.MANAGER)
    except PermissionDenied:
        raise PermissionDenied(f"{actor} needs the manager, owner or credit_controller role "
                               f"in {company.code} to {what}", company=company.code) from None


def _customer_locked(company: Company, customer_id: int) -> Customer:
    customer = (Customer.objects.select_for_update().filter(company=company, pk=customer_id)
                .first())
    if customer is None:
        raise UnknownCustomer(f"no customer with id {customer_id}", customer=customer_id)
    return customer


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("give a reason (--reason)", field="reason")
    return reason


# ---------------------------------------------------------------------------- holds
def credit_hold(*, actor: Actor, company: Company, customer_id: int, reason: str,
                source: str = "manual") -> None:
    """Put a customer on hold from ``source`` ("manual", "dunning", "plan"): no new invoice
    and no accepted quote until it is released, unless a credit controller overrides it.
    Idempotent per source: holding again while held from that source changes nothing."""
    if source not in HOLD_SOURCES:
        raise ValidationFailed(f"unknown hold source {source!r}; use "
                               f"{', '.join(sorted(HOLD_SOURCES))}", field="source")
    reason = _reason(reason)
    if source == HoldSource.MANUAL:
        _require_controller(company, actor, "put a customer on credit hold")
    else:
        require_role(company, actor, Role.CLERK)
    with transaction.atomic():
        customer = _customer_locked(company, customer_id)
        if CreditHold.objects.filter(company=company, customer=customer, source=source,
                                     released_at__isnull=True).exists():
            return
        hold = CreditHold.objects.create(company=company, customer=customer, source=source,
                                         reason=reason, created_by=actor_row(actor))
        audit(company, actor, "credit.hold", "customer", customer.pk, customer=customer.code,
              source=source, reason=reason, hold=hold.pk)
        events.publish(events.CreditHoldsChanged(
            company_id=company.pk, actor=actor, customer_ids=(customer.pk,), held=True))


def credit_release(*, actor: Actor, company: Company, customer_id: int, reason: str,
                   source: str | None = None) -> None:
    """Release a customer's hold from ``source``, or every hold (``None``): the holds that
    apply to it, so while it is merged those of its family too (a hold on an alias holds its
    survivor: docs/design/credit.md#merged-customers). Releasing what is not held changes
    nothing and writes nothing."""
    if source is not None and source not in HOLD_SOURCES:
        raise ValidationFailed(f"unknown hold source {source!r}; use "
                               f"{', '.join(sorted(HOLD_SOURCES))}", field="source")
    reason = _reason(reason)
    if source in (None, HoldSource.MANUAL):
        _require_controller(company, actor, "release a credit hold")
    else:
        require_role(company, actor, Role.CLERK)
    with transaction.atomic():
        customer = _customer_locked(company, customer_id)
        holds = CreditHold.objects.filter(company=company,
                                          customer_id__in=customer_family(company, customer.pk),
                                          released_at__isnull=True)
        if source is not None:
            holds = holds.filter(source=source)
        released = list(holds.order_by("pk").values_list("pk", "source", "customer__code",
                                                         "customer_id"))
        if not released:
            return
        holds.update(released_at=timezone.now(), released_by=actor_row(actor),
                     release_reason=reason)
        held_as = sorted({c for _, _, c, _ in released if c != customer.code})
        audit(company, actor, "credit.release", "customer", customer.pk,
              customer=customer.code, sources=[s for _, s, _, _ in released], reason=reason,
              holds=[pk for pk, _, _, _ in released],
              **({"held_as": held_as} if held_as else {}))
        events.publish(events.CreditHoldsChanged(
            company_id=company.pk, actor=actor,
            customer_ids=tuple(sorted({customer.pk, *(i for _, _, _, i in released)})),
            held=False))


# ---------------------------------------------------------------------------- signals
def signal_record(*, company_id: int, customer_id: int, kind: str, day: date,
                  invoice_id: int | None = None, amount: int = 0, currency: str = "") -> None:
    """Record what collections learned about how a customer pays ("dispute_opened",
    "promise_made", "promise_kept", "promise_broken", "plan_broken"), read by payment
    behaviour and risk. Call inside the collections service's transaction (it audits its
    own action); written by the system, so not audited again here."""
    if kind not in SIGNAL_KINDS:
        raise ValidationFailed(f"unknown credit signal {kind!r}; use "
                               f"{', '.join(sorted(SIGNAL_KINDS))}", field="kind")
    if currency and not is_currency(currency):
        raise ValidationFailed(f"unknown currency {currency!r}", field="currency")
    if not Customer.objects.filter(company_id=company_id, pk=customer_id).exists():
        raise UnknownCustomer(f"no customer with id {customer_id}", customer=customer_id)
    CreditSignal.objects.create(company_id=company_id, customer_id=customer_id, kind=kind,
                                day=day, invoice_id=invoice_id, amount=amount,
                                currency=currency)


# ---------------------------------------------------------------------------- limits
def _amount(text: str | Decimal, currency: str) -> int:
    minor = parse_credit_limit(str(text), currency)
    if minor is None:
        raise ValidationFailed("give the limit as an amount", field="credit_limit")
    return minor


def credit_limit_set(*, actor: Actor, company: Company, customer_id: int,
                     amount: str | Decimal | None, reason: str,
                     currency: str | None = None) -> Customer:
    """Set (or clear, ``amount`` None) a customer's own credit limit, in its currency; a
    limit on a parent is its group's. Audited with the reason."""
    reason = _reason(reason)
    _require_controller(company, actor, "set a credit limit")
    with transaction.atomic():
        customer = _customer_locked(company, customer_id)
        own = customer.currency or company.base_currency
        if currency and currency.upper() != own:
            raise CurrencyMismatch(f"customer {customer.code}'s limit is kept in its currency "
                                   f"{own}, not {currency.upper()}", field="currency")
        before = customer.credit_limit
        customer.credit_limit = None if amount is None else _amount(amount, own)
        customer.save(update_fields=["credit_limit"])
        audit(company, actor, "credit.limit_set", "customer", customer.pk,
              customer=customer.code, reason=reason,
              before=_text(before, own), after=_text(customer.credit_limit, own))
    return customer


def _text(minor: int | None, currency: str) -> dict[str, str] | None:
    return None if minor is None else Money.from_minor(minor, currency).to_json()


def _settings_locked(company: Company) -> CreditSettings:
    row, _ = CreditSettings.objects.select_for_update().get_or_create(company=company)
    return row


def credit_default_set(*, actor: Actor, company: Company, amount: str | Decimal | None,
                       reason: str) -> None:
    """Set (or clear) the company default limit, in the base currency: the limit of a
    customer with none of its own and none in its group."""
    reason = _reason(reason)
    _require_controller(company, actor, "set the default credit limit")
    base = company.base_currency
    with transaction.atomic():
        row = _settings_locked(company)
        before = row.default_limit
        row.default_limit = None if amount is None else _amount(amount, base)
        row.save(update_fields=["default_limit"])
        audit(company, actor, "credit.default_limit_set", "company", company.pk,
              reason=reason, before=_text(before, base), after=_text(row.default_limit, base))


def credit_settings_set(*, actor: Actor, company: Company, horizon_days: int | None = None,
                        thresholds: tuple[float, float, float] | None = None) -> None:
    """Change the recurring horizon of the exposure and the risk class thresholds."""
    _require_controller(company, actor, "change the credit settings")
    if horizon_days is not None and not 0 <= horizon_days <= 366:
        raise ValidationFailed("the horizon is 0 to 366 days", field="horizon_days")
    if thresholds is not None:
        try:
            Thresholds(*thresholds)
        except ValueError as exc:
            raise ValidationFailed(str(exc), field="thresholds") from None
    with transaction.atomic():
        row = _settings_locked(company)
        before = {"horizon_days": row.horizon_days,
                  "thresholds": [row.threshold_b, row.threshold_c, row.threshold_d]}
        if horizon_days is not None:
            row.horizon_days = horizon_days
        if thresholds is not None:
            row.threshold_b, row.threshold_c, row.threshold_d = thresholds
        row.save()
        audit(company, actor, "credit.settings_set", "company", company.pk, before=before,
              after={"horizon_days": row.horizon_days,
                     "thresholds": [row.threshold_b, row.threshold_c, row.threshold_d]})


def credit_limits_accept(*, actor: Actor, company: Company, codes: Collection[str],
                         as_of: date) -> list[dict[str, object]]:
    """Accept the suggested limits of ``codes`` on ``as_of`` (``limit_suggestions``): each
    becomes the customer's own limit, audited with the suggestion as the reason. A manager
    decides (or the owner)."""
    require_role(company, actor, Role.MANAGER)
    wanted = sorted(set(codes))
    suggestions = {s["customer"]: s for s in limit_suggestions(company, as_of, wanted)}
    missing = [c for c in wanted if c not in suggestions]
    if missing:
        raise NotFound(f"no suggested limit for {', '.join(missing)} on {as_of} (unknown, or "
                       "nothing paid on time in the last 12 months)", customer=missing[0])
    out = []
    with transaction.atomic():
        for code in wanted:
            s = suggestions[code]
            customer = (Customer.objects.select_for_update()
                        .filter(company=company, code=code).get())
            before = customer.credit_limit
            customer.credit_limit = int(str(s["suggested_minor"]))
            customer.save(update_fields=["credit_limit"])
            audit(company, actor, "credit.limit_set", "customer", customer.pk,
                  customer=code, reason=f"suggested limit accepted: {s['text']}",
                  before=_text(before, str(s["currency"])), after=s["suggested"],
                  as_of=as_of.isoformat())
            out.append({"customer": code, "limit": s["suggested"]})
    return out


# ---------------------------------------------------------------------------- overrides
def override_record(*, actor: Actor, company: Company, customer_id: int, code: str, what: str,
                    day: date, currency: str, amount: int, refusal_code: str, refusal: str,
                    comment: str, quote_id: int | None = None) -> None:
    """Let a refused invoice or quote through: refused unless ``actor`` may override
    (``Capability.CREDIT_OVERRIDE``) and comments why; recorded and audited in the caller's
    transaction (the posting's, the acceptance's), so it stands or falls with it."""
    require_capability(company, actor, Capability.CREDIT_OVERRIDE)
    comment = (comment or "").strip()
    if not comment:
        raise ValidationFailed("an override of a credit refusal needs a comment",
                               field="override_credit")
    row = CreditOverride.objects.create(
        company=company, customer_id=customer_id, what=what, quote_id=quote_id, day=day,
        currency=currency, amount=amount, refusal_code=refusal_code, refusal=refusal,
        comment=comment, created_by=actor_row(actor))
    audit(company, actor, "credit.override", "customer", customer_id, customer=code,
          what=what, quote=quote_id, amount=Money.from_minor(amount, currency).to_json(),
          refused=refusal_code, refusal=refusal, comment=comment, override=row.pk,
          day=day.isoformat())
