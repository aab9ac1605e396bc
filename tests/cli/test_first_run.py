"""The first minutes with the command line: a database that was never set up and a database
with no company say what to do next, instead of a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from salesledger.cli.main import main


def test_a_database_that_was_never_set_up_says_how_to_set_it_up(tmp_path: Path) -> None:
    # given a home directory with no database yet (a separate process: its own settings)
    env = {k: v for k, v in os.environ.items()
           if k not in ("SALESLEDGER_DATABASE_URL", "SALESLEDGER_TESTING")}
    env["SALESLEDGER_HOME"] = str(tmp_path)
    # when a command that reads the books runs
    done = subprocess.run([sys.executable, "-m", "salesledger.cli.main", "balance", "--json"],
                          env=env, capture_output=True, text=True, timeout=600)
    # then it fails with a business error naming the database and the way out
    assert done.returncode == 2, done.stderr
    problem = json.loads(done.stderr)
    assert problem["code"] == "database_not_ready"
    assert str(tmp_path / "var") in problem["message"]
    assert "salesledger manage migrate" in problem["message"]


def test_a_new_home_with_its_secret_key_in_the_environment_starts(tmp_path: Path) -> None:
    # given a home directory with nothing in it, and the secret key given by the environment
    # (so that nothing makes var/ for the key)
    env = {k: v for k, v in os.environ.items()
           if k not in ("SALESLEDGER_DATABASE_URL", "SALESLEDGER_TESTING")}
    env.update(SALESLEDGER_HOME=str(tmp_path), SALESLEDGER_SECRET_KEY="k" * 50)
    # when the first command sets the books up
    done = subprocess.run([sys.executable, "-m", "salesledger.cli.main", "init", "--company",
                           "acme", "--owner", "alice", "--json"],
                          env=env, capture_output=True, text=True, timeout=600)
    # then the database is made under var/, where the guide says it is
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"company": "acme", "owner": "alice"}
    assert (tmp_path / "var" / "salesledger.sqlite3").is_file()


@pytest.mark.django_db
def test_no_company_yet_says_how_to_create_one(capsys) -> None:
    assert main(["balance"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("not_found: there is no company yet")
    assert "salesledger init --company CODE --owner USER" in err
