"""WSGI entry point: ``salesledger.config.wsgi:application``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesledger.config.settings")

application = get_wsgi_application()
