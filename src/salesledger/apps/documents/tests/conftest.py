"""Fixtures of the documents tests: a company with a full profile, customers in several
languages, PDF text extraction, and a real SMTP server running in the test process."""

from __future__ import annotations

import io
import logging
import socket
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest

from salesledger.apps.core.services import company_profile_update


def png(width: int = 8, height: int = 4) -> bytes:
    """A tiny valid PNG (brand logo), written by hand so that no image file is needed."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\x1f\x4e\x79" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.fixture
def seller(company: Any, owner: Any) -> Any:
    """The fixture company with the profile documents print (through the service)."""
    return company_profile_update(
        actor=owner, company=company, legal_name="Acme Conseil SARL", tax_id="FR40303265045",
        registration_id="RCS Paris 303 265 045", address_line1="12 rue de la Paix",
        postal_code="75002", city="Paris", email="billing@acme.example",
        iban="FR76 3000 6000 0112 3456 7890 189", bic="AGRIFRPP", brand_color="#AA3300",
        document_footer="Acme Conseil SARL, capital 10 000 EUR",
        legal_mentions="Late payment penalty: three times the legal interest rate.",
        logo=png())


def pdf_text(pdf: bytes) -> str:
    """All the text of a PDF on one line: every run of white space (line ends, and the
    narrow no-break spaces babel writes in French amounts) as one plain space."""
    from pypdf import PdfReader

    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split())


# ---------------------------------------------------------------- SMTP
@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Mailbox:
    """What the in-process SMTP server received. Recipients whose address starts with
    ``bounce`` are refused with 550, as a real server refuses an unknown mailbox; those that
    start with ``busy`` with 452, a temporary refusal (a full mailbox)."""

    host: str
    port: int
    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address.startswith("bounce"):
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        if address.startswith("busy"):
            return f"452 4.2.2 <{address}>: mailbox full, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content or envelope.content,
                                     policy=policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1, and Django's SMTP backend pointed at it."""
    from aiosmtpd.controller import Controller

    # The server's own session log ("mail.log") would write from its thread to a stream the
    # test runner has since closed; what arrived is read from the mailbox instead.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    mailbox = Mailbox("127.0.0.1", _free_port())
    controller = Controller(mailbox, hostname=mailbox.host, port=mailbox.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = mailbox.host, mailbox.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = "", ""
    settings.EMAIL_TIMEOUT = 10
    settings.DEFAULT_FROM_EMAIL = "invoices@ledger.example"
    try:
        yield mailbox
    finally:
        controller.stop()
