"""E-invoices: EN 16931 documents written as UBL 2.1 (Peppol BIS Billing 3.0) and CII D16B
(and Factur-X, a PDF/A-3 carrying the CII), and read back. Pure: no Django, no database.

The semantic model lives in ``salesledger.domain.einvoice`` (the business rules in
``salesledger.domain.einvoice_rules`` check it); this package is the syntax.
"""

from __future__ import annotations

from .cii import read_cii, write_cii
from .ubl import read_ubl, write_ubl

__all__ = ["read_cii", "read_ubl", "write_cii", "write_ubl"]
