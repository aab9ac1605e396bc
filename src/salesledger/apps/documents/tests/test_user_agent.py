"""Documents are laid out over the product's own user-agent stylesheet (``user-agent.css``)
instead of WeasyPrint's HTML5 one: WeasyPrint must still take it, and a layout that uses the
usual HTML elements (as a company's own may) must still print as HTML prints."""

from __future__ import annotations

from datetime import UTC, datetime

from salesledger.apps.documents import rendering

from .conftest import pdf_text

WHEN = datetime(2025, 3, 10, 9, 30, tzinfo=UTC)
HEAD = ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>T</title>'
        "<style>:root { --brand: #1f4e79; }</style></head>")


def _pdf(body: str) -> bytes:
    return rendering.html_to_pdf(f"{HEAD}<body>{body}</body></html>", title="T", author="A",
                                 issued_at=WHEN, language="en")


def test_weasyprint_takes_the_products_user_agent_stylesheet(monkeypatch):
    # given the hook through which WeasyPrint asks for its user-agent stylesheets
    html_class = rendering._weasy()[3]
    asked = []
    own = html_class._ua_stylesheets

    def spy(self, forms=False):
        asked.append(forms)
        return own(self, forms)

    monkeypatch.setattr(html_class, "_ua_stylesheets", spy)
    # when a document is laid out
    _pdf("<p>Hello</p>")
    # then WeasyPrint asked for them (a WeasyPrint that renamed the hook fails here), and got
    # only the product's, not its own HTML5 one
    from weasyprint.html import UA_STYLESHEET

    assert len(asked) == 1 and not asked[0]
    [sheet] = own(None)
    assert sheet is not UA_STYLESHEET


def test_the_usual_html_elements_print_as_html_prints():
    # given a layout with headings, a list, line breaks, a table and hidden content
    pdf = _pdf(
        "<h1>Title</h1><h2>Part</h2>"
        "<ul><li>first item</li><li>second item</li></ul>"
        "<ol><li>numbered</li></ol>"
        "<p>line one<br>line two</p>"
        "<p hidden>secret</p><script>nothing()</script>"
        "<table><tr><th>Head</th><td>cell</td></tr></table>"
        "<p><em>emphasis</em> <strong>strong</strong> <code>code</code></p>")
    text = pdf_text(pdf)
    # then everything visible prints, list markers included (drawn after the text), and
    # nothing hidden does
    for shown in ("Title", "Part", "first item second item numbered", "line one line two",
                  "Head cell", "emphasis strong code", "• • 1."):
        assert shown in text, (shown, text)
    assert "secret" not in text and "nothing" not in text
