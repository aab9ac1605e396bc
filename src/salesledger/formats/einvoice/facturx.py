"""Factur-X (ZUGFeRD 2): a PDF/A-3 invoice that carries its CII XML as an attachment.

The embedding is done by the ``factur-x`` library of the field (it writes the attachment
with its ``AFRelationship``, the XMP metadata that declare the Factur-X profile, and checks
the XML against the profile's XSD). The PDF given must already be PDF/A-3: the library adds
the attachment, it does not convert.
"""

from __future__ import annotations

import facturx

from salesledger.domain.errors import FacturXFailed


def embed_facturx(pdf: bytes, xml: bytes, *, lang: str = "en") -> bytes:
    """Return ``pdf`` with ``xml`` (a CII invoice of the EN 16931 profile) embedded as a
    Factur-X PDF/A-3."""
    try:
        out = facturx.generate_from_binary(pdf, xml, flavor="factur-x", level="en16931",
                                           check_xsd=True, lang=lang)
    except Exception as exc:  # the library raises bare Exception/ValueError
        raise FacturXFailed(f"could not embed the e-invoice into the PDF: {exc}") from exc
    return bytes(out)


def xml_from_facturx(pdf: bytes) -> bytes:
    """The CII XML a Factur-X PDF carries (``factur-x.xml``)."""
    try:
        _name, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
    except Exception as exc:
        raise FacturXFailed(f"could not read the e-invoice from the PDF: {exc}") from exc
    if not xml:
        raise FacturXFailed("the PDF carries no Factur-X XML")
    return bytes(xml)
