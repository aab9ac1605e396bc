"""The web workspace as a Django app: its templates, static files, tags and translations."""

from __future__ import annotations

from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "salesledger.web"
    label = "web"
    verbose_name = "Web workspace"
