"""XML helpers shared by the UBL and CII writers and readers: how numbers, amounts and
dates are written, a safe parser, and reading with errors that say which element."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation

from lxml import etree

from salesledger.domain.errors import EInvoiceUnreadable

TWO_PLACES = Decimal("0.01")


def amount_text(value: Decimal) -> str:
    """An amount with two decimals (EN 16931 BR-DEC: at most two); more digits are kept
    as they are, for the rules to refuse rather than for the writer to hide."""
    if value == value.quantize(TWO_PLACES):
        return f"{value.quantize(TWO_PLACES):f}"
    return f"{value:f}"


def number_text(value: Decimal) -> str:
    """A quantity, price or percentage with no trailing zeros and no exponent."""
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "0") else text


class Writer:
    """Builds an element tree, leaving out empty values (Peppol forbids empty elements)."""

    def __init__(self, nsmap: Mapping[str, str]) -> None:
        self.nsmap = dict(nsmap)

    def qname(self, tag: str) -> str:
        prefix, _, local = tag.partition(":")
        return f"{{{self.nsmap[prefix]}}}{local}"

    def root(self, tag: str) -> etree._Element:
        return etree.Element(self.qname(tag), nsmap=self.nsmap)

    def sub(self, parent: etree._Element, tag: str, text: str | None = None,
            **attrs: str) -> etree._Element:
        el = etree.SubElement(parent, self.qname(tag))
        if text is not None:
            el.text = text
        for key, value in attrs.items():
            if value:
                el.set(key, value)
        return el

    def opt(self, parent: etree._Element, tag: str, text: str | None,
            **attrs: str) -> etree._Element | None:
        """An element only when it has a value."""
        if text is None or text == "":
            return None
        return self.sub(parent, tag, text, **attrs)


def serialise(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                pretty_print=True))


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True,
                          huge_tree=False)


def parse(data: bytes, syntax: str) -> etree._Element:
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise EInvoiceUnreadable(f"{syntax}: not well-formed XML ({exc})", syntax=syntax) from None


class Reader:
    """Reads values from an element tree; a missing required value or a bad number names
    the element path."""

    def __init__(self, nsmap: Mapping[str, str], syntax: str) -> None:
        self.nsmap = dict(nsmap)
        self.syntax = syntax

    def _where(self, el: etree._Element, path: str) -> str:
        tree = el.getroottree()
        return f"{tree.getpath(el)}/{path}"

    def find(self, el: etree._Element | None, path: str) -> etree._Element | None:
        return None if el is None else el.find(path, self.nsmap)

    def findall(self, el: etree._Element | None, path: str) -> list[etree._Element]:
        return [] if el is None else list(el.findall(path, self.nsmap))

    def text(self, el: etree._Element | None, path: str) -> str:
        found = self.find(el, path)
        return (found.text or "").strip() if found is not None else ""

    def required(self, el: etree._Element, path: str) -> str:
        value = self.text(el, path)
        if not value:
            raise EInvoiceUnreadable(
                f"{self.syntax}: {self._where(el, path)} is missing or empty",
                syntax=self.syntax, element=path)
        return value

    def attr(self, el: etree._Element | None, path: str, name: str) -> str:
        found = self.find(el, path)
        return (found.get(name) or "").strip() if found is not None else ""

    def decimal(self, el: etree._Element, path: str) -> Decimal:
        return self._decimal(el, path, self.required(el, path))

    def optional_decimal(self, el: etree._Element | None, path: str) -> Decimal | None:
        if el is None:
            return None
        value = self.text(el, path)
        return self._decimal(el, path, value) if value else None

    def _decimal(self, el: etree._Element, path: str, value: str) -> Decimal:
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite():
            raise EInvoiceUnreadable(
                f"{self.syntax}: {self._where(el, path)} is not a number: {value!r}",
                syntax=self.syntax, element=path)
        return number

    def optional_date(self, el: etree._Element | None, path: str) -> date | None:
        value = self.text(el, path)
        return self.iso_date(el, path, value) if value and el is not None else None

    def iso_date(self, el: etree._Element, path: str, value: str) -> date:
        try:
            if len(value) == 8 and value.isdigit():  # CII format 102: YYYYMMDD
                return date(int(value[:4]), int(value[4:6]), int(value[6:]))
            return date.fromisoformat(value)
        except ValueError:
            raise EInvoiceUnreadable(
                f"{self.syntax}: {self._where(el, path)} is not a date: {value!r}",
                syntax=self.syntax, element=path) from None
