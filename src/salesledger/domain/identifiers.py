"""Identifiers of customers and of the company: tax ids, IBANs and BICs, checked with the
field's own libraries (pure: no Django; every path that takes one uses these).

Tax ids are checked with python-stdnum, which knows the check-digit rules of each
country's VAT or tax number scheme; EU VAT numbers given with their country prefix are
checked with ``stdnum.eu.vat``. A country without a scheme in python-stdnum is accepted as
typed. IBANs and BICs are checked with schwifty (ISO 13616 check digits, per-country
length and structure; ISO 9362 for the BIC).
"""

from __future__ import annotations

from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.util import get_cc_module

from .errors import InvalidBankAccount, InvalidTaxId, ValidationFailed

_EU_PREFIXES = {c.upper() for c in eu_vat.MEMBER_STATES} | {"EL", "XI"}


def normalise_tax_id(tax_id: str, country: str) -> str:
    """Return the tax id in its compact form, or raise :class:`InvalidTaxId`.

    EU VAT numbers keep (or get) their two-letter prefix, as EN 16931 BT-48 requires for a
    buyer's VAT identifier: ``DE 136 695 976`` with country DE is stored ``DE136695976``.
    """
    value = tax_id.strip()
    if not value:
        return ""
    prefix = value[:2].upper()
    country = country.upper()
    try:
        if prefix.isalpha() and prefix in _EU_PREFIXES:
            return str(eu_vat.validate(value))
        vat_prefix = "EL" if country == "GR" else country
        if vat_prefix in _EU_PREFIXES:
            return str(eu_vat.validate(vat_prefix + value))
        module = get_cc_module(country.lower(), "vat") if country else None
        if module is None:
            return value
        compact = str(module.validate(value))
        # Keep a country prefix the user gave (GB980780684), as e-invoices want it.
        return (
            country + compact if prefix == country and not compact.startswith(country) else compact
        )
    except StdnumError as exc:
        raise InvalidTaxId(
            f"tax id {tax_id!r} is not valid for {country or prefix}: {exc}",
            tax_id=tax_id,
            country=country,
        ) from None


def vat_key(tax_id: str, country: str) -> str:
    """A VAT number as two records may hold it (with or without its country prefix, with
    spaces, dots or dashes), reduced to one comparable form: letters and digits, upper
    case, with its country's VAT prefix (``EL`` for Greece) when written without one."""
    value = "".join(ch for ch in tax_id.upper() if ch.isalnum())
    if not value or value[:2].isalpha() or not country:
        return value
    return ("EL" if country.upper() == "GR" else country.upper()) + value


def check_not_own_tax_id(tax_id: str, country: str, *, own_tax_id: str,
                         own_country: str) -> None:
    """A customer's VAT number is never the company's own: an invoice would name the seller
    as its buyer (EN 16931 BT-48 equal to BT-31), and a reverse-charge or intra-Community
    invoice would shift the VAT onto the seller itself. Every path that stores a customer's
    VAT number (add, update, the customers CSV) refuses it."""
    if tax_id and own_tax_id and vat_key(tax_id, country) == vat_key(own_tax_id, own_country):
        raise ValidationFailed(
            f"VAT number {tax_id} is the company's own: give the customer's VAT number (or "
            "none)", field="tax_id")


def normalise_iban(iban: str, bic: str = "") -> tuple[str, str]:
    """Return (compact IBAN, BIC) or raise :class:`InvalidBankAccount`."""
    from schwifty import BIC, IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        parsed = IBAN(iban)
    except SchwiftyException as exc:
        raise InvalidBankAccount(f"IBAN {iban!r} is not valid: {exc}", iban=iban) from None
    bic_out = ""
    if bic.strip():
        try:
            bic_out = str(BIC(bic.strip()))
        except SchwiftyException as exc:
            raise InvalidBankAccount(f"BIC {bic!r} is not valid: {exc}", bic=bic) from None
    else:
        try:
            found = parsed.bic
            bic_out = str(found) if found else ""
        except SchwiftyException:
            bic_out = ""
    return parsed.compact, bic_out


def normalise_bic(bic: str) -> str:
    """Return the BIC (ISO 9362) in compact form ("" for none), or raise
    :class:`InvalidBankAccount`."""
    from schwifty import BIC
    from schwifty.exceptions import SchwiftyException

    if not bic.strip():
        return ""
    try:
        return str(BIC(bic.strip()))
    except SchwiftyException as exc:
        raise InvalidBankAccount(f"BIC {bic!r} is not valid: {exc}", bic=bic) from None
