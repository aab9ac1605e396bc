"""UN/CEFACT Cross Industry Invoice (CII D16B) following EN 16931, as Factur-X embeds it.

The element order is that of the D16B schemas; which business term goes where is the CEN
syntax binding for CII (EN 16931-3-3). The guideline identifier is EN 16931's own
(``urn:cen.eu:en16931:2017``), which is also what the Factur-X "EN 16931" profile
requires, so one file serves both. Dates are written in format 102 (``YYYYMMDD``). Only the
VAT totals carry a ``currencyID``: the total in the document currency and, for a document
in a foreign currency, the total in the accounting currency (BT-111).

``read_cii`` reads a CII invoice back into the semantic model.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from lxml import etree

from salesledger.domain.einvoice import (
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

GUIDELINE_ID = "urn:cen.eu:en16931:2017"
_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NSMAP = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}


def _d102(day: date) -> str:
    return day.strftime("%Y%m%d")


class _CiiWriter(Writer):
    def __init__(self, doc: EInvoice) -> None:
        super().__init__(NSMAP)
        self.doc = doc

    def amount(self, parent: etree._Element, tag: str, value: Decimal) -> None:
        self.sub(parent, tag, amount_text(value))

    def date_time(self, parent: etree._Element, tag: str, day: date, prefix: str = "udt"
                  ) -> None:
        self.sub(self.sub(parent, tag), f"{prefix}:DateTimeString", _d102(day), format="102")

    def write(self) -> bytes:
        d = self.doc
        root = self.root("rsm:CrossIndustryInvoice")
        context = self.sub(root, "rsm:ExchangedDocumentContext")
        if d.business_process:  # BT-23
            self.sub(self.sub(context, "ram:BusinessProcessSpecifiedDocumentContextParameter"),
                     "ram:ID", d.business_process)
        self.sub(self.sub(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID",
                 GUIDELINE_ID)
        header = self.sub(root, "rsm:ExchangedDocument")
        self.sub(header, "ram:ID", d.number)
        self.sub(header, "ram:TypeCode", d.type_code)
        self.date_time(header, "ram:IssueDateTime", d.issue_date)
        for note in d.notes:
            if note:
                self.sub(self.sub(header, "ram:IncludedNote"), "ram:Content", note)
        transaction = self.sub(root, "rsm:SupplyChainTradeTransaction")
        for line in d.lines:
            self.line(transaction, line)
        self.agreement(self.sub(transaction, "ram:ApplicableHeaderTradeAgreement"))
        self.delivery(self.sub(transaction, "ram:ApplicableHeaderTradeDelivery"))
        self.settlement(self.sub(transaction, "ram:ApplicableHeaderTradeSettlement"))
        return serialise(root)

    # ---------------------------------------------------------------- lines
    def line(self, parent: etree._Element, line: Line) -> None:
        item = self.sub(parent, "ram:IncludedSupplyChainTradeLineItem")
        self.sub(self.sub(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", line.id)
        product = self.sub(item, "ram:SpecifiedTradeProduct")
        if line.standard_item_id:
            self.sub(product, "ram:GlobalID", line.standard_item_id,
                     schemeID=line.standard_item_scheme)
        self.opt(product, "ram:SellerAssignedID", line.seller_item_id)
        self.sub(product, "ram:Name", line.name)
        agreement = self.sub(item, "ram:SpecifiedLineTradeAgreement")
        self.sub(self.sub(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount",
                 number_text(line.net_price))
        self.sub(self.sub(item, "ram:SpecifiedLineTradeDelivery"), "ram:BilledQuantity",
                 number_text(line.quantity), unitCode=line.unit_code)
        settlement = self.sub(item, "ram:SpecifiedLineTradeSettlement")
        self.trade_tax(settlement, "ram:ApplicableTradeTax", line.vat_category, line.vat_rate)
        for ac in line.allowances_charges:
            self.allowance_charge(settlement, ac, document_level=False)
        self.amount(self.sub(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation"),
                    "ram:LineTotalAmount", line.net_amount)

    def trade_tax(self, parent: etree._Element, tag: str, category: str, rate: Decimal | None
                  ) -> None:
        el = self.sub(parent, tag)
        self.sub(el, "ram:TypeCode", "VAT")
        self.sub(el, "ram:CategoryCode", category)
        if rate is not None:
            self.sub(el, "ram:RateApplicablePercent", number_text(rate))

    def allowance_charge(self, parent: etree._Element, ac: AllowanceCharge,
                         document_level: bool) -> None:
        el = self.sub(parent, "ram:SpecifiedTradeAllowanceCharge")
        self.sub(self.sub(el, "ram:ChargeIndicator"), "udt:Indicator",
                 "true" if ac.is_charge else "false")
        if ac.percent is not None:
            self.sub(el, "ram:CalculationPercent", number_text(ac.percent))
        if ac.base_amount is not None:
            self.amount(el, "ram:BasisAmount", ac.base_amount)
        self.amount(el, "ram:ActualAmount", ac.amount)
        self.opt(el, "ram:ReasonCode", ac.reason_code)
        self.opt(el, "ram:Reason", ac.reason)
        if document_level:
            self.trade_tax(el, "ram:CategoryTradeTax", ac.vat_category, ac.vat_rate)

    # ---------------------------------------------------------------- header
    def party(self, parent: etree._Element, tag: str, party: Party) -> None:
        p = self.sub(parent, tag)
        self.sub(p, "ram:Name", party.name)
        if party.legal_id or party.trading_name:
            legal = self.sub(p, "ram:SpecifiedLegalOrganization")
            self.opt(legal, "ram:ID", party.legal_id, schemeID=party.legal_id_scheme)
            self.opt(legal, "ram:TradingBusinessName", party.trading_name)
        c = party.contact
        if c and (c.name or c.phone or c.email):
            contact = self.sub(p, "ram:DefinedTradeContact")
            self.opt(contact, "ram:PersonName", c.name)
            if c.phone:
                self.sub(self.sub(contact, "ram:TelephoneUniversalCommunication"),
                         "ram:CompleteNumber", c.phone)
            if c.email:
                self.sub(self.sub(contact, "ram:EmailURIUniversalCommunication"), "ram:URIID",
                         c.email)
        if party.address:
            self.address(self.sub(p, "ram:PostalTradeAddress"), party.address)
        if party.electronic_address:
            self.sub(self.sub(p, "ram:URIUniversalCommunication"), "ram:URIID",
                     party.electronic_address.value, schemeID=party.electronic_address.scheme)
        if party.vat_id:
            self.sub(self.sub(p, "ram:SpecifiedTaxRegistration"), "ram:ID", party.vat_id,
                     schemeID="VA")

    def address(self, el: etree._Element, a: PostalAddress) -> None:
        self.opt(el, "ram:PostcodeCode", a.postal_code)
        self.opt(el, "ram:LineOne", a.line1)
        self.opt(el, "ram:LineTwo", a.line2)
        self.opt(el, "ram:CityName", a.city)
        self.sub(el, "ram:CountryID", a.country)
        self.opt(el, "ram:CountrySubDivisionName", a.region)

    def agreement(self, el: etree._Element) -> None:
        d = self.doc
        self.opt(el, "ram:BuyerReference", d.buyer_reference)
        self.party(el, "ram:SellerTradeParty", d.seller)
        self.party(el, "ram:BuyerTradeParty", d.buyer)
        if d.order_reference:
            self.sub(self.sub(el, "ram:BuyerOrderReferencedDocument"), "ram:IssuerAssignedID",
                     d.order_reference)
        if d.contract_reference:
            self.sub(self.sub(el, "ram:ContractReferencedDocument"), "ram:IssuerAssignedID",
                     d.contract_reference)
        if d.project_reference:
            project = self.sub(el, "ram:SpecifiedProcuringProject")
            self.sub(project, "ram:ID", d.project_reference)
            self.sub(project, "ram:Name", "Project reference")

    def delivery(self, el: etree._Element) -> None:
        delivery = self.doc.delivery
        if delivery is None:
            return
        if delivery.address:
            self.address(self.sub(self.sub(el, "ram:ShipToTradeParty"),
                                  "ram:PostalTradeAddress"), delivery.address)
        if delivery.date:
            self.date_time(self.sub(el, "ram:ActualDeliverySupplyChainEvent"),
                           "ram:OccurrenceDateTime", delivery.date)

    def settlement(self, el: etree._Element) -> None:
        d = self.doc
        pay = d.payment
        if pay:
            self.opt(el, "ram:CreditorReferenceID", pay.creditor_id)
            self.opt(el, "ram:PaymentReference", pay.remittance)
        self.opt(el, "ram:TaxCurrencyCode", d.tax_currency)
        self.sub(el, "ram:InvoiceCurrencyCode", d.currency)
        if pay:
            means = self.sub(el, "ram:SpecifiedTradeSettlementPaymentMeans")
            self.sub(means, "ram:TypeCode", pay.means_code)
            if pay.debited_account:
                self.sub(self.sub(means, "ram:PayerPartyDebtorFinancialAccount"), "ram:IBANID",
                         pay.debited_account)
            if pay.iban:
                # BT-84 is an IBAN, or the bank's own number of an account without one.
                iban = _IBAN.match(pay.iban) is not None
                account = self.sub(means, "ram:PayeePartyCreditorFinancialAccount")
                if iban:
                    self.sub(account, "ram:IBANID", pay.iban)
                self.opt(account, "ram:AccountName", pay.account_name)
                if not iban:
                    self.sub(account, "ram:ProprietaryID", pay.iban)
            if pay.bic:
                self.sub(self.sub(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"),
                         "ram:BICID", pay.bic)
        for b in d.vat_breakdown:
            tax = self.sub(el, "ram:ApplicableTradeTax")
            self.amount(tax, "ram:CalculatedAmount", b.tax_amount)
            self.sub(tax, "ram:TypeCode", "VAT")
            self.opt(tax, "ram:ExemptionReason", b.exemption_reason)
            self.amount(tax, "ram:BasisAmount", b.taxable_amount)
            self.sub(tax, "ram:CategoryCode", b.category)
            self.opt(tax, "ram:ExemptionReasonCode", b.exemption_code)
            self.opt(tax, "ram:DueDateTypeCode", d.vat_point_code)  # BT-8
            if b.rate is not None:
                self.sub(tax, "ram:RateApplicablePercent", number_text(b.rate))
        if d.period:
            period = self.sub(el, "ram:BillingSpecifiedPeriod")
            if d.period.start:
                self.date_time(period, "ram:StartDateTime", d.period.start)
            if d.period.end:
                self.date_time(period, "ram:EndDateTime", d.period.end)
        for ac in d.allowances_charges:
            self.allowance_charge(el, ac, document_level=True)
        mandate = pay.mandate if pay else ""
        if d.payment_terms or d.due_date or mandate:
            terms = self.sub(el, "ram:SpecifiedTradePaymentTerms")
            self.opt(terms, "ram:Description", d.payment_terms)
            if d.due_date:
                self.date_time(terms, "ram:DueDateDateTime", d.due_date)
            self.opt(terms, "ram:DirectDebitMandateID", mandate)  # BT-89
        self.summation(self.sub(el, "ram:SpecifiedTradeSettlementHeaderMonetarySummation"))
        for ref in d.preceding:
            doc_ref = self.sub(el, "ram:InvoiceReferencedDocument")
            self.sub(doc_ref, "ram:IssuerAssignedID", ref.number)
            if ref.issue_date:
                self.date_time(doc_ref, "ram:FormattedIssueDateTime", ref.issue_date, "qdt")

    def summation(self, el: etree._Element) -> None:
        d, t = self.doc, self.doc.totals
        self.amount(el, "ram:LineTotalAmount", t.line_net_total)
        if t.charge_total is not None:
            self.amount(el, "ram:ChargeTotalAmount", t.charge_total)
        if t.allowance_total is not None:
            self.amount(el, "ram:AllowanceTotalAmount", t.allowance_total)
        self.amount(el, "ram:TaxBasisTotalAmount", t.tax_exclusive)
        self.sub(el, "ram:TaxTotalAmount", amount_text(t.tax_total), currencyID=d.currency)
        if d.tax_currency and d.tax_total_accounting is not None:
            self.sub(el, "ram:TaxTotalAmount", amount_text(d.tax_total_accounting),
                     currencyID=d.tax_currency)
        if t.rounding is not None:
            self.amount(el, "ram:RoundingAmount", t.rounding)
        self.amount(el, "ram:GrandTotalAmount", t.tax_inclusive)
        if t.prepaid is not None:
            self.amount(el, "ram:TotalPrepaidAmount", t.prepaid)
        self.amount(el, "ram:DuePayableAmount", t.payable)


def write_cii(doc: EInvoice) -> bytes:
    """The document as a CII D16B ``CrossIndustryInvoice`` (EN 16931 guideline)."""
    return _CiiWriter(doc).write()


# ==================================================================== reading
_TX = "rsm:SupplyChainTradeTransaction"
_SETTLEMENT = f"{_TX}/ram:ApplicableHeaderTradeSettlement"
_AGREEMENT = f"{_TX}/ram:ApplicableHeaderTradeAgreement"


class _CiiReader(Reader):
    def __init__(self) -> None:
        super().__init__(NSMAP, "CII")

    def dt(self, el: etree._Element | None, path: str) -> date | None:
        if el is None:
            return None
        for prefix in ("udt", "qdt"):
            value = self.text(el, f"{path}/{prefix}:DateTimeString")
            if value:
                return self.iso_date(el, path, value)
        return None

    def read(self, root: etree._Element) -> EInvoice:
        if root.tag != f"{{{RSM}}}CrossIndustryInvoice":
            raise EInvoiceUnreadable(
                f"CII: the root element is {etree.QName(root).text}, not a "
                "CrossIndustryInvoice", syntax="CII")
        header = self.find(root, "rsm:ExchangedDocument")
        if header is None:
            raise EInvoiceUnreadable("CII: rsm:ExchangedDocument is missing", syntax="CII")
        settlement = self.find(root, _SETTLEMENT)
        if settlement is None:
            raise EInvoiceUnreadable(f"CII: {_SETTLEMENT} is missing", syntax="CII")
        currency = self.required(settlement, "ram:InvoiceCurrencyCode")
        tax_currency = self.text(settlement, "ram:TaxCurrencyCode")
        issue = self.dt(header, "ram:IssueDateTime")
        if issue is None:
            raise EInvoiceUnreadable("CII: ram:IssueDateTime is missing", syntax="CII")
        terms = self.find(settlement, "ram:SpecifiedTradePaymentTerms")
        summation = self.find(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
        accounting = None
        for total in self.findall(summation, "ram:TaxTotalAmount"):
            if tax_currency and total.get("currencyID") == tax_currency != currency:
                accounting = self._decimal(total, ".", (total.text or "").strip())
        delivery_el = self.find(root, f"{_TX}/ram:ApplicableHeaderTradeDelivery")
        period_el = self.find(settlement, "ram:BillingSpecifiedPeriod")
        start = self.dt(period_el, "ram:StartDateTime")
        end = self.dt(period_el, "ram:EndDateTime")
        return EInvoice(
            number=self.required(header, "ram:ID"),
            issue_date=issue,
            type_code=self.required(header, "ram:TypeCode"),
            currency=currency,
            seller=self.party(root, f"{_AGREEMENT}/ram:SellerTradeParty"),
            buyer=self.party(root, f"{_AGREEMENT}/ram:BuyerTradeParty"),
            lines=tuple(self.line(el) for el in
                        self.findall(root, f"{_TX}/ram:IncludedSupplyChainTradeLineItem")),
            vat_breakdown=self.breakdown(settlement),
            totals=self.totals(summation, currency),
            tax_currency=tax_currency,
            tax_total_accounting=accounting,
            due_date=self.dt(terms, "ram:DueDateDateTime"),
            buyer_reference=self.text(root, f"{_AGREEMENT}/ram:BuyerReference"),
            order_reference=self.text(
                root, f"{_AGREEMENT}/ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID"),
            notes=tuple(self.text(n, "ram:Content")
                        for n in self.findall(header, "ram:IncludedNote")),
            preceding=tuple(
                PrecedingInvoice(self.required(ref, "ram:IssuerAssignedID"),
                                 self.dt(ref, "ram:FormattedIssueDateTime"))
                for ref in self.findall(settlement, "ram:InvoiceReferencedDocument")),
            delivery=self.delivery(delivery_el),
            payment=self.payment(settlement),
            payment_terms=self.text(terms, "ram:Description"),
            allowances_charges=tuple(
                self.allowance_charge(el, True)
                for el in self.findall(settlement, "ram:SpecifiedTradeAllowanceCharge")),
            business_process=self.text(
                root, "rsm:ExchangedDocumentContext/"
                      "ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID"),
            contract_reference=self.text(
                root, f"{_AGREEMENT}/ram:ContractReferencedDocument/ram:IssuerAssignedID"),
            project_reference=self.text(root, f"{_AGREEMENT}/ram:SpecifiedProcuringProject/ram:ID"),
            period=Period(start, end) if start or end else None,
            vat_point_code=self.text(settlement, "ram:ApplicableTradeTax/ram:DueDateTypeCode"),
        )

    def party(self, root: etree._Element, path: str) -> Party:
        p = self.find(root, path)
        if p is None:
            raise EInvoiceUnreadable(f"CII: {path} is missing", syntax="CII", element=path)
        uri = self.find(p, "ram:URIUniversalCommunication/ram:URIID")
        contact = self.find(p, "ram:DefinedTradeContact")
        vat = next(((t.text or "").strip() for t in
                    self.findall(p, "ram:SpecifiedTaxRegistration/ram:ID")
                    if t.get("schemeID") == "VA"), "")
        return Party(
            name=self.required(p, "ram:Name"),
            address=self.address(self.find(p, "ram:PostalTradeAddress")),
            trading_name=self.text(p, "ram:SpecifiedLegalOrganization/ram:TradingBusinessName"),
            vat_id=vat,
            legal_id=self.text(p, "ram:SpecifiedLegalOrganization/ram:ID"),
            legal_id_scheme=self.attr(p, "ram:SpecifiedLegalOrganization/ram:ID", "schemeID"),
            electronic_address=ElectronicAddress(uri.get("schemeID", ""), (uri.text or "").strip())
            if uri is not None else None,
            contact=Contact(
                self.text(contact, "ram:PersonName"),
                self.text(contact, "ram:TelephoneUniversalCommunication/ram:CompleteNumber"),
                self.text(contact, "ram:EmailURIUniversalCommunication/ram:URIID"))
            if contact is not None else None,
        )

    def address(self, el: etree._Element | None) -> PostalAddress | None:
        if el is None:
            return None
        return PostalAddress(
            country=self.text(el, "ram:CountryID"), line1=self.text(el, "ram:LineOne"),
            line2=self.text(el, "ram:LineTwo"), city=self.text(el, "ram:CityName"),
            postal_code=self.text(el, "ram:PostcodeCode"),
            region=self.text(el, "ram:CountrySubDivisionName"))

    def delivery(self, el: etree._Element | None) -> Delivery | None:
        if el is None:
            return None
        day = self.dt(self.find(el, "ram:ActualDeliverySupplyChainEvent"),
                      "ram:OccurrenceDateTime")
        address = self.address(self.find(el, "ram:ShipToTradeParty/ram:PostalTradeAddress"))
        if day is None and address is None:
            return None
        return Delivery(day, address)

    def payment(self, settlement: etree._Element) -> PaymentInstructions | None:
        means = self.find(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        if means is None:
            return None
        return PaymentInstructions(
            mandate=self.text(settlement,
                              "ram:SpecifiedTradePaymentTerms/ram:DirectDebitMandateID"),
            creditor_id=self.text(settlement, "ram:CreditorReferenceID"),
            debited_account=self.text(means, "ram:PayerPartyDebtorFinancialAccount/ram:IBANID"),
            means_code=self.required(means, "ram:TypeCode"),
            remittance=self.text(settlement, "ram:PaymentReference"),
            iban=(self.text(means, "ram:PayeePartyCreditorFinancialAccount/ram:IBANID")
                  or self.text(means, "ram:PayeePartyCreditorFinancialAccount/ram:ProprietaryID")),
            account_name=self.text(means, "ram:PayeePartyCreditorFinancialAccount/ram:AccountName"),
            bic=self.text(means, "ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID"))

    def allowance_charge(self, el: etree._Element, document_level: bool) -> AllowanceCharge:
        tax = self.find(el, "ram:CategoryTradeTax") if document_level else None
        return AllowanceCharge(
            is_charge=self.required(el, "ram:ChargeIndicator/udt:Indicator").lower() == "true",
            amount=self.decimal(el, "ram:ActualAmount"),
            reason=self.text(el, "ram:Reason"),
            reason_code=self.text(el, "ram:ReasonCode"),
            base_amount=self.optional_decimal(el, "ram:BasisAmount"),
            percent=self.optional_decimal(el, "ram:CalculationPercent"),
            vat_category=self.text(tax, "ram:CategoryCode"),
            vat_rate=self.optional_decimal(tax, "ram:RateApplicablePercent"))

    def breakdown(self, settlement: etree._Element) -> tuple[VatBreakdown, ...]:
        return tuple(
            VatBreakdown(
                category=self.required(tax, "ram:CategoryCode"),
                rate=self.optional_decimal(tax, "ram:RateApplicablePercent"),
                taxable_amount=self.decimal(tax, "ram:BasisAmount"),
                tax_amount=self.decimal(tax, "ram:CalculatedAmount"),
                exemption_reason=self.text(tax, "ram:ExemptionReason"),
                exemption_code=self.text(tax, "ram:ExemptionReasonCode"))
            for tax in self.findall(settlement, "ram:ApplicableTradeTax"))

    def totals(self, el: etree._Element | None, currency: str) -> DocumentTotals:
        if el is None:
            raise EInvoiceUnreadable(
                "CII: ram:SpecifiedTradeSettlementHeaderMonetarySummation is missing",
                syntax="CII")
        tax_total = Decimal(0)
        for total in self.findall(el, "ram:TaxTotalAmount"):
            if total.get("currencyID", currency) == currency:
                tax_total = self._decimal(total, ".", (total.text or "").strip())
        return DocumentTotals(
            line_net_total=self.decimal(el, "ram:LineTotalAmount"),
            tax_exclusive=self.decimal(el, "ram:TaxBasisTotalAmount"),
            tax_total=tax_total,
            tax_inclusive=self.decimal(el, "ram:GrandTotalAmount"),
            payable=self.decimal(el, "ram:DuePayableAmount"),
            allowance_total=self.optional_decimal(el, "ram:AllowanceTotalAmount"),
            charge_total=self.optional_decimal(el, "ram:ChargeTotalAmount"),
            prepaid=self.optional_decimal(el, "ram:TotalPrepaidAmount"),
            rounding=self.optional_decimal(el, "ram:RoundingAmount"))

    def line(self, el: etree._Element) -> Line:
        settlement = self.find(el, "ram:SpecifiedLineTradeSettlement")
        tax = self.find(settlement, "ram:ApplicableTradeTax")
        price_path = "ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice"
        base_qty = self.optional_decimal(self.find(el, price_path), "ram:BasisQuantity")
        price = self.decimal(el, f"{price_path}/ram:ChargeAmount")
        qty_path = "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity"
        return Line(
            id=self.required(el, "ram:AssociatedDocumentLineDocument/ram:LineID"),
            name=self.text(el, "ram:SpecifiedTradeProduct/ram:Name"),
            quantity=self.decimal(el, qty_path),
            unit_code=self.attr(el, qty_path, "unitCode"),
            net_amount=self.decimal(
                el, "ram:SpecifiedLineTradeSettlement/"
                    "ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount"),
            net_price=price if not base_qty or base_qty == 1 else price / base_qty,
            vat_category=self.text(tax, "ram:CategoryCode"),
            vat_rate=self.optional_decimal(tax, "ram:RateApplicablePercent"),
            allowances_charges=tuple(
                self.allowance_charge(ac, False)
                for ac in self.findall(settlement, "ram:SpecifiedTradeAllowanceCharge")),
            seller_item_id=self.text(el, "ram:SpecifiedTradeProduct/ram:SellerAssignedID"),
            standard_item_id=self.text(el, "ram:SpecifiedTradeProduct/ram:GlobalID"),
            standard_item_scheme=self.attr(el, "ram:SpecifiedTradeProduct/ram:GlobalID",
                                           "schemeID"))


def read_cii(data: bytes) -> EInvoice:
    """Read a CII D16B invoice or credit note into the semantic model; raises
    :class:`EInvoiceUnreadable` naming the element when something required is missing."""
    return _CiiReader().read(parse(data, "CII"))
