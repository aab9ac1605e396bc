"""The ``collections`` command group (docs/user-guide.md). Parsing and rendering only."""

from __future__ import annotations

import argparse

from .common import Subparsers


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    """Add the group's commands to the parser (none yet)."""
