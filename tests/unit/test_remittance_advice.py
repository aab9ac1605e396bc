"""Reading remittance advice: CSV exports with their headers in several languages and
separators, the text of an e-mail (pasted, or the message file with its HTML part and its
PDF and CSV attachments) and of a PDF; clear errors for what says nothing readable."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesledger.domain.errors import ValidationFailed
from salesledger.formats.bank.remittance import parse_amount, read_remittance


def rows(data: str) -> list[tuple[str, Decimal]]:
    return [(r.reference, r.amount) for r in read_remittance(data.encode())]


def test_a_csv_with_a_semicolon_and_a_decimal_comma():
    assert rows("Datum;Rechnung;Betrag\n2025-03-01;INV2025-00001;1.234,50\n"
                "2025-03-01;INV2025-00002;99,00\n") == [
        ("INV2025-00001", Decimal("1234.50")), ("INV2025-00002", Decimal("99.00"))]


def test_a_csv_with_commas_and_english_headers():
    assert rows('Invoice number,Amount paid\n"INV 2025 00003","1,020.00"\n\n') == [
        ("INV 2025 00003", Decimal("1020.00"))]


def test_the_text_of_an_e_mail():
    text = ("Bonjour,\nnous vous réglons ce jour :\n- facture INV2025-00001 : 120,00 EUR\n"
            "- facture INV2025-00007   45.50\nCordialement\n")
    assert rows(text) == [("facture INV2025-00001", Decimal("120.00")),
                          ("facture INV2025-00007", Decimal("45.50"))]


@pytest.mark.parametrize(("data", "message"), [
    ("hello\nnothing here\n", "lists no invoice"),
    ("Invoice,Amount\nINV1,twelve\n", "line 2: 'twelve' is not an amount"),
    ("Invoice,Amount\n,12.00\n", "line 2: no invoice reference"),
    ("Invoice,Amount\nINV1,-12.00\n", "not positive"),
])
def test_what_cannot_be_read_says_where(data, message):
    with pytest.raises(ValidationFailed, match=message):
        read_remittance(data.encode())


@pytest.mark.parametrize(("text", "value"), [
    ("1.234,50", "1234.50"), ("1,234.50", "1234.50"), ("1 234,50", "1234.50"),
    ("1234.5", "1234.5"), ("12", "12"), ("1'000.00", "1000.00")])
def test_amounts_as_people_write_them(text, value):
    assert parse_amount(text) == Decimal(value)


@given(st.binary(max_size=400))
def test_any_bytes_give_rows_or_a_clear_error(data):
    try:
        read_remittance(data)
    except ValidationFailed:
        pass


def pdf(*lines: str) -> bytes:
    """A one-page PDF whose text is ``lines`` (Helvetica, one line each), as a payables
    system prints its advice."""
    ops = ["BT", "/F1 11 Tf", "14 TL", "50 780 Td"]
    for text in lines:
        ops.append("(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
                   + ") Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 "
        b"4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream
        + b"\nendstream",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n"
            "%%EOF\n").encode()
    return bytes(out)


ADVICE = ("Payment advice 2025-03-20", "Invoice INV2025-00001    1,234.50",
          "Invoice INV2025-00007       45.50", "Total                  1,280.00 EUR")


def test_the_text_of_a_pdf():
    assert [(r.reference, r.amount) for r in read_remittance(pdf(*ADVICE))] == [
        ("Invoice INV2025-00001", Decimal("1234.50")),
        ("Invoice INV2025-00007", Decimal("45.50"))]


def eml(body: str, attachments: tuple[tuple[str, str, bytes], ...] = (), html: bool = False
        ) -> bytes:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["To"] = "ap@customer.example", "ar@acme.example"
    msg["Subject"], msg["Date"] = "Remittance advice", "Thu, 20 Mar 2025 10:00:00 +0100"
    msg.set_content(body, cte="quoted-printable")
    if html:
        msg.add_alternative("<p>Nous r&eacute;glons&nbsp;:</p><table><tr><td>INV2025-00003"
                            "</td><td>300,00</td></tr><tr><td>INV2025-00004</td><td>12,00"
                            "</td></tr></table>", subtype="html")
    for name, kind, data in attachments:
        maintype, subtype = kind.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def test_an_e_mail_its_text_its_html_and_its_attachments():
    # the body quoted-printable (a long line broken with "="), the PDF and CSV attached
    body = ("Bonjour,\nnous r\u00e9glons ce jour la facture INV2025-00002 pour un montant "
            "de                    120,00 EUR\nCordialement\n")
    got = read_remittance(eml(body, (
        ("advice.pdf", "application/pdf", pdf(*ADVICE)),
        ("advice.csv", "text/csv", b"Invoice;Amount\nINV2025-00009;9,90\n"))))
    assert [(r.reference, r.amount) for r in got] == [
        ("glons ce jour la facture INV2025-00002", Decimal("120.00")),
        ("Invoice INV2025-00001", Decimal("1234.50")),
        ("Invoice INV2025-00007", Decimal("45.50")), ("INV2025-00009", Decimal("9.90"))]
    html_only = read_remittance(eml("see below", html=True))
    assert [(r.reference, r.amount) for r in html_only] == [
        ("INV2025-00003", Decimal("300.00")), ("INV2025-00004", Decimal("12.00"))]


@pytest.mark.parametrize(("data", "message"), [
    (b"%PDF-1.4\nnot really a pdf", "a PDF that cannot be read"),
    (pdf(), "a PDF without text"),
])
def test_a_pdf_that_says_nothing_says_why(data, message):
    with pytest.raises(ValidationFailed, match=message):
        read_remittance(data)


@given(st.binary(max_size=300))
def test_any_pdf_bytes_give_rows_or_a_clear_error(tail):
    try:
        read_remittance(pdf(*ADVICE)[:200] + tail)
    except ValidationFailed:
        pass
