"""How the apps are wired together, checked across them: who listens to which event (the
catalogue of docs/design/events.md), which invariants each app registers for
``salesledger check``, and which of its models each app guards in the database. Each app's
own tests show what its handlers do; this says that they are all plugged in, in the order
the kernel runs them."""

from __future__ import annotations

import pytest

from salesledger.apps.core import events, invariants
from salesledger.apps.core.guards import guarded
from salesledger.apps.core.invariants import registered
from salesledger.apps.reporting import providers


def test_the_catalogue_of_events_names_every_listener() -> None:
    # (a type that a test subscribed to for a ``with`` block only is left with no listener)
    assert {kind: names for kind, names in events.listeners().items() if names} == {
        "CompanyBankDetailsChanged": [
            "salesledger.apps.ledger.handlers.keep_main_bank_account (inside)"],
        "CompanyCreated": ["salesledger.apps.customers.handlers.create_terms (inside)",
                           "salesledger.apps.ledger.handlers.create_chart (inside)",
                           "salesledger.apps.reporting.handlers.summary_for_new_company "
                           "(inside)",
                           "salesledger.apps.reporting.handlers.kpis_for_new_company "
                           "(inside)"],
        "DocumentsPosted": ["salesledger.apps.payments.handlers.apply_credit_notes (inside)",
                            "salesledger.apps.documents.handlers.freeze_posted_pdfs (inside)",
                            "salesledger.apps.reporting.handlers.after_posting (inside)",
                            "salesledger.apps.collections.handlers.rank_again_after_posting "
                            "(inside)"],
        "AllocationsMade": ["salesledger.apps.payments.handlers.take_discounts (inside)",
                            "salesledger.apps.reporting.handlers.summary_after_allocations "
                            "(inside)",
                            "salesledger.apps.reporting.handlers.kpis_after_allocations "
                            "(inside)",
                            "salesledger.apps.reporting.handlers.trends_after_allocations "
                            "(inside)",
                            "salesledger.apps.collections.handlers.close_paid_call_tasks "
                            "(inside)",
                            "salesledger.apps.collections.handlers.rank_again_after_allocations "
                            "(inside)"],
        "AllocationsReversed": [
            "salesledger.apps.payments.handlers.undo_what_stood_with_the_payment (inside)",
            "salesledger.apps.reporting.handlers.summary_after_reversals (inside)",
            "salesledger.apps.reporting.handlers.kpis_after_reversals (inside)",
            "salesledger.apps.reporting.handlers.trends_after_reversals (inside)",
            "salesledger.apps.collections.handlers.rank_again_after_reversals (inside)"],
        "AdjustmentsWritten": [
            "salesledger.apps.reporting.handlers.summary_after_adjustments (inside)",
            "salesledger.apps.reporting.handlers.kpis_after_adjustments (inside)",
            "salesledger.apps.reporting.handlers.trends_after_adjustments (inside)",
            "salesledger.apps.collections.handlers.rank_again_after_adjustments (inside)"],
        "DeductionsDisputed": [
            "salesledger.apps.collections.handlers.open_disputes_for_deductions (inside)"],
        "RecurringInvoiceIssued": [
            "salesledger.apps.recurring.handlers.queue_sending (on_commit)"],
        "MemberRemoving": [
            "salesledger.apps.collections.handlers.collector_work_needs_the_member (veto)"],
        "CustomerAnonymising": [
            "salesledger.apps.invoicing.handlers.drafts_need_the_customer (veto)",
            "salesledger.apps.payments.handlers.open_items_need_the_customer (veto)",
            "salesledger.apps.quotes.handlers.open_quotes_need_the_customer (veto)",
            "salesledger.apps.recurring.handlers.schedules_need_the_customer (veto)",
            "salesledger.apps.collections.personal_data.open_disputes_need_the_customer (veto)"],
        "CustomerDataErased": [
            "salesledger.apps.collections.personal_data.casework_erase (inside)",
            "salesledger.apps.dunning.handlers.notices_erase (inside)"],
        "CustomerBankAccountRemoved": [
            "salesledger.apps.banking.payers.forget_removed_account (inside)"],
        "CustomerMerged": [
            "salesledger.apps.credit.handlers.credit_follows_the_merge (inside)",
            "salesledger.apps.collections.handlers.rank_again_after_merge (inside)"],
        "CustomerUnmerged": [
            "salesledger.apps.credit.handlers.credit_follows_the_unmerge (inside)",
            "salesledger.apps.collections.handlers.rank_again_after_unmerge (inside)"],
        "CustomerRenamed": [
            "salesledger.apps.collections.handlers.rank_again_after_rename (inside)"],
        "CreditHoldsChanged": [
            "salesledger.apps.collections.handlers.rank_again_after_holds (inside)"],
        "CustomerMerging": [
            "salesledger.apps.invoicing.handlers.drafts_would_stay_with_the_alias (veto)"],
        "CustomerUnmerging": [
            "salesledger.apps.payments.handlers.allocations_across_stand (veto)"],
        "DocumentPosting": [
            "salesledger.apps.credit.handlers.credit_check_posting (veto)"],
        "QuoteAccepting": ["salesledger.apps.credit.handlers.credit_check_quote (veto)"],
    }


def test_every_app_registers_the_invariants_of_what_it_writes() -> None:
    assert registered() == [
        "salesledger.apps.ledger.invariants.balanced_entries",
        "salesledger.apps.payments.invariants.settlement_cache",
        "salesledger.apps.invoicing.invariants.instalments_sum",
        "salesledger.apps.payments.invariants.customer_ledger",
        "salesledger.apps.invoicing.invariants.numbering",
        "salesledger.apps.invoicing.invariants.posted_journal",
        "salesledger.apps.core.invariants.audit_chain",
        "salesledger.apps.payments.invariants.adjustments",
        "salesledger.apps.invoicing.invariants.issued_content",
        "salesledger.apps.documents.invariants.frozen_files",
        "salesledger.apps.customers.invariants.merge_pointers",
        "salesledger.apps.collections.invariants.casework",
        "salesledger.apps.collections.invariants.worklist_ranking",
        "salesledger.apps.reporting.invariants.aging_summary",
        "salesledger.apps.reporting.invariants.kept_kpis",
        "salesledger.apps.reporting.invariants.kept_forecast",
        "salesledger.apps.payments.invariants.kept_settlement",
        "salesledger.apps.reporting.invariants.kept_trends",
    ]


def test_the_apps_above_reporting_give_it_their_kpis() -> None:
    assert providers.registered() == ["salesledger.apps.collections.kpis.casework_month_kpis"]
    assert [k.name for k in providers.provided()] == [
        "dispute_rate", "dispute_amount_rate", "days_to_resolve", "disputes_closed",
        "promise_kept_rate", "promises_due"]


def test_every_app_guards_what_it_posts() -> None:
    assert guarded() == [
        "core.AuditEvent",
        "customers.Communication",
        "ledger.JournalEntry", "ledger.JournalLine",
        "invoicing.Instalment", "invoicing.Invoice", "invoicing.InvoiceLine",
        "invoicing.DocumentCharge", "invoicing.DocumentFile",
        "payments.Allocation", "payments.Receipt", "payments.Adjustment", "payments.Refund",
        "payments.ReceiptReversal",
        "fx.RevaluationRun",
        "quotes.Quote", "quotes.QuoteLine", "quotes.QuoteCharge",
        "recurring.RecurringRun",
        "credit.CreditSignal", "credit.CreditOverride",
        "collections.PlanItem", "collections.PlanInstalment", "collections.DisputeAttachment",
    ]


def test_a_check_number_belongs_to_one_check() -> None:
    def intruder(company, add):  # pragma: no cover - never run
        pass

    with pytest.raises(ValueError, match="check number 8 is salesledger.apps.core.invariants"):
        invariants.register(8, intruder)
    assert len(set(order for order, _ in invariants._checks.values())) == len(invariants._checks)
