"""The EN 16931 business rules that the ledger's own data can break.

Every posted invoice and credit note is also an e-invoice (UBL, CII, Factur-X), so a document
that would be an invalid e-invoice is refused, with the rule it breaks and a sentence a clerk
can act on. The rules are those of EN 16931-1 (the ``BR-*`` ids are the standard's, as the
official validation artefacts report them); only the rules our data can break are here: the
rest hold by construction (totals, BR-CO-10..16 and BR-S-08/09, are computed by
``domain.invoicing``; units and allowance reason codes are refused when the draft is written).
The conformance tests prove, for each rule below, that the official validator reports the same
rule id on the document refused.

``check_document`` holds the rules on what posting freezes (the customer as issued, the lines,
the VAT): posting runs it. ``check_seller`` holds the rules on the company profile, which is
read when the e-invoice is written and may be completed after posting; ``check`` runs both
(see docs/design/e-invoicing.md). The Peppol BIS Billing 3.0 rules are in ``peppol_rules``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from .einvoice import EInvoice, Party
from .invoicing import VatCategory

# VAT exemption reason codes (VATEX, CEF code list) a sales ledger may write in BT-121.
VATEX_CODES: frozenset[str] = frozenset(
    {"VATEX-EU-79-C", "VATEX-EU-132", "VATEX-EU-143", "VATEX-EU-148", "VATEX-EU-151",
     "VATEX-EU-309", "VATEX-EU-AE", "VATEX-EU-D", "VATEX-EU-F", "VATEX-EU-G", "VATEX-EU-I",
     "VATEX-EU-IC", "VATEX-EU-J", "VATEX-EU-O", "VATEX-FR-FRANCHISE", "VATEX-FR-CNWVAT"}
    | {f"VATEX-EU-132-1{c}" for c in "ABCDEFGHIJKLMNOPQ"}
    | {f"VATEX-EU-143-1{c}" for c in "ABCDEFGHIJKL"}
    | {f"VATEX-EU-148-{c}" for c in "ABCDEFG"}
    | {f"VATEX-EU-151-1{c}" for c in "ABCDE"}
)

# Categories whose exemption reason follows from the category itself: (VATEX code, text).
DEFAULT_EXEMPTION: dict[str, tuple[str, str]] = {
    VatCategory.REVERSE_CHARGE: ("VATEX-EU-AE", "Reverse charge"),
    VatCategory.INTRA_COMMUNITY: ("VATEX-EU-IC", "Intra-Community supply"),
    VatCategory.EXPORT: ("VATEX-EU-G", "Export outside the EU"),
    VatCategory.NOT_SUBJECT: ("VATEX-EU-O", "Not subject to VAT"),
}

_VATEX = re.compile(r"^(VATEX-[A-Z]{2}-[A-Z0-9-]*[A-Z0-9])(?:\s*[:\-\u2013]\s*|\s+|$)(.*)$",
                    re.S)


def split_exemption(text: str) -> tuple[str, str]:
    """A reason typed as ``"VATEX-EU-132 Medical care"`` is a code and a text; other text
    is a reason without a code."""
    match = _VATEX.match(text.strip())
    if match:
        return match.group(1), match.group(2).strip()
    return "", text.strip()


_NAMES = {
    "S": "standard-rated", "Z": "zero-rated", "E": "exempt", "AE": "reverse-charge",
    "K": "intra-Community", "G": "export", "O": "not-subject-to-VAT",
}


@dataclass(frozen=True, slots=True)
class RuleProblem:
    rule: str
    message: str

    def __str__(self) -> str:
        return self.message


def _p(rule: str, what: str, fix: str) -> RuleProblem:
    return RuleProblem(rule, f"{what} (EN 16931 rule {rule}): {fix}.")


def check(doc: EInvoice, *, known_country: Callable[[str], bool] | None = None
          ) -> list[RuleProblem]:
    """Every rule ``doc`` breaks among those the ledger's data can break."""
    return [*check_seller(doc, known_country=known_country),
            *check_document(doc, known_country=known_country)]


def check_document(doc: EInvoice, *, known_country: Callable[[str], bool] | None = None
                   ) -> list[RuleProblem]:
    """The rules on what posting freezes: the customer as issued, the lines, the VAT.
    (The seller's details come from the company profile when the e-invoice is written, so
    a gap there can still be filled after posting: see :func:`check_seller`.)"""
    return [*_buyer(doc, known_country), *_vat(doc), *_lines(doc), *_decimals(doc)]


def check_seller(doc: EInvoice, *, known_country: Callable[[str], bool] | None = None
                 ) -> list[RuleProblem]:
    """The rules on the seller: the company profile (name, address, VAT number)."""
    return list(_seller(doc, known_country))


def _seller(doc: EInvoice, known_country: Callable[[str], bool] | None
            ) -> Iterator[RuleProblem]:
    seller = doc.seller
    if not seller.name.strip():
        yield _p("BR-06", "The company has no name", "set it in the company profile")
    if seller.address is None:
        yield _p("BR-08", "The company has no address", "set it in the company profile")
    elif not seller.address.country:
        yield _p("BR-09", "The company's address has no country",
                 "set it in the company profile")
    yield from _party_codes("company", seller, known_country)
    if not (seller.vat_id or seller.legal_id):
        yield _p("BR-CO-26", "The company has neither a VAT number nor a registration number",
                 "set one in the company profile so that customers can identify it")
    cats = _categories(doc)
    needs_seller_vat = {"S": "BR-S-02", "Z": "BR-Z-02", "E": "BR-E-02", "AE": "BR-AE-02",
                        "K": "BR-IC-02", "G": "BR-G-02"}
    for cat, rule in needs_seller_vat.items():
        if cat in cats and not seller.vat_id:
            yield _p(rule, f"The document has {_NAMES[cat]} lines but the company has no VAT "
                     "number", "set the company's VAT number in the company profile")
            break


def _buyer(doc: EInvoice, known_country: Callable[[str], bool] | None
           ) -> Iterator[RuleProblem]:
    buyer = doc.buyer
    if not buyer.name.strip():
        yield _p("BR-07", "The customer has no name", "give the customer a name")
    if buyer.address is None:
        yield _p("BR-10", "The customer has no billing address and no country",
                 "add a billing address with its country to the customer before posting")
    elif not buyer.address.country:
        yield _p("BR-11", "The customer's billing address has no country",
                 "add one to the customer before posting")
    yield from _party_codes("customer", buyer, known_country)


def _party_codes(who: str, party: Party, known_country: Callable[[str], bool] | None
                 ) -> Iterator[RuleProblem]:
    country = party.address.country if party.address else ""
    if country and known_country and not known_country(country):
        yield _p("BR-CL-14", f"The {who}'s country {country!r} is not an ISO 3166 country "
                 "code", f"correct the {who}'s address (two letters, such as FR or DE)")
    if party.vat_id and not re.match(r"^[A-Z]{2}", party.vat_id):
        yield _p("BR-CO-09", f"The {who}'s VAT number {party.vat_id} does not start with "
                 "its country code", f"write it with its prefix (FR..., DE...) in the "
                 f"{who}'s record")


def _categories(doc: EInvoice) -> set[str]:
    cats = {line.vat_category for line in doc.lines}
    return cats | {ac.vat_category for ac in doc.allowances_charges}


def _vat(doc: EInvoice) -> Iterator[RuleProblem]:
    cats = _categories(doc)
    buyer = doc.buyer
    if "AE" in cats and not (buyer.vat_id or buyer.legal_id):
        yield _p("BR-AE-02", "Reverse-charge lines need the customer's VAT number, and the "
                 "customer has none", "add it to the customer before posting")
    if "K" in cats and not buyer.vat_id:
        yield _p("BR-IC-02", "Intra-Community supplies need the customer's VAT number, and the "
                 "customer has none", "add it to the customer before posting")
    if "K" in cats and not (doc.delivery and doc.delivery.address
                            and doc.delivery.address.country):
        yield _p("BR-IC-12", "An intra-Community supply needs the country it is delivered to",
                 "give the customer a shipping or billing address with its country")
    if "O" in cats and len(cats) > 1:
        yield _p("BR-O-11", "A document with lines not subject to VAT (category O) cannot have "
                 "lines of other VAT categories", "issue the O lines on a document of their own")
    for b in doc.vat_breakdown:
        yield from _breakdown(b.category, b.exemption_reason, b.exemption_code)


_REASON_RULES = {"E": "BR-E-10", "AE": "BR-AE-10", "K": "BR-IC-10", "G": "BR-G-10",
                 "O": "BR-O-10"}
_NO_REASON_RULES = {"S": "BR-S-10", "Z": "BR-Z-10"}


def _breakdown(category: str, reason: str, code: str) -> Iterator[RuleProblem]:
    name = _NAMES.get(category, category)
    if category in _REASON_RULES and not (reason or code):
        yield _p(_REASON_RULES[category], f"The {name} lines (VAT category {category}) give no "
                 "reason why no VAT is charged", "write the exemption reason (for example the "
                 "article of the VAT law, or a VATEX code) on each of those lines")
    if category in _NO_REASON_RULES and (reason or code):
        yield _p(_NO_REASON_RULES[category], f"A {name} line (VAT category {category}) gives an "
                 f"exemption reason ({reason or code})", "remove the reason, or choose the VAT "
                 "category the reason describes")
    if code and code not in VATEX_CODES:
        yield _p("BR-CL-22", f"{code} is not a VAT exemption reason code (VATEX)",
                 "write a code of the VATEX list, or the reason as text only")


# The rule that a document has exactly one VAT breakdown of a category (and rate), and so
# one exemption reason (BT-120, BT-121) for all its lines of that category.
_ONE_BREAKDOWN_RULES = {"E": "BR-E-01", "AE": "BR-AE-01", "K": "BR-IC-01", "G": "BR-G-01",
                        "O": "BR-O-01"}


@dataclass(frozen=True, slots=True)
class LineReason:
    """A line's VAT category (as the e-invoice writes it), rate and exemption reason."""

    line: int  # its position on the document, from 1
    category: str
    rate: Decimal
    reason: str


def _reason_key(reason: str) -> tuple[str, str]:
    code, text = split_exemption(reason)
    return code, " ".join(text.split())


def check_exemption_reasons(lines: Iterable[LineReason]) -> list[RuleProblem]:
    """Lines of one VAT category and rate that give different exemption reasons (code or
    text). EN 16931 states the reason once, in the VAT breakdown of the category, and a
    document has exactly one breakdown per category and rate (BR-E-01 and the like): the
    breakdown of such lines would carry one line's reason for all of them. A line that
    gives no reason goes with the reason of the others."""
    groups: dict[tuple[str, Decimal], dict[tuple[str, str], list[LineReason]]] = {}
    for li in lines:
        if li.category in _ONE_BREAKDOWN_RULES and li.reason.strip():
            reasons = groups.setdefault((li.category, li.rate.normalize()), {})
            reasons.setdefault(_reason_key(li.reason), []).append(li)
    problems = []
    for (category, _rate), reasons in groups.items():
        if len(reasons) < 2:
            continue
        numbers = sorted(li.line for same in reasons.values() for li in same)
        which = "; ".join(
            f"{_numbered(same)}: {same[0].reason.strip()!r}" for same in reasons.values())
        problems.append(_p(
            _ONE_BREAKDOWN_RULES[category],
            f"Lines {_and(numbers)} are {_NAMES[category]} (VAT category {category}) for "
            f"different reasons ({which}), and an e-invoice states one reason for all the "
            f"lines of a VAT category",
            "give those lines the same reason, or issue them on separate documents"))
    return problems


def _numbered(lines: list[LineReason]) -> str:
    return ("line " if len(lines) == 1 else "lines ") + _and([li.line for li in lines])


def _and(numbers: list[int]) -> str:
    words = [str(n) for n in numbers]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _lines(doc: EInvoice) -> Iterator[RuleProblem]:
    for line in doc.lines:
        if line.net_price < 0:
            yield _p("BR-27", f"Line {line.id} has a negative price",
                     "give the line a negative quantity instead, or issue a credit note")


def _decimals(doc: EInvoice) -> Iterator[RuleProblem]:
    amounts: list[tuple[str, str, Decimal | None]] = []
    for line in doc.lines:
        amounts.append(("BR-DEC-23", f"the net of line {line.id}", line.net_amount))
        for ac in line.allowances_charges:
            amounts.append(("BR-DEC-27" if ac.is_charge else "BR-DEC-24",
                            f"an allowance or charge of line {line.id}", ac.amount))
    for ac in doc.allowances_charges:
        amounts.append(("BR-DEC-05" if ac.is_charge else "BR-DEC-01",
                        f"the document {'charge' if ac.is_charge else 'allowance'}", ac.amount))
    for b in doc.vat_breakdown:
        amounts.append(("BR-DEC-19", f"the taxable amount at {b.category}", b.taxable_amount))
        amounts.append(("BR-DEC-20", f"the VAT at {b.category}", b.tax_amount))
    t = doc.totals
    amounts += [("BR-DEC-09", "the sum of the lines", t.line_net_total),
                ("BR-DEC-12", "the total without VAT", t.tax_exclusive),
                ("BR-DEC-13", "the VAT total", t.tax_total),
                ("BR-DEC-14", "the total with VAT", t.tax_inclusive),
                ("BR-DEC-18", "the amount due", t.payable),
                ("BR-DEC-15", "the VAT total in the accounting currency",
                 doc.tax_total_accounting)]
    for rule, what, value in amounts:
        if value is not None and value != value.quantize(Decimal("0.01")):
            yield _p(rule, f"{what.capitalize()} is {value} {doc.currency}, with more than two "
                     "decimals", "EN 16931 allows at most two decimals in amounts: issue "
                     "the document in a currency with two decimals or fewer")
            return
