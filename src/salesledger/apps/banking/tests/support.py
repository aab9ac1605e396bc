"""What the banking tests set up alike: a company with its bank account's IBAN (the one its
invoices print, which a statement names), the payment services' write-off tolerance, an
MT940 statement built from its transactions' fields 61 and 86, and a batch of sure lines of
every kind for ``apply_lines`` (what ``bank match --auto-apply`` writes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from salesledger.apps.banking.models import StatementLine
from salesledger.apps.banking.services import statement_import
from salesledger.apps.core.services import company_profile_update
from salesledger.apps.customers.models import Customer
from salesledger.apps.fx.services import rate_add
from salesledger.apps.invoicing.tests.books import (
    line,
    make_company,
    make_customer,
    make_owner,
    post_single,
)
from salesledger.apps.payments.adjustments.settings import settlement_settings_set
from salesledger.domain.cash_matching import Proposal

# The company's main account in the tests of applying, matching and foreign currency.
IBAN = "NL26VAYB8060476890"
# The day the invoices of ``sure_batch`` are issued; its lines are booked on 2025-03-15.
ISSUED = date(2025, 3, 10)


def bank_books(slug: str, iban: str = IBAN) -> dict[str, Any]:
    """An owner (``SLUG-owner``) and a company (``SLUGco``) whose main bank account, the
    one its invoices print, has ``iban``: ``{"owner": ..., "company": ...}``."""
    owner = make_owner(f"{slug}-owner")
    company = make_company(owner, f"{slug}co")
    company = company_profile_update(actor=owner, company=company, iban=iban)
    return {"owner": owner, "company": company}


def tolerate_short_payments(books: dict[str, Any]) -> None:
    """The write-off tolerance of a short payment: 5.00 or 2 %."""
    settlement_settings_set(actor=books["owner"], company=books["company"],
                            writeoff_tolerance_amount=Decimal("5"),
                            writeoff_tolerance_percent=Decimal("2"))


def mt940(transactions: Sequence[tuple[str, str]], *, closing: str, iban: str = IBAN,
          number: str = "1", reference: str = "STMT", opening: str = "C250301EUR0,00"
          ) -> bytes:
    """An MT940 statement of ``iban``: each transaction its field 61 and field 86 (without
    their tags), the balances given as fields 60F and 62F have them (``C250331EUR12,50``)."""
    body = [f":20:{reference}", f":25:{iban}", f":28C:{number}/1", f":60F:{opening}"]
    for f61, f86 in transactions:
        body += [f":61:{f61}", f":86:{f86}"]
    body += [f":62F:{closing}", "-"]
    return "\r\n".join(body).encode()


def applying_books(slug: str = "apply") -> dict[str, Any]:
    """``bank_books`` with the write-off tolerance and a dollar rate on ``ISSUED``, for
    ``sure_batch``."""
    books = bank_books(slug)
    tolerate_short_payments(books)
    rate_add(actor=books["owner"], company=books["company"], currency="USD", rate="0.90",
             day=ISSUED)
    return {**books, "statements": 0}


def credits_statement(books: dict[str, Any], amounts: list[int]) -> list[StatementLine]:
    """An MT940 statement of these credits (minor units), booked on 2025-03-15, imported;
    its lines."""
    books["statements"] += 1
    number = books["statements"]
    total = sum(amounts)
    result = statement_import(actor=books["owner"], company=books["company"], data=mt940([
        (f"2503150315C{amount // 100},{amount % 100:02d}NTRFREF{number}-{n}",
         f"/NAME/ACME/REMI/payment {n}") for n, amount in enumerate(amounts)],
        number=str(number), closing=f"C250331EUR{total // 100},{total % 100:02d}"))
    return list(StatementLine.objects.filter(statement=result.statements[0].statement)
                .select_related("bank_account").order_by("pk"))


def sure_batch(books: dict[str, Any], groups: int) -> list[tuple[StatementLine, Proposal]]:
    """``groups`` times four lines, each group a new customer's: one paying an invoice
    exactly, one paying an invoice 2.00 short (written off), one paying a 2-10-NET30 invoice
    less its discount within ten days (the discount taken), one paying a dollar invoice in
    euros at the proposal's rate; each line with the proposal that pays it (``apply_lines``
    takes them as they are)."""
    company, owner = books["company"], books["owner"]
    plans: list[tuple[Customer, int, Any, bool, str, Decimal | None]] = []
    for n in range(groups):
        customer = make_customer(company, owner, f"C{Customer.objects.count()}")
        exact = post_single(company, owner, customer.code,
                            [line("Exact", "1", f"{100 + n}")], issue_date=ISSUED)
        plans.append((customer, exact.total, exact, False, "", None))
        short = post_single(company, owner, customer.code,
                            [line("Short", "1", "200")], issue_date=ISSUED)
        plans.append((customer, short.total - 200, short, True, "", None))
        early = post_single(company, owner, customer.code,
                            [line("Early", "1", "300")], issue_date=ISSUED,
                            terms_code="2-10-NET30")
        plans.append((customer, early.total - early.total * 2 // 100, early, False, "", None))
        dollars = post_single(company, owner, customer.code,
                              [line("Crates", "1", "110")], issue_date=ISSUED,
                              currency="USD")
        plans.append((customer, 10000, dollars, False, "USD", Decimal("1.1")))
    rows = credits_statement(books, [amount for _, amount, *_ in plans])
    return [(row, Proposal(customer.pk, ((inv.number, inv.total if currency else amount),),
                           0.99, ("test",), write_off=write_off, currency=currency,
                           rate=rate))
            for row, (customer, amount, inv, write_off, currency, rate)
            in zip(rows, plans, strict=True)]
