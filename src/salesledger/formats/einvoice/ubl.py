"""UBL 2.1 invoices and credit notes following Peppol BIS Billing 3.0 (EN 16931 compliant).

The element order is that of the OASIS UBL 2.1 schemas; which EN 16931 business term goes
into which element is the CEN syntax binding for UBL (EN 16931-3-2) as Peppol BIS 3 uses
it: the seller's registered name in ``PartyLegalEntity/RegistrationName``, its trading
name in ``PartyName``, one ``TaxTotal`` with the VAT breakdown and, for a document in a
foreign currency, a second ``TaxTotal`` with the VAT total in the accounting currency
(BT-111). A credit note has no ``DueDate`` element; its BT-9 goes in
``PaymentMeans/PaymentDueDate``.

``read_ubl`` reads what ``write_ubl`` writes (and the same terms from other producers) back
into the semantic model, so that ``read_ubl(write_ubl(doc)) == doc``.
"""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from salesledger.domain.einvoice import (
    VAT_POINT_CII,
    VAT_POINT_UBL,
    AllowanceCharge,
    Contact,
    Delivery,
    DocumentTotals,
    EInvoice,
    ElectronicAddress,
    Line,
    Party,
    PaymentInstructions,
    Period,
    PostalAddress,
    PrecedingInvoice,
    VatBreakdown,
)
from salesledger.domain.errors import EInvoiceUnreadable

from ._xml import Reader, Writer, amount_text, number_text, parse, serialise

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
_NS = {"cac": CAC, "cbc": CBC}


class _UblWriter(Writer):
    def __init__(self, doc: EInvoice) -> None:
        self.doc = doc
        self.credit = doc.is_credit_note
        super().__init__({"doc": CREDIT_NOTE_NS if self.credit else INVOICE_NS, **_NS})

    def root(self, tag: str) -> etree._Element:
        # The document's own namespace is the default one (no prefix) in what is written.
        nsmap: dict[str | None, str] = {None: self.nsmap["doc"]}
        nsmap.update(_NS)
        return etree.Element(self.qname(tag), nsmap=nsmap)

    def money(self, parent: etree._Element, tag: str, value: Decimal,
              currency: str | None = None) -> etree._Element:
        return self.sub(parent, tag, amount_text(value), currencyID=currency or self.doc.currency)

    # ---------------------------------------------------------------- document
    def write(self) -> bytes:
        d = self.doc
        root = self.root("doc:CreditNote" if self.credit else "doc:Invoice")
        self.sub(root, "cbc:CustomizationID", CUSTOMIZATION_ID)
        self.sub(root, "cbc:ProfileID", PROFILE_ID)
        self.sub(root, "cbc:ID", d.number)
        self.sub(root, "cbc:IssueDate", d.issue_date.isoformat())
        if not self.credit and d.due_date:
            self.sub(root, "cbc:DueDate", d.due_date.isoformat())
        self.sub(root, "cbc:CreditNoteTypeCode" if self.credit else "cbc:InvoiceTypeCode",
                 d.type_code)
        for note in d.notes:
            self.opt(root, "cbc:Note", note)
        self.sub(root, "cbc:DocumentCurrencyCode", d.currency)
        self.opt(root, "cbc:TaxCurrencyCode", d.tax_currency)
        self.opt(root, "cbc:BuyerReference", d.buyer_reference)
        if d.period or d.vat_point_code:
            period = self.sub(root, "cac:InvoicePeriod")
            if d.period and d.period.start:
                self.sub(period, "cbc:StartDate", d.period.start.isoformat())
            if d.period and d.period.end:
                self.sub(period, "cbc:EndDate", d.period.end.isoformat())
            self.opt(period, "cbc:DescriptionCode", VAT_POINT_UBL.get(d.vat_point_code, ""))
        if d.order_reference:
            self.sub(self.sub(root, "cac:OrderReference"), "cbc:ID", d.order_reference)
        for ref in d.preceding:
            doc_ref = self.sub(self.sub(root, "cac:BillingReference"),
                               "cac:InvoiceDocumentReference")
            self.sub(doc_ref, "cbc:ID", ref.number)
            if ref.issue_date:
                self.sub(doc_ref, "cbc:IssueDate", ref.issue_date.isoformat())
        if d.contract_reference:
            self.sub(self.sub(root, "cac:ContractDocumentReference"), "cbc:ID",
                     d.contract_reference)
        if d.project_reference and self.credit:
            # A credit note has no ProjectReference: Peppol BIS 3 puts BT-11 in a document
            # reference of type 50 ("price/sales catalogue response", its project code).
            project_ref = self.sub(root, "cac:AdditionalDocumentReference")
            self.sub(project_ref, "cbc:ID", d.project_reference)
            self.sub(project_ref, "cbc:DocumentTypeCode", "50")
        elif d.project_reference:
            self.sub(self.sub(root, "cac:ProjectReference"), "cbc:ID", d.project_reference)
        self.party(self.sub(root, "cac:AccountingSupplierParty"), d.seller,
                   d.payment.creditor_id if d.payment else "")
        self.party(self.sub(root, "cac:AccountingCustomerParty"), d.buyer)
        if d.delivery:
            self.delivery(root, d.delivery)
        if d.payment:
            self.payment(root, d.payment)
        if d.payment_terms:
            self.sub(self.sub(root, "cac:PaymentTerms"), "cbc:Note", d.payment_terms)
        for ac in d.allowances_charges:
            self.allowance_charge(root, ac, document_level=True)
        self.tax_totals(root)
        self.monetary_total(root)
        for line in d.lines:
            self.line(root, line)
        return serialise(root)

    # ---------------------------------------------------------------- parties
    def party(self, parent: etree._Element, party: Party, creditor_id: str = "") -> None:
        p = self.sub(parent, "cac:Party")
        if party.electronic_address:
            self.sub(p, "cbc:EndpointID", party.electronic_address.value,
                     schemeID=party.electronic_address.scheme)
        if creditor_id:  # BT-90: the seller's SEPA creditor identifier
            self.sub(self.sub(p, "cac:PartyIdentification"), "cbc:ID", creditor_id,
                     schemeID="SEPA")
        if party.trading_name:
            self.sub(self.sub(p, "cac:PartyName"), "cbc:Name", party.trading_name)
        if party.address:
            self.address(self.sub(p, "cac:PostalAddress"), party.address)
        if party.vat_id:
            scheme = self.sub(p, "cac:PartyTaxScheme")
            self.sub(scheme, "cbc:CompanyID", party.vat_id)
            self.sub(self.sub(scheme, "cac:TaxScheme"), "cbc:ID", "VAT")
        legal = self.sub(p, "cac:PartyLegalEntity")
        self.sub(legal, "cbc:RegistrationName", party.name)
        self.opt(legal, "cbc:CompanyID", party.legal_id, schemeID=party.legal_id_scheme)
        c = party.contact
        if c and (c.name or c.phone or c.email):
            contact = self.sub(p, "cac:Contact")
            self.opt(contact, "cbc:Name", c.name)
            self.opt(contact, "cbc:Telephone", c.phone)
            self.opt(contact, "cbc:ElectronicMail", c.email)

    def address(self, el: etree._Element, a: PostalAddress) -> None:
        self.opt(el, "cbc:StreetName", a.line1)
        self.opt(el, "cbc:AdditionalStreetName", a.line2)
        self.opt(el, "cbc:CityName", a.city)
        self.opt(el, "cbc:PostalZone", a.postal_code)
        self.opt(el, "cbc:CountrySubentity", a.region)
        self.sub(self.sub(el, "cac:Country"), "cbc:IdentificationCode", a.country)

    def delivery(self, root: etree._Element, delivery: Delivery) -> None:
        el = self.sub(root, "cac:Delivery")
        if delivery.date:
            self.sub(el, "cbc:ActualDeliveryDate", delivery.date.isoformat())
        if delivery.address:
            self.address(self.sub(self.sub(el, "cac:DeliveryLocation"), "cac:Address"),
                         delivery.address)

    def payment(self, root: etree._Element, pay: PaymentInstructions) -> None:
        el = self.sub(root, "cac:PaymentMeans")
        self.sub(el, "cbc:PaymentMeansCode", pay.means_code)
        if self.credit and self.doc.due_date:
            self.sub(el, "cbc:PaymentDueDate", self.doc.due_date.isoformat())
        self.opt(el, "cbc:PaymentID", pay.remittance)
        if pay.iban:
            account = self.sub(el, "cac:PayeeFinancialAccount")
            self.sub(account, "cbc:ID", pay.iban)
            self.opt(account, "cbc:Name", pay.account_name)
            if pay.bic:
                self.sub(self.sub(account, "cac:FinancialInstitutionBranch"), "cbc:ID", pay.bic)
        if pay.mandate:
            mandate = self.sub(el, "cac:PaymentMandate")
            self.sub(mandate, "cbc:ID", pay.mandate)
            if pay.debited_account:
                self.sub(self.sub(mandate, "cac:PayerFinancialAccount"), "cbc:ID",
                         pay.debited_account)

    # ---------------------------------------------------------------- amounts
    def tax_category(self, parent: etree._Element, tag: str, category: str,
                     rate: Decimal | None, reason_code: str = "", reason: str = "") -> None:
        el = self.sub(parent, tag)
        self.sub(el, "cbc:ID", category)
        if rate is not None:
            self.sub(el, "cbc:Percent", number_text(rate))
        self.opt(el, "cbc:TaxExemptionReasonCode", reason_code)
        self.opt(el, "cbc:TaxExemptionReason", reason)
        self.sub(self.sub(el, "cac:TaxScheme"), "cbc:ID", "VAT")

    def allowance_charge(self, parent: etree._Element, ac: AllowanceCharge,
                         document_level: bool) -> None:
        el = self.sub(parent, "cac:AllowanceCharge")
        self.sub(el, "cbc:ChargeIndicator", "true" if ac.is_charge else "false")
        self.opt(el, "cbc:AllowanceChargeReasonCode", ac.reason_code)
        self.opt(el, "cbc:AllowanceChargeReason", ac.reason)
        if ac.percent is not None:
            self.sub(el, "cbc:MultiplierFactorNumeric", number_text(ac.percent))
        self.money(el, "cbc:Amount", ac.amount)
        if ac.base_amount is not None:
            self.money(el, "cbc:BaseAmount", ac.base_amount)
        if document_level:
            self.tax_category(el, "cac:TaxCategory", ac.vat_category, ac.vat_rate)

    def tax_totals(self, root: etree._Element) -> None:
        d = self.doc
        total = self.sub(root, "cac:TaxTotal")
        self.money(total, "cbc:TaxAmount", d.totals.tax_total)
        for b in d.vat_breakdown:
            sub = self.sub(total, "cac:TaxSubtotal")
            self.money(sub, "cbc:TaxableAmount", b.taxable_amount)
            self.money(sub, "cbc:TaxAmount", b.tax_amount)
            self.tax_category(sub, "cac:TaxCategory", b.category, b.rate, b.exemption_code,
                              b.exemption_reason)
        if d.tax_currency and d.tax_total_accounting is not None:
            accounting = self.sub(root, "cac:TaxTotal")
            self.money(accounting, "cbc:TaxAmount", d.tax_total_accounting, d.tax_currency)

    def monetary_total(self, root: etree._Element) -> None:
        t = self.doc.totals
        el = self.sub(root, "cac:LegalMonetaryTotal")
        self.money(el, "cbc:LineExtensionAmount", t.line_net_total)
        self.money(el, "cbc:TaxExclusiveAmount", t.tax_exclusive)
        self.money(el, "cbc:TaxInclusiveAmount", t.tax_inclusive)
        for tag, value in (("cbc:AllowanceTotalAmount", t.allowance_total),
                           ("cbc:ChargeTotalAmount", t.charge_total),
                           ("cbc:PrepaidAmount", t.prepaid),
                           ("cbc:PayableRoundingAmount", t.rounding)):
            if value is not None:
                self.money(el, tag, value)
        self.money(el, "cbc:PayableAmount", t.payable)

    def line(self, root: etree._Element, line: Line) -> None:
        el = self.sub(root, "cac:CreditNoteLine" if self.credit else "cac:InvoiceLine")
        self.sub(el, "cbc:ID", line.id)
        self.sub(el, "cbc:CreditedQuantity" if self.credit else "cbc:InvoicedQuantity",
                 number_text(line.quantity), unitCode=line.unit_code)
        self.money(el, "cbc:LineExtensionAmount", line.net_amount)
        for ac in line.allowances_charges:
            self.allowance_charge(el, ac, document_level=False)
        item = self.sub(el, "cac:Item")
        self.sub(item, "cbc:Name", line.name)
        if line.seller_item_id:
            self.sub(self.sub(item, "cac:SellersItemIdentification"), "cbc:ID",
                     line.seller_item_id)
        if line.standard_item_id:
            self.sub(self.sub(item, "cac:StandardItemIdentification"), "cbc:ID",
                     line.standard_item_id, schemeID=line.standard_item_scheme)
        self.tax_category(item, "cac:ClassifiedTaxCategory", line.vat_category, line.vat_rate)
        price = self.sub(el, "cac:Price")
        self.money(price, "cbc:PriceAmount", line.net_price)


def write_ubl(doc: EInvoice) -> bytes:
    """The document as UBL 2.1 XML (an ``Invoice``, or a ``CreditNote`` for type 381)."""
    return _UblWriter(doc).write()


# ==================================================================== reading
class _UblReader(Reader):
    def __init__(self) -> None:
        super().__init__(_NS, "UBL")

    def read(self, root: etree._Element) -> EInvoice:
        local = etree.QName(root).localname
        if etree.QName(root).namespace not in (INVOICE_NS, CREDIT_NOTE_NS):
            raise EInvoiceUnreadable(
                f"UBL: the root element is {etree.QName(root).text}, not a UBL 2.1 Invoice or "
                "CreditNote",
                syntax="UBL")
        credit = local == "CreditNote"
        type_code = self.required(
            root, "cbc:CreditNoteTypeCode" if credit else "cbc:InvoiceTypeCode")
        due = self.text(root, "cac:PaymentMeans/cbc:PaymentDueDate" if credit else "cbc:DueDate")
        tax_currency = self.text(root, "cbc:TaxCurrencyCode")
        accounting_total = None
        for total in self.findall(root, "cac:TaxTotal"):
            amount = self.find(total, "cbc:TaxAmount")
            if tax_currency and amount is not None and amount.get("currencyID") == tax_currency \
                    and self.find(total, "cac:TaxSubtotal") is None:
                accounting_total = self.decimal(total, "cbc:TaxAmount")
        line_tag = "cac:CreditNoteLine" if credit else "cac:InvoiceLine"
        period = self.find(root, "cac:InvoicePeriod")
        start = self.optional_date(period, "cbc:StartDate") if period is not None else None
        end = self.optional_date(period, "cbc:EndDate") if period is not None else None
        project = self.text(root, "cac:ProjectReference/cbc:ID") or next(
            (self.text(ref, "cbc:ID")
             for ref in self.findall(root, "cac:AdditionalDocumentReference")
             if self.text(ref, "cbc:DocumentTypeCode") == "50"), "")
        return EInvoice(
            number=self.required(root, "cbc:ID"),
            issue_date=self.iso_date(root, "cbc:IssueDate", self.required(root, "cbc:IssueDate")),
            type_code=type_code,
            currency=self.required(root, "cbc:DocumentCurrencyCode"),
            seller=self.party(root, "cac:AccountingSupplierParty/cac:Party"),
            buyer=self.party(root, "cac:AccountingCustomerParty/cac:Party"),
            lines=tuple(self.line(el, credit) for el in self.findall(root, line_tag)),
            vat_breakdown=self.breakdown(root),
            totals=self.totals(root),
            tax_currency=tax_currency,
            tax_total_accounting=accounting_total,
            due_date=self.iso_date(root, "DueDate", due) if due else None,
            buyer_reference=self.text(root, "cbc:BuyerReference"),
            order_reference=self.text(root, "cac:OrderReference/cbc:ID"),
            notes=tuple((n.text or "").strip() for n in self.findall(root, "cbc:Note")),
            preceding=tuple(
                PrecedingInvoice(self.required(ref, "cbc:ID"),
                                 self.optional_date(ref, "cbc:IssueDate"))
                for ref in self.findall(root, "cac:BillingReference/cac:InvoiceDocumentReference")),
            delivery=self.delivery(self.find(root, "cac:Delivery")),
            payment=self.payment(self.find(root, "cac:PaymentMeans"), root),
            payment_terms=self.text(root, "cac:PaymentTerms/cbc:Note"),
            allowances_charges=tuple(self.allowance_charge(el, True)
                                     for el in self.findall(root, "cac:AllowanceCharge")),
            contract_reference=self.text(root, "cac:ContractDocumentReference/cbc:ID"),
            project_reference=project,
            period=Period(start, end) if start or end else None,
            vat_point_code=VAT_POINT_CII.get(self.text(period, "cbc:DescriptionCode"), "")
            if period is not None else "",
        )

    def party(self, root: etree._Element, path: str) -> Party:
        p = self.find(root, path)
        if p is None:
            raise EInvoiceUnreadable(f"UBL: {path} is missing", syntax="UBL", element=path)
        endpoint = self.find(p, "cbc:EndpointID")
        contact = self.find(p, "cac:Contact")
        return Party(
            name=self.required(p, "cac:PartyLegalEntity/cbc:RegistrationName"),
            address=self.address(self.find(p, "cac:PostalAddress")),
            trading_name=self.text(p, "cac:PartyName/cbc:Name"),
            vat_id=next((self.text(s, "cbc:CompanyID")
                         for s in self.findall(p, "cac:PartyTaxScheme")
                         if self.text(s, "cac:TaxScheme/cbc:ID") == "VAT"), ""),
            legal_id=self.text(p, "cac:PartyLegalEntity/cbc:CompanyID"),
            legal_id_scheme=self.attr(p, "cac:PartyLegalEntity/cbc:CompanyID", "schemeID"),
            electronic_address=ElectronicAddress(endpoint.get("schemeID", ""),
                                                 (endpoint.text or "").strip())
            if endpoint is not None else None,
            contact=Contact(self.text(contact, "cbc:Name"), self.text(contact, "cbc:Telephone"),
                            self.text(contact, "cbc:ElectronicMail"))
            if contact is not None else None,
        )

    def address(self, el: etree._Element | None) -> PostalAddress | None:
        if el is None:
            return None
        return PostalAddress(
            country=self.text(el, "cac:Country/cbc:IdentificationCode"),
            line1=self.text(el, "cbc:StreetName"), line2=self.text(el, "cbc:AdditionalStreetName"),
            city=self.text(el, "cbc:CityName"), postal_code=self.text(el, "cbc:PostalZone"),
            region=self.text(el, "cbc:CountrySubentity"))

    def delivery(self, el: etree._Element | None) -> Delivery | None:
        if el is None:
            return None
        return Delivery(self.optional_date(el, "cbc:ActualDeliveryDate"),
                        self.address(self.find(el, "cac:DeliveryLocation/cac:Address")))

    def payment(self, el: etree._Element | None, root: etree._Element
                ) -> PaymentInstructions | None:
        if el is None:
            return None
        creditor = next(((i.text or "").strip() for i in self.findall(
            root, "cac:AccountingSupplierParty/cac:Party/cac:PartyIdentification/cbc:ID")
            if i.get("schemeID") == "SEPA"), "")
        return PaymentInstructions(
            mandate=self.text(el, "cac:PaymentMandate/cbc:ID"),
            debited_account=self.text(el, "cac:PaymentMandate/cac:PayerFinancialAccount/cbc:ID"),
            creditor_id=creditor,
            means_code=self.required(el, "cbc:PaymentMeansCode"),
            remittance=self.text(el, "cbc:PaymentID"),
            iban=self.text(el, "cac:PayeeFinancialAccount/cbc:ID"),
            account_name=self.text(el, "cac:PayeeFinancialAccount/cbc:Name"),
            bic=self.text(el, "cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID"))

    def _rate(self, el: etree._Element | None) -> Decimal | None:
        return self.optional_decimal(el, "cbc:Percent")

    def allowance_charge(self, el: etree._Element, document_level: bool) -> AllowanceCharge:
        category = self.find(el, "cac:TaxCategory") if document_level else None
        return AllowanceCharge(
            is_charge=self.required(el, "cbc:ChargeIndicator").lower() == "true",
            amount=self.decimal(el, "cbc:Amount"),
            reason=self.text(el, "cbc:AllowanceChargeReason"),
            reason_code=self.text(el, "cbc:AllowanceChargeReasonCode"),
            base_amount=self.optional_decimal(el, "cbc:BaseAmount"),
            percent=self.optional_decimal(el, "cbc:MultiplierFactorNumeric"),
            vat_category=self.text(category, "cbc:ID"),
            vat_rate=self._rate(category))

    def breakdown(self, root: etree._Element) -> tuple[VatBreakdown, ...]:
        out = []
        for sub in self.findall(root, "cac:TaxTotal/cac:TaxSubtotal"):
            cat = self.find(sub, "cac:TaxCategory")
            out.append(VatBreakdown(
                category=self.text(cat, "cbc:ID"), rate=self._rate(cat),
                taxable_amount=self.decimal(sub, "cbc:TaxableAmount"),
                tax_amount=self.decimal(sub, "cbc:TaxAmount"),
                exemption_reason=self.text(cat, "cbc:TaxExemptionReason"),
                exemption_code=self.text(cat, "cbc:TaxExemptionReasonCode")))
        return tuple(out)

    def totals(self, root: etree._Element) -> DocumentTotals:
        t = self.find(root, "cac:LegalMonetaryTotal")
        if t is None:
            raise EInvoiceUnreadable("UBL: cac:LegalMonetaryTotal is missing", syntax="UBL")
        tax_total = Decimal(0)
        currency = self.text(root, "cbc:DocumentCurrencyCode")
        for total in self.findall(root, "cac:TaxTotal"):
            amount = self.find(total, "cbc:TaxAmount")
            if amount is not None and amount.get("currencyID", currency) == currency:
                tax_total = self.decimal(total, "cbc:TaxAmount")
        return DocumentTotals(
            line_net_total=self.decimal(t, "cbc:LineExtensionAmount"),
            tax_exclusive=self.decimal(t, "cbc:TaxExclusiveAmount"),
            tax_total=tax_total,
            tax_inclusive=self.decimal(t, "cbc:TaxInclusiveAmount"),
            payable=self.decimal(t, "cbc:PayableAmount"),
            allowance_total=self.optional_decimal(t, "cbc:AllowanceTotalAmount"),
            charge_total=self.optional_decimal(t, "cbc:ChargeTotalAmount"),
            prepaid=self.optional_decimal(t, "cbc:PrepaidAmount"),
            rounding=self.optional_decimal(t, "cbc:PayableRoundingAmount"))

    def line(self, el: etree._Element, credit: bool) -> Line:
        qty_tag = "cbc:CreditedQuantity" if credit else "cbc:InvoicedQuantity"
        category = self.find(el, "cac:Item/cac:ClassifiedTaxCategory")
        price = self.find(el, "cac:Price")
        base_qty = self.optional_decimal(price, "cbc:BaseQuantity") or Decimal(1)
        net_price = self.decimal(el, "cac:Price/cbc:PriceAmount")
        return Line(
            id=self.required(el, "cbc:ID"),
            name=self.text(el, "cac:Item/cbc:Name"),
            quantity=self.decimal(el, qty_tag),
            unit_code=self.attr(el, qty_tag, "unitCode"),
            net_amount=self.decimal(el, "cbc:LineExtensionAmount"),
            net_price=net_price if base_qty == 1 else net_price / base_qty,
            vat_category=self.text(category, "cbc:ID"),
            vat_rate=self._rate(category),
            allowances_charges=tuple(self.allowance_charge(ac, False)
                                     for ac in self.findall(el, "cac:AllowanceCharge")),
            seller_item_id=self.text(el, "cac:Item/cac:SellersItemIdentification/cbc:ID"),
            standard_item_id=self.text(el, "cac:Item/cac:StandardItemIdentification/cbc:ID"),
            standard_item_scheme=self.attr(el, "cac:Item/cac:StandardItemIdentification/cbc:ID",
                                           "schemeID"))


def read_ubl(data: bytes) -> EInvoice:
    """Read a UBL 2.1 Invoice or CreditNote into the semantic model; raises
    :class:`EInvoiceUnreadable` naming the element when something required is missing."""
    return _UblReader().read(parse(data, "UBL"))
