"""One error hierarchy for every broken business rule.

Each error has a stable ``code`` (used by the CLI as ``code: message``, by the API as the
problem type and by tests), named fields and a readable message. Interfaces map this
hierarchy once; services and the pure core only raise.
"""

from __future__ import annotations

from typing import Any, ClassVar


class LedgerError(Exception):
    code: ClassVar[str] = "ledger_error"
    http_status: ClassVar[int] = 400

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            **{k: str(v) for k, v in self.fields.items()},
        }


class ValidationFailed(LedgerError):
    code = "invalid"


class NotFound(LedgerError):
    code = "not_found"
    http_status = 404


class PermissionDenied(LedgerError):
    code = "permission_denied"
    http_status = 403


class CurrencyMismatch(LedgerError):
    code = "currency_mismatch"


class UnknownCustomer(LedgerError):
    code = "unknown_customer"


class InvalidTransition(LedgerError):
    code = "invalid_transition"
    http_status = 409


class InvoiceNotDraft(InvalidTransition):
    code = "invoice_not_draft"


class DocumentNotPosted(InvalidTransition):
    code = "document_not_posted"


class PostedIsImmutable(LedgerError):
    code = "posted_is_immutable"
    http_status = 409


class PeriodClosed(LedgerError):
    code = "period_closed"
    http_status = 409


class EmptyInvoice(LedgerError):
    code = "empty_invoice"


class NegativeQuantity(LedgerError):
    code = "negative_quantity"


class NegativeAmount(LedgerError):
    code = "negative_amount"


class PurchaseOrderRequired(LedgerError):
    code = "purchase_order_required"


class CreditExceedsInvoice(LedgerError):
    code = "credit_exceeds_invoice"


class AllocationExceedsOpenAmount(LedgerError):
    code = "allocation_exceeds_open_amount"
    http_status = 409


class AllocationExceedsUnallocated(LedgerError):
    code = "allocation_exceeds_unallocated"
    http_status = 409


class AllocationCustomerMismatch(LedgerError):
    code = "allocation_customer_mismatch"


class AlreadyReversed(LedgerError):
    code = "already_reversed"
    http_status = 409


class UnbalancedEntry(LedgerError):
    code = "unbalanced_entry"
    http_status = 500


class InvalidTaxId(LedgerError):
    code = "invalid_tax_id"


class InvalidBankAccount(LedgerError):
    code = "invalid_bank_account"


class DuplicateImport(LedgerError):
    code = "duplicate_import"
    http_status = 409


class ImportFailed(LedgerError):
    """A batch import found problems; ``problems`` lists every one (nothing was written)."""

    code = "import_failed"

    def __init__(self, message: str, problems: list[Any]) -> None:
        super().__init__(message)
        self.problems = problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "problems": [p.as_dict() if hasattr(p, "as_dict") else str(p) for p in self.problems],
        }


class DuplicateCode(LedgerError):
    code = "duplicate_code"
    http_status = 409
