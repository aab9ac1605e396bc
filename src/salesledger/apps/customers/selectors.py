"""Reading customers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q

from salesledger.apps.core.models import Company
from salesledger.domain.customer_records import review_due_before
from salesledger.domain.duplicates import CustomerKey, duplicate_candidates
from salesledger.domain.errors import UnknownCustomer
from salesledger.money import Money

from .models import BankAccount, Contact, Customer, PaymentTerms


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


# ---------------------------------------------------------------- merged customers
# The merged customers, as a range that the index on ``merged_into`` answers (every alias
# has a positive id there). SQLite's statistics count the NULLs of a column that is almost
# all NULL as one value, so ``IS NOT NULL`` or ``= id`` look like every row to its planner,
# which then reads the whole table: 10 ms of CPU a query at 100,000 customers, several per
# page; a range is estimated without them (0.03 ms).
MERGED = Q(merged_into__gt=0)


def survivors(company: Company) -> dict[int, int]:
    """Alias id -> survivor id for the company's merged customers (one query; most companies
    have none). The one resolution every reader that groups by customer uses, so that what an
    alias owes is the survivor's (docs/design/customer-records.md)."""
    return dict(Customer.objects.filter(MERGED, company=company)
                .values_list("id", "merged_into_id"))


def customer_family(company: Company, customer_id: int) -> list[int]:
    """The customer, if it is an alias its survivor, and the survivor's aliases: the ids
    whose documents one customer's balance, open items and reports take in, the survivor
    first. One query for a customer that is not an alias."""
    aliases = MERGED & Q(merged_into_id=customer_id)
    rows = dict(Customer.objects.filter(Q(pk=customer_id) | aliases, company=company)
                .values_list("id", "merged_into_id"))
    head = rows.get(customer_id)
    if head is not None:
        return customer_family(company, head)
    return [customer_id, *sorted(pk for pk in rows if pk != customer_id)]


def group_members(company: Company, group: str) -> set[int]:
    """The ids of a customer group, named by its head's code: the head, the customers whose
    parent it is, and their aliases (a merged customer is in its survivor's group). Refused
    when no customer has that code."""
    head = customer_get(company, group)
    ids = set(Customer.objects.filter(Q(pk=head.pk) | Q(parent_id=head.pk), company=company)
              .values_list("id", flat=True))
    return ids | set(Customer.objects.filter(company=company, merged_into_id__in=ids)
                     .values_list("id", flat=True))


# Past this many codes or ids, a set of customers is read by reading the company's.
MANY = 1000


def customers_and_aliases(company: Company, codes: Iterable[str]) -> set[int]:
    """The ids of the customers ``codes`` and of their aliases (two queries; one reading
    every customer of the company when the codes are many: a list of thousands of codes in
    one ``IN`` costs more to write out than the company's customers cost to read)."""
    codes = list(codes)
    if len(codes) > MANY:
        wanted = set(codes)
        rows = list(Customer.objects.filter(company=company)
                    .values_list("id", "code", "merged_into_id"))
        chosen = {pk for pk, code, _ in rows if code in wanted}
        return chosen | {pk for pk, _, into in rows if into in chosen}
    ids = set(Customer.objects.filter(company=company, code__in=codes)
              .values_list("id", flat=True))
    return ids | set(Customer.objects.filter(company=company, merged_into_id__in=ids)
                     .values_list("id", flat=True))


def customer_effective(company: Company, code: str) -> Customer:
    """The customer a new document or receipt named ``code`` is issued to: the customer, or
    the survivor it was merged into."""
    customer = customer_get(company, code)
    if customer.merged_into_id is not None:
        return Customer.objects.get(pk=customer.merged_into_id)
    return customer


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
        "verified_by": c.verified_by.get_username() if c.verified_by_id and c.verified_by
        else None,
        "email_doubtful": _doubt(c.email_doubtful_at, c.email_doubtful_reason),
        "merged_into": c.merged_into.code if c.merged_into_id and c.merged_into else None,
        "merged_at": c.merged_at,
        "aliases": list(Customer.objects.filter(MERGED, merged_into=c).order_by("code")
                        .values_list("code", flat=True)),
        "anonymised_at": c.anonymised_at,
        "parent": c.parent.code if c.parent else None,
        "addresses": [{"kind": a.kind, **a.as_dict()} for a in c.addresses.all()],
        "contacts": [
            {
                "id": x.pk,
                "name": x.name,
                "email": x.email,
                "phone": x.phone,
                "roles": x.roles,
                "language": x.language,
                "doubtful": _doubt(x.doubtful_at, x.doubtful_reason),
            }
            for x in c.contacts.order_by("pk")
        ],
        "bank_accounts": [
            {"iban": b.iban, "bic": b.bic, "holder": b.holder} for b in c.bank_accounts.all()
        ],
    }


def _doubt(at: datetime | None, reason: str) -> dict[str, Any] | None:
    """Why an e-mail address is doubtful (a hard bounce), or None."""
    return None if at is None else {"since": at, "reason": reason}


# ---------------------------------------------------------------- record freshness
def review_list(company: Company, *, as_of: date, limit: int | None = None
                ) -> list[dict[str, Any]]:
    """The customers whose record is due for review on ``as_of``: last confirmed or edited
    (else created) more than the company's review period before, or with a doubtful e-mail
    address (docs/design/customer-records.md). Aliases and anonymised customers are left
    out. Oldest first; three queries whatever the number of customers."""
    before = review_due_before(as_of, company.record_review_days)
    zone = ZoneInfo(company.time_zone)
    cutoff = datetime.combine(before, time.min, tzinfo=zone)
    doubtful_contacts: dict[int, list[str]] = {}
    for cid, email in (Contact.objects.filter(company=company, doubtful_at__isnull=False)
                       .order_by("customer_id", "pk").values_list("customer_id", "email")):
        doubtful_contacts.setdefault(cid, []).append(email)
    stale = (Q(verified_at__isnull=True, created_at__lt=cutoff) | Q(verified_at__lt=cutoff))
    qs = (Customer.objects.filter(company=company, merged_into__isnull=True,
                                  anonymised_at__isnull=True)
          .filter(stale | Q(email_doubtful_at__isnull=False)
                  | Q(pk__in=list(doubtful_contacts)))
          .values("id", "code", "name", "verified_at", "verified_by__username", "created_at",
                  "email", "email_doubtful_at"))
    out = []
    for r in qs:
        stamped = r["verified_at"] or r["created_at"]
        doubtful = ([r["email"]] if r["email_doubtful_at"] else []) + doubtful_contacts.get(
            r["id"], [])
        reasons = (["not confirmed since "
                    f"{stamped.astimezone(zone).date().isoformat()}"
                    if r["verified_at"] else "never confirmed"]
                   if stamped < cutoff else [])
        reasons += [f"doubtful e-mail {e}" for e in doubtful]
        out.append({"code": r["code"], "name": r["name"], "verified_at": r["verified_at"],
                    "verified_by": r["verified_by__username"],
                    "days_since": (as_of - stamped.astimezone(zone).date()).days,
                    "doubtful_emails": doubtful, "reasons": reasons})
    out.sort(key=lambda r: (-r["days_since"], r["code"]))
    return out[:limit] if limit else out


# ---------------------------------------------------------------- duplicates
def duplicate_customers(company: Company, *, payer_ibans: Iterable[tuple[str, int]] = (),
                        threshold: float | None = None) -> list[dict[str, Any]]:
    """Candidate pairs of duplicate customers, best first: same tax id, same IBAN (a bank
    account of one; ``payer_ibans``, the IBANs customers were seen paying from, as
    (iban, customer id)), or close names (``domain/duplicates.py``). Aliases and anonymised
    customers are left out, and so are pairs already merged. Two queries and the blocked
    comparison in memory."""
    ibans: dict[int, list[str]] = {}
    for cid, iban in (BankAccount.objects.filter(company=company)
                      .values_list("customer_id", "iban")):
        ibans.setdefault(cid, []).append(iban)
    for iban, cid in payer_ibans:
        ibans.setdefault(cid, []).append(iban)
    rows = (Customer.objects.filter(company=company, merged_into__isnull=True,
                                    anonymised_at__isnull=True)
            .values_list("id", "code", "name", "legal_name", "tax_id", "country"))
    keys = [CustomerKey(pk, code, name, legal, tax, country, tuple(sorted(set(ibans.get(pk, [])))))
            for pk, code, name, legal, tax, country in rows.iterator(chunk_size=5000)]
    by_id = {k.id: k for k in keys}
    found = (duplicate_candidates(keys) if threshold is None
             else duplicate_candidates(keys, threshold=threshold))
    return [{"a": by_id[c.a].code, "a_name": by_id[c.a].name, "b": by_id[c.b].code,
             "b_name": by_id[c.b].name, "reasons": c.reasons, "score": round(c.score, 1),
             "shared": c.shared} for c in found]


def payment_terms_list(company: Company) -> list[dict[str, Any]]:
    """The company's payment terms, by code, with whether each is the company's default."""
    return [
        {"code": t.code, "name": t.name, "default": t.pk == company.default_terms_id,
         "instalments": [{"percent": str(x["percent"]), "days": int(x["days"]),
                          "end_of_month": bool(x.get("end_of_month"))} for x in t.lines],
         "discount_percent": str(t.discount_percent), "discount_days": t.discount_days}
        for t in PaymentTerms.objects.filter(company=company).order_by("code")
    ]
