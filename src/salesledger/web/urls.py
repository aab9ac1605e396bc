"""The workspace's addresses: every one under ``/c/<company code>/`` (tenancy.py)."""

from __future__ import annotations

from django.urls import path

from . import (
    customer_views,
    import_views,
    invoice_views,
    portfolio_views,
    quote_views,
    receipt_views,
    report_views,
    settings_views,
    views,
)

app_name = "web"

urlpatterns = [
    path("c/<slug:code>/", views.dashboard, name="dashboard"),
    path("c/<slug:code>/customers/", views.customers, name="customers"),
    path("c/<slug:code>/customers/<str:customer_code>/", views.customer, name="customer"),
    path("c/<slug:code>/invoices/", views.invoices, name="invoices"),
    path("c/<slug:code>/invoices/<path:ref>", views.invoice, name="invoice"),
    path("c/<slug:code>/files/pdf/<path:ref>", views.invoice_pdf, name="invoice_pdf"),
    path("c/<slug:code>/files/<slug:kind>/<path:ref>", views.invoice_einvoice,
         name="invoice_einvoice"),
    # Settings, the portfolio and the reports (settings_views, portfolio_views, report_views).
    path("c/<slug:code>/portfolio/", portfolio_views.portfolio, name="portfolio"),
    path("c/<slug:code>/reports/", report_views.reports, name="reports"),
    path("c/<slug:code>/reports/aging/", report_views.aging, name="report_aging"),
    path("c/<slug:code>/reports/kpis/", report_views.kpis, name="report_kpis"),
    path("c/<slug:code>/reports/trends/", report_views.trends, name="report_trends"),
    path("c/<slug:code>/reports/forecast/", report_views.forecast, name="report_forecast"),
    path("c/<slug:code>/reports/unapplied/", report_views.unapplied, name="report_unapplied"),
    path("c/<slug:code>/reports/statement/", report_views.statement, name="report_statement"),
    path("c/<slug:code>/reports/bank/", report_views.bank, name="report_bank"),
    path("c/<slug:code>/settings/", settings_views.company, name="settings"),
    path("c/<slug:code>/settings/users/", settings_views.users, name="settings_users"),
    path("c/<slug:code>/settings/terms/", settings_views.terms, name="settings_terms"),
    path("c/<slug:code>/settings/terms/<str:terms_code>/", settings_views.terms_edit,
         name="settings_terms_edit"),
    path("c/<slug:code>/settings/banks/", settings_views.banks, name="settings_banks"),
    path("c/<slug:code>/settings/rates/", settings_views.rates, name="settings_rates"),
    path("c/<slug:code>/settings/templates/", settings_views.templates,
         name="settings_templates"),
    path("c/<slug:code>/settings/period/", settings_views.period, name="settings_period"),
    path("c/<slug:code>/imports/", import_views.imports, name="imports"),
    path("c/<slug:code>/imports/<str:task_id>/", import_views.import_status, name="import"),
    # Writing: customers, drafts, posting and sending, receipts and their allocation. (A
    # path that ends in a document number comes last: numbers may hold a slash.)
    path("c/<slug:code>/customer/new/", customer_views.customer_new, name="customer_new"),
    path("c/<slug:code>/customer/<str:customer_code>/edit/", customer_views.customer_edit,
         name="customer_edit"),
    path("c/<slug:code>/drafts/new/", invoice_views.draft_new, name="draft_new"),
    path("c/<slug:code>/drafts/totals/", invoice_views.draft_totals, name="draft_totals"),
    path("c/<slug:code>/drafts/<int:pk>/", invoice_views.draft, name="draft"),
    path("c/<slug:code>/send/<path:ref>", invoice_views.invoice_email, name="invoice_email"),
    path("c/<slug:code>/receipts/", receipt_views.receipts, name="receipts"),
    path("c/<slug:code>/receipts/new/", receipt_views.receipt_new, name="receipt_new"),
    path("c/<slug:code>/receipt/preview/<path:number>", receipt_views.allocate_preview,
         name="allocate_preview"),
    path("c/<slug:code>/receipt/allocate/<path:number>", receipt_views.receipt_allocate,
         name="receipt_allocate"),
    path("c/<slug:code>/receipt/short/<path:number>", receipt_views.receipt_short,
         name="receipt_short"),
    path("c/<slug:code>/receipt/refund/<path:number>", receipt_views.receipt_refund_view,
         name="receipt_refund"),
    path("c/<slug:code>/receipt/reverse/<path:number>", receipt_views.receipt_reverse_view,
         name="receipt_reverse"),
    path("c/<slug:code>/allocation/<int:pk>/undo/<path:number>", receipt_views.allocation_undo,
         name="allocation_undo"),
    path("c/<slug:code>/receipts/<path:number>", receipt_views.receipt, name="receipt"),
    path("c/<slug:code>/quotes/", quote_views.quotes, name="quotes"),
    path("c/<slug:code>/quote/convert/<path:label>", quote_views.quote_to_invoice,
         name="quote_convert"),
    path("c/<slug:code>/quotes/<path:label>", quote_views.quote, name="quote"),
]
