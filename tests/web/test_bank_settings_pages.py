"""The bank's settings and the direct-debit file in the workspace: a CSV column mapping added
by a manager and used by an import, the direct debits falling due previewed (nothing kept),
the file written, listed and downloaded as kept, the auto-apply threshold set through the
audited service. Who may do what, strangers' 404s, the pages' query budgets and French."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from lxml import etree

from salesledger.apps.banking.matching import auto_apply_threshold
from salesledger.apps.banking.selectors import direct_debit_collections, statement_lines
from salesledger.apps.banking.services import statement_import
from salesledger.apps.core.models import AuditEvent
from salesledger.apps.core.services import company_profile_update
from salesledger.apps.customers.services import (
    BankAccountInput,
    bank_account_add,
    customer_update,
)
from salesledger.domain.errors import NotFound

from .conftest import AS_OF

pytestmark = pytest.mark.usefixtures("no_pdf_freezing")

OUR_IBAN = "NL26VAYB8060476890"
DEBTOR_IBAN = "DE89370400440532013000"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"}
DD = f"/c/acme/bank/direct-debit/?as_of={AS_OF}"


def _text(response: Any) -> str:
    return response.content.decode()


def _audits(company: Any, action: str = "") -> int:
    rows = AuditEvent.objects.filter(company=company)
    return (rows.filter(action=action) if action else rows).count()


# ---------------------------------------------------------------- mappings
def test_a_manager_adds_a_column_mapping_that_an_import_then_uses(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    owner = as_user(books["owner"])
    form = {"name": "rabo", "col_date": "Datum", "col_amount": "Bedrag",
            "col_counterparty_name": "Naam", "col_text": "Omschrijving",
            "date_format": "%d-%m-%Y", "decimal": ",", "delimiter": ";", "skip_lines": "0",
            "currency": "eur"}
    done = owner.post("/c/acme/bank/mappings/", form)
    assert done.status_code == 302
    page = _text(owner.get("/c/acme/bank/mappings/"))
    assert "rabo" in page and "date = Datum" in page and "%d-%m-%Y" in page
    assert _audits(books["company"], "bank_mapping.add") == 1
    # the mapping reads the bank's file as the command would
    bank = "settings/banks/"
    owner.post(f"/c/acme/{bank}", {"code": "NL", "name": "Rabo", "iban": OUR_IBAN,
                                   "currency": "EUR"})
    statement_import(actor=books["owner"], company=books["company"], account="NL",
                     mapping="rabo", data=b"Datum;Bedrag;Naam;Omschrijving\n"
                     b"02-05-2025;1200,50;Dupont;facture\n")
    [row] = statement_lines(books["company"])
    assert (row["amount"], row["currency"], row["counterparty_name"]) == (120050, "EUR",
                                                                          "Dupont")


@pytest.mark.parametrize("change, message", [
    ({"col_amount": ""}, "a mapping needs the date column and the amount column"),
    ({"name": "no spaces please"}, "a mapping&#x27;s name is 1 to 40 letters"),
    ({"skip_lines": "two"}, "lines before the header: a whole number, not two"),
    ({"decimal": ";"}, "the decimal mark is . or ,"),
    ({"currency": "EURO"}, "unknown currency"),
])
def test_a_wrong_mapping_is_refused_with_the_reason_and_nothing_kept(
        books: dict[str, Any], as_user: Callable[[Any], Any], change: dict[str, str],
        message: str) -> None:
    form = {"name": "bank", "col_date": "Date", "col_amount": "Amount", **change}
    refused = as_user(books["owner"]).post("/c/acme/bank/mappings/", form)
    assert refused.status_code == 400 and message in _text(refused)
    assert 'role="alert"' in _text(refused)
    assert _audits(books["company"], "bank_mapping.add") == 0


def test_a_clerk_reads_the_mappings_but_may_not_add_one(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    clerk = as_user(books["clerk"])
    assert 'method="post"' not in _text(clerk.get("/c/acme/bank/mappings/")).split(
        "</header>", 1)[1]
    refused = clerk.post("/c/acme/bank/mappings/", {"name": "x", "col_date": "d",
                                                    "col_amount": "a"})
    assert refused.status_code == 403 and _audits(books["company"], "bank_mapping.add") == 0


def test_a_manager_removes_a_mapping_others_may_not_and_a_stranger_finds_none(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    from salesledger.apps.banking.selectors import mappings_list
    from salesledger.apps.banking.services import mapping_add

    company = books["company"]
    mapping_add(actor=books["owner"], company=company, name="rabo",
                columns={"date": "Datum", "amount": "Bedrag"})
    remove = "/c/acme/bank/mappings/rabo/remove/"
    owner, clerk = as_user(books["owner"]), as_user(books["clerk"])
    page = _text(owner.get("/c/acme/bank/mappings/"))
    assert f'action="{remove}"' in page and 'aria-label="Remove column mapping rabo"' in page
    assert remove not in _text(clerk.get("/c/acme/bank/mappings/"))
    # a clerk may not; another company's user finds no such mapping, in acme or in its own
    assert clerk.post(remove).status_code == 403
    stranger = as_user(books["stranger"])
    assert stranger.post(remove).status_code == 404
    assert stranger.post("/c/globex/bank/mappings/rabo/remove/").status_code == 404
    assert owner.get(remove).status_code == 405
    assert [m.name for m in mappings_list(company)] == ["rabo"]
    done = owner.post(remove)
    assert done.status_code == 302 and done["Location"] == "/c/acme/bank/mappings/"
    assert mappings_list(company) == []
    [event] = AuditEvent.objects.filter(company=company, action="bank_mapping.remove")
    assert event.data["before"]["columns"] == {"date": "Datum", "amount": "Bedrag"}
    assert "Column mapping rabo is removed." in _text(owner.get("/c/acme/bank/mappings/"))
    # removed: not found, and an import that names it is refused by name
    assert owner.post(remove).status_code == 404
    with pytest.raises(NotFound, match="no column mapping 'rabo'"):
        statement_import(actor=books["owner"], company=company, account="NL",
                         mapping="rabo", data=b"Datum;Bedrag\n")


# ---------------------------------------------------------------- direct debit
@pytest.fixture
def mandate(books: dict[str, Any]) -> dict[str, Any]:
    books["company"] = company_profile_update(
        actor=books["owner"], company=books["company"], iban=OUR_IBAN, bic="ABNANL2A",
        creditor_id="DE98ZZZ09999999999")
    bank_account_add(actor=books["owner"], company=books["company"], code="C001",
                     account=BankAccountInput(iban=DEBTOR_IBAN))
    customer_update(actor=books["owner"], company=books["company"], code="C001",
                    mandate_reference="MDT-C001", mandate_signed=date(2025, 1, 2))
    return books


def test_the_debits_due_are_previewed_then_written_listed_and_downloaded(
        mandate: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    company, number = mandate["company"], mandate["first"].number
    clerk = as_user(mandate["clerk"])
    before = _audits(company)
    preview = clerk.get(f"{DD}&due_by=2025-05-31")
    text = _text(preview)
    assert preview.status_code == 200
    [d] = preview.context["preview"].debits
    assert (d.invoice, d.sequence, d.end_to_end_id) == (number, "FRST", f"{number}-1")
    assert "1 debit would be collected" in text and "Write the collection file" in text
    assert _audits(company) == before and direct_debit_collections(company) == []
    written = clerk.post(DD, {"due_by": "2025-05-31"})
    assert written.status_code == 302
    [c] = direct_debit_collections(company)
    assert (c["count"], c["total"]) == (1, 120000)
    assert _audits(company, "direct_debit.collect") == 1
    page = clerk.get(DD)
    assert page.context["preview"].debits == []  # collected once
    link = f"/c/acme/bank/direct-debit/{c['id']}/file/"
    assert link in _text(page)
    download = clerk.get(link)
    assert download.status_code == 200 and download["Content-Type"] == "application/xml"
    assert "attachment" in download["Content-Disposition"]
    doc = etree.fromstring(download.content)
    assert doc.findtext(".//p:EndToEndId", namespaces=NS) == f"{number}-1"
    # another company's user, and acme's collection under another company: not found
    assert as_user(mandate["stranger"]).get(link).status_code == 404
    assert as_user(mandate["stranger"]).get(
        f"/c/globex/bank/direct-debit/{c['id']}/file/").status_code == 404
    assert clerk.get("/c/acme/bank/direct-debit/999999/file/").status_code == 404


def test_the_direct_debit_page_says_what_is_missing_and_refuses_a_wrong_day(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    clerk = as_user(books["clerk"])
    # no creditor id: said on the page, which still reads
    page = clerk.get(DD)
    assert page.status_code == 200 and "creditor identifier" in _text(page)
    wrong = clerk.get(f"{DD}&due_by=31.05.2025")
    assert wrong.status_code == 400 and "31.05.2025 is not a date" in _text(wrong)
    refused = clerk.post(DD, {"due_by": "2025-05-31"})
    assert refused.status_code == 400 and "creditor identifier" in _text(refused)
    assert direct_debit_collections(books["company"]) == []


def test_a_viewer_reads_the_direct_debit_page_but_previews_and_writes_nothing(
        mandate: dict[str, Any], as_user: Callable[[Any], Any], django_user_model: Any
        ) -> None:
    from salesledger.apps.core.services import membership_set

    django_user_model.objects.create_user("vera")
    membership_set(actor=mandate["owner"], company=mandate["company"], username="vera",
                   role="viewer")
    viewer = as_user(django_user_model.objects.get(username="vera"))
    page = viewer.get(DD)
    assert page.status_code == 200 and page.context["preview"] is None
    assert viewer.post(DD, {"due_by": "2025-05-31"}).status_code == 403
    assert direct_debit_collections(mandate["company"]) == []


# ---------------------------------------------------------------- the threshold
def test_a_manager_sets_the_auto_apply_threshold_through_the_audited_service(
        books: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    company = books["company"]
    owner = as_user(books["owner"])
    assert "0.95" in _text(owner.get("/c/acme/bank/settings/"))
    assert owner.post("/c/acme/bank/settings/", {"threshold": "0,9"}).status_code == 302
    assert auto_apply_threshold(company) == 0.9
    event = AuditEvent.objects.get(company=company, action="banking_settings.update")
    assert (event.data["before"], event.data["after"]) == (
        {"auto_apply_threshold": 0.95}, {"auto_apply_threshold": 0.9})
    for typed, message in (("0.3", "between 0.5 and 1"), ("lots", "not lots"),
                           ("", "not nothing")):
        refused = owner.post("/c/acme/bank/settings/", {"threshold": typed})
        assert refused.status_code == 400 and message in _text(refused), typed
    assert auto_apply_threshold(company) == 0.9
    clerk = as_user(books["clerk"])
    assert "A manager changes it." in _text(clerk.get("/c/acme/bank/settings/"))
    assert clerk.post("/c/acme/bank/settings/", {"threshold": "0.99"}).status_code == 403
    assert auto_apply_threshold(company) == 0.9


# ---------------------------------------------------------------- queries, French
@pytest.mark.parametrize("extra", [0, 20])
def test_the_pages_cost_a_bounded_number_of_queries(
        mandate: dict[str, Any], as_user: Callable[[Any], Any], post_invoice: Any,
        django_assert_max_num_queries: Any, extra: int) -> None:
    owner = as_user(mandate["owner"])
    for n in range(extra):
        post_invoice("C001", lines=(("Item", 1, "10.00", "20"),))
        owner.post("/c/acme/bank/mappings/", {"name": f"m{n}", "col_date": "d",
                                              "col_amount": "a"})
    owner.post(DD, {"due_by": "2025-05-31"})
    budgets = {"/c/acme/bank/mappings/": 6, f"{DD}&due_by=2025-05-31": 14,
               "/c/acme/bank/settings/": 6}
    for url, budget in budgets.items():
        with django_assert_max_num_queries(budget, info=url):
            assert owner.get(url).status_code == 200, url


def test_the_pages_speak_french(mandate: dict[str, Any], as_user: Callable[[Any], Any]) -> None:
    client = as_user(mandate["owner"])
    client.post("/i18n/setlang/", {"language": "fr", "next": "/c/acme/"})
    assert "Correspondances de colonnes CSV" in _text(client.get("/c/acme/bank/mappings/"))
    from salesledger.apps.banking.services import mapping_add

    mapping_add(actor=mandate["owner"], company=mandate["company"], name="rabo",
                columns={"date": "Datum", "amount": "Bedrag"})
    removed = client.post("/c/acme/bank/mappings/rabo/remove/", follow=True)
    assert "La correspondance de colonnes rabo est supprimée." in _text(removed)
    assert "Prélèvement" in _text(client.get(DD))
    assert "Seuil d’application automatique" in _text(client.get("/c/acme/bank/settings/"))
