"""A form control as the writing pages draw it: its label, the service's refusal next to
it (tied to the control with ``aria-describedby`` and marked ``aria-invalid``), the
control."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from salesledger.web.writing import may as role_may

register = template.Library()


@register.simple_tag
def control(field: Any, **attrs: str) -> SafeString:
    """``{% control form.name %}``; extra ``attrs`` go to the widget."""
    widget_attrs = dict(attrs)
    error = ""
    if field.errors:
        error_id = f"{field.auto_id}-error"
        widget_attrs.update({"aria-invalid": "true", "aria-describedby": error_id})
        error = format_html('<span class="error" id="{}">{}</span>', error_id,
                            " ".join(str(e) for e in field.errors))
    return format_html('<p class="field{}">{}{}{}</p>', " has-error" if field.errors else "",
                       field.label_tag(), error,
                       field.as_widget(attrs=widget_attrs))


@register.filter
def may(ws: Any, minimum: str = "clerk") -> bool:
    """``{% if ws|may:"manager" %}``: whether the user's role offers this write (the
    service checks it again)."""
    return role_may(ws, minimum)
