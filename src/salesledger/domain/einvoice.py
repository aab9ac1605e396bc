"""The EN 16931 semantic model of an invoice or credit note, as frozen dataclasses.

EN 16931-1 defines an electronic invoice once, as business terms (BT-n) grouped in business
groups (BG-n), and then binds that model to two XML syntaxes: UBL 2.1 and UN/CEFACT CII
D16B. This module is the model; ``salesledger.formats.einvoice`` writes it to XML and
reads it back, and ``einvoice_rules`` checks the business rules our data can break. Field
comments name the business term each field carries (see docs/design/e-invoicing.md).

Amounts are ``Decimal`` in the document currency with at most two decimals (EN 16931
BR-DEC rules); a VAT rate is a percentage (``Decimal("20")``), or ``None`` for the category
"not subject to VAT" (O), which carries no rate (BR-O-05 and the like). Nothing here knows
about the database: the builder in ``salesledger.apps.invoicing.einvoice`` fills it from a
posted document, the readers from XML.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from .invoicing import VatCategory


class DocumentType(StrEnum):
    """UNCL 1001 document type codes (BT-3)."""

    INVOICE = "380"
    CREDIT_NOTE = "381"


def vat_category(category: str, rate: str | Decimal) -> str:
    """The UNCL 5305 category of a ledger line: the ledger's own, except that a line that is
    taxable (S) at a rate of 0 % is what UNCL 5305 calls zero-rated (Z); EN 16931 refuses a
    standard rate of zero (BR-S-05)."""
    if category == VatCategory.STANDARD and Decimal(rate) == 0:
        return VatCategory.ZERO
    return category


def vat_rate(category: str, rate: str | Decimal) -> Decimal | None:
    """The rate (BT-96, BT-119, BT-152) of a category: "not subject to VAT" carries none at
    all (BR-O-05, BR-O-06, BR-O-07, BR-O-09)."""
    return None if category == VatCategory.NOT_SUBJECT else Decimal(rate)


@dataclass(frozen=True, slots=True)
class PostalAddress:
    """BG-5 (seller) / BG-8 (buyer) / BG-15 (deliver to)."""

    country: str  # BT-40 / BT-55 / BT-80, ISO 3166-1 alpha-2
    line1: str = ""  # BT-35 / BT-50
    line2: str = ""  # BT-36 / BT-51
    city: str = ""  # BT-37 / BT-52
    postal_code: str = ""  # BT-38 / BT-53
    region: str = ""  # BT-39 / BT-54


@dataclass(frozen=True, slots=True)
class ElectronicAddress:
    """BT-34 / BT-49: where the party receives e-invoices, with its EAS scheme code."""

    scheme: str
    value: str


@dataclass(frozen=True, slots=True)
class Contact:
    """BG-6 (seller) / BG-9 (buyer)."""

    name: str = ""  # BT-41 / BT-56
    phone: str = ""  # BT-42 / BT-57
    email: str = ""  # BT-43 / BT-58


@dataclass(frozen=True, slots=True)
class Party:
    """BG-4 (seller) / BG-7 (buyer)."""

    name: str  # BT-27 / BT-44 (registered name)
    address: PostalAddress | None  # BG-5 / BG-8
    trading_name: str = ""  # BT-28 / BT-45
    vat_id: str = ""  # BT-31 / BT-48, with its country prefix
    legal_id: str = ""  # BT-30 / BT-47 (SIREN, HRB number...)
    legal_id_scheme: str = ""  # its ISO 6523 ICD scheme, when known
    electronic_address: ElectronicAddress | None = None  # BT-34 / BT-49
    contact: Contact | None = None  # BG-6 / BG-9


@dataclass(frozen=True, slots=True)
class PrecedingInvoice:
    """BG-3: the invoice a credit note corrects."""

    number: str  # BT-25
    issue_date: date | None = None  # BT-26


@dataclass(frozen=True, slots=True)
class PaymentInstructions:
    """BG-16, with the credit transfer account of BG-17."""

    means_code: str  # BT-81, UNCL 4461 (58 SEPA credit transfer, 30 credit transfer)
    remittance: str = ""  # BT-83: the reference the payer quotes
    iban: str = ""  # BT-84
    account_name: str = ""  # BT-85
    bic: str = ""  # BT-86
    mandate: str = ""  # BT-89 (BG-19 direct debit)
    creditor_id: str = ""  # BT-90: the seller's SEPA creditor identifier
    debited_account: str = ""  # BT-91: the buyer's IBAN


@dataclass(frozen=True, slots=True)
class AllowanceCharge:
    """A document-level allowance (BG-20) or charge (BG-21), or the same on a line (BG-27,
    BG-28), where it carries no VAT category."""

    is_charge: bool
    amount: Decimal  # BT-92 / BT-99 / BT-136 / BT-141
    reason: str = ""  # BT-97 / BT-104 / BT-139 / BT-144
    reason_code: str = ""  # BT-98 / BT-105 / BT-140 / BT-145
    base_amount: Decimal | None = None  # BT-93 / BT-100 / BT-137 / BT-142
    percent: Decimal | None = None  # BT-94 / BT-101 / BT-138 / BT-143
    vat_category: str = ""  # BT-95 / BT-102 (document level only)
    vat_rate: Decimal | None = None  # BT-96 / BT-103 (document level only)


@dataclass(frozen=True, slots=True)
class Line:
    """BG-25: an invoice line."""

    id: str  # BT-126
    name: str  # BT-153
    quantity: Decimal  # BT-129
    unit_code: str  # BT-130 (UN/ECE Recommendation 20)
    net_amount: Decimal  # BT-131
    net_price: Decimal  # BT-146
    vat_category: str  # BT-151
    vat_rate: Decimal | None  # BT-152 (none for category O)
    allowances_charges: tuple[AllowanceCharge, ...] = ()  # BG-27 / BG-28
    seller_item_id: str = ""  # BT-155
    standard_item_id: str = ""  # BT-157
    standard_item_scheme: str = ""  # its ISO 6523 ICD scheme (0160 GTIN)


@dataclass(frozen=True, slots=True)
class VatBreakdown:
    """BG-23: the VAT of one category and rate."""

    category: str  # BT-118
    rate: Decimal | None  # BT-119 (none for category O)
    taxable_amount: Decimal  # BT-116
    tax_amount: Decimal  # BT-117
    exemption_reason: str = ""  # BT-120
    exemption_code: str = ""  # BT-121 (VATEX code list)


@dataclass(frozen=True, slots=True)
class DocumentTotals:
    """BG-22."""

    line_net_total: Decimal  # BT-106
    tax_exclusive: Decimal  # BT-109
    tax_total: Decimal  # BT-110
    tax_inclusive: Decimal  # BT-112
    payable: Decimal  # BT-115
    allowance_total: Decimal | None = None  # BT-107 (when there are allowances)
    charge_total: Decimal | None = None  # BT-108 (when there are charges)
    prepaid: Decimal | None = None  # BT-113
    rounding: Decimal | None = None  # BT-114


@dataclass(frozen=True, slots=True)
class Delivery:
    """BG-13 (actual delivery date BT-72 and the deliver-to address BG-15)."""

    date: date | None = None  # BT-72
    address: PostalAddress | None = None  # BG-15


@dataclass(frozen=True, slots=True)
class Period:
    """BG-14: the invoicing period."""

    start: date | None = None  # BT-73
    end: date | None = None  # BT-74


# BT-8, the code of the date VAT becomes due: UNCL 2475 in CII, UNCL 2005 in UBL (EN 16931
# code lists, BR-CL-06). The model keeps the CII code; UBL writes its counterpart.
VAT_POINT_INVOICE_DATE = "5"  # the invoice's date (UBL 3): in France, VAT on debits
VAT_POINT_UBL = {"5": "3", "29": "35", "72": "432"}
VAT_POINT_CII = {v: k for k, v in VAT_POINT_UBL.items()}


@dataclass(frozen=True, slots=True)
class EInvoice:
    """An invoice or credit note in the EN 16931 semantic model."""

    number: str  # BT-1
    issue_date: date  # BT-2
    type_code: str  # BT-3
    currency: str  # BT-5
    seller: Party  # BG-4
    buyer: Party  # BG-7
    lines: tuple[Line, ...]  # BG-25
    vat_breakdown: tuple[VatBreakdown, ...]  # BG-23
    totals: DocumentTotals  # BG-22
    tax_currency: str = ""  # BT-6 (only when it differs from BT-5)
    tax_total_accounting: Decimal | None = None  # BT-111, in BT-6
    due_date: date | None = None  # BT-9
    buyer_reference: str = ""  # BT-10
    order_reference: str = ""  # BT-13
    notes: tuple[str, ...] = ()  # BT-22
    preceding: tuple[PrecedingInvoice, ...] = ()  # BG-3
    delivery: Delivery | None = None  # BG-13
    payment: PaymentInstructions | None = None  # BG-16
    payment_terms: str = ""  # BT-20
    allowances_charges: tuple[AllowanceCharge, ...] = ()  # BG-20 / BG-21
    business_process: str = ""  # BT-23 (CII only: Peppol fixes UBL's ProfileID)
    contract_reference: str = ""  # BT-12
    project_reference: str = ""  # BT-11
    period: Period | None = None  # BG-14
    vat_point_code: str = ""  # BT-8, UNCL 2475 (see VAT_POINT_UBL)

    @property
    def is_credit_note(self) -> bool:
        return self.type_code == DocumentType.CREDIT_NOTE

    @property
    def allowances(self) -> tuple[AllowanceCharge, ...]:
        return tuple(a for a in self.allowances_charges if not a.is_charge)

    @property
    def charges(self) -> tuple[AllowanceCharge, ...]:
        return tuple(a for a in self.allowances_charges if a.is_charge)

