"""The workspace's addresses: every one under ``/c/<company code>/`` (tenancy.py)."""

from __future__ import annotations

from django.urls import path

from . import customer_views, invoice_views, quote_views, receipt_views, views

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
