"""``dunning policy text`` and the text of a ``--level``: a level's reminder text written per
language and shown for each customer language; ``template show|set reminder --name`` reach
the same texts; ``dunning history --json`` says the policy and levels each notice was sent
under, and keeps saying it after the policy is edited. Bad input is one line, exit 2."""

from __future__ import annotations

import json
from datetime import date

import pytest

from salesledger.cli.main import main

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_pdf_freezing(no_pdf_freezing: None) -> None:
    """Posting's PDF freezing is queued for the worker: not this test's subject."""


def test_a_levels_text_per_language_and_the_history_of_its_notices(
        capsys, company, owner, make_customer, post_invoice, mailoutbox, tmp_path,
        django_capture_on_commit_callbacks):
    base = ["--company", company.code, "--user", owner.username]
    assert main(["dunning", "policy", "add", "STD", "--default", *base,
                 "--level", "5;Reminder;email;;;GENTLE",
                 "--level", "20;Second reminder;email+letter;15.00"]) == 0
    capsys.readouterr()
    body = tmp_path / "fr.txt"
    body.write_text("Bonjour,\n\nà régler au {as_of} :\n{items}\n\nTotal : {total}.\n",
                    encoding="utf-8")
    assert main(["dunning", "policy", "text", "STD", "2", "--language", "fr",
                 "--subject", "Deuxième relance de {company}", "--body-file", str(body),
                 *base]) == 0
    assert "sends the text STD-2; its version for fr is set" in capsys.readouterr().out
    assert main(["dunning", "policy", "show", "STD", *base]) == 0
    shown = capsys.readouterr().out
    assert "GENTLE (no version yet)" in shown and "STD-2 (fr)" in shown
    assert main(["dunning", "policy", "text", "STD", "2", "--json", *base]) == 0
    texts = {t["customer_language"]: t for t in json.loads(capsys.readouterr().out)["texts"]}
    assert texts["fr"]["subject"] == "Deuxième relance de {company}"
    assert texts["de"]["language"] == "fr"  # the company's language (France) stands in
    # the same text through the template commands
    assert main(["template", "show", "reminder", "--message", "--name", "STD-2",
                 "--language", "fr", *base]) == 0
    assert capsys.readouterr().out.startswith("Subject: Deuxième relance de {company}")
    assert main(["template", "set", "reminder", "--message", "--name", "GENTLE",
                 "--subject", "Petit rappel", "--body-file", str(body), *base]) == 0
    assert "reminder e-mail text GENTLE set for every language" in capsys.readouterr().out
    # a French customer receives level 2's French text
    make_customer("C1", name="Dupont SA", email="compta@dupont.example", language="fr")
    post_invoice("C1", lines=(("Audit", 1, "100.00", "20"),), issue_date=date(2025, 2, 8))
    with django_capture_on_commit_callbacks(execute=True):
        assert main(["dunning", "run", "--send", "--json", "--as-of", "2025-03-30",
                     *base]) == 0
    assert json.loads(capsys.readouterr().out)["messages_sent"] == 1
    [mail] = mailoutbox
    assert mail.subject.startswith("Deuxième relance de ")
    # the level renamed and moved afterwards: the history still says what was sent
    assert main(["dunning", "policy", "edit", "STD", *base,
                 "--level", "1=5;Reminder;email", "--level", "2=25;Relance;email"]) == 0
    capsys.readouterr()
    assert main(["dunning", "history", "C1", "--json", *base]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["policy"], row["level"], row["level_name"]) == ("STD", 2, "Second reminder")
    assert [(lv["number"], lv["days"], lv["fee_fixed"], lv["template"])
            for lv in row["levels"]] == [(2, 20, "1500", "STD-2")]
    assert main(["dunning", "history", "C1", *base]) == 0
    assert "STD     2 Second reminder" in capsys.readouterr().out
    # bad input: one line, exit 2, no traceback
    for args, said in (
            (["policy", "text", "STD", "9", "--subject", "x", "--body-file", str(body)],
             "dunning policy STD has no level 9"),
            (["policy", "text", "STD", "2", "--subject", "x"],
             "a level's text needs --subject and --body-file"),
            (["policy", "text", "STD", "2", "--language", "it", "--subject", "x",
              "--body-file", str(body)], "unsupported language 'it'"),
            (["policy", "add", "X", "--level", "5;A;email;;;bad name"],
             "a text's name is 1 to 40 letters")):
        assert main(["dunning", *args, *base]) == 2, args
        err = capsys.readouterr().err
        assert said in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
