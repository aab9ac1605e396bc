"""What a PDF/A-3 validator (veraPDF, the reference) checks of a Factur-X PDF, on the points
the product controls, written out with pypdf and lxml: no PDF/A validator installs from
Debian's or PyPI's packages without a separate download (veraPDF is Java, distributed on its
own). Each check names the clause of ISO 19005-3 (or of Factur-X 1.0) it stands for;
``pdfa_problems`` returns a sentence per problem, empty when every check holds. What it does
not check is written down in docs/design/e-invoicing.md ("The PDF/A-3")."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from lxml import etree
from pypdf import PdfReader
from pypdf.generic import DictionaryObject, IndirectObject, StreamObject

from salesledger.formats.einvoice.facturx import INFO_TO_XMP, XMP_NS, pdf_date

NS = {**XMP_NS, "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
      "pdfaExtension": "http://www.aiim.org/pdfa/ns/extension/",
      "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
      "pdfaProperty": "http://www.aiim.org/pdfa/ns/property#",
      "fx": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"}
FX_PROPERTIES = {"DocumentFileName": "factur-x.xml", "DocumentType": "INVOICE",
                 "Version": "1.0", "ConformanceLevel": "EN 16931"}


def pdfa_problems(pdf: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    catalog = reader.trailer["/Root"]
    metadata = catalog["/Metadata"].get_object()
    xmp = etree.fromstring(metadata.get_data().strip())
    return [*_info_agrees_with_xmp(reader, xmp), *_identification(xmp, reader),
            *_output_intent(catalog), *_fonts(reader), *_attachment(catalog),
            *_extension_schema(xmp),
            *(["6.6.2.1: the metadata stream is compressed (PDF/A-1 forbids it; kept plain)"]
              if "/Filter" in metadata else [])]


# ---------------------------------------------------------------- 6.6.2.3 Info vs XMP
def _xmp_value(xmp: Any, prefix: str, name: str, kind: str) -> list[str]:
    found = xmp.findall(f".//{prefix}:{name}", NS)
    if kind in ("alt", "seq"):
        return [li.text or "" for el in found for li in el.iterfind(".//rdf:li", NS)]
    return [el.text or "" for el in found]


def _info_agrees_with_xmp(reader: PdfReader, xmp: Any) -> Iterator[str]:
    info = {str(k): str(v) for k, v in (reader.metadata or {}).items()}
    for key, (prefix, name, kind) in INFO_TO_XMP.items():
        values = _xmp_value(xmp, prefix, name, kind)
        if key not in info:
            if values:
                yield f"6.6.2.3: XMP {prefix}:{name} has no Info {key} beside it"
            continue
        if len(values) != 1:
            yield (f"6.6.2.3: Info {key} is {info[key]!r} but XMP {prefix}:{name} has "
                   f"{values!r}")
        elif kind == "date":
            from datetime import datetime

            if pdf_date(info[key]) != datetime.fromisoformat(values[0]):
                yield f"6.6.2.3: Info {key} {info[key]} is not XMP {name} {values[0]}"
        elif values[0] != info[key]:
            yield f"6.6.2.3: Info {key} {info[key]!r} is not XMP {prefix}:{name} {values[0]!r}"


def _identification(xmp: Any, reader: PdfReader) -> Iterator[str]:
    part = xmp.findtext(".//pdfaid:part", namespaces=NS)
    conformance = xmp.findtext(".//pdfaid:conformance", namespaces=NS)
    if (part, conformance) != ("3", "B"):
        yield f"6.6.4: the PDF/A identification is part {part}, conformance {conformance}"
    if "/ID" not in reader.trailer:
        yield "6.1.3: the trailer has no file identifier (ID)"


# ---------------------------------------------------------------- 6.2.3 output intent
def _output_intent(catalog: DictionaryObject) -> Iterator[str]:
    intents = [i.get_object() for i in catalog.get("/OutputIntents", [])]
    pdfa = [i for i in intents if i.get("/S") == "/GTS_PDFA1"]
    if len(pdfa) != 1:
        yield f"6.2.3: {len(pdfa)} PDF/A output intents (GTS_PDFA1), one is needed"
        return
    profile = pdfa[0].get("/DestOutputProfile")
    if profile is None:
        yield "6.2.3: the output intent has no ICC profile (DestOutputProfile)"
        return
    stream = profile.get_object()
    data = stream.get_data()
    if data[36:40] != b"acsp":
        yield "6.2.3: DestOutputProfile is not an ICC profile (no 'acsp' signature)"
    space = {b"RGB ": 3, b"GRAY": 1, b"CMYK": 4}.get(data[16:20])
    if space is None or stream.get("/N") != space:
        yield f"6.2.3: the ICC profile's colour space {data[16:20]!r} does not match N"


# ---------------------------------------------------------------- 6.2.11.4 fonts embedded
def _fonts(reader: PdfReader) -> Iterator[str]:
    seen: set[int] = set()
    for number, page in enumerate(reader.pages, start=1):
        for name, font in _page_fonts(page.get("/Resources"), seen):
            yield from _font_embedded(f"page {number} font {name}", font)


def _page_fonts(resources: Any, seen: set[int]) -> Iterator[tuple[str, DictionaryObject]]:
    if resources is None:
        return
    resources = resources.get_object()
    for name, ref in (resources.get("/Font") or {}).items():
        yield str(name), ref.get_object()
    for ref in (resources.get("/XObject") or {}).values():
        key = ref.idnum if isinstance(ref, IndirectObject) else id(ref)
        xobject = ref.get_object()
        if key in seen or xobject.get("/Subtype") != "/Form":
            continue
        seen.add(key)
        yield from _page_fonts(xobject.get("/Resources"), seen)


def _font_embedded(where: str, font: DictionaryObject) -> Iterator[str]:
    if font.get("/Subtype") == "/Type3":
        return  # glyphs drawn by the PDF itself
    targets = ([d.get_object() for d in font["/DescendantFonts"]]
               if font.get("/Subtype") == "/Type0" else [font])
    for f in targets:
        descriptor = f.get("/FontDescriptor")
        descriptor = descriptor.get_object() if descriptor is not None else {}
        if not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
            yield f"6.2.11.4.1: {where} ({f.get('/BaseFont')}) is not embedded"


# ---------------------------------------------------------------- 6.8 the embedded XML
def _attachment(catalog: DictionaryObject) -> Iterator[str]:
    names = catalog.get("/Names", {}).get_object().get("/EmbeddedFiles", {}).get_object()
    pairs = list(names.get("/Names", []))
    specs = {str(pairs[i]): pairs[i + 1].get_object() for i in range(0, len(pairs), 2)}
    spec = specs.get("factur-x.xml")
    if spec is None:
        yield f"Factur-X: no embedded file factur-x.xml (found {sorted(specs)})"
        return
    if spec.get("/AFRelationship") != "/Data":
        yield f"6.8: factur-x.xml has AFRelationship {spec.get('/AFRelationship')}, not /Data"
    if spec.get("/F") != "factur-x.xml" or spec.get("/UF") != "factur-x.xml":
        yield "6.8: the file specification needs both F and UF"
    af = [a.get_object() for a in catalog.get("/AF", [])]
    if not any(a is spec or a == spec for a in af):
        yield "6.8: the catalog's AF array does not list factur-x.xml"
    embedded: StreamObject = spec["/EF"]["/F"].get_object()
    if embedded.get("/Subtype") != "/text/xml":
        yield f"6.8: the embedded file's MIME type is {embedded.get('/Subtype')}"
    if "/ModDate" not in (embedded.get("/Params") or {}):
        yield "6.8: the embedded file has no modification date (Params/ModDate)"


# ---------------------------------------------------------------- 6.6.2.3.3 extension schema
def _extension_schema(xmp: Any) -> Iterator[str]:
    schemas = [li for li in xmp.iterfind(".//pdfaExtension:schemas/rdf:Bag/rdf:li", NS)
               if li.findtext("pdfaSchema:namespaceURI", namespaces=NS) == NS["fx"]]
    if len(schemas) != 1:
        yield "6.6.2.3.3: no extension schema describes the fx: namespace"
        return
    schema = schemas[0]
    if schema.findtext("pdfaSchema:prefix", namespaces=NS) != "fx":
        yield "6.6.2.3.3: the extension schema's prefix is not fx"
    described = {p.findtext("pdfaProperty:name", namespaces=NS): p
                 for p in schema.iterfind("pdfaSchema:property/rdf:Seq/rdf:li", NS)}
    for name, expected in FX_PROPERTIES.items():
        p = described.get(name)
        if p is None:
            yield f"6.6.2.3.3: fx:{name} is not described by the extension schema"
            continue
        if (p.findtext("pdfaProperty:valueType", namespaces=NS),
                p.findtext("pdfaProperty:category", namespaces=NS)) != ("Text", "external"):
            yield f"6.6.2.3.3: fx:{name} is not described as external Text"
        if xmp.findtext(f".//fx:{name}", namespaces=NS) != expected:
            yield f"Factur-X: fx:{name} is not {expected!r}"
    used = {el.tag.split("}")[1] for el in xmp.iter() if isinstance(el.tag, str)
            and el.tag.startswith("{" + NS["fx"] + "}")}
    for name in sorted(used - set(described)):
        yield f"6.6.2.3.3: fx:{name} is used but not described"
