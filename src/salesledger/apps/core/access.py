"""Two-factor sign-in: who must give a one-time code after the password, and their devices.

The rule (docs/security.md#access): a company may require two-factor sign-in of its owners and
managers, the roles that add users, change settings and close periods. A signed-in user must
then give a code from an authenticator app before reaching any page when any company they own or
manage requires it, or when they have set up a device of their own (two-factor is optional for
everyone else). Codes are TOTP (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits), checked by
django-otp: a code is accepted once, one step of clock drift either way is tolerated, and each
wrong code doubles the wait before the next try.

Enrolment never stores a secret that was not proven: the key is kept in the caller's session
until a code made from it is given, and only then is a confirmed device written.
"""

from __future__ import annotations

import time
from binascii import unhexlify
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from salesledger.domain.errors import NotFound, ValidationFailed

from .actors import Actor
from .audit import audit
from .models import Company, Membership, Role
from .services import require_role

# The roles a company's requirement covers.
TWO_FACTOR_ROLES = (Role.OWNER.value, Role.MANAGER.value)
TOTP_DIGITS = 6


# ---------------------------------------------------------------- selectors
def two_factor_needed(user: Any) -> bool:
    """Whether ``user`` must give a one-time code after the password: a company they own or
    manage requires it, or they have a device. One query."""
    if user is None or not getattr(user, "pk", None):
        return False
    required = Membership.objects.filter(
        user=OuterRef("pk"), role__in=TWO_FACTOR_ROLES, company__require_two_factor=True)
    enrolled = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    return (get_user_model().objects.filter(pk=user.pk)
            .filter(Exists(required) | Exists(enrolled)).exists())


def totp_device(user: Any) -> TOTPDevice | None:
    """The user's confirmed authenticator, or None."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def companies_owned(user: Any) -> list[Company]:
    """The companies in which ``user`` is an owner: those whose requirement they may set."""
    return list(Company.objects.filter(memberships__user=user,
                                       memberships__role=Role.OWNER.value).order_by("code"))


# ---------------------------------------------------------------- enrolment
def totp_key_new() -> str:
    """A new secret for an authenticator: 20 random bytes (the HMAC-SHA1 block), as hex."""
    return str(random_hex(20))


def totp_config_url(user: Any, key: str) -> str:
    """The ``otpauth://`` address an authenticator app reads (from the QR code)."""
    return str(TOTPDevice(user=user, key=key, digits=TOTP_DIGITS).config_url)


def totp_qr_svg(url: str, *, title: str) -> str:
    """The QR code of ``url`` as inline SVG (no image file, no external service)."""
    import segno

    return str(segno.make(url, error="m").svg_inline(scale=4, title=title, border=2))


def _code(token: str) -> str:
    code = "".join(str(token or "").split())
    if not (code.isascii() and code.isdigit() and len(code) == TOTP_DIGITS):
        raise ValidationFailed(f"the code is the {TOTP_DIGITS} digits the authenticator app "
                               "shows", field="token")
    return code


def totp_enrol(*, user: Any, key: str, token: str) -> TOTPDevice:
    """Set up ``user``'s authenticator with ``key`` once ``token`` proves the app has it.

    A device set up before is replaced: one authenticator per user. Audited in every company
    the user belongs to."""
    code = _code(token)
    try:
        totp = TOTP(unhexlify(key.encode()), digits=TOTP_DIGITS)
        totp.time = time.time()  # one instant for the check and the step recorded
    except (ValueError, TypeError):
        raise ValidationFailed("the set-up key is damaged: start the set-up again",
                               field="token") from None
    if not totp.verify(int(code), tolerance=1):
        raise ValidationFailed("that code does not match: check the app's clock and type "
                               "the code it shows now", field="token")
    with transaction.atomic():
        replaced = TOTPDevice.objects.filter(user=user).delete()[0]
        device = TOTPDevice.objects.create(user=user, name="authenticator", key=key,
                                           digits=TOTP_DIGITS, confirmed=True,
                                           last_t=totp.t(), drift=totp.drift)
        for company in Company.objects.filter(memberships__user=user).order_by("pk"):
            audit(company, user, "user.two_factor_enrol", "user", user.pk,
                  replaced=bool(replaced))
    return device


def totp_verify(*, user: Any, token: str) -> TOTPDevice:
    """The user's device if ``token`` is its current code; refused otherwise (a code is
    accepted once; after a wrong code the next try must wait 1, 2, 4, ... seconds)."""
    device = totp_device(user)
    if device is None:
        raise NotFound("no authenticator is set up for this user", field="token")
    allowed, why = device.verify_is_allowed()
    if not allowed:
        until = (why or {}).get("locked_until")
        wait = f" until {until:%H:%M:%S} UTC" if until else ""
        raise ValidationFailed(f"too many wrong codes: wait{wait} and try again",
                               field="token")
    if not device.verify_token(_code(token)):
        raise ValidationFailed("that code is not valid (or was already used): type the code "
                               "the app shows now", field="token")
    return device


# ---------------------------------------------------------------- company rule
def company_two_factor_set(*, actor: Actor, company: Company, required: bool) -> Company:
    """Require (or stop requiring) two-factor sign-in of the company's owners and managers.
    Owner only; audited. Owners and managers without a device are asked to set one up at
    their next page."""
    require_role(company, actor, Role.OWNER)
    with transaction.atomic():
        locked = Company.objects.select_for_update().get(pk=company.pk)
        before = locked.require_two_factor
        if before != required:
            locked.require_two_factor = required
            locked.save(update_fields=["require_two_factor"])
            audit(locked, actor, "company.two_factor", "company", locked.pk,
                  before={"require_two_factor": before},
                  after={"require_two_factor": required})
    return locked


def user_two_factor_reset(*, actor: Actor, company: Company, username: str) -> int:
    """Remove the authenticator of ``username``, a member of ``company`` (a lost phone): they
    sign in with their password and, if required, set up a new one. Owner only; audited.
    Returns the number of devices removed."""
    require_role(company, actor, Role.OWNER)
    member = (Membership.objects.filter(company=company, user__username=username)
              .select_related("user").first())
    if member is None:
        raise NotFound(f"{username!r} is not a member of {company.code}", user=username)
    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=member.user).delete()[0]
        audit(company, actor, "user.two_factor_reset", "user", member.user.pk,
              username=username, removed=removed)
    return int(removed)
