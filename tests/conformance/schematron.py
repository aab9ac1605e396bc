"""ISO Schematron (query binding ``xslt2``) compiled to an XSLT 3.0 stylesheet, for saxonche.

The Peppol BIS Billing 3.0 rules are published as Schematron source (``.sch``); the official
validators compile it to XSLT and run that. No compiler of that kind is at hand as a Python
package (pyschematron's releases that run XPath 2 need a newer Python than ours, and lxml
ships only the XSLT 1.0 skeleton, which cannot carry the rules' ``xsl:function``s), so this
module does the compiling. It implements the part of ISO/IEC 19757-3 the Peppol and CEN
sources use, and refuses anything else rather than skip it:

- ``ns`` declarations, global ``let``s (a ``let`` of a pattern is global too, as in the ISO
  skeleton: rule contexts refer to them), ``xsl:function``s copied as they are;
- each ``pattern`` in a mode of its own, visiting every element and attribute of the
  document once; each ``rule`` a template of that mode whose priority falls in document
  order, so that a node is checked by the first rule of a pattern whose context matches it
  (ISO 19757-3, 6.5), the rule's ``let``s evaluated on that node;
- each ``assert`` (and ``report``) an ``svrl:failed-assert`` (``svrl:successful-report``)
  with the ``id``, ``flag`` and ``location`` (the node's ``path()``) the official stylesheets
  write, and the text with its ``value-of`` and ``name`` filled in.

``tests/conformance/test_peppol.py`` proves the result against the unit tests that
OpenPEPPOL publishes with the rules (each says which rule must or must not fire).
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

SCH = "http://purl.oclc.org/dsdl/schematron"
XSL = "http://www.w3.org/1999/XSL/Transform"
SVRL = "http://purl.oclc.org/dsdl/svrl"

_S = f"{{{SCH}}}"
_X = f"{{{XSL}}}"


class UnsupportedSchematron(Exception):
    """The source uses a part of Schematron this compiler does not implement."""


def compile_schematron(path: Path) -> bytes:
    """The XSLT 3.0 stylesheet that validates a document against the schema at ``path``
    and returns its SVRL report."""
    schema = etree.parse(str(path)).getroot()
    if schema.tag != f"{_S}schema":
        raise UnsupportedSchematron(f"{path.name}: not an ISO Schematron schema")
    binding = schema.get("queryBinding", "xslt").lower()
    if binding not in ("xslt2", "xslt3", "xpath2", "xpath3", "xpath31"):
        raise UnsupportedSchematron(f"{path.name}: query binding {binding!r}")
    nsmap: dict[str | None, str] = {"xsl": XSL, "svrl": SVRL}
    for ns in schema.iterfind(f"{_S}ns"):
        nsmap[ns.get("prefix")] = ns.get("uri")
    out = etree.Element(f"{_X}stylesheet", nsmap=nsmap, version="3.0")
    # Prefixes to leave out of the SVRL; the rest of the result is built with svrl: names.
    out.set("exclude-result-prefixes", " ".join(p for p in nsmap if p and p != "svrl"))
    _top_level(schema, out)
    patterns = [p for p in schema.iterfind(f"{_S}pattern")]
    root = _sub(out, "template", match="/")
    report = etree.SubElement(root, f"{{{SVRL}}}schematron-output")
    for i, pattern in enumerate(patterns):
        _check_pattern(pattern)
        active = etree.SubElement(report, f"{{{SVRL}}}active-pattern")
        if pattern.get("id"):
            active.set("id", pattern.get("id", ""))
        _sub(report, "apply-templates", select=".", mode=f"p{i}")
        _pattern(pattern, out, f"p{i}")
    # Every node of every pattern's walk that no rule matches: go on to its children.
    _sub(out, "template", match="text() | comment() | processing-instruction()",
         mode="#all", priority="-10")
    walk = _sub(out, "template", match="/ | * | @*", mode="#all", priority="-10")
    _sub(walk, "apply-templates", select="@* | *", mode="#current")
    return etree.tostring(out, xml_declaration=True, encoding="UTF-8")


def _sub(parent: etree._Element, xsl_name: str, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, f"{_X}{xsl_name}")
    for key, value in attrs.items():
        el.set(key, value)
    return el


def _top_level(schema: etree._Element, out: etree._Element) -> None:
    lets = [*schema.iterfind(f"{_S}let"),
            *(let for p in schema.iterfind(f"{_S}pattern") for let in p.iterfind(f"{_S}let"))]
    for let in lets:
        _variable(out, let)
    for el in schema:
        if not isinstance(el.tag, str):
            continue
        if el.tag.startswith(_X):
            if el.tag != f"{_X}function":
                raise UnsupportedSchematron(f"top-level {el.tag}")
            out.append(_copy(el))
        elif el.tag not in {f"{_S}{n}" for n in ("ns", "let", "pattern", "title", "p")}:
            raise UnsupportedSchematron(f"top-level {etree.QName(el).localname}")


def _copy(el: etree._Element) -> etree._Element:
    return etree.fromstring(etree.tostring(el))


def _variable(parent: etree._Element, let: etree._Element) -> None:
    if let.get("value") is None or len(let):
        raise UnsupportedSchematron(f"let {let.get('name')} without a value attribute")
    _sub(parent, "variable", name=let.get("name", ""), select=let.get("value", ""))


def _check_pattern(pattern: etree._Element) -> None:
    for attr in ("abstract", "is-a"):
        if pattern.get(attr):
            raise UnsupportedSchematron(f"pattern with {attr}")


def _pattern(pattern: etree._Element, out: etree._Element, mode: str) -> None:
    rules = [r for r in pattern.iterfind(f"{_S}rule")]
    for n, rule in enumerate(rules):
        if rule.get("abstract") or rule.find(f"{_S}extends") is not None:
            raise UnsupportedSchematron("abstract rules")
        template = _sub(out, "template", match=rule.get("context", ""), mode=mode,
                        priority=str(len(rules) - n))
        for el in rule:
            if not isinstance(el.tag, str):
                continue
            if el.tag == f"{_S}let":
                _variable(template, el)
            elif el.tag in (f"{_S}assert", f"{_S}report"):
                _assertion(template, el)
            else:
                raise UnsupportedSchematron(f"{etree.QName(el).localname} in a rule")
        _sub(template, "apply-templates", select="@* | *", mode="#current")


def _assertion(template: etree._Element, el: etree._Element) -> None:
    is_assert = el.tag == f"{_S}assert"
    test = el.get("test", "")
    when = _sub(template, "if", test=f"not({test})" if is_assert else test)
    result = etree.SubElement(
        when, f"{{{SVRL}}}{'failed-assert' if is_assert else 'successful-report'}")
    for key in ("id", "flag", "role"):
        if el.get(key) is not None:
            result.set(key, el.get(key, ""))
    result.set("test", test.replace("{", "{{").replace("}", "}}"))
    _sub(result, "attribute", name="location", select="path()")
    text = etree.SubElement(result, f"{{{SVRL}}}text")
    text.text = el.text
    for child in el:
        if not isinstance(child.tag, str):  # a comment
            pass
        elif child.tag == f"{_S}value-of":
            _sub(text, "value-of", select=child.get("select", ""))
        elif child.tag == f"{_S}name":
            _sub(text, "value-of", select=f"name({child.get('path', '.')})")
        else:
            raise UnsupportedSchematron(f"{etree.QName(child).localname} in an assertion")
        if child.tail:
            _append_text(text, child.tail)


def _append_text(el: etree._Element, text: str) -> None:
    if len(el):
        el[-1].tail = (el[-1].tail or "") + text
    else:
        el.text = (el.text or "") + text
