"""HTML templates to PDF: a sandboxed Django template engine, then WeasyPrint.

Templates. The product's own layouts live in ``templates/documents/`` (``base.html`` and one
per kind); a company may replace one (``DocumentTemplate``). Company templates are
untrusted input, so every template, default or not, is compiled by one private ``Engine``:
autoescaping on (a customer named ``<b>`` prints as typed); no tag libraries to ``{% load %}``;
``{% debug %}`` (which dumps the context and loaded modules), ``{% now %}`` (which would make
the PDF depend on the time of rendering) and ``{% url %}``/``{% csrf_token %}`` removed;
``{% extends %}`` and ``{% include %}`` reach only the product's own layouts. The context is
made of plain strings, lists and dicts (``context.py``), never model instances, so a template
cannot reach the database or call a method with side effects.

PDF. WeasyPrint lays the HTML out with the product's stylesheet (``document.css``) over the
product's user-agent stylesheet (``user-agent.css``, in place of WeasyPrint's HTML5 one: the
same defaults for what a document uses, a fraction of the cost), both parsed once per
process. It may fetch nothing: the URL fetcher allows ``data:`` URLs only (the logo is
embedded as one), so a template cannot read a local file or make the server call another
host. The PDF's dates are set to the moment the document was issued and WeasyPrint derives
the file identifier from the content, so the same document renders to the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from django.template import Context, Engine, Template
from django.template.library import Library

from salesledger.domain.errors import DocumentTemplateError

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates" / "documents"
FORBIDDEN_TAGS = frozenset({"debug", "now", "load", "url", "csrf_token"})
MAX_TEMPLATE_CHARS = 200_000
MAX_HTML_CHARS = 4_000_000
PDFA_VARIANT = "pdf/a-3b"


# ---------------------------------------------------------------- templates
@cache
def default_sources() -> dict[str, str]:
    """The product's layouts, by template name (``documents/invoice.html``...)."""
    return {f"documents/{path.name}": path.read_text(encoding="utf-8")
            for path in sorted(TEMPLATE_DIR.glob("*.html"))}


def default_source(kind: str) -> str:
    return default_sources()[f"documents/{kind}.html"]


def _without(library: Library, forbidden: frozenset[str]) -> Library:
    kept = Library()
    kept.tags = {name: tag for name, tag in library.tags.items() if name not in forbidden}
    kept.filters = dict(library.filters)
    return kept


@cache
def sandbox_engine(debug: bool = False) -> Engine:
    """The sandbox. The ``debug`` one is used only to say on which line an error is."""
    engine = Engine(
        # Cached: the layouts a template extends or includes are compiled once per process.
        loaders=[("django.template.loaders.cached.Loader",
                  [("django.template.loaders.locmem.Loader", default_sources())])],
        libraries={}, autoescape=True, debug=debug, string_if_invalid="",
    )
    engine.template_builtins = [_without(lib, FORBIDDEN_TAGS) for lib in engine.template_builtins]
    return engine


def compile_template(source: str, *, what: str = "template") -> Template:
    """Compile template text in the sandbox; a syntax error is a ``DocumentTemplateError``
    that says where."""
    if len(source) > MAX_TEMPLATE_CHARS:
        raise DocumentTemplateError(
            f"the {what} has {len(source):,} characters; at most {MAX_TEMPLATE_CHARS:,} are "
            "allowed (embed no images in it: the logo comes from the company profile)")
    try:
        return _compiled(source)
    except Exception as exc:  # TemplateSyntaxError...
        raise DocumentTemplateError(
            f"the {what} does not compile: {_reason(exc, source)}") from None


@lru_cache(maxsize=64)
def _compiled(source: str) -> Template:
    # Company layouts are compiled once per process while they stay the same.
    return sandbox_engine().from_string(source)


@cache
def default_template(kind: str) -> Template:
    return compile_template(default_source(kind), what=f"default {kind} template")


def render_html(template: Template, context: Mapping[str, Any], *, what: str = "template"
                ) -> str:
    """Render in the sandbox. Any failure is a ``DocumentTemplateError``: nothing half
    rendered ever leaves this function."""
    try:
        html = template.render(Context(dict(context), autoescape=True))
    except Exception as exc:
        raise DocumentTemplateError(
            f"the {what} cannot be rendered: {_reason(exc, template.source, context)}"
        ) from None
    if len(html) > MAX_HTML_CHARS:
        raise DocumentTemplateError(f"the {what} renders {len(html):,} characters; at most "
                                    f"{MAX_HTML_CHARS:,} are allowed")
    return html


def _reason(exc: Exception, source: str = "", context: Mapping[str, Any] | None = None) -> str:
    """What went wrong, in words, with the line when the debug sandbox can find it."""
    from django.template import TemplateDoesNotExist

    if isinstance(exc, TemplateDoesNotExist):
        text = (f"there is no template {exc} (a layout may extend or include only "
                + ", ".join(sorted(default_sources())) + ")")
    else:
        text = str(exc).strip() or type(exc).__name__
    line = _line_of(source, context) if source else None
    return f"{text} (line {line})" if line else text


def _line_of(source: str, context: Mapping[str, Any] | None) -> int | None:
    try:
        template = sandbox_engine(debug=True).from_string(source)
        if context is not None:
            template.render(Context(dict(context), autoescape=True))
    except Exception as exc:
        info = getattr(exc, "template_debug", None)
        if isinstance(info, dict) and info.get("name") in (None, "<unknown source>"):
            return int(info["line"])
    return None


# ---------------------------------------------------------------- PDF
@cache
def _weasy() -> tuple[Any, Any, Any, type]:
    """Fonts, the product's stylesheet, the URL fetcher and the ``HTML`` class documents are
    parsed with, made once per process."""
    # WeasyPrint loads fonts and system libraries on import: only when a PDF is wanted.
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher

    fonts = FontConfiguration()
    css = CSS(string=(TEMPLATE_DIR / "document.css").read_text(encoding="utf-8"),
              font_config=fonts)
    user_agent = CSS(string=(TEMPLATE_DIR / "user-agent.css").read_text(encoding="utf-8"))

    class DocumentHTML(HTML):
        # WeasyPrint's hook for the user-agent stylesheets (``HTML._ua_stylesheets``, called
        # with ``forms``, which is never asked for here); test_pdf checks it is still called.
        def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
            return [user_agent]

    return fonts, css, URLFetcher(allowed_protocols={"data"}, fail_on_errors=False), DocumentHTML


def warm_up() -> None:
    """Load WeasyPrint, the fonts and the stylesheet now: a process about to fork renderers
    (the dunning run's letter and sending processes) does it once for all of them, which
    each would otherwise do (a third of a CPU second, the import mostly)."""
    _weasy()


_IMAGE_CACHE: dict[str, Any] = {}


def html_to_pdf(html: str, *, title: str, author: str, issued_at: datetime, language: str,
                pdfa: bool = False) -> bytes:
    """The PDF of ``html``. ``issued_at`` becomes the PDF's creation and modification date,
    so that rendering the same document again gives the same bytes; ``pdfa`` makes a
    PDF/A-3b (the container a Factur-X invoice needs)."""
    fonts, css, fetcher, html_class = _weasy()
    if len(_IMAGE_CACHE) > 64:  # a logo per company at most; keep memory bounded
        _IMAGE_CACHE.clear()
    try:
        document = html_class(string=html, url_fetcher=fetcher).render(
            font_config=fonts, stylesheets=[css], cache=_IMAGE_CACHE)
    except Exception as exc:
        raise DocumentTemplateError(f"the document cannot be laid out: {exc}") from None
    stamp = issued_at.replace(microsecond=0).isoformat()
    meta = document.metadata
    meta.created = meta.modified = stamp
    meta.title, meta.authors, meta.generator = title, [author], "salesledger"
    meta.lang = language
    return bytes(document.write_pdf(pdf_variant=PDFA_VARIANT if pdfa else None))
