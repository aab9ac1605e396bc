"""The e-invoice files of posted documents, frozen: UBL and CII (the XML that invoicing
builds and checks) and Factur-X (the document's PDF/A-3 with the CII embedded). Each file is
rendered and stored with its hash the first time it is asked for, and served as stored after
that, so that what was issued is served again byte for byte (a Factur-X PDF carries its
creation time, so rendering it again would give other bytes)."""

from __future__ import annotations

import hashlib

from django.db import transaction

from salesledger.apps.core.actors import Actor
from salesledger.apps.core.audit import audit
from salesledger.apps.core.models import Company, Role
from salesledger.apps.core.services import require_role
from salesledger.apps.invoicing.einvoice import einvoice_posted, einvoice_xml
from salesledger.apps.invoicing.models import DocumentFile, Invoice
from salesledger.domain.errors import ValidationFailed

from .services import invoice_pdf_bytes

FORMATS: dict[str, tuple[str, str]] = {  # kind -> (MIME type, file extension)
    "ubl": ("application/xml", "xml"),
    "cii": ("application/xml", "xml"),
    "facturx": ("application/pdf", "pdf"),
}


def facturx_pdf(invoice: Invoice, *, pdf: bytes | None = None) -> bytes:
    """The Factur-X PDF/A-3 of a posted document: its PDF with the CII embedded. ``pdf`` is
    the PDF/A-3 to embed into (by default the document's own, from the documents app)."""
    company = invoice.company
    xml = einvoice_xml(company=company, invoice=invoice, syntax="cii")
    if pdf is None:
        pdf = invoice_pdf_bytes(company=company, invoice=invoice, pdfa=True)
    # The PDF stack (pypdf, factur-x) is loaded only by what writes one.
    from salesledger.formats.einvoice.facturx import embed_facturx

    return embed_facturx(pdf, xml, lang=(invoice.customer.language or "en")[:2])


def einvoice_file(*, actor: Actor, company: Company, invoice: Invoice, kind: str
                  ) -> DocumentFile:
    """The frozen e-invoice file (``ubl``, ``cii`` or ``facturx``) of a posted document:
    rendered and stored with its hash the first time, served as stored after that."""
    require_role(company, actor, Role.VIEWER)
    if kind not in FORMATS:
        raise ValidationFailed(f"unknown e-invoice format {kind!r}; use ubl, cii or facturx",
                               field="format")
    inv = einvoice_posted(company, invoice)
    stored = DocumentFile.objects.filter(invoice=inv, kind=kind).first()
    if stored is not None:
        return stored
    content = facturx_pdf(inv) if kind == "facturx" else einvoice_xml(
        company=company, invoice=inv, syntax=kind)
    with transaction.atomic():
        # Lock the document so that two first requests store one file, not two.
        Invoice.objects.select_for_update().filter(pk=inv.pk).values_list("pk").first()
        stored = DocumentFile.objects.filter(invoice=inv, kind=kind).first()
        if stored is None:
            digest = hashlib.sha256(content).hexdigest()
            stored = DocumentFile.objects.create(company=company, invoice=inv, kind=kind,
                                                 mime=FORMATS[kind][0], sha256=digest,
                                                 content=content)
            audit(company, actor, f"{inv.kind}.einvoice", "invoice", inv.pk,
                  number=inv.number, format=kind, sha256=digest)
    return stored


def einvoice_filename(invoice: Invoice, kind: str) -> str:
    suffix = {"ubl": "-ubl.xml", "cii": "-cii.xml", "facturx": ".pdf"}[kind]
    return f"{invoice.number}{suffix}"
