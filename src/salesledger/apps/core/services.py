"""Company set-up, membership, numbering and period control."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from salesledger.domain.dating import check_document_date, check_horizon_days
from salesledger.domain.errors import (
    LedgerError,
    NotFound,
    PeriodClosed,
    PermissionDenied,
    ValidationFailed,
)
from salesledger.domain.numbering import fiscal_year, format_number
from salesledger.money import is_currency

from . import events
from .actors import Actor
from .audit import audit
from .models import (
    ROLE_CAPABILITIES,
    ROLE_RANK,
    Capability,
    Company,
    Membership,
    NumberCounter,
    Role,
)

SERIES_PREFIX = {"INV": "INV", "CN": "CN", "RCT": "RCT"}


def series_prefixes(company: Company) -> dict[tuple[str, int], str]:
    """The prefix of each series' counter, by (series, fiscal year): the default
    (``SERIES_PREFIX``) unless ``number_prefix_set`` changed it for that year."""
    return {(series, year): prefix for series, year, prefix in NumberCounter.objects.filter(
        company=company).values_list("series", "fiscal_year", "prefix")}


def prefix_of(prefixes: Mapping[tuple[str, int], str]) -> Callable[[str, int], str]:
    """``prefix_of(series, fiscal year)``: the prefix that series writes that year, from
    ``series_prefixes`` and else the default."""
    return lambda series, year: prefixes.get((series, year), SERIES_PREFIX.get(series, series))



def require_role(company: Company, actor: Actor, minimum: Role) -> None:
    """The acting user must belong to the company with at least ``minimum``; ``None`` is
    the system itself (command line run by the operator, scheduled tasks)."""
    if actor is None or getattr(actor, "is_superuser", False):
        return
    role = (
        Membership.objects.filter(company=company, user=actor)
        .values_list("role", flat=True)
        .first()
    )
    if role is None or ROLE_RANK[Role(role)] < ROLE_RANK[minimum]:
        raise PermissionDenied(
            f"{actor} needs the {minimum.value} role in {company.code} for this",
            company=company.code,
        )


def has_capability(company: Company, actor: Actor, capability: Capability) -> bool:
    """Whether ``actor`` holds a role of ``company`` with ``capability``; ``None`` (the
    operator at the command line, a scheduled task) and a superuser hold every one."""
    if actor is None or getattr(actor, "is_superuser", False):
        return True
    role = (
        Membership.objects.filter(company=company, user=actor)
        .values_list("role", flat=True)
        .first()
    )
    return role is not None and Role(role) in ROLE_CAPABILITIES[capability]


def require_capability(company: Company, actor: Actor, capability: Capability) -> None:
    """Refuse unless ``actor`` holds ``capability`` in ``company`` (see ``has_capability``)."""
    if not has_capability(company, actor, capability):
        roles = " or ".join(sorted(r.value for r in ROLE_CAPABILITIES[capability]))
        raise PermissionDenied(
            f"{actor} needs the {roles} role in {company.code} to {capability.label.lower()}",
            company=company.code,
        )


def require_reader(company: Company, username: str) -> Any:
    """The user ``username``, refused unless it may read ``company`` (the viewer role or
    above): ``--user`` on a command that only reads is checked as one that writes is."""
    from .selectors import user_get

    user = user_get(username)
    require_role(company, user, Role.VIEWER)
    return user


def _stored_lock_date(company: Company) -> date | None:
    """Read the stored lock date, not the caller's copy (which may predate a close).

    On PostgreSQL the company row is read FOR SHARE: writers do not block each other, but a
    period close (which takes the row FOR UPDATE) waits for every writer in flight and then
    makes later writers wait, so nothing lands in a period while it is being closed. SQLite
    serialises writers anyway.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT lock_date FROM core_company WHERE id = %s FOR SHARE", [company.pk]
            )
            row = cursor.fetchone()
        return row[0] if row else None
    return Company.objects.filter(pk=company.pk).values_list("lock_date", flat=True).first()


def check_open_period(company: Company, day: date) -> None:
    lock_date = _stored_lock_date(company)
    if lock_date and day <= lock_date:
        raise PeriodClosed(
            f"{day.isoformat()} is in a closed period (books closed through "
            f"{lock_date.isoformat()})",
            date=day,
            lock_date=lock_date,
        )


def open_period_check(company: Company, days: Iterable[date]) -> Callable[[date], None]:
    """``check_open_period`` for many dates with one query: only a date in a closed period
    goes back to it (to raise its error)."""
    try:
        check_open_period(company, min(days, default=date.max))
    except PeriodClosed as exc:
        lock_date = exc.fields["lock_date"]
        return lambda day: check_open_period(company, day) if day <= lock_date else None
    return lambda day: None


def company_today(company: Company) -> date:
    """Today in the company's time zone."""
    return datetime.now(ZoneInfo(company.time_zone)).date()


def document_date_check(company: Company, *, confirmed: bool = False
                        ) -> Callable[[date], None]:
    """The future-date check of ``domain.dating`` for new documents of ``company``: its
    horizon and today are read once, so a bulk post checks every date for the same cost."""
    days = (Company.objects.filter(pk=company.pk)
            .values_list("future_date_horizon_days", flat=True).get())
    today = company_today(company)
    return partial(check_document_date, today=today, horizon_days=days, confirmed=confirmed)


def company_create(
    *,
    actor: Actor,
    code: str,
    name: str,
    base_currency: str = "EUR",
    country: str = "FR",
    time_zone: str = "Europe/Paris",
    fiscal_year_start: int = 1,
    tax_rounding: str = "per_line",
    owner: Any = None,
) -> Company:
    if not is_currency(base_currency):
        raise ValidationFailed(f"unknown currency {base_currency!r}", field="base_currency")
    from salesledger.domain.countries import check_country

    country = check_country(country)
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"unknown time zone {time_zone!r}", field="time_zone") from None
    if not 1 <= fiscal_year_start <= 12:
        raise ValidationFailed("fiscal year start must be a month number 1..12")
    if Company.objects.filter(code=code).exists():
        raise LedgerError(f"a company with code {code!r} already exists")
    with transaction.atomic():
        company = Company.objects.create(
            code=code,
            name=name,
            base_currency=base_currency,
            country=country.upper(),
            time_zone=time_zone,
            fiscal_year_start=fiscal_year_start,
            tax_rounding=tax_rounding,
        )
        # The apps above set the company up in this transaction: the ledger its chart of
        # accounts, customers the standard payment terms and the default (docs/design/events.md).
        events.publish(events.CompanyCreated(company_id=company.pk, actor=actor))
        company.refresh_from_db()
        if owner is not None:
            Membership.objects.create(company=company, user=owner, role=Role.OWNER)
        audit(
            company,
            actor,
            "company.create",
            "company",
            company.pk,
            after={"code": code, "name": name, "base_currency": base_currency},
        )
    return company


def membership_set(*, actor: Actor, company: Company, username: str, role: str) -> Membership:
    require_role(company, actor, Role.OWNER)
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise NotFound(f"no user {username!r}")
    with transaction.atomic():
        m, _ = Membership.objects.update_or_create(
            company=company, user=user, defaults={"role": Role(role)}
        )
        audit(company, actor, "membership.set", "user", user.pk, role=role)
    return m


def _locked_member(company: Company, username: str) -> Membership:
    """The membership of ``username`` in ``company``, locked until the transaction ends."""
    member = (Membership.objects.select_for_update()
              .filter(company=company, user__username=username).first())
    if member is None:
        raise NotFound(f"{username!r} is not a member of {company.code}", user=username)
    return member


def _another_owner_stays(company: Company, username: str) -> None:
    """Refuse to let ``username``, an owner, stop being one when no other owner is left: a
    company always has someone who may manage its users (the owners locked meanwhile)."""
    owners = (Membership.objects.select_for_update()
              .filter(company=company, role=Role.OWNER).count())
    if owners <= 1:
        raise ValidationFailed(
            f"{username} is the only owner of {company.code}: make another user owner first",
            user=username)


def user_role(*, actor: Actor, company: Company, username: str, role: str) -> Membership:
    """Change the role of ``username``, already a member of ``company``. Owner only; audited
    with the role before and after. The last owner cannot be demoted: a company always has
    someone who may manage its users."""
    require_role(company, actor, Role.OWNER)
    if role not in Role.values:
        raise ValidationFailed(f"unknown role {role!r}; use one of {', '.join(Role.values)}")
    with transaction.atomic():
        member = _locked_member(company, username)
        before = member.role
        if before == Role.OWNER and role != Role.OWNER:
            _another_owner_stays(company, username)
        if before != role:
            member.role = Role(role)
            member.save(update_fields=["role"])
            audit(company, actor, "membership.role", "user", member.user_id,
                  before={"role": before}, after={"role": role})
    return member


def company_close_period(*, actor: Actor, company: Company, through: date) -> Company:
    """Close the books through ``through``: nothing may be dated on or before it again."""
    require_role(company, actor, Role.MANAGER)
    with transaction.atomic():
        locked = Company.objects.select_for_update().get(pk=company.pk)
        if locked.lock_date and through < locked.lock_date:
            raise ValidationFailed("a closed period cannot be reopened by moving the date back")
        before = locked.lock_date
        locked.lock_date = through
        locked.save(update_fields=["lock_date"])
        audit(
            locked,
            actor,
            "period.close",
            "company",
            locked.pk,
            before={"lock_date": str(before)},
            after={"lock_date": str(through)},
        )
    return locked


# A series' prefix: what comes before the year in its numbers (``INV2025-00001``).
_PREFIX_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_/")


def number_prefix_set(*, actor: Actor, company: Company, series: str, fiscal_year: int,
                      prefix: str) -> dict[str, Any]:
    """Set the prefix of a numbering series for a fiscal year that has not taken a number
    yet (a number issued is forever, and so is how it was written). The prefix is 1 to 12
    capital letters, digits, ``-``, ``_`` or ``/``, and may not be another series' prefix
    of the same year (their numbers would meet). Manager; audited."""
    require_role(company, actor, Role.MANAGER)
    if series not in SERIES_PREFIX:
        raise ValidationFailed(f"unknown series {series!r}; one of "
                               + ", ".join(SERIES_PREFIX), field="series")
    if not 1900 <= fiscal_year <= 9999:
        raise ValidationFailed(f"fiscal year {fiscal_year} is out of range",
                               field="fiscal_year")
    prefix = prefix.strip().upper()
    if not 1 <= len(prefix) <= 12 or not set(prefix) <= _PREFIX_CHARS:
        raise ValidationFailed(f"prefix {prefix!r}: 1 to 12 letters, digits, '-', '_' or '/'",
                               field="prefix")
    with transaction.atomic():
        counter, _ = NumberCounter.objects.get_or_create(
            company=company, series=series, fiscal_year=fiscal_year,
            defaults={"prefix": SERIES_PREFIX[series]})
        counter = NumberCounter.objects.select_for_update().get(pk=counter.pk)
        if counter.last:
            raise ValidationFailed(
                f"series {series} of {fiscal_year} has issued {counter.last} number(s) with "
                f"prefix {counter.prefix}; its prefix stays", field="prefix")
        others = {s: SERIES_PREFIX[s] for s in SERIES_PREFIX if s != series}
        others.update(NumberCounter.objects.filter(company=company, fiscal_year=fiscal_year)
                      .exclude(series=series).values_list("series", "prefix"))
        clash = next((s for s, p in others.items() if p == prefix), None)
        if clash is not None:
            raise ValidationFailed(f"prefix {prefix} is series {clash}'s in {fiscal_year}",
                                   field="prefix")
        before = counter.prefix
        if before != prefix:
            counter.prefix = prefix
            counter.save(update_fields=["prefix"])
            audit(company, actor, "numbering.prefix", "number_counter", counter.pk,
                  before={"prefix": before},
                  after={"series": series, "fiscal_year": fiscal_year, "prefix": prefix})
    return {"series": series, "fiscal_year": fiscal_year, "prefix": prefix,
            "last": counter.last}


def posting_locks(company: Company, series: str, day: date) -> None:
    """Take, up front, the locks that posting a document of ``series`` dated ``day`` takes:
    the company row (shared, with the lock-date check) and the series' counter row.

    A service that writes an audit event and then posts in the same transaction (converting
    a quote, issuing a recurring period) calls this first, so that it takes the locks in
    the order a plain posting does (company, counter, audit chain) and the two cannot
    deadlock. Must run inside the caller's transaction."""
    check_open_period(company, day)
    fy = fiscal_year(day, company.fiscal_year_start)
    NumberCounter.objects.get_or_create(
        company=company, series=series, fiscal_year=fy,
        defaults={"prefix": SERIES_PREFIX.get(series, series)})
    NumberCounter.objects.select_for_update().filter(
        company=company, series=series, fiscal_year=fy).values_list("pk").first()


def number_take(company: Company, series: str, day: date, count: int = 1) -> tuple[int, int, str]:
    """Take the next ``count`` gapless numbers of a series for the fiscal year of ``day``.

    Returns (fiscal_year, first seq, prefix). Must run inside the caller's transaction: the
    counter row stays locked until commit, and a rollback gives the numbers back.
    """
    fy = fiscal_year(day, company.fiscal_year_start)
    prefix = SERIES_PREFIX.get(series, series)
    NumberCounter.objects.get_or_create(
        company=company, series=series, fiscal_year=fy, defaults={"prefix": prefix}
    )
    counter = NumberCounter.objects.select_for_update().get(
        company=company, series=series, fiscal_year=fy
    )
    first = counter.last + 1
    counter.last += count
    counter.save(update_fields=["last"])
    return fy, first, counter.prefix


def number_format(prefix: str, fy: int, seq: int) -> str:
    return format_number(prefix, fy, seq)


def user_ensure(
    *, username: str, email: str = "", password: str | None = None, staff: bool = True
) -> Any:
    """Return the user, creating it when new (without a usable password if none given).

    A password given for a new user must pass the password policy (settings'
    ``AUTH_PASSWORD_VALIDATORS``: at least 12 characters, not like the name or e-mail, not a
    common password, not all digits)."""
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        if not username.strip():
            raise ValidationFailed("a user name is required", field="username")
        if password:
            password_check(password, User(username=username, email=email))
        user = User.objects.create_user(username, email=email, password=password)
        if not password:
            user.set_unusable_password()
    user.is_staff = user.is_staff or staff
    user.save()
    return user


def password_check(password: str, user: Any = None) -> None:
    """Refuse a password that breaks the policy, naming every rule it breaks."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError as DjangoValidationError

    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed("the password is refused: " + " ".join(exc.messages),
                               field="password") from None


def company_init(
    *,
    code: str,
    name: str,
    owner: str,
    email: str = "",
    password: str | None = None,
    **settings: Any,
) -> tuple[Company, Any]:
    """Create a company and its owner (the user is created if new) in one transaction."""
    with transaction.atomic():
        user = user_ensure(username=owner, email=email, password=password)
        company = company_create(actor=user, code=code, name=name, owner=user, **settings)
    return company, user


def user_remove(*, actor: Actor, company: Company, username: str) -> str:
    """Remove ``username`` from ``company``: their membership ends, the user and everything
    they recorded stay (posted is forever; the audit names them). Owner only, as ``user
    role``; the last owner cannot be removed, not even by themselves (a company always has
    someone who may manage its users), nor one whom open work names (``MemberRemoving``: a
    collector's customers and open calls, refused by collections until given to another).
    Audited with the role the member had; returns it."""
    require_role(company, actor, Role.OWNER)
    with transaction.atomic():
        member = _locked_member(company, username)
        role = member.role
        if role == Role.OWNER:
            _another_owner_stays(company, username)
        user_id = member.user_id
        events.check(events.MemberRemoving(company_id=company.pk, actor=actor,
                                           user_id=user_id, username=username))
        member.delete()
        audit(company, actor, "membership.remove", "user", user_id, before={"role": role})
    return str(role)


def user_add(
    *,
    actor: Actor,
    company: Company,
    username: str,
    role: str,
    email: str = "",
    password: str | None = None,
) -> Membership:
    """Add a user (new or existing) to the company with a role."""
    require_role(company, actor, Role.OWNER)
    if role not in Role.values:
        raise ValidationFailed(f"unknown role {role!r}; use one of {', '.join(Role.values)}")
    with transaction.atomic():
        user_ensure(username=username, email=email, password=password)
        return membership_set(actor=actor, company=company, username=username, role=role)


# ---------------------------------------------------------------- company profile
PROFILE_TEXT_FIELDS = (
    "name", "legal_name", "address_line1", "address_line2", "postal_code", "city", "phone",
    "website", "registration_id", "document_footer", "legal_mentions",
)
PROFILE_FIELDS = frozenset((*PROFILE_TEXT_FIELDS, "tax_id", "country", "email", "iban", "bic",
                            "brand_color", "logo", "future_date_horizon_days", "sends_peppol",
                            "record_review_days",
                            "creditor_id", "vat_on_debits"))
LOGO_MAX_BYTES = 1024 * 1024


def logo_type(data: bytes) -> str:
    """The MIME type of a logo, read from its content (never from a file name): PNG, JPEG
    or SVG; anything else is refused."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        kind = "image/png"
    elif data.startswith(b"\xff\xd8\xff"):
        kind = "image/jpeg"
    else:
        return _svg_type(data)
    from PIL import Image, UnidentifiedImageError

    try:
        import io

        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationFailed(f"the logo is a damaged {kind.split('/')[1].upper()} image: "
                               f"{exc}", field="logo") from None
    return kind


def _svg_type(data: bytes) -> str:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        root = None
    if root is None or etree.QName(root).localname != "svg":
        raise ValidationFailed("the logo must be a PNG, JPEG or SVG image", field="logo")
    return "image/svg+xml"


def _profile_value(field: str, value: Any, country: str) -> Any:
    """Check and normalise one company profile field (see ``company_profile_update``)."""
    import re

    from django.core.exceptions import ValidationError as DjangoValidationError
    from django.core.validators import validate_email

    from salesledger.domain.errors import InvalidBankAccount
    from salesledger.domain.identifiers import normalise_iban, normalise_tax_id

    if field == "logo":
        return value
    if field in ("sends_peppol", "vat_on_debits"):
        return _yes_no(value, field)
    if field == "creditor_id":
        from salesledger.domain.party_ids import check_creditor_id

        return check_creditor_id("" if value is None else str(value))
    if field == "record_review_days":
        try:
            days = int(str(value).strip())
        except ValueError:
            days = -1
        if not 1 <= days <= 3660:
            raise ValidationFailed(f"the review period is a number of days from 1 to 3660, not "
                                   f"{value!r}", field="record_review_days")
        return days
    if field == "future_date_horizon_days":
        try:
            return check_horizon_days(int(str(value).strip()))
        except ValueError:
            raise ValidationFailed(f"the future-date horizon is a number of days, not {value!r}",
                                   field="future_date_horizon_days") from None
    text = "" if value is None else str(value).strip()
    if field == "email" and text:
        try:
            validate_email(text)
        except DjangoValidationError:
            raise ValidationFailed(f"{text!r} is not an e-mail address", field="email") from None
    elif field == "country":
        from salesledger.domain.countries import check_country

        text = check_country(text)
        if not text:
            raise ValidationFailed("country must be a two-letter ISO code, not empty",
                                   field="country")
    elif field == "tax_id":
        text = normalise_tax_id(text, country)
    elif field == "iban" and text:
        text = normalise_iban(text)[0]
    elif field == "bic" and text:
        from schwifty import BIC
        from schwifty.exceptions import SchwiftyException

        try:
            text = str(BIC(text))
        except SchwiftyException as exc:
            raise InvalidBankAccount(f"BIC {value!r} is not valid: {exc}", bic=value) from None
    elif field == "brand_color":
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", text):
            raise ValidationFailed(f"brand colour {value!r} must be written #rrggbb, "
                                   "e.g. #1f4e79", field="brand_color")
        text = text.lower()
    elif field == "name" and not text:
        raise ValidationFailed("the company name cannot be empty", field="name")
    return text


_YES, _NO = ("yes", "true", "on", "1"), ("no", "false", "off", "0")


def _yes_no(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _YES or text in _NO:
        return text in _YES
    raise ValidationFailed(f"{field.replace('_', ' ')} is yes or no, not {value!r}", field=field)


def company_profile_update(*, actor: Actor, company: Company, **fields: Any) -> Company:
    """Change what documents print about the company: seller details, bank account,
    branding (logo, colour), footer and legal mentions. Only the fields given change.

    IBAN and BIC are checked with schwifty (check digits, length, structure), the tax id
    with python-stdnum, the colour must be ``#rrggbb``; the logo (bytes, or ``None`` to
    remove it) must be a PNG, JPEG or SVG of at most 1 MB, its type read from its content.
    Given an IBAN and no BIC, the bank's BIC is filled in when schwifty knows it.
    ``future_date_horizon_days``: how far ahead of today a new document may be dated without
    confirmation (``domain/dating.py``). ``sends_peppol`` (yes or no): the company sends its
    e-invoices through Peppol, and posting checks the Peppol BIS Billing 3.0 rules too."""
    require_role(company, actor, Role.MANAGER)
    unknown = sorted(set(fields) - PROFILE_FIELDS)
    if unknown:
        raise ValidationFailed(f"unknown company profile field {unknown[0]!r}; change one of "
                               + ", ".join(sorted(PROFILE_FIELDS)), field=unknown[0])
    country = str(fields.get("country") or company.country).upper()
    changes = {f: _profile_value(f, v, country) for f, v in fields.items()}
    if "logo" in changes:
        logo = changes.pop("logo")
        data = bytes(logo) if logo else b""
        if len(data) > LOGO_MAX_BYTES:
            raise ValidationFailed(f"the logo has {len(data):,} bytes; at most "
                                   f"{LOGO_MAX_BYTES:,} (1 MB) are allowed", field="logo")
        changes["logo"], changes["logo_mime"] = (data, logo_type(data)) if data else (None, "")
    if changes.get("iban") and "bic" not in fields:
        from salesledger.domain.identifiers import normalise_iban

        changes["bic"] = normalise_iban(changes["iban"])[1] or company.bic
    with transaction.atomic():
        locked = Company.objects.select_for_update().get(pk=company.pk)
        before = {f: _shown(f, getattr(locked, f)) for f in changes}
        for f, v in changes.items():
            setattr(locked, f, v)
        locked.save(update_fields=list(changes))
        audit(locked, actor, "company.profile_update", "company", locked.pk, before=before,
              after={f: _shown(f, v) for f, v in changes.items()})
        if "iban" in changes or "bic" in changes:
            events.publish(events.CompanyBankDetailsChanged(
                company_id=locked.pk, iban=locked.iban, bic=locked.bic))
    return locked


def _shown(field: str, value: Any) -> Any:
    """An audit-friendly value: a logo by its hash and size, not its bytes."""
    if field == "logo":
        if not value:
            return None
        import hashlib

        data = bytes(value)
        return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    return value
