"""How a buyer, a seller and an item are identified in an e-invoice, checked where they are typed.

EN 16931 identifies a party by its legal registration (BT-30 seller, BT-47 buyer: a number in
a register named by its ISO/IEC 6523 ICD code, e.g. 0002 the French SIREN, 0009 the SIRET,
0088 a GS1 GLN, 0208 the Belgian enterprise number) and by its electronic address (BT-34,
BT-49: an identifier in a scheme of the CEF "EAS" list: 0009 a SIRET, 0088 a GLN, 0208, 9925
a Belgian VAT number...), the address a network (Peppol, the French platforms) delivers to.
An item is identified by the seller's own code (BT-155) and by a standard identifier with its
ICD scheme (BT-157, e.g. 0160 a GS1 GTIN). A direct debit (BG-19) names the creditor by its
SEPA creditor identifier (BT-90).

The code lists are those of the EN 16931 validation artefacts (BR-CL-11 for ICD, BR-CL-25 for
EAS, BR-CL-21 for item schemes). Where python-stdnum knows a register's check digits, the
number is checked with them, so a mistyped SIREN is refused when it is typed, not by the
buyer's platform weeks later. Pure: no Django.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from stdnum import ean
from stdnum.dk import cvr
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fi import ytunnus
from stdnum.fr import siren, siret
from stdnum.it import iva
from stdnum.no import orgnr as no_orgnr
from stdnum.se import orgnr as se_orgnr

from .errors import ValidationFailed

# ISO/IEC 6523 ICD codes EN 16931 accepts (BR-CL-11): 0002 to 0248, less those never issued.
ICD_CODES = frozenset(f"{n:04d}" for n in range(2, 249)) - {"0092", "0103", "0181", "0182"}

# The EAS codes EN 16931 accepts for an electronic address (BR-CL-25), e-mail (EM) aside:
# Peppol does not deliver to an e-mail address (PEPPOL-EN16931-CL008).
EAS_CODES = frozenset((
    "0002 0007 0009 0037 0060 0088 0096 0097 0106 0130 0135 0142 0147 0151 0154 0158 0170 "
    "0177 0183 0184 0188 0190 0191 0192 0193 0194 0195 0196 0198 0199 0200 0201 0202 0203 "
    "0204 0205 0208 0209 0210 0211 0212 0213 0215 0216 0217 0218 0219 0220 0221 0225 0230 "
    "0235 0240 0242 0244 0245 0246 0248 9910 9913 9914 9915 9918 9919 9920 9922 9923 9924 "
    "9925 9926 9927 9928 9929 9930 9931 9932 9933 9934 9935 9936 9937 9938 9939 9940 9941 "
    "9942 9943 9944 9945 9946 9947 9948 9949 9950 9951 9952 9953 9957 9959").split())


def _digits(n: int, name: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not re.fullmatch(rf"\d{{{n}}}", value):
            raise StdnumError(f"a {name} has {n} digits")
        return value
    return check


def _gln(value: str) -> str:
    if len(value) != 13:
        raise StdnumError("a GLN has 13 digits")
    return str(ean.validate(value))


def _gtin(value: str) -> str:
    if len(value) not in (8, 12, 13, 14):
        raise StdnumError("a GTIN has 8, 12, 13 or 14 digits")
    return str(ean.validate(value))


def _belgian_enterprise(value: str) -> str:
    if not re.fullmatch(r"[01]\d{9}", value) or 97 - int(value[:8]) % 97 != int(value[8:]):
        raise StdnumError("a Belgian enterprise number is 10 digits, the last two a check "
                          "of the first eight (modulo 97)")
    return value


# The registers whose numbers can be checked, by ICD (and EAS: the same code) scheme.
REGISTERS: dict[str, tuple[str, Callable[[str], str]]] = {
    "0002": ("SIREN", lambda v: str(siren.validate(v))),
    "0009": ("SIRET", lambda v: str(siret.validate(v))),
    "0088": ("GLN", _gln),
    "0060": ("DUNS number", _digits(9, "DUNS number")),
    "0106": ("KvK number", _digits(8, "KvK number")),
    "0208": ("Belgian enterprise number", _belgian_enterprise),
    "0192": ("Norwegian organisation number", lambda v: str(no_orgnr.validate(v))),
    "0007": ("Swedish organisation number", lambda v: str(se_orgnr.validate(v))),
    "0184": ("Danish CVR number", lambda v: str(cvr.validate(v.removeprefix("DK")))),
    "0211": ("Italian VAT number", lambda v: str(iva.validate(v.removeprefix("IT")))),
    "0213": ("Finnish business id", lambda v: str(ytunnus.validate(v.removeprefix("FI")))),
}

# Item identifier schemes (BT-157): those a sales ledger meets, each checked.
ITEM_SCHEMES: dict[str, tuple[str, Callable[[str], str]]] = {
    "0160": ("GTIN", _gtin),
    "0088": ("GLN", _gln),
}


def _compact(value: str) -> str:
    return "".join(value.split()).replace(".", "").replace("-", "")


def _split(text: str) -> tuple[str, str]:
    """``"0009:73282932000074"`` -> ("0009", "73282932000074"); no scheme -> ("", text)."""
    text = text.strip()
    head, sep, tail = text.partition(":")
    if sep and re.fullmatch(r"\d{4}|[A-Z]{2}", head.strip().upper()):
        return head.strip().upper(), tail.strip()
    return "", text


def infer_legal_scheme(country: str, value: str) -> str:
    """The ICD scheme of a registration number when its country and shape say which register
    it is: SIREN (9 digits) and SIRET (14) in France, the Belgian enterprise number, KvK."""
    value = _compact(value)
    if country == "FR" and re.fullmatch(r"\d{9}", value):
        return "0002"
    if country == "FR" and re.fullmatch(r"\d{14}", value):
        return "0009"
    if country == "BE" and re.fullmatch(r"[01]\d{9}", value):
        return "0208"
    if country == "NL" and re.fullmatch(r"\d{8}", value):
        return "0106"
    return ""


def _checked(scheme: str, value: str, what: str, field: str) -> str:
    register = REGISTERS.get(scheme)
    if register is None:
        return value
    name, check = register
    try:
        return check(_compact(value))
    except StdnumError as exc:
        raise ValidationFailed(f"{what} {value!r} is not a valid {name} (scheme {scheme}): "
                               f"{exc}", field=field) from None


def parse_legal_id(text: str, country: str) -> tuple[str, str]:
    """A legal registration number as typed (``732829320``, ``0009:73282932000074``) ->
    (number, ICD scheme), checked: the scheme given, else the one its country and shape say;
    a number in a known register must pass its check digits. Empty -> ("", "")."""
    scheme, value = _split(text)
    if not value:
        if scheme:
            raise ValidationFailed(f"registration number {text!r} has a scheme but no number",
                                   field="legal_id")
        return "", ""
    scheme = scheme or infer_legal_scheme(country.upper(), value)
    if scheme and scheme not in ICD_CODES:
        raise ValidationFailed(f"{scheme} is not an ISO/IEC 6523 registration scheme (ICD): "
                               "write SCHEME:NUMBER, e.g. 0002:732829320 for a SIREN",
                               field="legal_id")
    value = _checked(scheme, value, "registration number", "legal_id")
    if len(value) > 40 or any(c.isspace() for c in value):
        raise ValidationFailed(f"registration number {value!r} must be one word of at most "
                               "40 characters", field="legal_id")
    return value, scheme


def parse_endpoint(text: str) -> tuple[str, str]:
    """An electronic address as typed, ``SCHEME:ID`` (``0009:73282932000074``,
    ``0088:5790000435951``, ``9925:BE0403170701``) -> (EAS scheme, id), checked: the scheme
    must be in the EAS list (an e-mail is not an address a network delivers to), the id
    must pass its register's check digits. Empty -> ("", "")."""
    if not text.strip():
        return "", ""
    scheme, value = _split(text)
    if not scheme or not value:
        raise ValidationFailed(f"electronic address {text!r}: write SCHEME:ID, e.g. "
                               "0009:73282932000074 (a SIRET) or 0088:5790000435951 (a GLN)",
                               field="endpoint")
    if scheme not in EAS_CODES:
        raise ValidationFailed(f"{scheme} is not an electronic address scheme (EAS) a network "
                               "delivers to: use a code of the EAS list (0002, 0009, 0088, "
                               "0208, 9925...)", field="endpoint")
    value = _checked(scheme, value, "electronic address", "endpoint")
    if len(value) > 100 or any(c.isspace() for c in value):
        raise ValidationFailed(f"electronic address {value!r} must be one word of at most "
                               "100 characters", field="endpoint")
    return scheme, value


def parse_item_id(text: str) -> tuple[str, str]:
    """A standard item identifier (BT-157) as typed: ``0160:4006381333931`` or the GTIN
    alone -> (ICD scheme, id), checked. Empty -> ("", "")."""
    if not text.strip():
        return "", ""
    scheme, value = _split(text)
    scheme = scheme or "0160"
    if scheme not in ICD_CODES:
        raise ValidationFailed(f"{scheme} is not an ISO/IEC 6523 scheme (ICD) for an item "
                               "identifier: write SCHEME:ID, e.g. 0160:4006381333931 (GTIN)",
                               field="standard_id")
    register = ITEM_SCHEMES.get(scheme)
    if register is not None:
        name, check = register
        try:
            value = check(_compact(value))
        except StdnumError as exc:
            raise ValidationFailed(f"item identifier {value!r} is not a valid {name}: {exc}",
                                   field="standard_id") from None
    if not value or len(value) > 40 or any(c.isspace() for c in value):
        raise ValidationFailed(f"item identifier {value!r} must be one word of at most 40 "
                               "characters", field="standard_id")
    return scheme, value


def _base10(text: str) -> int:
    return int("".join(str(int(c, 36)) for c in text))


def check_creditor_id(text: str) -> str:
    """A SEPA creditor identifier (BT-90): country, two check digits (ISO 7064 MOD 97-10 over
    the national identifier and the country), a three-character business code, the national
    identifier (``FR72ZZZ123456``). Returns it compact, upper case; empty stays empty."""
    value = "".join(text.split()).upper()
    if not value:
        return ""
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{3}[A-Z0-9]{1,28}", value):
        raise ValidationFailed(f"SEPA creditor identifier {text!r}: write the country, two "
                               "check digits, a three-character business code and the "
                               "national identifier (e.g. FR72ZZZ123456)", field="creditor_id")
    if 98 - _base10(value[7:] + value[:2] + "00") % 97 != int(value[2:4]):
        raise ValidationFailed(f"SEPA creditor identifier {text!r}: its check digits are "
                               "wrong", field="creditor_id")
    return value


def check_mandate(text: str) -> str:
    """A SEPA mandate reference (BT-89): up to 35 characters of the SEPA character set."""
    value = text.strip()
    if value and not re.fullmatch(r"[A-Za-z0-9/\-?:().,'+ ]{1,35}", value):
        raise ValidationFailed(f"mandate reference {text!r}: at most 35 letters, digits, "
                               "spaces and / - ? : ( ) . , ' +", field="mandate")
    return value
