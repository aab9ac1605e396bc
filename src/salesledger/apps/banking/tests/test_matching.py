"""Matching statement lines through the services: the sure ones applied as receipts through
the payment services, the others waiting for review; confirm teaches the payer IBAN, reject
is never proposed again, unmatch reverses the receipt; a run stopped half-way applies
nothing twice when run again."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from salesledger.apps.banking import matching
from salesledger.apps.banking.matching import (
    auto_apply_threshold,
    auto_apply_threshold_set,
    bank_confirm,
    bank_match,
    bank_reject,
    bank_unmatch,
)
from salesledger.apps.banking.models import LineMatch, PayerIban
from salesledger.apps.banking.services import statement_import
from salesledger.apps.customers.models import Customer
from salesledger.apps.customers.services import BankAccountInput, bank_account_add
from salesledger.apps.invoicing.models import Invoice
from salesledger.apps.invoicing.tests.books import (
    ledger_problems,
    line,
    make_customer,
    post_single,
)
from salesledger.apps.payments.adjustments.write_offs import ShortPaid, short_payments_write_off
from salesledger.apps.payments.allocations import allocations_make
from salesledger.apps.payments.models import Adjustment, Allocation, Receipt, ReceiptReversal
from salesledger.apps.payments.receipts import receipts_record
from salesledger.domain.allocation import AllocationRequest, SourceKind, SourceRef, ToInvoice
from salesledger.domain.errors import ValidationFailed, WriteOffExceedsTolerance
from salesledger.domain.receipts import ReceiptRequest

from .support import bank_books, mt940, tolerate_short_payments

pytestmark = pytest.mark.django_db(transaction=False)

ACME_IBAN = "DE89370400440532013000"
PARENT_IBAN = "GB29NWBK60161331926819"


def statement(lines: list[tuple[str, str, str, str, str]], number: str = "1") -> bytes:
    """An MT940 file: (day, C or D, amount, payer IBAN, name, text) per line."""
    total = Decimal(0)
    transactions = []
    for day, mark_amount, iban, name, text in lines:
        mark, amount = mark_amount[0], mark_amount[1:]
        total += Decimal(amount.replace(",", ".")) * (1 if mark == "C" else -1)
        transactions.append((f"{day}{day[2:]}{mark}{amount}NTRFNONREF",
                             f"/NAME/{name}/IBAN/{iban}/REMI/{text}"))
    return mt940(transactions, number=number,
                 closing=f"C250331EUR{str(total).replace('.', ',')}")


@pytest.fixture
def books() -> dict[str, Any]:
    books = bank_books("match")
    owner, company = books["owner"], books["company"]
    make_customer(company, owner, "ACME", name="ACME Trading GmbH")
    make_customer(company, owner, "GLOBEX", name="Globex Corporation")
    bank_account_add(actor=owner, company=company, code="ACME",
                     account=BankAccountInput(iban=ACME_IBAN))
    invs = {}
    for key, customer, price in (("a1", "ACME", "100"), ("a2", "ACME", "250"),
                                 ("a3", "ACME", "70"), ("g1", "GLOBEX", "300"),
                                 ("g2", "GLOBEX", "45.5")):
        invs[key] = post_single(company, owner, customer, [line(key, "1", price)])
    return {"owner": owner, "company": company, "inv": invs}


def run(books: dict[str, Any], lines: list[tuple[str, str, str, str, str]], **kw: Any
        ) -> list[matching.LineResult]:
    statement_import(actor=books["owner"], company=books["company"], data=statement(lines))
    return bank_match(actor=books["owner"], company=books["company"], **kw)


def test_sure_lines_are_applied_the_others_wait_and_money_out_is_other(
        books: dict[str, Any]) -> None:
    a1, a2, a3, g1 = (books["inv"][k] for k in ("a1", "a2", "a3", "g1"))
    results = run(books, [
        ("250315", "C100,00", "", "Someone", a1.payment_reference),  # RF, exact
        ("250315", "C320,00", ACME_IBAN, "ACME", "two invoices"),  # IBAN, a2 + a3
        ("250316", "C300,00", "", "Globex Corp", "thanks"),  # name and amount only
        ("250316", "D12,50", "", "Bank", "fees"),
    ], auto_apply=True)
    got = {r.line.amount: r for r in results}
    assert got[10000].decision == "applied" and got[32000].decision == "applied"
    assert got[30000].decision == "suggested" and got[-1250].decision == "other"
    assert got[30000].suggestions[0].allocations == ((g1.number, 30000),)
    r1 = Receipt.objects.get(number=got[10000].receipt)
    assert (r1.amount, r1.bank_account.code, r1.payer_reference, r1.memo) == (
        10000, "MAIN", a1.payment_reference, f"statement line {got[10000].line.pk}")
    paid = dict(Allocation.objects.filter(receipt__number=got[32000].receipt)
                .values_list("instalment__invoice__number", "amount"))
    assert paid == {a2.number: 25000, a3.number: 7000}
    assert any("IBAN" in e for e in got[32000].evidence)
    assert ledger_problems(books["company"]) == []


def test_confirm_learns_the_payer_reject_and_unmatch(books: dict[str, Any]) -> None:
    g2 = books["inv"]["g2"]
    [r] = run(books, [("250317", "C45,50", PARENT_IBAN, "Globex Holding", "payment")],
              auto_apply=True)
    assert r.decision == "suggested" and r.suggestions[0].allocations == ((g2.number, 4550),)
    number = bank_confirm(actor=books["owner"], company=books["company"], line_id=r.line.pk)
    assert PayerIban.objects.get(iban=PARENT_IBAN).customer.code == "GLOBEX"
    assert Invoice.objects.get(pk=g2.pk).instalments.get().settled == 4550
    # unmatch: the receipt reversed, the invoice open again, never applied again as it was
    assert bank_unmatch(actor=books["owner"], company=books["company"], line_id=r.line.pk,
                        day=date(2025, 3, 31)) == number
    assert ReceiptReversal.objects.filter(receipt__number=number).exists()
    assert Invoice.objects.get(pk=g2.pk).instalments.get().settled == 0
    [again] = bank_match(actor=books["owner"], company=books["company"], auto_apply=True)
    assert again.decision == "unmatched" and again.suggestions == ()
    # what the line taught is forgotten with it (banking/tests/test_payers.py): a second
    # payment from the parent is found by its amount alone, for review
    assert not PayerIban.objects.filter(iban=PARENT_IBAN).exists()
    g1 = books["inv"]["g1"]
    [r2] = run(books, [("250318", "C300,00", PARENT_IBAN, "Someone else", "march")],
               line_ids=None, auto_apply=False)[-1:]
    assert r2.suggestions[0].allocations == ((g1.number, 30000),)
    assert not any("learned" in e for e in r2.suggestions[0].evidence)
    bank_reject(actor=books["owner"], company=books["company"], line_id=r2.line.pk)
    assert LineMatch.objects.get(line=r2.line).status == "unmatched"
    with pytest.raises(ValidationFailed, match="no suggestion"):
        bank_confirm(actor=books["owner"], company=books["company"], line_id=r2.line.pk)
    assert ledger_problems(books["company"]) == []


def test_a_run_stopped_half_way_applies_nothing_twice(books: dict[str, Any],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    inv = books["inv"]
    lines = [("250315", f"C{amount}", "", "x", inv[k].payment_reference)
             for k, amount in (("a1", "100,00"), ("g1", "300,00"), ("a2", "250,00"))]
    statement_import(actor=books["owner"], company=books["company"], data=statement(lines))
    real = matching.allocations_make
    calls = {"n": 0}

    def crash_on_the_second(**kw: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the process killed half-way through the run
        return real(**kw)

    monkeypatch.setattr(matching, "allocations_make", crash_on_the_second)
    with pytest.raises(KeyboardInterrupt):  # one line per transaction (chunk=1)
        bank_match(actor=books["owner"], company=books["company"], auto_apply=True, chunk=1)
    assert Receipt.objects.count() == 1  # the second line's receipt went with its status
    monkeypatch.setattr(matching, "allocations_make", real)
    results = bank_match(actor=books["owner"], company=books["company"], auto_apply=True)
    assert [r.decision for r in results] == ["applied", "applied"]
    assert Receipt.objects.count() == 3
    assert bank_match(actor=books["owner"], company=books["company"], auto_apply=True) == []
    assert LineMatch.objects.filter(status="applied").count() == 3
    # a batch stopped in the middle leaves none of its lines applied
    more = [("250316", "C70,00", "", "y", inv["a3"].payment_reference),
            ("250316", "C45,50", "", "y", inv["g2"].payment_reference)]
    statement_import(actor=books["owner"], company=books["company"], data=statement(more, "2"))
    calls["n"] = 1
    monkeypatch.setattr(matching, "allocations_make", crash_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        bank_match(actor=books["owner"], company=books["company"], auto_apply=True)
    assert (Receipt.objects.count(), LineMatch.objects.filter(status="applied").count()) == (
        3, 3)
    monkeypatch.setattr(matching, "allocations_make", real)
    assert [r.decision for r in bank_match(actor=books["owner"], company=books["company"],
                                           auto_apply=True)] == ["applied", "applied"]
    assert ledger_problems(books["company"]) == []


def test_the_threshold_is_a_setting_and_a_dry_run_writes_nothing(books: dict[str, Any]
                                                                  ) -> None:
    assert auto_apply_threshold(books["company"]) == 0.95
    auto_apply_threshold_set(actor=books["owner"], company=books["company"], threshold=0.999)
    a1 = books["inv"]["a1"]
    [r] = run(books, [("250315", "C100,00", ACME_IBAN, "ACME", a1.payment_reference)],
              auto_apply=True, dry_run=True)
    assert r.decision == "applied" and Receipt.objects.count() == 0
    assert not LineMatch.objects.exists()
    with pytest.raises(ValidationFailed):
        auto_apply_threshold_set(actor=books["owner"], company=books["company"], threshold=2)


def test_short_payments_are_written_off_in_the_batch(books: dict[str, Any]) -> None:
    tolerate_short_payments(books)
    a1, a2, g1 = (books["inv"][k] for k in ("a1", "a2", "g1"))
    results = run(books, [("250315", "C99,00", "", "x", a1.payment_reference),  # 1.00 short
                          ("250315", "C298,00", "", "y", g1.payment_reference),  # 2.00 short
                          ("250315", "C250,00", "", "z", a2.payment_reference)],
                  auto_apply=True, threshold=0.9)
    assert [r.decision for r in results] == ["applied"] * 3
    offs = {a.invoice.number: (a.amount, a.receipt.number)
            for a in Adjustment.objects.filter(kind="write_off")}
    assert offs == {a1.number: (100, results[0].receipt), g1.number: (200, results[1].receipt)}
    assert {i.number: i.instalments.get().settled for i in Invoice.objects.filter(
        pk__in=[a1.pk, g1.pk])} == {a1.number: 10000, g1.number: 30000}
    assert ledger_problems(books["company"]) == []
    # beyond the tolerance: refused, and nothing of the batch is kept
    g2 = books["inv"]["g2"]
    _, [rid] = receipts_record(actor=books["owner"], company=books["company"], requests=[
        ReceiptRequest(day=date(2025, 3, 16), amount=3000, customer_id=g2.customer_id,
                       currency="EUR")])
    with pytest.raises(WriteOffExceedsTolerance):
        short_payments_write_off(actor=books["owner"], company=books["company"], items=[
            ShortPaid(rid, g2.number, date(2025, 3, 16), 3000)])
    assert Invoice.objects.get(pk=g2.pk).instalments.get().settled == 0


def test_amount_only_suggestions_look_at_what_is_still_open(books: dict[str, Any]) -> None:
    # given g1 (300.00) paid 120.00 earlier, and a stranger paying 180.00 with no reference
    g1 = books["inv"]["g1"]
    _, [rid] = receipts_record(actor=books["owner"], company=books["company"], requests=[
        ReceiptRequest(day=date(2025, 3, 10), amount=12000, customer_id=g1.customer_id,
                       currency="EUR")])
    allocations_make(actor=books["owner"], company=books["company"], requests=[
        AllocationRequest(SourceRef(SourceKind.RECEIPT, id=rid), date(2025, 3, 10),
                          (ToInvoice(g1.number, Decimal("120")),))])
    # when it is matched (and, apart, 300.00, g1's total, which is no longer owed)
    results = run(books, [("250315", "C180,00", "", "Stranger Ltd", "payment"),
                          ("250315", "C300,00", "", "Other Stranger SA", "payment")])
    by_amount = {r.line.amount: r for r in results}
    # then g1 is suggested for what it still owes, never for its total
    owed = by_amount[18000]
    assert owed.decision == "suggested"
    assert owed.suggestions[0].allocations == ((g1.number, 18000),)
    assert owed.suggestions[0].customer_id == g1.customer_id
    assert any("amount equals open invoice" in e for e in owed.suggestions[0].evidence)
    assert all(g1.number not in dict(s.allocations) for s in by_amount[30000].suggestions)


def test_what_instalments_owe_is_found_through_its_index(books: dict[str, Any]) -> None:
    # the read of ``wide_candidates``, as SQLite plans it: each amount searched in the
    # index on amount - settled, and in the one on totals (PostgreSQL is not asked here: on
    # tables this small its costs tie with a scan of the open items' index, even with
    # sequential scans off)
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the plan of a small table on PostgreSQL ties: see the comment")
    sql, params = matching.owed_near_sql(books["company"], [(18000, 18500), (100, 600)])
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = "\n".join(str(row) for row in cursor.fetchall())
    assert plan.count("instalment_owed") == 4 and plan.count("invoice_total") == 4, plan


def test_open_invoices_named_by_id_are_looked_up_by_their_instalments_key(
        books: dict[str, Any]) -> None:
    # the invoices ``wide_candidates`` reads by id: each looked up by its instalments'
    # unique key (invoice, seq), never through the index of the company's open items
    # (``instalment_owed``), which SQLite took and which has it read every open item of
    # the company for each chunk of ids (most of a run's time at a million open items)
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's planner (PostgreSQL plans the ids' look-up on its own)")
    inv = books["inv"]  # (no statistics, as in books written in bulk: the plan by shape)
    ids = sorted(inv[k].pk for k in ("a1", "g1", "g2"))
    seen: list[tuple[str, list[Any]]] = []

    def keep(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append((sql, list(params or ())))
        return execute(sql, params, many, context)

    # (a chunk of ids as a run reads them: with a handful SQLite takes the key anyway;
    # the others name no invoice)
    absent = list(range(10**9, 10**9 + matching._CHUNK - len(ids)))
    with connection.execute_wrapper(keep):
        found = matching._open_invoices(books["company"], invoices=ids + absent)
    # then the same open invoices come back, in the order of their ids
    assert [o.id for o in found] == ids
    assert [o.open for o in found] == [inv[k].total for k in ("a1", "g1", "g2")]
    [(sql, params)] = seen
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
    assert "instalment_owed" not in plan and "instalment_open" not in plan, plan
    assert "(invoice_id=?)" in plan, plan


def test_matching_and_applying_take_as_many_queries_for_more_lines(
        books: dict[str, Any]) -> None:
    # given two statements: two lines paying by RF reference and two strangers; then three
    # of each and four strangers more (the lines left for review of the first run are
    # matched again in the second)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    inv = books["inv"]

    def lines(keys: list[str], strangers: int) -> list[tuple[str, str, str, str, str]]:
        paying = [("250315", f"C{inv[k].total // 100},{inv[k].total % 100:02d}", "",
                   "Someone", inv[k].payment_reference) for k in keys]
        return paying + [("250316", f"C{17 + n},00", "", f"Stranger {n} SA", "payment")
                         for n in range(strangers)]

    counts = []
    for number, keys, strangers in (("1", ["a1", "g1"], 2), ("2", ["a2", "a3", "g2"], 4)):
        statement_import(actor=books["owner"], company=books["company"],
                         data=statement(lines(keys, strangers), number=number))
        with CaptureQueriesContext(connection) as queries:
            results = bank_match(actor=books["owner"], company=books["company"],
                                 auto_apply=True)
        assert sum(r.decision == "applied" for r in results) == len(keys)
        counts.append(len(queries.captured_queries))
    # then the second run, with more than twice the lines, takes no more queries
    assert counts[1] <= counts[0], counts


def test_a_batch_of_lines_takes_as_many_queries_whatever_its_size(
        books: dict[str, Any]) -> None:
    # given lines of every kind: an RF reference, a payer's IBAN, a name and an amount, a
    # number with a digit dropped, strangers left for review (the reads of ``widen``), money
    # out; first 6 of them, then 30 (the dry run writes nothing: all are matched again)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    inv = books["inv"]

    def lines(n: int) -> list[tuple[str, str, str, str, str]]:
        out = []
        for k in range(n):
            kind, key = k % 6, ("a1", "a2", "a3", "g1", "g2")[k % 5]
            money = f"{inv[key].total // 100},{inv[key].total % 100:02d}"
            out.append([("250315", f"C{money}", "", "Someone", inv[key].payment_reference),
                        ("250315", f"C{money}", ACME_IBAN, "ACME", "invoices"),
                        ("250316", f"C{money}", "", "Globex Corp", "thanks"),
                        ("250316", f"C{money}", "", "Globex", f"payment {inv[key].number[:-1]}"),
                        ("250317", f"C{17 + k},00", "", f"Stranger {k} SA", "payment"),
                        ("250317", f"D{3 + k},50", "", "Bank", "fees")][kind])
        return out

    def queries(chunk: int, lines_n: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            results = bank_match(actor=books["owner"], company=books["company"], dry_run=True,
                                 auto_apply=True, chunk=chunk)
        assert len(results) == lines_n
        assert {r.decision for r in results} >= {"applied", "suggested", "other"}
        return len(captured.captured_queries)

    statement_import(actor=books["owner"], company=books["company"],
                     data=statement(lines(6), number="1"))
    few, few_by_6 = queries(2000, 6), queries(6, 6)
    statement_import(actor=books["owner"], company=books["company"],
                     data=statement(lines(30)[6:], number="2"))
    many, many_by_6 = queries(2000, 30), queries(6, 30)
    # then 30 lines in one batch take the queries 6 lines take, and five batches of 6 no
    # more than five times those of one
    assert many == few, (few, many)
    assert many_by_6 <= 5 * few_by_6, (few_by_6, many_by_6)


def test_review_suggests_the_customer_an_iban_paid_before_or_in_the_same_run(
        books: dict[str, Any]) -> None:
    # given a parent company's IBAN that paid g1 of GLOBEX by its RF reference (applied), and
    # an invoice of ACME (a2) owing what GLOBEX's new g3 owes
    owner, company, inv = books["owner"], books["company"], books["inv"]
    g3 = post_single(company, owner, "GLOBEX", [line("g3", "1", "250")])
    [first] = run(books, [("250315", "C300,00", PARENT_IBAN, "Initech Holding",
                           inv["g1"].payment_reference)], auto_apply=True)
    assert first.decision == "applied"
    # when, in a dry run, the same IBAN pays 250.00 with nothing that names the customer;
    # another pays g2 by its reference then 250.00; a third pays an invoice of each
    # customer by reference, then 250.00
    one, two = "FR1420041010050500013M02606", "NL91ABNA0417164300"
    results = run(books, [
        ("250320", "C250,00", PARENT_IBAN, "Initech Holding", "on behalf of our subsidiary"),
        ("250320", "C45,50", one, "Payments Co", inv["g2"].payment_reference),
        ("250321", "C250,00", one, "Payments Co", "on behalf"),
        ("250320", "C100,00", two, "Pay Service", inv["a1"].payment_reference),
        ("250320", "C45,50", two, "Pay Service", inv["g2"].payment_reference),
        ("250321", "C250,00", two, "Pay Service", "on behalf")], dry_run=True, auto_apply=True)
    by = {(r.line.counterparty_iban, r.line.amount): r for r in results}
    # then GLOBEX's g3 comes first for the first two, saying why, never sure; ACME's a2 of
    # the same amount after it
    for iban, paid_on in ((PARENT_IBAN, first.line.pk), (one, by[(one, 4550)].line.pk)):
        r = by[(iban, 25000)]
        assert r.decision == "suggested"
        top = r.suggestions[0]
        assert (top.customer_id, top.allocations) == (g3.customer_id, ((g3.number, 25000),))
        assert f"counterparty IBAN paid the customer on statement line {paid_on} " \
            "(applied)" in top.evidence
        assert top.confidence < 0.5
        assert ((inv["a2"].number, 25000),) in [s.allocations for s in r.suggestions[1:]]
    # and an IBAN that paid two customers says nothing of either
    assert not any("counterparty IBAN paid" in e for s in by[(two, 25000)].suggestions
                   for e in s.evidence)


def test_review_suggests_the_invoices_of_a_parent_companys_subsidiary(
        books: dict[str, Any]) -> None:
    # given GLOBEX a subsidiary of INITECH (a customer with its own IBAN and nothing open),
    # and an invoice of ACME owing what GLOBEX's g2 owes
    owner, company, inv = books["owner"], books["company"], books["inv"]
    make_customer(company, owner, "INITECH", name="Initech Holding")
    bank_account_add(actor=owner, company=company, code="INITECH",
                     account=BankAccountInput(iban=PARENT_IBAN))
    Customer.objects.filter(company=company, code="GLOBEX").update(
        parent=Customer.objects.get(company=company, code="INITECH"))
    a4 = post_single(company, owner, "ACME", [line("a4", "1", "45.5")])
    # when INITECH pays 45.50 with nothing that names the invoice
    [r] = run(books, [("250320", "C45,50", PARENT_IBAN, "Initech Holding", "payment")],
              auto_apply=True)
    # then GLOBEX's g2 comes first, saying the payer is its parent; ACME's a4 after it
    assert r.decision == "suggested"
    top = r.suggestions[0]
    assert top.allocations == ((inv["g2"].number, 4550),)
    assert "counterparty IBAN is the customer's: INITECH, the parent company of the " \
        "customer" in top.evidence
    assert ((a4.number, 4550),) in [s.allocations for s in r.suggestions[1:]]
