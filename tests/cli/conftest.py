"""Fixtures of the command tests: the documents app's SMTP server (a real one, in the test
process), for the commands that send e-mail."""

from salesledger.apps.documents.tests.conftest import smtp_server  # noqa: F401 (a fixture)
