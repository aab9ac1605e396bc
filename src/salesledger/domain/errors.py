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


class DatabaseNotReady(LedgerError):
    """The database has not been set up (its tables do not exist yet)."""

    code = "database_not_ready"


class DatabaseBusy(LedgerError):
    """Another writer held the database longer than this one would wait; nothing was
    written, and the command can simply be run again."""

    code = "database_busy"
    http_status = 503


class DatabaseConnectionLost(LedgerError):
    """The connection to the database server was lost in the middle of a command (the server
    restarted, an operator ended the session, the network failed): what the command had not
    committed was rolled back by the server, and a command that is safe to repeat can simply
    be run again."""

    code = "database_connection_lost"
    http_status = 503


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


class DateBeyondHorizon(LedgerError):
    """A document dated further ahead than the company's horizon, not confirmed: posted, it
    would take a number of that year's series for good (``domain/dating.py``)."""

    code = "date_beyond_horizon"


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


class QuoteExpired(InvalidTransition):
    code = "quote_expired"


class QuoteAlreadyConverted(InvalidTransition):
    code = "quote_already_converted"


class QuoteSuperseded(InvalidTransition):
    code = "quote_superseded"


class ExchangeRateMissing(NotFound):
    """No rate for a currency on or before a day (``fx rate add`` or ``fx rate import``)."""

    code = "exchange_rate_missing"


class DuplicateRate(LedgerError):
    code = "duplicate_rate"
    http_status = 409


class RunInProgress(LedgerError):
    """A resumable batch run of the same kind is unfinished: resume it, do not start another."""

    code = "run_in_progress"
    http_status = 409


class AlreadyRevalued(LedgerError):
    """A revaluation as of that day exists with other rates: reverse it first."""

    code = "already_revalued"
    http_status = 409


class EInvoiceRuleBroken(LedgerError):
    """A document would not be a valid EN 16931 e-invoice: ``rule`` is the first business
    rule it breaks (``BR-11``...), ``rules`` all of them; the message says what to fix."""

    code = "einvoice_rule_broken"


class EInvoiceUnreadable(LedgerError):
    """An incoming UBL or CII file that cannot be read: the message names the element."""

    code = "einvoice_unreadable"


class FacturXFailed(LedgerError):
    """The Factur-X PDF could not be made (or read): the message says why."""

    code = "facturx_failed"
    http_status = 500


# ---------------------------------------------------------------- adjustments, refunds, reversals
class WriteOffExceedsTolerance(LedgerError):
    """A residual is too large to be written off as a payment difference (the company's
    write-off tolerance: an amount and a percentage of the invoice)."""

    code = "write_off_exceeds_tolerance"
    http_status = 409


class RefundExceedsUnapplied(LedgerError):
    """A refund asks for more than is still unapplied on the receipt."""

    code = "refund_exceeds_unapplied"
    http_status = 409


class ReceiptReversed(LedgerError):
    """The receipt was reversed (a returned direct debit, a bounced cheque): nothing more can
    be done with it."""

    code = "receipt_reversed"
    http_status = 409


# ---------------------------------------------------------------- documents and delivery
class DocumentTemplateError(LedgerError):
    """A document layout or e-mail text that does not compile or render: the message says
    what and where. Nothing is stored or sent with a broken template."""

    code = "document_template_error"


class NoRecipients(LedgerError):
    """A document cannot be e-mailed: the customer has no billing contact with an e-mail
    address and no e-mail address of its own, and none was given."""

    code = "no_recipients"


class DeliveryFailed(LedgerError):
    """The mail server refused the message (every recipient, or the sender) or could not
    be reached; the attempt is on the customer's communication timeline."""

    code = "delivery_failed"
    http_status = 502


# ---------------------------------------------------------------- personal data
class AnonymiseRefused(LedgerError):
    """A customer cannot be anonymised yet: something still open needs who they are (an open
    item, a draft, an undecided quote, a recurring schedule that will invoice them). The
    message names it; settle, delete, decline or stop it first (docs/security.md#personal-data)."""

    code = "anonymise_refused"
    http_status = 409


class CustomerAnonymised(LedgerError):
    """A customer whose personal data was erased (``customer anonymise``) cannot be given
    new personal data: the erasure is for good, its record stays the key of the books and
    nothing more (docs/security.md#personal-data)."""

    code = "customer_anonymised"
    http_status = 409


class MergeRefused(LedgerError):
    """Two customers that cannot be merged, or an alias that cannot be unmerged: the message
    says why (docs/design/customer-records.md)."""

    code = "merge_refused"
    http_status = 409


# ---------------------------------------------------------------- backup and restore
class BackupDamaged(LedgerError):
    """A backup that cannot be trusted: not a salesledger backup, a file missing, truncated
    or changed since it was written, or its manifest edited. The message names what is wrong;
    nothing was restored (docs/design/backup.md)."""

    code = "backup_damaged"


class RestoreRefused(LedgerError):
    """A sound backup that will not be restored here: the database already holds salesledger
    data, is of another vendor than the backup, or the backup was made by a newer version.
    Nothing was written."""

    code = "restore_refused"
    http_status = 409


class BackupFailed(LedgerError):
    """A backup or restore that could not be carried out (the file exists already, a tool is
    missing, the database tool refused); nothing was left half-written."""

    code = "backup_failed"


class CreditHoldActive(LedgerError):
    """The customer is on credit hold: no new invoice or accepted quote until released
    or overridden by a credit controller."""

    code = "credit_hold"
    http_status = 409


class CreditLimitExceeded(LedgerError):
    """The new invoice or quote would take the exposure over the credit limit."""

    code = "credit_limit_exceeded"
    http_status = 409
