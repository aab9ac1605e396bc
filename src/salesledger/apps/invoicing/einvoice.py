"""E-invoices of posted invoices and credit notes: build, check, write, freeze.

Every posted document is also an EN 16931 e-invoice. ``einvoice_build`` turns a posted
document (its frozen snapshot, its instalments, and the company's profile: address, VAT and
registration numbers, IBAN/BIC, e-mail) into the semantic model of
``salesledger.domain.einvoice``; the writers of ``salesledger.formats.einvoice`` make UBL,
CII and Factur-X of it. ``einvoice_check`` runs the same builder on a document being posted
and refuses it (``EInvoiceRuleBroken``) if it would break an EN 16931 rule; ``invoice_post``
calls it before taking a number (and, for a company that sends through Peppol, checks the
Peppol BIS Billing 3.0 rules of ``salesledger.domain.peppol_rules`` too). The files (UBL,
CII, and Factur-X, which embeds the CII in the document's PDF) are frozen by the documents
app (``documents.einvoice_files``).

How each business term is filled, and why, is in docs/design/e-invoicing.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from salesledger.apps.core.models import Company
from salesledger.domain import einvoice_rules, peppol_rules
from salesledger.domain.countries import is_country
from salesledger.domain.einvoice import (
    AllowanceCharge,
    Contact,
    Delivery,
    DocumentTotals,
    DocumentType,
    EInvoice,
    ElectronicAddress,
    Line,
    Party,
    PaymentInstructions,
    Period,
    PostalAddress,
    PrecedingInvoice,
    VatBreakdown,
    vat_category,
    vat_rate,
)
from salesledger.domain.errors import (
    DocumentNotPosted,
    EInvoiceRuleBroken,
    ValidationFailed,
)
from salesledger.domain.invoicing import VatCategory
from salesledger.domain.journal import to_base
from salesledger.formats.einvoice.codes import (
    CREDIT_TRANSFER,
    DIRECT_DEBIT,
    NOT_DEFINED,
    SEPA_CREDIT_TRANSFER,
    SEPA_DIRECT_DEBIT,
    business_process_for,
    electronic_address_for,
    legal_scheme_for,
    vat_point_code_for,
)
from salesledger.money import Money, Rounding, quantize

from .issuing import charge_inputs, compute_invoice_totals, document_snapshot, line_inputs
from .models import DocKind, Instalment, Invoice

DRAFT_NUMBER = "DRAFT"



# ---------------------------------------------------------------- countries
def known_country(code: str) -> bool:
    """The check customers are stored with (ISO 3166-1 alpha-2, plus EN 16931's XI, 1A)."""
    return is_country(code)


# ---------------------------------------------------------------- the seller and the buyer
def _seller(company: Company) -> Party:
    vat = company.tax_id.replace(" ", "").upper()
    address = electronic_address_for(vat, company.email)
    legal = company.registration_id.strip()
    return Party(
        name=(company.legal_name or company.name).strip(),
        trading_name=company.name.strip() if company.legal_name.strip() and
        company.legal_name.strip() != company.name.strip() else "",
        address=PostalAddress(country=company.country.upper(), line1=company.address_line1,
                              line2=company.address_line2, city=company.city,
                              postal_code=company.postal_code),
        vat_id=vat,
        legal_id=legal,
        legal_id_scheme=legal_scheme_for(company.country.upper(), legal) if legal else "",
        electronic_address=ElectronicAddress(*address) if address else None,
        contact=Contact(phone=company.phone, email=company.email)
        if company.phone or company.email else None,
    )


def _vat_id(tax_id: str, country: str) -> str:
    """A VAT identifier starts with its country's code (BR-CO-09): the customers app keeps
    the prefix of EU numbers; a number stored without one gets the customer's country."""
    value = tax_id.replace(" ", "").upper()
    if not value or value[:2].isalpha() or not country:
        return value
    return ("EL" if country == "GR" else country.upper()) + value


def _address(data: dict[str, Any] | None) -> PostalAddress | None:
    if not data:
        return None
    return PostalAddress(country=(data.get("country") or "").upper(), line1=data.get("line1", ""),
                         line2=data.get("line2", ""), city=data.get("city", ""),
                         postal_code=data.get("postal_code", ""), region=data.get("region", ""))


def _buyer(issued: dict[str, Any], email: str) -> Party:
    country = (issued.get("country") or "").upper()
    address = _address(issued.get("billing_address"))
    if address is None and country:
        address = PostalAddress(country=country)
    vat = _vat_id(issued.get("tax_id", ""), address.country if address else country)
    # The address the customer gave (a Peppol participant id, BT-49), else one derived
    # from its VAT number, else its e-mail.
    given = issued.get("endpoint") or {}
    endpoint = ((given["scheme"], given["id"]) if given.get("id")
                else electronic_address_for(vat, email))
    legal = issued.get("legal_id") or {}
    legal_name = (issued.get("legal_name") or "").strip()
    name = (issued.get("name") or "").strip()
    return Party(
        name=legal_name or name,
        trading_name=name if legal_name and legal_name != name else "",
        address=address, vat_id=vat,
        legal_id=legal.get("id", ""), legal_id_scheme=legal.get("scheme", ""),
        electronic_address=ElectronicAddress(*endpoint) if endpoint else None,
        contact=Contact(email=email) if email else None,
    )


# ---------------------------------------------------------------- lines, VAT, totals
def _line(index: int, li: dict[str, Any], currency: str) -> Line:
    """An invoice line (BG-25). A discount is a line allowance (BG-27) taking the gross
    amount (quantity x price, to two decimals) to the net the ledger computed; where the
    currency has fewer decimals than two (JPY), the difference that rounding the net to
    the currency makes is stated as a rounding allowance or charge, so that quantity x
    price + charges - allowances gives the net (as Peppol BIS 3 checks, rule R120)."""
    money = _money_of(currency)
    qty, price = Decimal(li["quantity"]), Decimal(li["unit_price"])
    discount = Decimal(li.get("discount_percent") or 0)
    gross = quantize(qty * price, 2, Rounding.HALF_UP)
    net = money(li["net"])
    exact_percent = Money.zero(currency).exponent >= 2
    adjustments: tuple[AllowanceCharge, ...] = ()
    if discount and net <= gross:
        adjustments = (AllowanceCharge(
            is_charge=False, amount=gross - net, reason=f"Discount {discount.normalize():f} %",
            reason_code="95", base_amount=gross if exact_percent else None,
            percent=discount if exact_percent else None),)
    elif discount or abs(net - gross) > Decimal("0.02"):
        # (a discounted net rounded up past the gross is a rounding charge too)
        adjustments = (AllowanceCharge(is_charge=net > gross, amount=abs(net - gross),
                                       reason="Rounding to the currency's unit"),)
    category = vat_category(li["tax_category"], li["tax_rate"])
    return Line(id=str(index), name=li["description"], quantity=qty,
                unit_code=li.get("unit_code") or "C62", net_amount=net,
                net_price=price, vat_category=category,
                vat_rate=vat_rate(category, li["tax_rate"]), allowances_charges=adjustments,
                seller_item_id=li.get("seller_item_id", ""),
                standard_item_id=li.get("standard_item_id", ""),
                standard_item_scheme=li.get("standard_item_scheme", ""))


def _money_of(currency: str) -> Callable[[int], Decimal]:
    return lambda minor: Money.from_minor(int(minor), currency).amount


def _reasons(reasons: Iterable[str], category: str) -> tuple[str, str]:
    """The exemption reason (BT-120) and code (BT-121) of one VAT breakdown: from the
    reasons of its lines, else the category's own (reverse charge, intra-Community, export,
    O)."""
    codes, texts = [], []
    for reason in reasons:
        code, text = einvoice_rules.split_exemption(reason)
        if code and code not in codes:
            codes.append(code)
        if text and text not in texts:
            texts.append(text)
    if not codes and not texts and category in einvoice_rules.DEFAULT_EXEMPTION:
        return einvoice_rules.DEFAULT_EXEMPTION[category]
    return (codes[0] if len(codes) == 1 else ""), "; ".join(texts or codes)


def _breakdown(snap: dict[str, Any], currency: str) -> tuple[VatBreakdown, ...]:
    """One VAT breakdown (BG-23) per category and rate: the ledger's tax groups, with the
    groups that map to one category (S at 0 % and Z) added together."""
    money = _money_of(currency)
    groups: dict[tuple[str, Decimal], list[int]] = {}
    for g in snap["tax_groups"]:
        rate = Decimal(g["rate"]).normalize()
        key = (vat_category(g["category"], rate), rate)
        net, tax = groups.setdefault(key, [0, 0])
        groups[key] = [net + g["net"], tax + g["tax"]]
    reasons: dict[tuple[str, Decimal], list[str]] = {}  # the lines' reasons, by the same key
    for li in snap["lines"]:
        rate = Decimal(li["tax_rate"])
        reasons.setdefault((vat_category(li["tax_category"], rate), rate), []).append(
            li.get("exemption_reason") or "")
    out = []
    for (category, rate), (net, tax) in groups.items():
        code, text = _reasons(reasons.get((category, rate), ()), category)
        out.append(VatBreakdown(category=category, rate=vat_rate(category, rate),
                                taxable_amount=money(net), tax_amount=money(tax),
                                exemption_reason=text, exemption_code=code))
    return tuple(out)


def _charges(snap: dict[str, Any], currency: str) -> tuple[AllowanceCharge, ...]:
    """Document allowances and charges (BG-20, BG-21); one given as a percentage states it
    (BT-94, BT-101) with its base (BT-93, BT-100), except in a currency of fewer than two
    decimals, where the amount rounded to the unit could not agree with them within the
    0.02 Peppol allows (PEPPOL-EN16931-R040)."""
    money = _money_of(currency)
    exact = Money.zero(currency).exponent >= 2
    return tuple(
        AllowanceCharge(is_charge=c["is_charge"], amount=money(c["amount"]), reason=c["reason"],
                        reason_code=c["reason_code"],
                        base_amount=money(c["base"]) if exact and "percent" in c else None,
                        percent=Decimal(c["percent"]) if exact and "percent" in c else None,
                        vat_category=vat_category(c["tax_category"], c["tax_rate"]),
                        vat_rate=vat_rate(c["tax_category"], c["tax_rate"]))
        for c in snap.get("charges", ()))


def _totals(snap: dict[str, Any], currency: str) -> DocumentTotals:
    money = _money_of(currency)
    allowances, charges = snap.get("allowance_total", 0), snap.get("charge_total", 0)
    line_net = snap["net"] + allowances - charges
    return DocumentTotals(
        line_net_total=money(line_net), tax_exclusive=money(snap["net"]),
        tax_total=money(snap["tax"]), tax_inclusive=money(snap["total"]),
        payable=money(snap["total"]),
        allowance_total=money(allowances) if allowances else None,
        charge_total=money(charges) if charges else None)


# ---------------------------------------------------------------- payment
@dataclass(frozen=True)
class _Due:
    due_date: date | None
    terms: str


def _payment_terms(company: Company, inv: Invoice, snap: dict[str, Any],
                   instalments: list[Instalment]) -> _Due:
    cur = snap["currency"]

    def amount(minor: int) -> str:
        return str(Money.from_minor(minor, cur))

    if snap["kind"] == DocKind.CREDIT_NOTE:
        against = f" against invoice {snap['corrects']}" if snap.get("corrects") else ""
        return _Due(None, f"Credit note: nothing to pay; the amount is credited{against}.")
    if not instalments:
        return _Due(None, "Nothing to pay.")
    if len(instalments) == 1:
        text = f"Payable by {instalments[0].due_date.isoformat()}"
    else:
        parts = ", ".join(f"{amount(i.amount)} by {i.due_date.isoformat()}" for i in instalments)
        text = f"Payable in {len(instalments)} instalments: {parts}"
    terms_name = _terms_name(company, inv)
    if terms_name:
        text += f" ({terms_name})"
    discounts = [i for i in instalments if i.discount_amount and i.discount_date]
    if discounts:
        first = discounts[0]
        text += (f". Early payment: {amount(sum(i.discount_amount for i in discounts))} off "
                 f"if paid by {first.discount_date.isoformat()}")
    # The due date (BT-9) is the first instalment's: the earliest day an amount falls due.
    return _Due(instalments[0].due_date, text + ".")


def _payment(company: Company, inv: Invoice, snap: dict[str, Any]) -> PaymentInstructions | None:
    if snap["kind"] == DocKind.CREDIT_NOTE:
        return None
    # The structured creditor reference (ISO 11649) frozen at posting, else the number.
    remittance = (snap.get("payment_reference") or inv.payment_reference or snap.get("number")
                  or "")
    mandate = snap["customer"].get("mandate")
    if mandate:
        # Collected by direct debit (BG-19): the mandate and the account debited, frozen at
        # posting, and the company's SEPA creditor identifier.
        return PaymentInstructions(
            means_code=SEPA_DIRECT_DEBIT if snap["currency"] == "EUR" else DIRECT_DEBIT,
            remittance=remittance, mandate=mandate["reference"],
            creditor_id=company.creditor_id, debited_account=mandate.get("iban", ""))
    # The account frozen at posting (``pay_to``, domain/bank_accounts.py); a document posted
    # before invoices named their account has the company's main account as it is now.
    account = snap.get("pay_to") or {
        "iban": company.iban, "bic": company.bic, "holder": company.legal_name or company.name}
    identifier = "".join((account.get("iban") or account.get("number") or "").split()).upper()
    if not identifier:
        return PaymentInstructions(means_code=NOT_DEFINED, remittance=remittance)
    sepa = snap["currency"] == "EUR" and bool(account.get("iban"))
    return PaymentInstructions(
        means_code=SEPA_CREDIT_TRANSFER if sepa else CREDIT_TRANSFER, remittance=remittance,
        iban=identifier, account_name=account.get("holder") or "",
        bic=(account.get("bic") or "").strip().upper())


# ---------------------------------------------------------------- the document
def _terms_name(company: Company, inv: Invoice) -> str:
    terms = inv.terms or inv.customer.payment_terms or company.default_terms
    return terms.name if terms else ""


def _customer_email(inv: Invoice) -> str:
    customer = inv.customer
    if customer.email:
        return str(customer.email)
    for contact in customer.contacts.all():
        if "billing" in contact.role_list() and contact.email:
            return str(contact.email)
    return ""


def _delivery(inv: Invoice, snap: dict[str, Any], buyer: Party) -> Delivery | None:
    """Where the goods or services went (BG-13, deliver-to address BG-15): the customer's
    shipping address, else its billing address. CII requires the delivery element on every
    invoice and Factur-X warns on an empty one (PEPPOL-EN16931-R008 in its Schematron), so
    it is always written. Intra-Community supplies also need when the goods went (BR-IC-11,
    BR-IC-12): the issue date (the ledger records no separate delivery date), stated only
    there, where the rules ask for it."""
    shipping = next((a for a in inv.customer.addresses.all() if a.kind == "shipping"), None)
    address = _address(shipping.as_dict()) if shipping else buyer.address
    if address is None or not address.country:
        return None
    categories = {li["tax_category"] for li in snap["lines"]}
    categories |= {c["tax_category"] for c in snap.get("charges", ())}
    supply = snap.get("supply") or {}
    day = date.fromisoformat(supply["delivery_date"]) if supply.get("delivery_date") else None
    if day is None and VatCategory.INTRA_COMMUNITY in categories and not _period(snap):
        day = date.fromisoformat(snap["issue_date"])
    return Delivery(date=day, address=address)


def _period(snap: dict[str, Any]) -> Period | None:
    """The invoicing period (BG-14) the document gives, if any."""
    supply = snap.get("supply") or {}
    start, end = supply.get("period_start"), supply.get("period_end")
    if not (start or end):
        return None
    return Period(date.fromisoformat(start) if start else None,
                  date.fromisoformat(end) if end else None)


def build_einvoice(company: Company, inv: Invoice, snap: dict[str, Any],
                   instalments: list[Instalment]) -> EInvoice:
    """The semantic model of ``inv`` as ``snap`` (its snapshot) describes it."""
    cur, base = snap["currency"], company.base_currency
    seller = _seller(company)
    buyer = _buyer(snap["customer"], _customer_email(inv))
    if {li["tax_category"] for li in snap["lines"]} == {VatCategory.NOT_SUBJECT}:
        # A document not subject to VAT carries no VAT identifier at all (BR-O-02).
        seller = replace(seller, vat_id="")
        buyer = replace(buyer, vat_id="")
    due = _payment_terms(company, inv, snap, instalments)
    foreign = cur != base
    supply = snap.get("supply") or {}
    supply_type = supply.get("supply_type", "")
    preceding: tuple[PrecedingInvoice, ...] = ()
    if snap.get("corrects"):
        original = inv.corrects
        preceding = (PrecedingInvoice(snap["corrects"], original.issue_date if original else None),)
    return EInvoice(
        number=snap.get("number") or DRAFT_NUMBER,
        issue_date=date.fromisoformat(snap["issue_date"]),
        type_code=DocumentType.CREDIT_NOTE if snap["kind"] == DocKind.CREDIT_NOTE
        else DocumentType.INVOICE,
        currency=cur, seller=seller, buyer=buyer,
        lines=tuple(_line(i, li, cur) for i, li in enumerate(snap["lines"], start=1)),
        vat_breakdown=_breakdown(snap, cur), totals=_totals(snap, cur),
        tax_currency=base if foreign else "",
        tax_total_accounting=_money_of(base)(to_base(snap["tax"], cur, base, Decimal(snap["rate"])))
        if foreign else None,
        due_date=due.due_date, buyer_reference=snap.get("buyer_reference", ""),
        order_reference=snap.get("po_number", ""),
        notes=(inv.notes.strip(),) if inv.notes.strip() else (),
        preceding=preceding, delivery=_delivery(inv, snap, buyer),
        payment=_payment(company, inv, snap), payment_terms=due.terms,
        allowances_charges=_charges(snap, cur),
        business_process=business_process_for(company.country.upper(), supply_type),
        contract_reference=supply.get("contract_reference", ""),
        project_reference=supply.get("project_reference", ""),
        period=_period(snap),
        vat_point_code=vat_point_code_for(company.country.upper(), company.vat_on_debits,
                                          supply_type),
    )


# ---------------------------------------------------------------- services and selectors
def einvoice_check(*, company: Company, invoice: Invoice, snapshot: dict[str, Any]) -> None:
    """Refuse a document being posted that would be an invalid EN 16931 e-invoice.

    ``snapshot`` is what posting is about to freeze. Every broken rule is reported at once
    (the message lists them all; ``rule`` is the first). A company that sends through Peppol
    has the Peppol BIS Billing 3.0 rules checked too, its own endpoint included."""
    doc = build_einvoice(company, invoice, snapshot, [])
    problems = [*einvoice_rules.check_document(doc, known_country=known_country),
                *einvoice_rules.check_exemption_reasons(line_reasons(snapshot))]
    if company.sends_peppol:
        problems += peppol_rules.check(doc)
    _refuse(problems)


def line_reasons(snap: dict[str, Any]) -> list[einvoice_rules.LineReason]:
    """The lines' VAT categories, as the e-invoice writes them, with their exemption
    reasons: what ``check_exemption_reasons`` looks at (the model has no reason per line)."""
    out = []
    for n, li in enumerate(snap["lines"], start=1):
        rate = Decimal(li["tax_rate"])
        out.append(einvoice_rules.LineReason(n, vat_category(li["tax_category"], rate), rate,
                                             li.get("exemption_reason") or ""))
    return out


def _refuse(problems: list[einvoice_rules.RuleProblem]) -> None:
    if problems:
        raise EInvoiceRuleBroken(" ".join(p.message for p in problems),
                                 rule=problems[0].rule, rules=",".join(p.rule for p in problems))


def _own(company: Company, invoice: Invoice) -> Invoice:
    if invoice.company_id != company.pk:
        raise ValidationFailed(f"{invoice} belongs to another company")
    return invoice


def einvoice_posted(company: Company, invoice: Invoice) -> Invoice:
    if not _own(company, invoice).is_posted:
        raise DocumentNotPosted(f"{invoice} is a draft: post it before writing its e-invoice",
                                document=str(invoice))
    return invoice


def einvoice_build(*, company: Company, invoice: Invoice, checked: bool = True) -> EInvoice:
    """The EN 16931 model of a posted invoice or credit note. Checked (the default), it
    refuses a document that breaks a rule: a gap in the company profile says what to set
    before the e-invoice can be written."""
    inv = einvoice_posted(company, invoice)
    if inv.opening:
        raise ValidationFailed(
            f"{inv.number} is an opening item brought from another system, known only by its "
            "total: it was issued there, and has no e-invoice here", document=inv.number)
    instalments = list(Instalment.objects.filter(invoice=inv).order_by("seq"))
    doc = build_einvoice(company, inv, inv.snapshot, instalments)
    if checked:
        _refuse([*einvoice_rules.check(doc, known_country=known_country),
                 *einvoice_rules.check_exemption_reasons(line_reasons(inv.snapshot))])
    return doc


def einvoice_preview(*, company: Company, invoice: Invoice) -> EInvoice:
    """The EN 16931 model a draft would have if it were posted now (number ``DRAFT``, no
    instalments yet), unchecked: what ``einvoice_check`` looks at."""
    _own(company, invoice)
    lines, charges = line_inputs(invoice), charge_inputs(invoice)
    totals = compute_invoice_totals(company, invoice.currency, lines, charges)
    return build_einvoice(company, invoice, document_snapshot(invoice, totals, lines, charges),
                          [])


def einvoice_xml(*, company: Company, invoice: Invoice, syntax: str) -> bytes:
    """The UBL (``syntax="ubl"``) or CII (``"cii"``) XML of a posted document, rendered now."""
    # The XML stack loads here, not with the module: posting needs only the checks.
    from salesledger.formats.einvoice import write_cii, write_ubl

    doc = einvoice_build(company=company, invoice=invoice)
    if syntax == "ubl":
        return write_ubl(doc)
    if syntax == "cii":
        return write_cii(doc)
    raise ValidationFailed(f"unknown e-invoice syntax {syntax!r}; use ubl or cii",
                           field="format")


def peppol_gaps(*, company: Company, invoice: Invoice) -> list[str]:
    """Why a posted document's UBL could not travel over Peppol (warnings, not errors)."""
    doc = einvoice_build(company=company, invoice=invoice, checked=False)
    return [g.message for g in peppol_rules.peppol_gaps(doc)]
