"""``customer statement --schedule``: a schedule set, run twice with ``--json`` (the second
sends nothing), and bad input refused in one line with exit 2."""

from __future__ import annotations

import json
from datetime import date

import pytest

from salesledger.cli.main import main

pytestmark = pytest.mark.django_db


def test_a_schedule_run_twice_sends_once_and_bad_input_is_one_line(
        capsys, company, owner, make_customer, post_invoice, mailoutbox,
        django_capture_on_commit_callbacks):
    make_customer("C1", name="Dupont SA", email="compta@dupont.example")
    post_invoice("C1", lines=(("Audit", 1, "100.00", "20"),), issue_date=date(2025, 3, 3))
    base = ["--company", company.code, "--user", owner.username]
    assert main(["customer", "statement", "--schedule", "set", "--every", "monthly",
                 "--day", "31", "--as-of", "2025-03-15", *base]) == 0
    assert "monthly on day 31, to all with a balance" in capsys.readouterr().out
    with django_capture_on_commit_callbacks(execute=True):
        assert main(["customer", "statement", "--schedule", "run", "--send", "--json",
                     "--as-of", "2025-03-31", *base]) == 0
    first = json.loads(capsys.readouterr().out)
    assert (first["customers"], first["messages_sent"]) == (1, 1)
    assert first["planned"] == [{"customer": "C1", "period": "2025-03-31",
                                 "schedule": "STATEMENTS"}]
    with django_capture_on_commit_callbacks(execute=True):
        assert main(["customer", "statement", "--schedule", "run", "--send", "--json",
                     "--as-of", "2025-04-01", *base]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["customers"], again["messages_sent"], again["skipped"]) == (0, 0, [])
    assert [m.to for m in mailoutbox] == [["compta@dupont.example"]]
    # bad input: one line, exit 2, no traceback
    for args, said in ((["--schedule", "set", "--every", "weekly", "--day", "9"],
                        "invalid: --day 9: a weekly schedule takes a day of the "
                        "week, 1 (Monday) to 7 (Sunday)"),
                       (["--schedule", "set", "--every", "monthly"],
                        "--schedule set needs --every monthly|weekly and --day N"),
                       (["--schedule", "stop", "--name", "NOPE"],
                        "no statement schedule NOPE in ")):
        assert main(["customer", "statement", *args, *base]) == 2
        err = capsys.readouterr().err
        assert said in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
