"""A company's own document layouts and e-mail texts.

The product ships a default HTML template per kind of document (``templates/documents/``) and
a default e-mail subject and body per kind and language (``messages.py``). A company may
replace either for one language, or for every language at once (``language = ""``); the
most specific one wins. A layout is checked before it is saved (it must render a sample
document in a sandbox, see ``rendering.py``), so a stored template never breaks a document.

These rows are settings, not business records: they may change at any time. What a
customer received does not change with them, because the PDF of a posted document is frozen
(``invoicing.DocumentFile``) and each e-mail is on the customer's communication timeline.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .labels import LANGUAGES


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"
    QUOTE = "quote", "Quote"
    STATEMENT = "statement", "Statement"
    REMINDER = "reminder", "Reminder"


LANGUAGE_CHOICES = [("", "every language"), *((code, code) for code in LANGUAGES)]


class DocumentTemplate(models.Model):
    """A company's HTML layout for one kind of document, in one language or in all."""

    company = models.ForeignKey("core.Company", on_delete=models.CASCADE)
    kind = models.CharField(max_length=12, choices=DocumentKind.choices)
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES, blank=True)
    html = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "kind", "language"],
                                    name="document_template_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} template ({self.language or 'every language'})"


class MessageTemplate(models.Model):
    """A company's e-mail subject and body for sending one kind of document. ``name`` blank:
    the kind's text; else a named text of the kind, with its own versions per language, that
    something else chooses by name (a dunning level names the reminder text it sends)."""

    company = models.ForeignKey("core.Company", on_delete=models.CASCADE)
    kind = models.CharField(max_length=12, choices=DocumentKind.choices)
    name = models.CharField(max_length=40, blank=True, default="")
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES, blank=True)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "kind", "name", "language"],
                                    name="message_template_named_unique"),
        ]

    def __str__(self) -> str:
        named = f" {self.name}" if self.name else ""
        return f"{self.kind}{named} e-mail ({self.language or 'every language'})"
