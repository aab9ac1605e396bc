"""The workspace's addresses: every one under ``/c/<company code>/`` (tenancy.py)."""

from __future__ import annotations

from django.urls import path

from . import views

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
]
