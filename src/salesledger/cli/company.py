"""The company itself: ``init`` (create it and its owner), ``user add``, ``user
remove``, ``user two-factor-reset``, ``period close``, ``company set|show`` (its profile:
what documents print about it), ``company numbering`` (the series' prefixes) and ``company
two-factor require|lift`` (sign-in security). Parsing and rendering only."""

from __future__ import annotations

import argparse
from typing import Any

from salesledger.domain.errors import ValidationFailed

from .common import Subparsers, actor_of, add_command, add_group, company_of, parse_date
from .files import read_bytes
from .render import emit_json, kv, table


# ---------------------------------------------------------------- init, users, periods
def cmd_init(args: argparse.Namespace) -> int:
    from salesledger.apps.core.services import company_init

    if not args.company:
        raise ValidationFailed("init needs --company CODE")
    company, user = company_init(
        code=args.company, name=args.name or args.company, owner=args.owner,
        email=args.email or "", password=args.password, base_currency=args.currency,
        country=args.country, time_zone=args.time_zone,
        fiscal_year_start=args.fiscal_year_start, tax_rounding=args.tax_rounding)
    if args.json:
        emit_json({"company": company.code, "owner": user.username})
    else:
        print(f"company {company.code} created; owner {user.username}")
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    from salesledger.apps.core.services import user_add

    company = company_of(args)
    m = user_add(actor=actor_of(args, company), company=company, username=args.username,
                 role=args.role, email=args.email or "", password=args.password)
    if args.json:
        emit_json({"user": args.username, "company": company.code, "role": m.role})
    else:
        print(f"{args.username} is now {m.role} of {company.code}")
    return 0


def cmd_user_role(args: argparse.Namespace) -> int:
    from salesledger.apps.core.services import user_role

    company = company_of(args)
    m = user_role(actor=actor_of(args, company), company=company, username=args.username,
                  role=args.role)
    if args.json:
        emit_json({"user": args.username, "company": company.code, "role": m.role})
    else:
        print(f"{args.username} is now {m.role} of {company.code}")
    return 0


def cmd_user_remove(args: argparse.Namespace) -> int:
    from salesledger.apps.core.services import user_remove

    company = company_of(args)
    role = user_remove(actor=actor_of(args, company), company=company, username=args.username)
    if args.json:
        emit_json({"user": args.username, "company": company.code, "removed": role})
    else:
        print(f"{args.username} ({role}) is no longer a member of {company.code}")
    return 0


def cmd_user_two_factor_reset(args: argparse.Namespace) -> int:
    from salesledger.apps.core.access import user_two_factor_reset

    company = company_of(args)
    removed = user_two_factor_reset(actor=actor_of(args, company), company=company,
                                    username=args.username)
    if args.json:
        emit_json({"user": args.username, "company": company.code, "removed": removed})
    elif removed:
        print(f"two-factor sign-in of {args.username} reset: their authenticator was removed; "
              "they sign in with their password and set up the app again")
    else:
        print(f"{args.username} had no authenticator: nothing to remove")
    return 0


def cmd_period_close(args: argparse.Namespace) -> int:
    from salesledger.apps.core.services import company_close_period

    company = company_of(args)
    company = company_close_period(
        actor=actor_of(args, company), company=company,
        through=parse_date(args.through, "--through"))
    if args.json:
        emit_json({"company": company.code, "closed_through": company.lock_date})
    else:
        print(f"books of {company.code} closed through {company.lock_date}")
    return 0


# ---------------------------------------------------------------- the profile
# Option of ``company set`` -> the company's field it sets.
_PROFILE_OPTIONS = {
    "name": "name", "legal_name": "legal_name", "tax_id": "tax_id",
    "registration_id": "registration_id", "address_line1": "address_line1",
    "address_line2": "address_line2", "postal_code": "postal_code", "city": "city",
    "country": "country", "email": "email", "phone": "phone", "website": "website",
    "iban": "iban", "bic": "bic", "brand_color": "brand_color", "footer": "document_footer",
    "legal_mentions": "legal_mentions", "future_date_horizon": "future_date_horizon_days",
    "peppol": "sends_peppol", "creditor_id": "creditor_id", "vat_on_debits": "vat_on_debits",
    "review_days": "record_review_days",
}
_PROFILE_HELP = {"review_days": "DAYS after which a customer record not confirmed or edited "
                                "is listed by customer review-list (default 60)",
                 "future_date_horizon": "DAYS after today beyond which a new document is "
                                        "refused unless posted with --allow-future-date "
                                        "(default 365)",
                 "peppol": "yes if the company sends its e-invoices through the Peppol "
                           "network: posting then checks the Peppol BIS Billing 3.0 rules "
                           "too (default no)",
                 "creditor_id": "the SEPA creditor identifier (e.g. FR72ZZZ123456) that "
                                "invoices collected by direct debit name (EN 16931 BT-90)",
                 "vat_on_debits": "yes if the company opted to pay VAT on its services when "
                                  "it invoices them (France: option pour le paiement de la "
                                  "taxe d'apres les debits), as its invoices then state"}


def cmd_company_set(args: argparse.Namespace) -> int:
    from salesledger.apps.core.services import company_profile_update

    company = company_of(args)
    fields: dict[str, Any] = {field: getattr(args, option)
                              for option, field in _PROFILE_OPTIONS.items()
                              if getattr(args, option) is not None}
    if args.logo and args.remove_logo:
        raise ValidationFailed("give --logo FILE or --remove-logo, not both", field="logo")
    if args.logo:
        fields["logo"] = read_bytes(args.logo, "logo")
    elif args.remove_logo:
        fields["logo"] = None
    if not fields:
        raise ValidationFailed("nothing to change: give at least one option (see --help)")
    company = company_profile_update(actor=actor_of(args, company), company=company, **fields)
    if args.json:
        return _show_profile(args, company)
    print(f"company {company.code} updated: {', '.join(sorted(fields))}")
    return 0


def cmd_company_show(args: argparse.Namespace) -> int:
    return _show_profile(args, company_of(args))


def _show_profile(args: argparse.Namespace, company: Any) -> int:
    from salesledger.apps.documents.selectors import company_profile

    profile = company_profile(company)
    if args.json:
        emit_json(profile)
    else:
        kv([(k.replace("_", " "), v) for k, v in profile.items()])
    return 0


# ---------------------------------------------------------------- numbering
def cmd_company_numbering(args: argparse.Namespace) -> int:
    from salesledger.apps.core.selectors import number_counters
    from salesledger.apps.core.services import number_prefix_set
    from salesledger.domain.numbering import format_number

    company = company_of(args)
    given = [v is not None for v in (args.series, args.year, args.prefix)]
    if any(given) and not all(given):
        raise ValidationFailed("to set a prefix give --series, --year and --prefix",
                               field="prefix")
    if all(given):
        number_prefix_set(actor=actor_of(args, company), company=company, series=args.series,
                          fiscal_year=args.year, prefix=args.prefix)
    rows = [{**r, "next": format_number(r["prefix"], r["fiscal_year"], r["last"] + 1)}
            for r in number_counters(company)]
    if args.json:
        emit_json(rows)
    elif not rows:
        print("no document numbered yet")
    else:
        table([(r["series"], r["fiscal_year"], r["prefix"], r["last"], r["next"])
               for r in rows], ["series", "year", "prefix", "issued", "next"])
    return 0


# ---------------------------------------------------------------- sign-in security
def cmd_company_two_factor(args: argparse.Namespace) -> int:
    from salesledger.apps.core.access import company_two_factor_set

    company = company_of(args)
    required = args.action == "require"
    before = company.require_two_factor
    company = company_two_factor_set(actor=actor_of(args, company), company=company,
                                     required=required)
    if args.json:
        emit_json({"company": company.code, "require_two_factor": company.require_two_factor,
                   "changed": before != company.require_two_factor})
        return 0
    state = {(False, True): "is now required of", (True, True): "was already required of",
             (True, False): "is no longer required of",
             (False, False): "was not required of"}[(before, required)]
    print(f"two-factor sign-in {state} the owners and managers of {company.code}")
    return 0


# ---------------------------------------------------------------- registration
def register_init(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    p = add_command(sub, common, "init", cmd_init, "create a company and its owner")
    p.add_argument("--name")
    p.add_argument("--currency", default="EUR")
    p.add_argument("--country", default="FR")
    p.add_argument("--time-zone", default="Europe/Paris")
    p.add_argument("--fiscal-year-start", type=int, default=1)
    p.add_argument("--tax-rounding", choices=["per_line", "per_document"], default="per_line")
    p.add_argument("--owner", required=True, help="username of the owner (created if new)")
    p.add_argument("--email")
    p.add_argument("--password")


ROLES = ["owner", "manager", "clerk", "viewer", "credit_controller", "collector"]


def register_user(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    g = add_group(sub, "user", "users of a company")
    p = add_command(g, common, "add", cmd_user_add, "add a user to the company with a role")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--email")
    p.add_argument("--password")
    p = add_command(g, common, "role", cmd_user_role,
                    "change a member's role (owner only; the last owner stays owner)")
    p.add_argument("username")
    p.add_argument("role", choices=ROLES)
    p = add_command(g, common, "remove", cmd_user_remove,
                    "remove a member from the company; what they recorded stays (owner only; "
                    "the last owner stays)")
    p.add_argument("username")
    p = add_command(g, common, "two-factor-reset", cmd_user_two_factor_reset,
                    "remove a user's authenticator (a lost or replaced phone); owner only")
    p.add_argument("username")


def register_period(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    g = add_group(sub, "period", "accounting periods")
    p = add_command(g, common, "close", cmd_period_close, "close the books through a date")
    p.add_argument("--through", required=True)


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    g = add_group(sub, "company", "the company's profile: what documents print about it")
    p = add_command(g, common, "set", cmd_company_set,
                    "change seller details, bank account, branding and texts of documents")
    for option in _PROFILE_OPTIONS:
        p.add_argument("--" + option.replace("_", "-"), help=_PROFILE_HELP.get(option))
    p.add_argument("--logo", metavar="FILE", help="PNG, JPEG or SVG, at most 1 MB")
    p.add_argument("--remove-logo", action="store_true")
    add_command(g, common, "show", cmd_company_show, "show the company's profile")
    p = add_command(g, common, "numbering", cmd_company_numbering,
                    "show the numbering series by fiscal year, or set the prefix of a year "
                    "that has issued no number yet (manager)")
    p.add_argument("--series", choices=["INV", "CN", "RCT"])
    p.add_argument("--year", type=int, help="the fiscal year (named by the year it starts in)")
    p.add_argument("--prefix", help="1 to 12 capital letters, digits, '-', '_' or '/'")
    p = add_command(g, common, "two-factor", cmd_company_two_factor,
                    "require two-factor sign-in of the owners and managers, or lift the "
                    "requirement; owner only")
    p.add_argument("action", choices=["require", "lift"])
