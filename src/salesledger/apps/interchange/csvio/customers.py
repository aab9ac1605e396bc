"""Customers from and to CSV: one row per customer, with its billing address, one contact
and its bank accounts (several IBANs, and their BICs, separated by ``|``).

Each row is validated as ``customer_create`` validates a customer (``build_customer`` and
``customer_children``: tax ids with python-stdnum, IBANs and BICs with schwifty). A parent
may be another row of the same file, before or after its children; parents are written
first.
"""

from __future__ import annotations

from datetime import date
from typing import Any, TextIO

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from salesledger.apps.core.audit import EventSpec, audit_many
from salesledger.apps.customers.duplicates import duplicates_changed
from salesledger.apps.customers.models import (
    Address,
    BankAccount,
    Contact,
    Customer,
    PaymentTerms,
)
from salesledger.apps.customers.services import (
    AddressInput,
    BankAccountInput,
    ContactInput,
    CustomerInput,
    build_customer,
    customer_children,
    customer_snapshot,
)
from salesledger.domain.errors import InvalidBankAccount, LedgerError
from salesledger.formats.csv_rows import (
    CUSTOMERS,
    LIST_SEPARATOR,
    CsvWriter,
    CustomerRow,
    customer_row,
)
from salesledger.money import Money

from .common import CsvSource, ImportContext, in_chunks, limits

LIMITS = limits({
    "code": (Customer, "code"), "name": (Customer, "name"),
    "legal_name": (Customer, "legal_name"), "tax_id": (Customer, "tax_id"),
    "country": (Customer, "country"), "currency": (Customer, "currency"),
    "language": (Customer, "language"), "email": (Customer, "email"),
    "phone": (Customer, "phone"), "terms": (PaymentTerms, "code"),
    "parent": (Customer, "code"), "billing_line1": (Address, "line1"),
    "billing_line2": (Address, "line2"), "billing_postal_code": (Address, "postal_code"),
    "billing_city": (Address, "city"), "billing_country": (Address, "country"),
    "contact_name": (Contact, "name"), "contact_email": (Contact, "email"),
    "contact_roles": (Contact, "roles"), "mandate_reference": (Customer, "mandate_reference"),
})

# Fields named by the customer services' errors -> CSV columns.
_RENAME = {"contacts": "contact_roles", "terms_code": "terms", "parent_code": "parent",
           "mandate": "mandate_reference"}


class _Built:
    def __init__(self, row: CustomerRow, data: CustomerInput, customer: Customer,
                 children: tuple[list[Address], list[Contact], list[BankAccount]]) -> None:
        self.row, self.data, self.customer, self.children = row, data, customer, children
        self.parent_code = data.parent_code
        self.depth = 0


def import_rows(ctx: ImportContext, source: CsvSource) -> dict[str, Any]:
    with source.read() as reader:
        return _import(ctx, reader)


def _import(ctx: ImportContext, reader: Any) -> dict[str, Any]:
    company = ctx.company
    rows = [customer_row(line, cells, ctx.problems) for line, cells in reader]
    ctx.rows_read(reader)
    first_line: dict[str, int] = {}
    for r in rows:
        code = r.values.get("code", "")
        if not code:
            continue
        if code in first_line:
            ctx.problem(r.line, "code", f"customer {code} is also on line {first_line[code]}")
        first_line.setdefault(code, r.line)
    taken = set()
    for chunk in in_chunks(first_line):
        taken.update(Customer.objects.filter(company=company, code__in=chunk)
                     .values_list("code", flat=True))
    terms = {t.code: t for t in PaymentTerms.objects.filter(company=company)}
    built: dict[str, _Built] = {}
    for r in rows:
        if not r.ok or not r.values.get("code") or not r.values.get("name"):
            continue
        if r.values["code"] in taken:
            ctx.problem(r.line, "code", f"customer code {r.values['code']} is already used")
            continue
        item = _build(ctx, r, terms)
        if item is not None and first_line[r.values["code"]] == r.line:
            built[item.customer.code] = item
    _check_ibans(ctx, built)
    _link_parents(ctx, built)
    ctx.fail_if_problems()
    batch = ctx.batch(reader.rows)
    for depth in sorted({b.depth for b in built.values()}):
        level = [b for b in built.values() if b.depth == depth]
        Customer.objects.bulk_create([b.customer for b in level], batch_size=1000)
    items = list(built.values())
    for i, kind in enumerate((Address, Contact, BankAccount)):
        kind.objects.bulk_create([c for b in items for c in b.children[i]],  # type: ignore[attr-defined]
                                 batch_size=1000)
    audit_many(company, ctx.actor, [
        EventSpec("customer.create", "customer", str(b.customer.pk),
                  {"after": customer_snapshot(b.customer), "import_batch": batch.pk})
        for b in items])
    if items:
        # New records for duplicate detection: the kept pairs are behind until the worker
        # scans again (at its next round, not the next night), as after ``customer_add``.
        duplicates_changed(company)
    return {"rows": reader.rows, "batch": batch.pk, "customers": len(items)}


def _build(ctx: ImportContext, r: CustomerRow, terms: dict[str, PaymentTerms]) -> _Built | None:
    v = r.values
    ok = True
    for col in ("email", "contact_email"):
        if v.get(col):
            try:
                validate_email(v[col])
            except ValidationError:
                ctx.problem(r.line, col, f"{v[col]!r} is not an e-mail address")
                ok = False
    billing = None
    if any(v.get(c) for c in ("billing_line1", "billing_line2", "billing_postal_code",
                              "billing_city", "billing_country")):
        for col in ("billing_line1", "billing_city"):
            if not v.get(col):
                ctx.problem(r.line, col, "a billing address needs a first line and a city")
                ok = False
        billing = AddressInput(
            line1=v.get("billing_line1", ""), line2=v.get("billing_line2", ""),
            postal_code=v.get("billing_postal_code", ""), city=v.get("billing_city", ""),
            country=(v.get("billing_country") or v.get("country") or ctx.company.country))
    contacts = []
    if v.get("contact_name") or v.get("contact_email"):
        contacts.append(ContactInput(name=v.get("contact_name") or v["name"],
                                     email=v.get("contact_email", ""), roles=r.contact_roles,
                                     language=v.get("language", "")))
    data = CustomerInput(
        code=v["code"], name=v["name"], currency=v.get("currency", ""),
        legal_name=v.get("legal_name", ""), tax_id=v.get("tax_id", ""),
        country=v.get("country", ""), language=v.get("language") or "en",
        email=v.get("email", ""), phone=v.get("phone", ""), terms_code=v.get("terms", ""),
        credit_limit=v.get("credit_limit", ""), parent_code=v.get("parent", ""),
        po_required=r.po_required, notes=v.get("notes", ""), billing=billing,
        legal_id=v.get("legal_id", ""), endpoint=v.get("endpoint", ""),
        mandate_reference=v.get("mandate_reference", ""),
        contacts=contacts,
        bank_accounts=[BankAccountInput(iban=i, bic=b) for i, b in r.accounts])
    try:
        # The parent is linked afterwards: it may be a row of this file.
        customer = build_customer(ctx.company, _without_parent(data), terms=terms)
        children = customer_children(ctx.company, customer, data)
    except InvalidBankAccount as exc:
        ctx.error(r.line, exc, column="bic" if "bic" in exc.fields else "iban")
        return None
    except LedgerError as exc:
        ctx.error(r.line, exc, rename=_RENAME)
        return None
    return _Built(r, data, customer, children) if ok else None


def _without_parent(data: CustomerInput) -> CustomerInput:
    from dataclasses import replace

    return replace(data, parent_code="")


def _check_ibans(ctx: ImportContext, built: dict[str, _Built]) -> None:
    seen: dict[str, int] = {}
    for b in built.values():
        for account in b.children[2]:
            if account.iban in seen:
                ctx.problem(b.row.line, "iban", f"IBAN {account.iban} is also on line "
                                                f"{seen[account.iban]}")
            seen.setdefault(account.iban, b.row.line)
    for chunk in in_chunks(seen):
        for iban, code in (BankAccount.objects.filter(company=ctx.company, iban__in=chunk)
                           .values_list("iban", "customer__code")):
            ctx.problem(seen[iban], "iban", f"IBAN {iban} already belongs to customer {code}")


def _link_parents(ctx: ImportContext, built: dict[str, _Built]) -> None:
    wanted = {b.parent_code for b in built.values() if b.parent_code} - set(built)
    known: dict[str, Customer] = {}
    for chunk in in_chunks(wanted):
        known.update((c.code, c) for c in Customer.objects.filter(company=ctx.company,
                                                                  code__in=chunk))
    for b in built.values():
        code = b.parent_code
        if not code:
            continue
        parent = built[code].customer if code in built else known.get(code)
        if code == b.customer.code:
            ctx.problem(b.row.line, "parent", "a customer cannot be its own parent")
        elif parent is None:
            ctx.problem(b.row.line, "parent", f"no customer {code!r} in this file (without "
                                              "problems) or in the company")
        else:
            b.customer.parent = parent
    for b in built.values():  # depth in the file: parents are written before children
        seen, node = [b.customer.code], b
        while node.parent_code in built and node.parent_code != node.customer.code:
            node = built[node.parent_code]
            if node.customer.code in seen:
                ctx.problem(b.row.line, "parent", "customers cannot be each other's parents: "
                                                  + " -> ".join([*seen, node.customer.code]))
                break
            seen.append(node.customer.code)
        b.depth = len(seen) - 1


# ---------------------------------------------------------------------------- export
def export_customers(*, company: Any, out: TextIO, as_of: date | None = None) -> int:
    writer = CsvWriter(out)
    writer.writerow(CUSTOMERS.columns)
    count, last = 0, ""
    while True:
        page = list(Customer.objects.filter(company=company, code__gt=last).order_by("code")
                    .values("id", "code", "name", "legal_name", "tax_id", "country", "currency",
                            "language", "email", "phone", "payment_terms__code", "credit_limit",
                            "parent__code", "po_required", "notes", "legal_id",
                            "legal_id_scheme", "endpoint_scheme", "endpoint_id",
                            "mandate_reference")[:2000])
        if not page:
            return count
        ids = [c["id"] for c in page]
        billing = {a["customer_id"]: a for a in Address.objects.filter(
            customer_id__in=ids, kind="billing").values()}
        contacts: dict[int, dict[str, Any]] = {}
        for c in Contact.objects.filter(customer_id__in=ids).order_by("id").values():
            contacts.setdefault(c["customer_id"], c)
        accounts: dict[int, list[tuple[str, str]]] = {}
        for a in BankAccount.objects.filter(customer_id__in=ids).order_by("id").values(
                "customer_id", "iban", "bic"):
            accounts.setdefault(a["customer_id"], []).append((a["iban"], a["bic"]))
        for c in page:
            a, k, banks = billing.get(c["id"], {}), contacts.get(c["id"], {}), accounts.get(
                c["id"], [])
            limit = c["credit_limit"]
            writer.writerow([
                c["code"], c["name"], c["legal_name"], c["tax_id"], c["country"],
                c["currency"], c["language"], c["email"], c["phone"],
                c["payment_terms__code"] or "",
                "" if limit is None else Money.from_minor(limit, c["currency"]).format_plain(),
                c["parent__code"] or "", "true" if c["po_required"] else "false", c["notes"],
                a.get("line1", ""), a.get("line2", ""), a.get("postal_code", ""),
                a.get("city", ""), a.get("country", ""), k.get("name", ""), k.get("email", ""),
                LIST_SEPARATOR.join(r for r in k.get("roles", "").split(",") if r),
                LIST_SEPARATOR.join(i for i, _ in banks),
                LIST_SEPARATOR.join(b for _, b in banks).rstrip(LIST_SEPARATOR),
                _with_scheme(c["legal_id_scheme"], c["legal_id"]),
                _with_scheme(c["endpoint_scheme"], c["endpoint_id"]), c["mandate_reference"],
            ])
            count += 1
        last = page[-1]["code"]


def _with_scheme(scheme: str, value: str) -> str:
    """``SCHEME:ID`` as ``customer add --legal-id/--endpoint`` and the import read it."""
    return f"{scheme}:{value}" if scheme and value else value
