"""E-invoices: EN 16931 documents written as UBL 2.1 (Peppol BIS Billing 3.0) and CII D16B
(and Factur-X, a PDF/A-3 carrying the CII), and read back. Pure: no Django, no database.

The semantic model lives in ``salesledger.domain.einvoice`` (the business rules in
``salesledger.domain.einvoice_rules`` check it); this package is the syntax.

The writers and readers load the XML stack (lxml) when first asked for, not when the package
is imported: ``salesledger.formats.einvoice.codes`` is needed by every posting, the XML only
when a file is written or read.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {"read_cii": ".cii", "write_cii": ".cii", "read_ubl": ".ubl", "write_ubl": ".ubl"}

__all__ = ["read_cii", "read_ubl", "write_cii", "write_ubl"]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
