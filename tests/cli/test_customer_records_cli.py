"""``customer review-list``, ``customer duplicates``, ``customer merge`` and ``customer
unmerge`` on the command line: what they print, their JSON, and refusals as ``code: message``
with exit status 2."""

from __future__ import annotations

import pytest

from tests.support import run, run_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(capsys):
    assert run(capsys, "init", "--company", "acme", "--owner", "alice")[0] == 0
    for code, name, tax in (("C1", "Dupont et Fils SARL", "FR40303265045"),
                            ("C2", "DUPONT & FILS", ""), ("C3", "Martin Plomberie", ""),
                            ("U1", "Dupont Fils Inc", "")):
        extra = ("--tax-id", tax) if tax else ()
        currency = ("--currency", "USD") if code == "U1" else ()
        assert run(capsys, "customer", "add", "--code", code, "--name", name, "--country",
                   "FR", *extra, *currency)[0] == 0


def test_the_review_list_by_as_of_and_the_companys_period(capsys, books):
    assert run_json(capsys, "customer", "review-list")["customers"] == []
    later = run_json(capsys, "customer", "review-list", "--as-of", "2099-01-01")
    assert [c["code"] for c in later["customers"]] == ["C1", "C2", "C3", "U1"]
    assert later["review_days"] == 60 and later["customers"][0]["reasons"] == [
        "never confirmed"]
    assert run(capsys, "customer", "update", "C2", "--verified")[0] == 0
    code, out, err = run(capsys, "company", "set", "--review-days", "0")
    assert (code, out) == (2, "") and err.startswith("invalid: the review period is a number")
    assert run(capsys, "company", "set", "--review-days", "90")[0] == 0
    code, out, err = run(capsys, "customer", "review-list", "--as-of", "2099-01-01")
    assert code == 0 and "not confirmed in 90 days" in out
    assert "C2" in out and "never confirmed" in out


def test_duplicates_name_the_pair_the_reasons_and_the_score(capsys, books):
    pairs = run_json(capsys, "customer", "duplicates")
    # U1 is kept in another currency: still the same name (though it cannot be merged)
    assert [(p["a"], p["b"], p["reasons"], p["score"]) for p in pairs] == [
        ("C1", "C2", ["name"], 100.0), ("C1", "U1", ["name"], 100.0),
        ("C2", "U1", ["name"], 100.0)]
    code, out, err = run(capsys, "customer", "duplicates")
    assert code == 0 and "C1" in out and "C2" in out and "100.0" in out


def test_merge_show_and_unmerge(capsys, books):
    code, out, err = run(capsys, "customer", "merge", "C2", "C1", "--reason", "entered twice")
    assert (code, err) == (0, "")
    assert out.startswith("customer C2 merged into C1: its balance, open items and reports")
    shown = run_json(capsys, "customer", "show", "C2")
    assert (shown["merged_into"], shown["aliases"]) == ("C1", [])
    assert run_json(capsys, "customer", "show", "C1")["aliases"] == ["C2"]
    code, out, _ = run(capsys, "customer", "show", "C2")
    assert "merged into" in out and "C1 since" in out
    # the duplicates list no longer proposes the alias
    assert [(p["a"], p["b"]) for p in run_json(capsys, "customer", "duplicates")] == [
        ("C1", "U1")]
    assert run(capsys, "check")[0] == 0
    assert run_json(capsys, "customer", "unmerge", "C2") == {
        "customer": "C2", "was_merged_into": "C1", "reason": ""}
    assert run(capsys, "check")[0] == 0


@pytest.mark.parametrize(("argv", "message"), [
    (("customer", "merge", "C1", "C1"), "merge_refused: customer C1 cannot be merged into "
                                        "itself"),
    (("customer", "merge", "U1", "C1"), "merge_refused: customer U1 is kept in USD and C1 in "
                                        "EUR"),
    (("customer", "merge", "C9", "C1"), "unknown_customer: no customer with code 'C9'"),
    (("customer", "unmerge", "C2"), "merge_refused: customer C2 is not merged"),
    (("customer", "duplicates", "--min-score", "120"), "invalid: --min-score is a score"),
])
def test_refusals_are_clear_with_exit_status_2(capsys, books, argv, message):
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert err.startswith(message) and "Traceback" not in err


def test_an_import_of_invoices_named_for_an_alias_issues_them_to_the_survivor(
        capsys, books, tmp_path):
    assert run(capsys, "customer", "merge", "C2", "C1")[0] == 0
    path = tmp_path / "invoices.csv"
    path.write_text("ref,customer,issue_date,description,quantity,unit_price,tax_rate\n"
                    "A,C2,2025-03-01,Consulting,1,100,20\n", encoding="utf-8")
    assert run(capsys, "import", "invoices", str(path))[0] == 0
    [listed] = run_json(capsys, "invoice", "list")
    assert listed["customer"] == "C1"
    assert run(capsys, "check")[0] == 0


def test_editing_a_contact_trusts_its_address_again(capsys, books):
    from salesledger.apps.customers.models import Customer
    from salesledger.apps.customers.services import emails_mark_doubtful

    assert run(capsys, "customer", "update", "C3", "--email", "lea@martin.example")[0] == 0
    assert run(capsys, "customer", "add", "--code", "C5", "--name", "Lea",
               "--country", "FR", "--email", "bounce@lea.example")[0] == 0
    emails_mark_doubtful(actor=None, company=Customer.objects.get(code="C5").company,
                         customer_id=Customer.objects.get(code="C5").pk,
                         refused={"bounce@lea.example": "550 no such user"},
                         communication_id=0)
    shown = run_json(capsys, "customer", "show", "C5")
    assert shown["contacts"][0]["doubtful"]["reason"] == "550 no such user"
    code, out, _ = run(capsys, "customer", "show", "C5")
    assert "DOUBTFUL since" in out and "550 no such user" in out
    assert run_json(capsys, "customer", "contact", "C5", "bounce@lea.example",
                    "--new-email", "lea@lea.example")["doubtful"] is False
    assert run_json(capsys, "customer", "show", "C5")["contacts"][0]["doubtful"] is None
    code, out, err = run(capsys, "customer", "contact", "C5", "nobody@lea.example")
    assert (code, out) == (2, "")
    assert err.startswith("not_found: customer C5 has no contact with e-mail address")


def test_a_contact_is_added_and_removed_audited_with_what_it_held(capsys, books):
    from salesledger.apps.core.models import AuditEvent

    added = run_json(capsys, "customer", "add-contact", "C3", "Tom Martin", "--email",
                     "tom@martin.example", "--roles", "payables,billing")
    assert (added["name"], added["roles"]) == ("Tom Martin", "payables,billing")
    code, out, _ = run(capsys, "customer", "add-contact", "C3", "Ana", "--email",
                       "ana@martin.example")
    assert (code, out) == (0, "contact Ana <ana@martin.example> added to C3\n")
    assert [c["email"] for c in run_json(capsys, "customer", "show", "C3")["contacts"]] == [
        "tom@martin.example", "ana@martin.example"]
    # the address is matched whatever its case; the other contact stays
    code, out, _ = run(capsys, "customer", "remove-contact", "C3", "TOM@martin.example")
    assert (code, out) == (0, "contact Tom Martin <tom@martin.example> removed from C3\n")
    assert [c["email"] for c in run_json(capsys, "customer", "show", "C3")["contacts"]] == [
        "ana@martin.example"]
    event = AuditEvent.objects.filter(action="customer.contact_remove").get()
    assert event.data["before"]["name"] == "Tom Martin"
    assert event.data["before"]["roles"] == "payables,billing"
    code, out, err = run(capsys, "customer", "remove-contact", "C3", "tom@martin.example")
    assert (code, out) == (2, "")
    ana = run_json(capsys, "customer", "show", "C3")["contacts"][0]["id"]
    assert err.startswith("not_found: customer C3 has no contact with e-mail address "
                          f"'tom@martin.example' (its contacts: {ana} ana@martin.example)")
    assert AuditEvent.objects.filter(action="customer.contact_remove").count() == 1


def test_a_contact_without_an_e_mail_address_is_named_by_its_id(capsys, books):
    from salesledger.apps.core.models import AuditEvent

    run_json(capsys, "customer", "add-contact", "C3", "Paul (phone only)", "--phone",
             "+33 1 23 45 67 89")
    [paul] = [c for c in run_json(capsys, "customer", "show", "C3")["contacts"]
              if c["name"] == "Paul (phone only)"]
    code, out, _ = run(capsys, "customer", "show", "C3")
    assert f"contact {paul['id']}: Paul (phone only) <>" in out
    # neither an address nor an id: a clear refusal, exit 2
    code, out, err = run(capsys, "customer", "contact", "C3", "--phone", "1")
    assert (code, out, err) == (
        2, "", "invalid: name the contact by its e-mail address or its id\n")
    changed = run_json(capsys, "customer", "contact", "C3", "--id", str(paul["id"]),
                       "--new-email", "paul@martin.example")
    assert (changed["name"], changed["email"]) == ("Paul (phone only)", "paul@martin.example")
    code, out, _ = run(capsys, "customer", "remove-contact", "C3", "--id", str(paul["id"]))
    assert (code, out) == (
        0, "contact Paul (phone only) <paul@martin.example> removed from C3\n")
    code, out, err = run(capsys, "customer", "remove-contact", "C3", "--id", str(paul["id"]))
    assert code == 2 and err.startswith(
        f"not_found: customer C3 has no contact with id {paul['id']} (its contacts: ")
    assert AuditEvent.objects.filter(action="customer.contact_remove").count() == 1
