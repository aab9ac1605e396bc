"""Helpers for the tests of the CSV import (plain functions, so that the stories in
``tests/`` can write the same files); the books they import into are built with
``invoicing/tests/books.py``."""

from __future__ import annotations

import textwrap
from pathlib import Path


def write_csv(directory: Path, name: str, text: str) -> Path:
    """Write (dedented) UTF-8 ``text`` as ``directory/name``; return its path."""
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path
