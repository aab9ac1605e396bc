"""``customer export-data`` and ``customer anonymise`` on the command line: the file written,
``--confirm`` required, refusals as ``code: message`` with exit status 2."""

from __future__ import annotations

import json
import zipfile

import pytest

from tests.support import run, run_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(capsys):
    assert run(capsys, "init", "--company", "acme", "--owner", "alice")[0] == 0
    assert run(capsys, "customer", "add", "--code", "P1", "--name", "Jeanne Martin",
               "--email", "jeanne@example.org", "--country", "FR")[0] == 0


def test_the_export_is_written_as_a_zip_or_as_json(capsys, books, tmp_path):
    target = tmp_path / "p1.zip"
    code, out, err = run(capsys, "customer", "export-data", "P1", "--output", str(target))
    assert (code, err) == (0, "")
    assert out.startswith(f"data of customer P1: wrote {target} (")
    with zipfile.ZipFile(target) as z:
        data = json.loads(z.read("customer.json"))
    assert data["customer"]["contacts"][0]["email"] == "jeanne@example.org"
    answer = run_json(capsys, "customer", "export-data", "P1", "--format", "json",
                      "--output", str(tmp_path / "p1.json"))
    assert answer["customer"] == "P1" and answer["files"] == 0
    assert json.loads((tmp_path / "p1.json").read_text())["customer"]["name"] == "Jeanne Martin"


def test_anonymise_needs_confirm_then_erases_once(capsys, books):
    code, out, err = run(capsys, "customer", "anonymise", "P1")
    assert (code, out) == (2, "") and err.startswith("invalid: anonymising erases")
    assert run_json(capsys, "customer", "show", "P1")["name"] == "Jeanne Martin"
    code, out, err = run(capsys, "customer", "anonymise", "P1", "--confirm")
    assert (code, err) == (0, "")
    assert out == ("customer P1 anonymised: 1 contact, 0 addresses and 0 bank accounts "
                   "removed, 0 communications erased; issued documents are kept\n")
    shown = run_json(capsys, "customer", "show", "P1")
    assert (shown["name"], shown["email"], shown["contacts"]) == ("Anonymised customer", "", [])
    assert run_json(capsys, "customer", "anonymise", "P1", "--confirm")["already"] is True


def test_a_refusal_is_a_business_error(capsys, books):
    run(capsys, "invoice", "create", "--customer", "P1", "--date", "2025-03-10",
        "--line", "Lessons;1;50;0", "--post", "--as-of", "2025-03-10")
    code, out, err = run(capsys, "customer", "anonymise", "P1", "--confirm",
                         "--as-of", "2025-04-01")
    assert (code, out) == (2, "")
    assert err == ("anonymise_refused: customer P1 has open items: an open instalment of "
                   "INV2025-00001 (50.00 EUR open); settle, write off or refund them first\n")
    code, out, err = run(capsys, "customer", "anonymise", "P1", "--confirm", "--user", "nobody")
    assert (code, err) == (2, "not_found: no user 'nobody'\n")
