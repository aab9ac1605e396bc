"""Foreign-currency payments: a statement line in another currency than the invoice it pays
(or one that carries the payer's original amount and currency) is matched and applied
through the payment services' cross-currency allocation: the receipt in the line's currency,
allocated to the invoice in its own at the payment's rate, the exchange difference realised
as for any receipt (docs/design/cash-application.md)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from salesledger.apps.banking.matching import bank_confirm, bank_match
from salesledger.apps.banking.models import StatementLine as Line
from salesledger.apps.banking.services import statement_import
from salesledger.apps.customers.services import BankAccountInput
from salesledger.apps.fx.services import rate_add
from salesledger.apps.invoicing.tests.books import (
    ledger_problems,
    line,
    make_customer,
    post_single,
)
from salesledger.apps.ledger.banks import BankAccountSpec, bank_account_add
from salesledger.apps.ledger.models import JournalLine
from salesledger.apps.payments.models import Allocation, Receipt

from .support import bank_books
from .support import mt940 as support_mt940

pytestmark = pytest.mark.django_db(transaction=False)

EUR_IBAN = "NL26VAYB8060476890"
USD_IBAN = "GB33BUKB20201555555555"
PAYER_IBAN = "DE89370400440532013000"
ISSUED = date(2025, 3, 3)
PAID = date(2025, 3, 20)


@pytest.fixture
def books() -> dict[str, Any]:
    books = bank_books("fx", EUR_IBAN)
    owner, company = books["owner"], books["company"]
    bank_account_add(actor=owner, company=company, spec=BankAccountSpec(
        code="USD1", name="Dollar account", iban=USD_IBAN, currency="USD"))
    # one US dollar is worth 0.90 euro when invoiced, 0.92 when paid
    rate_add(actor=owner, company=company, currency="USD", rate="0.90", day=ISSUED)
    rate_add(actor=owner, company=company, currency="USD", rate="0.92", day=PAID)
    make_customer(company, owner, "YANK", name="Yankee Imports Inc.",
                  bank_accounts=[BankAccountInput(iban=PAYER_IBAN)])
    usd = post_single(company, owner, "YANK", [line("Crates", "1", "1000")],
                      issue_date=ISSUED, currency="USD")
    eur = post_single(company, owner, "YANK", [line("Pallets", "1", "460")],
                      issue_date=ISSUED)
    return {"owner": owner, "company": company, "usd": usd, "eur": eur}


def camt(entries: list[str], iban: str = EUR_IBAN, currency: str = "EUR") -> bytes:
    return (f'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.'
            f'001.02"><BkToCstmrStmt><Stmt><Id>FX1</Id><Acct><Id><IBAN>{iban}</IBAN></Id>'
            f'<Ccy>{currency}</Ccy></Acct>{"".join(entries)}</Stmt></BkToCstmrStmt>'
            '</Document>').encode()


def entry(amount: str, currency: str, *, ref: str = "", text: str = "",
          original: tuple[str, str] | None = None) -> str:
    instd = (f'<AmtDtls><InstdAmt><Amt Ccy="{original[1]}">{original[0]}</Amt></InstdAmt>'
             '</AmtDtls>') if original else ""
    remit = (f"<RmtInf><Strd><CdtrRefInf><Ref>{ref}</Ref></CdtrRefInf></Strd></RmtInf>"
             if ref else f"<RmtInf><Ustrd>{text}</Ustrd></RmtInf>")
    return (f'<Ntry><Amt Ccy="{currency}">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
            f'<BookgDt><Dt>{PAID}</Dt></BookgDt><NtryDtls><TxDtls>{instd}'
            f'<RltdPties><Dbtr><Nm>Yankee Imports</Nm></Dbtr><DbtrAcct><Id><IBAN>{PAYER_IBAN}'
            f'</IBAN></Id></DbtrAcct></RltdPties>{remit}</TxDtls></NtryDtls></Ntry>')


def fx_result(company: Any) -> int:
    """The realised exchange difference booked (base minor units, a gain negative)."""
    return sum(JournalLine.objects.filter(
        company=company, account__role="exchange_differences").values_list(
        "amount", flat=True))


def mt940(amount: str, *, ref: str, original: str, where: str) -> bytes:
    """An MT940 statement of one credit whose original amount is SWIFT's ``/OCMT/`` code
    word, in field 61's supplementary details or in field 86."""
    day = PAID.strftime("%y%m%d")
    ocmt = f"/OCMT/{original}/"
    return support_mt940([(
        f"{day}{day[2:]}C{amount}NTRFNONREF//B1" + (f"\r\n{ocmt}" if where == "61" else ""),
        f"/NAME/Yankee Imports/IBAN/{PAYER_IBAN}" + (ocmt if where == "86" else "")
        + f"/REMI/{ref}")], iban=EUR_IBAN, reference="FX1", closing=f"C{day}EUR{amount}")


@pytest.mark.parametrize("where", ["61", "86"])
def test_an_mt940_line_with_its_original_amount_pays_the_invoice_in_its_currency(books, where):
    # the same payment as below, told by MT940: 1,000.00 USD sent, 920.00 EUR booked
    usd = books["usd"]
    statement_import(actor=books["owner"], company=books["company"], data=mt940(
        "920,00", ref=usd.payment_reference, original="USD1000,00", where=where))
    row = Line.objects.get()
    assert (row.original_amount, row.original_currency) == (100000, "USD")
    assert (row.counterparty_name, row.text) == ("Yankee Imports", usd.payment_reference)
    [r] = bank_match(actor=books["owner"], company=books["company"], auto_apply=True)
    assert r.decision == "applied", r.evidence
    assert (r.proposal.currency, r.proposal.allocations) == ("USD", ((usd.number, 100000),))
    assert any("the bank's original amount" in e for e in r.evidence)
    assert fx_result(books["company"]) == -2000
    assert ledger_problems(books["company"]) == []


def test_a_line_with_the_original_amount_pays_the_invoice_in_its_currency(books):
    usd = books["usd"]
    # the payer sent 1,000.00 USD; the bank booked 920.00 EUR on the euro account
    statement_import(actor=books["owner"], company=books["company"], data=camt([
        entry("920.00", "EUR", ref=usd.payment_reference, original=("1000.00", "USD"))]))
    [r] = bank_match(actor=books["owner"], company=books["company"], auto_apply=True)
    assert r.decision == "applied", r.evidence
    assert (r.proposal.currency, r.proposal.allocations) == ("USD", ((usd.number, 100000),))
    assert any("the bank's original amount" in e for e in r.evidence)
    receipt = Receipt.objects.get(number=r.receipt)
    assert (receipt.currency, receipt.amount) == ("EUR", 92000)
    alloc = Allocation.objects.get(receipt=receipt)
    assert (alloc.amount, alloc.instalment.invoice_id) == (100000, usd.pk)
    # booked at 0.90 (900.00 EUR), paid with 920.00 EUR: a gain of 20.00
    assert fx_result(books["company"]) == -2000
    assert ledger_problems(books["company"]) == []


def test_a_dollar_line_pays_a_euro_invoice_at_the_day_rate_within_the_slack(books):
    eur = books["eur"]
    # 500.00 USD at 0.92 is 460.00 EUR exactly; 501.50 USD is 461.38: near, not equal
    statement_import(actor=books["owner"], company=books["company"], data=camt([
        entry("501.50", "USD", ref=eur.payment_reference)], iban=USD_IBAN, currency="USD"))
    [r] = bank_match(actor=books["owner"], company=books["company"], auto_apply=True)
    assert r.decision == "applied", r.evidence
    assert r.proposal.allocations == ((eur.number, 46000),)
    assert r.proposal.currency == "EUR" and 0.95 <= r.proposal.confidence < 1
    assert any("within 2% of 460.00 EUR" in e for e in r.evidence)
    receipt = Receipt.objects.get(number=r.receipt)
    assert (receipt.currency, receipt.amount, receipt.bank_account.code) == (
        "USD", 50150, "USD1")
    assert sum(Allocation.objects.filter(receipt=receipt).values_list(
        "amount", flat=True)) == 46000
    # the receipt is booked at the day's 0.92 (461.38 EUR) and pays 460.00: a gain of 1.38
    assert fx_result(books["company"]) == -138
    assert ledger_problems(books["company"]) == []


def test_no_rate_no_foreign_proposal_and_far_amounts_wait_for_review(books):
    usd, company = books["usd"], books["company"]
    # 700 EUR is 760.87 USD at 0.92: far from the 1,000.00 open, a part payment to review
    statement_import(actor=books["owner"], company=company, data=camt([
        entry("700.00", "EUR", ref=usd.payment_reference)]))
    [r] = bank_match(actor=books["owner"], company=company, auto_apply=True)
    assert r.decision == "suggested"
    top = r.suggestions[0]
    assert top.currency == "USD" and top.allocations == ((usd.number, 76087),)
    assert top.confidence < 0.95
    number = bank_confirm(actor=books["owner"], company=company, line_id=r.line.pk)
    receipt = Receipt.objects.get(number=number)
    assert sum(Allocation.objects.filter(receipt=receipt).values_list(
        "amount", flat=True)) == 76087
    assert ledger_problems(company) == []


def test_without_a_rate_the_line_is_not_matched_to_another_currency(books):
    company, usd = books["company"], books["usd"]
    # a line in Swiss francs: no CHF rate, nothing converted, nothing proposed for it
    bank_account_add(actor=books["owner"], company=company, spec=BankAccountSpec(
        code="CHF1", name="Franc account", iban="CH9300762011623852957", currency="CHF"))
    statement_import(actor=books["owner"], company=company, data=camt([
        entry("900.00", "CHF", ref=usd.payment_reference)], iban="CH9300762011623852957",
        currency="CHF"))
    [r] = bank_match(actor=books["owner"], company=company, auto_apply=True)
    assert r.decision in ("suggested", "unmatched")
    assert not any(s.allocations for s in r.suggestions if s.currency)
    assert not Allocation.objects.filter(receipt__company=company).exists()


def test_the_rates_are_read_once_per_currency_and_day_whatever_the_lines(books):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    company = books["company"]

    def queries(n: int, statement_id: str) -> int:
        # texts of one length: number-like words are looked up only at the lengths the
        # company's numbers have (banking/matching.py, ``number_shapes``)
        data = camt([entry(f"{100 + k}.00", "USD", text=f"payment {k:02d}") for k in range(n)],
                    iban=USD_IBAN, currency="USD").replace(b"<Id>FX1</Id>",
                                                          f"<Id>{statement_id}</Id>".encode())
        statement_import(actor=books["owner"], company=company, data=data)
        ids = list(Line.objects.filter(company=company, statement__statement_id=statement_id)
                   .values_list("pk", flat=True))
        with CaptureQueriesContext(connection) as ctx:
            results = bank_match(actor=books["owner"], company=company, dry_run=True,
                                 line_ids=ids)
        # the payer's IBAN names the customer, whose open invoices are in two currencies
        assert all(any(s.currency == "EUR" for s in r.suggestions) for r in results)
        return len(ctx.captured_queries)

    assert queries(3, "FEW") == queries(12, "MANY")
