"""What every command group shares: the company and user a command acts for, the day it acts
on, parsing of typed values (dates, numbers, invoice lines), and adding commands to the parser.

Building the parser imports no Django (``tests/cli/test_startup.py``): what reaches the database
is imported inside the functions that need it.
"""

from __future__ import annotations

import argparse
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from salesledger.domain.amounts import parse_decimal
from salesledger.domain.errors import ValidationFailed
from salesledger.domain.invoicing import DocumentChargeInput, LineInput

# argparse's sub-parsers action (its class is private to argparse).
Subparsers = Any


# ---------------------------------------------------------------- who and when
def company_of(args: argparse.Namespace) -> Any:
    """The company the command acts on; a ``--user`` given must at least be able to read it
    (every command, reads included; writes check their own role on top)."""
    from salesledger.apps.core.selectors import company_resolve
    from salesledger.apps.core.services import require_reader

    company = company_resolve(args.company)
    if getattr(args, "user", None):
        require_reader(company, args.user)
    return company


def actor_of(args: argparse.Namespace, company: Any) -> Any:
    """The user the command acts as: ``--user``, else the company's owner."""
    from salesledger.apps.core.selectors import company_owner, user_get

    return user_get(args.user) if args.user else company_owner(company)


def today_of(company: Any) -> date:
    """Today in the company's time zone: the only place the command line reads the clock."""
    return datetime.now(ZoneInfo(company.time_zone)).date()


def as_of_day(args: argparse.Namespace, company: Any) -> date:
    """The day to act or report for: ``--as-of``, else today in the company's zone."""
    return parse_date(args.as_of, "--as-of") if args.as_of else today_of(company)


# ---------------------------------------------------------------- typed values
def parse_date(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValidationFailed(f"{what}: {text!r} is not a date (YYYY-MM-DD)") from None


def parse_line(spec: str) -> LineInput:
    """``"description;quantity;unit price[;tax rate[;discount %[;tax category[;VAT exemption
    reason[;unit[;seller's item id[;standard item id]]]]]]]"``; a standard id is
    ``SCHEME:ID`` or a GTIN alone (``domain/party_ids.py``)."""
    from salesledger.domain.party_ids import parse_item_id

    parts = [p.strip() for p in spec.split(";")]
    if len(parts) < 3:
        raise ValidationFailed(f"--line {spec!r}: write 'description;quantity;unit price[;tax %]'")
    desc, qty, price = parts[:3]
    rate = parts[3] if len(parts) > 3 and parts[3] else "0"
    disc = parts[4] if len(parts) > 4 and parts[4] else "0"
    cat = parts[5] if len(parts) > 5 and parts[5] else "S"
    reason = parts[6] if len(parts) > 6 else ""
    unit = parts[7].upper() if len(parts) > 7 and parts[7] else "C62"
    seller_id = parts[8] if len(parts) > 8 else ""
    scheme, standard_id = parse_item_id(parts[9] if len(parts) > 9 else "")
    return LineInput(
        desc,
        parse_decimal(qty, "quantity"),
        parse_decimal(price, "unit price"),
        parse_decimal(rate.rstrip("%"), "tax rate"),
        parse_decimal(disc.rstrip("%"), "discount"),
        cat,
        reason,
        unit,
        seller_id,
        standard_id,
        scheme,
    )


NO_LINE = "give at least one --line 'description;quantity;unit price;tax %'"


def parse_lines(specs: list[str] | None, *, required: bool = True) -> list[LineInput] | None:
    """The ``--line`` options of a document; ``None`` when none is given and none is
    required (a revision that keeps the lines)."""
    if not specs:
        if required:
            raise ValidationFailed(NO_LINE)
        return None
    return [parse_line(x) for x in specs]


def option_word(text: str) -> str:
    """A choice as typed: ``by-reference`` is ``by_reference``."""
    return text.strip().lower().replace("-", "_")


# ---------------------------------------------------------------- the parser
def add_command(
    sub: Subparsers, common: argparse.ArgumentParser, name: str, handler: Any, help_: str
) -> argparse.ArgumentParser:
    """A command (or a group's action) that runs ``handler(args)`` and takes the common
    options (``--company``, ``--json``, ``--as-of``, ``--user``)."""
    p = sub.add_parser(name, parents=[common], help=help_, description=help_)
    p.set_defaults(handler=handler)
    return p


def add_group(sub: Subparsers, name: str, help_: str) -> Subparsers:
    """A group of commands (``customer``, ``invoice`` ...): its actions are added to what
    this returns."""
    p = sub.add_parser(name, help=help_, description=help_)
    return p.add_subparsers(dest=f"{name}_command", required=True, metavar="ACTION")


def add_future_date_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow-future-date", action="store_true",
                   help="post a document dated beyond the company's future-date horizon "
                        "(one year ahead by default)")


def add_credit_override_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--override-credit", metavar="COMMENT", default="",
                   help="let it through though the customer is on credit hold or over its "
                        "limit (owner or credit controller), saying why; recorded and audited")


def _charge(spec: str, *, is_charge: bool) -> DocumentChargeInput:
    """``"reason;amount;tax rate[;tax category[;reason code]]"``: a document-level charge
    (``--charge``) or allowance (``--allowance``)."""
    what = "--charge" if is_charge else "--allowance"
    parts = [p.strip() for p in spec.split(";")]
    if len(parts) < 3:
        raise ValidationFailed(f"{what} {spec!r}: write 'reason;amount;tax %[;category[;code]]'")
    from salesledger.apps.invoicing.services import charge_input

    reason, amount, rate = parts[:3]
    return charge_input(is_charge=is_charge, reason=reason, amount=amount, tax_rate=rate,
                        category=parts[3] if len(parts) > 3 else "",
                        code=parts[4] if len(parts) > 4 else "", what=what)


def charge_options(args: argparse.Namespace) -> list[DocumentChargeInput]:
    """``--charge`` and ``--allowance`` of an invoice, a credit note or a quote: charges
    first, in the order given."""
    return ([_charge(x, is_charge=True) for x in getattr(args, "charge", None) or []]
            + [_charge(x, is_charge=False) for x in getattr(args, "allowance", None) or []])
