"""Factur-X (ZUGFeRD 2): a PDF/A-3 invoice that carries its CII XML as an attachment.

The embedding is done by the ``factur-x`` library of the field (it writes the attachment
with its ``AFRelationship``, the XMP metadata that declare the Factur-X profile, and checks
the XML against the profile's XSD). The PDF given must already be PDF/A-3: the library adds
the attachment, it does not convert.

PDF/A requires the document information dictionary and the XMP metadata to say the same
thing (ISO 19005-3, 6.6.2.3: Title, Author, Subject, Keywords, Creator, Producer and the two
dates each have their XMP counterpart). The library writes an Info dictionary of its own
over WeasyPrint's, keeps WeasyPrint's Producer there, writes "pypdf" as the XMP Producer and
no XMP Keywords at all; :func:`embed_facturx` then makes the two agree, with the values of
the Info dictionary (the producer naming both programs that wrote the file), and writes the
XMP uncompressed, as PDF/A-1 requires and PDF/A-3 allows. What is checked, and what only a
full PDF/A validator would check, is in docs/design/e-invoicing.md ("The PDF/A-3").
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone
from importlib.metadata import version

import facturx
from lxml import etree
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, NameObject, StreamObject

from salesledger.domain.errors import FacturXFailed

XMP_NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
}
_RDF = "{" + XMP_NS["rdf"] + "}"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Info entry -> (XMP property, how it is written: "alt" language alternative, "seq" ordered
# list, "text" simple value, "date" a date).
INFO_TO_XMP: dict[str, tuple[str, str, str]] = {
    "/Title": ("dc", "title", "alt"),
    "/Author": ("dc", "creator", "seq"),
    "/Subject": ("dc", "description", "alt"),
    "/Keywords": ("pdf", "Keywords", "text"),
    "/Producer": ("pdf", "Producer", "text"),
    "/Creator": ("xmp", "CreatorTool", "text"),
    "/CreationDate": ("xmp", "CreateDate", "date"),
    "/ModDate": ("xmp", "ModifyDate", "date"),
}


def embed_facturx(pdf: bytes, xml: bytes, *, lang: str = "en") -> bytes:
    """Return ``pdf`` with ``xml`` (a CII invoice of the EN 16931 profile) embedded as a
    Factur-X PDF/A-3, its Info dictionary and XMP metadata in agreement."""
    source: dict[str, object] = dict(PdfReader(io.BytesIO(pdf)).metadata or {})
    try:
        out = facturx.generate_from_binary(pdf, xml, flavor="factur-x", level="en16931",
                                           check_xsd=True, lang=lang)
    except Exception as exc:  # the library raises bare Exception/ValueError
        raise FacturXFailed(f"could not embed the e-invoice into the PDF: {exc}") from exc
    # The document was created when it was rendered (its issue), by the product, with
    # WeasyPrint; the Factur-X library added the XML and wrote the file.
    producer = ", ".join(p for p in (str(source.get("/Producer", "")),
                                     f"factur-x {version('factur-x')}") if p)
    keep = {"/Creator": source.get("/Creator"), "/CreationDate": source.get("/CreationDate"),
            "/Producer": producer}
    return agree_metadata(bytes(out), {k: str(v) for k, v in keep.items() if v})


def agree_metadata(pdf: bytes, info: dict[str, str]) -> bytes:
    """``pdf`` with ``info`` written over its Info dictionary, and its XMP metadata given the
    same Title, Author, Subject, Keywords, Creator, Producer and dates as that dictionary."""
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter(clone_from=reader)
    merged = {str(k): str(v) for k, v in (reader.metadata or {}).items()}
    merged.update(info)
    writer.add_metadata(merged)
    root = writer._root_object
    metadata = root["/Metadata"].get_object()
    if not isinstance(metadata, StreamObject):
        raise FacturXFailed("the PDF has no XMP metadata stream")
    old = metadata.get_data()
    stream = DecodedStreamObject()
    stream.update({NameObject("/Type"): NameObject("/Metadata"),
                   NameObject("/Subtype"): NameObject("/XML")})
    stream.set_data(_xmp_agreeing(old, merged))
    writer._replace_object(root.raw_get("/Metadata"), stream)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _tag(prefix: str, name: str) -> str:
    return "{" + XMP_NS[prefix] + "}" + name


def _xmp_agreeing(xmp: bytes, info: dict[str, str]) -> bytes:
    tree = etree.fromstring(xmp.strip())  # the xpacket wrappers are processing instructions
    rdf = tree.find(f"{_RDF}RDF")
    if rdf is None:
        raise FacturXFailed("the PDF's XMP metadata has no rdf:RDF")
    for prefix, name, _kind in INFO_TO_XMP.values():
        for el in list(rdf.iter(_tag(prefix, name))):
            parent = el.getparent()
            if parent is not None:
                parent.remove(el)
    ours = etree.SubElement(rdf, f"{_RDF}Description", nsmap={
        p: XMP_NS[p] for p in ("dc", "pdf", "xmp")})
    for key, (prefix, name, kind) in INFO_TO_XMP.items():
        value = info.get(key, "")
        if not value:
            continue
        el = etree.SubElement(ours, _tag(prefix, name))
        if kind == "alt":
            li = etree.SubElement(etree.SubElement(el, f"{_RDF}Alt"), f"{_RDF}li")
            li.set(_XML_LANG, "x-default")
            li.text = value
        elif kind == "seq":
            etree.SubElement(etree.SubElement(el, f"{_RDF}Seq"), f"{_RDF}li").text = value
        else:
            el.text = pdf_date_to_xmp(value) if kind == "date" else value
    if info.get("/ModDate"):
        etree.SubElement(ours, _tag("xmp", "MetadataDate")).text = pdf_date_to_xmp(
            info["/ModDate"])
    for description in rdf.iter(f"{_RDF}Description"):
        description.set(f"{_RDF}about", "")
        if len(description) == 0:
            rdf.remove(description)
    body = etree.tostring(tree, encoding="utf-8")
    return (b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n' + body
            + b'\n<?xpacket end="w"?>')


_PDF_DATE = re.compile(r"^D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?"
                       r"(?:([Zz])|([+-])(\d{2})'?(\d{2})?'?)?$")


def pdf_date(text: str) -> datetime:
    """A PDF date (``D:20250310120000+01'00'``) as an aware datetime (UTC when it has no
    offset)."""
    m = _PDF_DATE.match(text.strip())
    if not m:
        raise FacturXFailed(f"{text!r} is not a PDF date")
    year, month, day, hour, minute, second = (int(g) if g else d for g, d in zip(
        m.groups()[:6], (0, 1, 1, 0, 0, 0), strict=True))
    offset = timedelta(0)
    if m.group(8):
        offset = timedelta(hours=int(m.group(9)), minutes=int(m.group(10) or 0))
        offset = -offset if m.group(8) == "-" else offset
    return datetime(year, month, day, hour, minute, second, tzinfo=timezone(offset))


def pdf_date_to_xmp(text: str) -> str:
    """The same instant as XMP writes it (ISO 8601 with its offset)."""
    return pdf_date(text).isoformat()


def xml_from_facturx(pdf: bytes) -> bytes:
    """The CII XML a Factur-X PDF carries (``factur-x.xml``)."""
    try:
        _name, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
    except Exception as exc:
        raise FacturXFailed(f"could not read the e-invoice from the PDF: {exc}") from exc
    if not xml:
        raise FacturXFailed("the PDF carries no Factur-X XML")
    return bytes(xml)
