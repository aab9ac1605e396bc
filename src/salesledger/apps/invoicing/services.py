"""Writing and posting invoices and credit notes.

``invoice_create`` writes a draft; ``invoices_post`` turns drafts into posted documents in
one transaction (``invoice_post``: a batch of one), and ``documents_post_bulk`` posts new
documents that were never stored as drafts (imports, migrations, demo data). Both go the
same way, read -> check -> write (``posting/``): lock the drafts, check the lifecycle, the
period and every rule of posting with the pure core (``domain/posting.py``), compute the
totals, take gapless numbers, build the instalments, write balanced journal entries,
freeze a snapshot of what was issued and write the audit events
(docs/design/posting-and-numbering.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import transaction

from salesledger.apps.core import events
from salesledger.apps.core.actors import Actor
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company, ImportBatch, Role
from salesledger.apps.core.services import posting_locks, require_role
from salesledger.apps.customers.selectors import customer_effective
from salesledger.apps.customers.services import payment_terms_find
from salesledger.domain import lifecycle
from salesledger.domain.amounts import parse_decimal
from salesledger.domain.errors import CurrencyMismatch, NotFound, ValidationFailed
from salesledger.domain.invoicing import (
    DocumentChargeInput,
    LineInput,
    SupplyDetails,
    Totals,
    check_supply,
)
from salesledger.domain.journal import to_base
from salesledger.money import Money

from .issuing import (
    charge_inputs,
    compute_invoice_totals,
    document_currency,
    line_inputs,
    resolve_rate,
    supply_details,
)
from .models import DocKind, DocumentCharge, Invoice, InvoiceLine, Purpose
from .posting.check import BulkDoc, documents_prepare
from .posting.write import documents_posted, documents_write
from .selectors import invoice_get


@dataclass
class InvoiceInput:
    customer_code: str
    issue_date: date
    lines: list[LineInput]
    currency: str = ""
    rate: Decimal | None = None
    terms_code: str = ""
    po_number: str = ""
    buyer_reference: str = ""
    notes: str = ""
    kind: str = DocKind.INVOICE
    corrects_number: str = ""
    exemption_reasons: list[str] = field(default_factory=list)
    # Document-level allowances and charges (EN 16931 BG-20/BG-21), in order.
    charges: list[DocumentChargeInput] = field(default_factory=list)
    # Delivery date, invoicing period, contract and project, nature of the operation.
    supply: SupplyDetails = field(default_factory=SupplyDetails)
    # What it charges for (``Purpose``): a fee or interest invoice is never credit-held.
    purpose: str = Purpose.SALE


def invoice_create(*, actor: Actor, company: Company, data: InvoiceInput) -> Invoice:
    """Write a draft invoice or credit note. Nothing is numbered or journaled yet."""
    require_role(company, actor, Role.CLERK)
    customer = customer_effective(company, data.customer_code)
    currency = document_currency(company, customer, data.currency)
    rate = resolve_rate(company, currency, data.rate, data.issue_date)
    # Refuses bad lines now; the draft shows what it would total (posting computes again).
    totals = compute_invoice_totals(company, currency, data.lines, data.charges)
    corrects = None
    if data.corrects_number:
        if data.kind != DocKind.CREDIT_NOTE:
            raise ValidationFailed("only a credit note can correct an invoice")
        corrects = invoice_get(company, data.corrects_number)
        if corrects.customer_id != customer.pk:
            raise ValidationFailed(
                f"{corrects.number} belongs to another customer", field="corrects")
        if corrects.currency != currency:
            raise CurrencyMismatch(
                f"the credit note is in {currency} but {corrects.number} is in {corrects.currency}")
    terms = payment_terms_find(company, data.terms_code)
    supply = check_supply(data.supply)
    if data.purpose not in Purpose.values:
        raise ValidationFailed(f"unknown purpose {data.purpose!r}; use "
                               f"{', '.join(Purpose.values)}", field="purpose")
    with transaction.atomic():
        inv = Invoice.objects.create(
            company=company, customer=customer, kind=data.kind,
            series="CN" if data.kind == DocKind.CREDIT_NOTE else "INV",
            issue_date=data.issue_date, currency=currency, rate=rate, terms=terms,
            po_number=data.po_number.strip(), buyer_reference=data.buyer_reference.strip(),
            notes=data.notes, corrects=corrects, net=totals.net, tax=totals.tax,
            total=totals.total,
            base_total=to_base(totals.total, currency, company.base_currency, rate),
            purpose=data.purpose, **_supply_fields(supply),
        )
        _write_lines(company, inv, data, totals)
        audit(company, actor, f"{data.kind}.create", "invoice", inv.pk,
              customer=customer.code, lines=len(data.lines))
    return inv


def _write_lines(company: Company, inv: Invoice, data: InvoiceInput, totals: Totals) -> None:
    """The lines and the allowances or charges of a draft, with their computed amounts."""
    InvoiceLine.objects.bulk_create(
        InvoiceLine(company=company, invoice=inv, position=i, description=li.description,
                    quantity=li.quantity, unit_price=li.unit_price,
                    discount_percent=li.discount_percent, tax_rate=li.tax_rate,
                    tax_category=li.tax_category, exemption_reason=li.exemption_reason,
                    unit_code=li.unit_code, net=lt.net, tax=lt.tax,
                    seller_item_id=li.seller_item_id,
                    standard_item_id=li.standard_item_id,
                    standard_item_scheme=li.standard_item_scheme)
        for i, (li, lt) in enumerate(zip(data.lines, totals.lines, strict=True), start=1)
    )
    DocumentCharge.objects.bulk_create(
        DocumentCharge(company=company, invoice=inv, position=i, is_charge=c.is_charge,
                       reason=c.reason.strip(), reason_code=c.reason_code,
                       amount=ct.amount, tax_category=c.tax_category,
                       tax_rate=c.tax_rate, percent=c.percent)
        for i, (c, ct) in enumerate(zip(data.charges, totals.charges, strict=True),
                                    start=1)
    )


def _supply_fields(supply: SupplyDetails) -> dict[str, object]:
    return {"delivery_date": supply.delivery_date, "period_start": supply.period_start,
            "period_end": supply.period_end, "contract_reference": supply.contract_reference,
            "project_reference": supply.project_reference, "supply_type": supply.supply_type}


def invoice_supply_set(*, actor: Actor, company: Company, invoice_id: int,
                       **changes: object) -> Invoice:
    """Change what a draft says about its supply (``delivery_date``, ``period_start``,
    ``period_end``, ``contract_reference``, ``project_reference``, ``supply_type``; a
    ``None`` or empty value clears it), checked as ``invoice_create`` checks it. A posted
    document is refused: it says forever what it said. Audited."""
    require_role(company, actor, Role.CLERK)
    unknown = set(changes) - set(_supply_fields(SupplyDetails()))
    if unknown:
        raise ValidationFailed(f"cannot change {sorted(unknown)} here")
    with transaction.atomic():
        inv = Invoice.objects.select_for_update().filter(company=company, pk=invoice_id).first()
        if inv is None:
            raise NotFound(f"no invoice or credit note {invoice_id!r}", document=invoice_id)
        lifecycle.transition(inv.status, lifecycle.Action.EDIT)
        before = supply_details(inv)
        merged = {**_supply_fields(before), **changes}
        for key in ("contract_reference", "project_reference", "supply_type"):
            merged[key] = merged[key] or ""
        supply = check_supply(SupplyDetails(**merged))  # type: ignore[arg-type]
        for key, value in _supply_fields(supply).items():
            setattr(inv, key, value)
        inv.save(update_fields=list(_supply_fields(supply)))
        audit(company, actor, f"{inv.kind}.update", "invoice", inv.pk,
              before=before.as_json(), after=supply.as_json())
    return inv


def invoice_draft_replace(*, actor: Actor, company: Company, invoice_id: int,
                          data: InvoiceInput) -> Invoice:
    """Save a draft again with what ``data`` now says (its customer, date, currency, terms,
    references, notes, lines, allowances or charges and supply details: delivery date,
    invoicing period, contract, project, nature of the operation, checked by the
    ``check_supply`` that ``invoice_supply_set`` calls): the draft keeps its id, checked as
    ``invoice_create`` checks a new one. A posted document is refused (the lifecycle's
    EDIT). The web's draft editor saves through this; audited with the totals before and
    after."""
    require_role(company, actor, Role.CLERK)
    with transaction.atomic():
        inv = Invoice.objects.select_for_update().filter(company=company, pk=invoice_id).first()
        if inv is None:
            raise NotFound(f"no invoice or credit note {invoice_id!r}", document=invoice_id)
        lifecycle.transition(inv.status, lifecycle.Action.EDIT)
        if data.kind != inv.kind:
            raise ValidationFailed("a draft keeps its kind (invoice or credit note)",
                                   field="kind")
        customer = customer_effective(company, data.customer_code)
        currency = document_currency(company, customer, data.currency)
        rate = resolve_rate(company, currency, data.rate, data.issue_date)
        totals = compute_invoice_totals(company, currency, data.lines, data.charges)
        supply = check_supply(data.supply)
        if inv.corrects_id and (customer.pk != inv.customer_id or currency != inv.currency):
            raise ValidationFailed("a credit note keeps the customer and currency of the "
                                   "invoice it corrects", field="customer")
        before = {"customer": inv.customer.code, "issue_date": inv.issue_date.isoformat(),
                  "total": Money.from_minor(inv.total, inv.currency).to_json(),
                  "supply": supply_details(inv).as_json()}
        inv.customer, inv.issue_date, inv.currency, inv.rate = (
            customer, data.issue_date, currency, rate)
        inv.terms = payment_terms_find(company, data.terms_code)
        inv.po_number, inv.buyer_reference = (data.po_number.strip(),
                                              data.buyer_reference.strip())
        inv.notes, inv.net, inv.tax, inv.total = data.notes, totals.net, totals.tax, totals.total
        inv.base_total = to_base(totals.total, currency, company.base_currency, rate)
        for key, value in _supply_fields(supply).items():
            setattr(inv, key, value)
        inv.save()
        InvoiceLine.objects.filter(invoice=inv).delete()
        DocumentCharge.objects.filter(invoice=inv).delete()
        _write_lines(company, inv, data, totals)
        audit(company, actor, f"{inv.kind}.update", "invoice", inv.pk, before=before,
              after={"customer": customer.code, "issue_date": data.issue_date.isoformat(),
                     "total": Money.from_minor(totals.total, currency).to_json(),
                     "supply": supply.as_json()},
              lines=len(data.lines))
    return inv


def invoice_delete_draft(*, actor: Actor, company: Company, invoice_id: int) -> None:
    require_role(company, actor, Role.CLERK)
    with transaction.atomic():
        inv = Invoice.objects.select_for_update().filter(company=company, pk=invoice_id).first()
        if inv is None:
            raise NotFound(f"no invoice or credit note {invoice_id!r}", document=invoice_id)
        lifecycle.transition(inv.status, lifecycle.Action.DELETE)
        InvoiceLine.objects.filter(invoice=inv).delete()
        DocumentCharge.objects.filter(invoice=inv).delete()
        inv.delete()
        audit(company, actor, f"{inv.kind}.delete_draft", "invoice", invoice_id)


def invoice_post(*, actor: Actor, company: Company, invoice_id: int,
                 allow_future_date: bool = False, credit_override: str = "") -> Invoice:
    """Post a draft invoice or credit note: a batch of one (:func:`invoices_post`)."""
    return invoices_post(actor=actor, company=company, invoice_ids=[invoice_id],
                         allow_future_date=allow_future_date,
                         credit_override=credit_override)[0]


def invoice_create_posted(*, actor: Actor, company: Company, data: InvoiceInput,
                          allow_future_date: bool = False, credit_override: str = "") -> Invoice:
    """Write a document and post it in one transaction (``invoice create --post``): a
    refused posting (a closed period, a credit hold, a broken rule) leaves no draft behind.
    The posting's locks are taken first, in posting's order, before the draft's audit event
    (``posting_locks``)."""
    require_role(company, actor, Role.CLERK)
    with transaction.atomic():
        posting_locks(company, "CN" if data.kind == DocKind.CREDIT_NOTE else "INV",
                      data.issue_date)
        inv = invoice_create(actor=actor, company=company, data=data)
        return invoice_post(actor=actor, company=company, invoice_id=inv.pk,
                            allow_future_date=allow_future_date,
                            credit_override=credit_override)


def invoices_post(*, actor: Actor, company: Company, invoice_ids: Sequence[int],
                  allow_future_date: bool = False, credit_override: str = "") -> list[Invoice]:
    """Post stored drafts, in one transaction (see the module docstring for what that
    does); the first broken rule raises and nothing is posted. A date beyond the company's
    future-date horizon is refused unless ``allow_future_date`` confirms it
    (``domain/dating.py``). ``credit_override``: a comment overriding a credit refusal (the
    credit app's veto decides whether the actor may). Returns the posted documents in the
    order of ``invoice_ids``."""
    require_role(company, actor, Role.CLERK)
    with transaction.atomic():
        prepared = documents_prepare(company=company, docs=_drafts_locked(company, invoice_ids),
                                     actor=actor, allow_future_date=allow_future_date,
                                     credit_override=credit_override)
        ids = documents_write(actor=actor, prepared=prepared)
        # In this transaction, the apps above act on them: the documents app queues the
        # freezing of their PDFs, payments applies a credit note to the invoice it corrects.
        events.publish(documents_posted(company, actor, prepared.docs, ids))
    posted = Invoice.objects.select_related("customer").in_bulk(ids)
    return [posted[pk] for pk in ids]


def _drafts_locked(company: Company, invoice_ids: Sequence[int]) -> list[BulkDoc]:
    """The drafts ``invoice_ids``, their rows locked until the transaction ends, as the
    posting checks take them (with their stored lines and allowances or charges)."""
    found = {inv.pk: inv for inv in Invoice.objects.select_for_update()
             .filter(company=company, pk__in=list(invoice_ids)).order_by("pk")
             .prefetch_related("lines", "charges")}
    docs = []
    for invoice_id in invoice_ids:
        inv = found.get(invoice_id)
        if inv is None:
            raise NotFound(f"no invoice or credit note {invoice_id!r}", document=invoice_id)
        lifecycle.transition(inv.status, lifecycle.Action.POST)
        docs.append(BulkDoc(
            customer_id=inv.customer_id, kind=inv.kind, issue_date=inv.issue_date,
            currency=inv.currency, lines=line_inputs(inv), rate=Decimal(inv.rate),
            terms_id=inv.terms_id, po_number=inv.po_number,
            buyer_reference=inv.buyer_reference, notes=inv.notes,
            corrects_id=inv.corrects_id, charges=charge_inputs(inv), draft_id=inv.pk,
            supply=supply_details(inv), purpose=inv.purpose))
    return docs


def documents_post_bulk(*, actor: Actor, company: Company, docs: list[BulkDoc],
                        import_batch: ImportBatch | None = None, batch_size: int = 2000,
                        allow_future_date: bool = False, credit_override: str = ""
                        ) -> list[int]:
    """Post new documents (not stored as drafts first) in one transaction; return their ids
    in input order. The first broken rule raises the error ``invoice_post`` would raise,
    and nothing is written. It publishes no event: its caller says what the documents are
    (the CSV import publishes ``DocumentsPosted``; the demo plans its own allocations)."""
    require_role(company, actor, Role.CLERK)
    with transaction.atomic():
        prepared = documents_prepare(company=company, docs=docs, actor=actor,
                                     allow_future_date=allow_future_date,
                                     credit_override=credit_override)
        return documents_write(actor=actor, prepared=prepared, import_batch=import_batch,
                               batch_size=batch_size)


def charge_input(*, is_charge: bool, reason: str, amount: str, tax_rate: str,
                 category: str = "", code: str = "", what: str) -> DocumentChargeInput:
    """A document-level allowance or charge as a person types it (``--charge`` and
    ``--allowance`` on the command line, a row of the draft editor): ``amount`` a sum, or
    ``"5%"``: a percentage of the lines of its tax category and rate (EN 16931 BT-94,
    BT-101); ``tax_rate`` with or without its ``%``; the category "S" when not given. A
    number that cannot be read is refused naming ``what``."""
    amount = amount.strip()
    percent = (parse_decimal(amount.rstrip("%").strip(), f"{what} percentage")
               if amount.endswith("%") else None)
    return DocumentChargeInput(
        is_charge, Decimal(0) if percent is not None else parse_decimal(amount, f"{what} amount"),
        reason.strip(), code.strip().upper(),
        parse_decimal(tax_rate.strip().rstrip("%"), f"{what} tax rate"),
        category.strip().upper() or "S", percent)
