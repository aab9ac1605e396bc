"""Reading customers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q

from salesledger.apps.core.models import Company
from salesledger.domain.errors import UnknownCustomer
from salesledger.money import Money

from .models import Customer, PaymentTerms


def customer_get(company: Company, code: str) -> Customer:
    customer = Customer.objects.filter(company=company, code=code).first()
    if customer is None:
        raise UnknownCustomer(f"no customer with code {code!r}", customer=code)
    return customer


# The orders a list of customers may be read in: each ends on the unique code, so that pages
# never overlap or skip a customer.
CUSTOMER_SORTS = {"code": ("code",), "-code": ("-code",), "name": ("name", "code"),
                  "-name": ("-name", "-code"), "country": ("country", "code"),
                  "-country": ("-country", "-code")}


def customer_list(
    company: Company, *, search: str | None = None, limit: int = 100, offset: int = 0,
    sort: str = "code",
) -> list[dict[str, Any]]:
    """A page of the company's customers whose code or name contains ``search``, in the
    order ``sort`` names (a key of ``CUSTOMER_SORTS``; an unknown one reads by code). One
    query, whatever the number of customers."""
    qs = Customer.objects.filter(company=company)
    if search:
        qs = qs.filter(Q(code__icontains=search) | Q(name__icontains=search))
    rows = qs.order_by(*CUSTOMER_SORTS.get(sort, ("code",))).values(
        "id", "code", "name", "currency", "country", "payment_terms__code", "verified_at"
    )[offset : offset + limit]
    return [
        {
            "id": r["id"],
            "code": r["code"],
            "name": r["name"],
            "currency": r["currency"],
            "country": r["country"],
            "terms": r["payment_terms__code"],
            "verified_at": r["verified_at"],
        }
        for r in rows
    ]


def customer_codes(company: Company, ids: Iterable[int]) -> dict[int, str]:
    return dict(
        Customer.objects.filter(company=company, pk__in=list(ids)).values_list("id", "code")
    )


def customer_detail(company: Company, code: str) -> dict[str, Any]:
    """The customer's record (``payments.selectors.customer_account`` adds the balances)."""
    c = customer_get(company, code)
    return {
        "id": c.pk,
        "code": c.code,
        "name": c.name,
        "legal_name": c.legal_name,
        "tax_id": c.tax_id,
        "legal_id": f"{c.legal_id_scheme}:{c.legal_id}" if c.legal_id else "",
        "endpoint": f"{c.endpoint_scheme}:{c.endpoint_id}" if c.endpoint_id else "",
        "mandate_reference": c.mandate_reference,
        "mandate_signed": c.mandate_signed.isoformat() if c.mandate_signed else None,
        "country": c.country,
        "currency": c.currency,
        "language": c.language,
        "email": c.email,
        "phone": c.phone,
        "terms": c.payment_terms.code if c.payment_terms else None,
        "credit_limit": Money.from_minor(c.credit_limit, c.currency).to_json()
        if c.credit_limit is not None
        else None,
        "po_required": c.po_required,
        "notes": c.notes,
        "verified_at": c.verified_at,
        "anonymised_at": c.anonymised_at,
        "parent": c.parent.code if c.parent else None,
        "addresses": [{"kind": a.kind, **a.as_dict()} for a in c.addresses.all()],
        "contacts": [
            {
                "name": x.name,
                "email": x.email,
                "phone": x.phone,
                "roles": x.roles,
                "language": x.language,
            }
            for x in c.contacts.all()
        ],
        "bank_accounts": [
            {"iban": b.iban, "bic": b.bic, "holder": b.holder} for b in c.bank_accounts.all()
        ],
    }


def payment_terms_list(company: Company) -> list[dict[str, Any]]:
    """The company's payment terms, by code, with whether each is the company's default."""
    return [
        {"code": t.code, "name": t.name, "default": t.pk == company.default_terms_id,
         "instalments": [{"percent": str(x["percent"]), "days": int(x["days"]),
                          "end_of_month": bool(x.get("end_of_month"))} for x in t.lines],
         "discount_percent": str(t.discount_percent), "discount_days": t.discount_days}
        for t in PaymentTerms.objects.filter(company=company).order_by("code")
    ]
