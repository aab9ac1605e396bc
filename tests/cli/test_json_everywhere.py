"""``--json`` on every command: walks the parser for every sub-command and runs each one, in a
story that gives it something to act on, checking that standard output is one JSON document
(and standard error empty). A new command without a case here fails the walk."""

from __future__ import annotations

import argparse
import email
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from salesledger.cli.main import build_parser, main

pytestmark = pytest.mark.django_db

# Commands that are not one question and one answer.
NOT_RUN = {"serve": "a web server that runs until stopped",
           "worker": "manages its own database connections: run in a process of its own, "
                     "in test_mail_without_a_mail_server_goes_to_a_file_not_the_terminal",
           "backup": "reads the database outside any transaction (pg_dump is another "
                     "process): its --json answer is read in tests/backup/test_backup_restore.py",
           "restore": "needs a second, empty database: its --json answer is read in "
                      "tests/backup/test_backup_restore.py"}


def leaf_parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
                 ) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            if not action.required:  # the command answers alone too (``worklist``)
                yield path, parser
            for name, sub in action.choices.items():
                yield from leaf_parsers(sub, (*path, name))
            return
    yield path, parser


def leaf_commands() -> set[tuple[str, ...]]:
    return {path for path, _ in leaf_parsers(build_parser())}


def test_every_command_takes_json() -> None:
    for path, parser in leaf_parsers(build_parser()):
        assert any("--json" in a.option_strings for a in parser._actions), path


Step = tuple[str, ...] | Callable[[dict[str, Any]], tuple[str, ...]]


def story(tmp: Path) -> list[tuple[str, Step]]:
    """(name to keep the answer under, argv) in order; argv may use earlier answers."""
    customers = tmp / "customers.csv"
    customers.write_text("code,name,country\nC9,Martin,FR\n", encoding="utf-8")
    statement = tmp / "statement.sta"
    statement.write_text(":20:S\n:25:FR7630006000011234567890189\n:28C:1/1\n"
                         ":60F:C250101EUR0,00\n:61:2501020102C5,00NTRFNONREF//R1\n"
                         ":86:/NAME/DUPONT/REMI/INV1\n:62F:C250102EUR5,00\n-\n",
                         encoding="utf-8")
    paid = tmp / "paid.sta"
    paid.write_text(":20:S\n:25:FR7630006000011234567890189\n:28C:2/1\n"
                    ":60F:C250102EUR5,00\n:61:2503210321C120,00NTRFNONREF//R2\n"
                    ":86:/NAME/DUPONT SARL/REMI/PAYMENT\n:61:2503220322C120,00NTRFNONREF//R3\n"
                    ":86:/NAME/Dupont/REMI/March\n:62F:C250322EUR245,00\n-\n",
                    encoding="utf-8")
    rates = tmp / "rates.csv"
    rates.write_text("date,currency,rate\n2025-03-03,USD,0.92\n", encoding="utf-8")
    ref_rates = tmp / "reference-rates.csv"
    ref_rates.write_text("valid_from,percent,source\n2025-07-01,2.15,ECB\n", encoding="utf-8")
    layout = tmp / "layout.html"
    body = tmp / "body.txt"
    body.write_text("Bonjour {customer}", encoding="utf-8")
    day = ("--as-of", "2025-03-10")
    return [
        ("init", ("init", "--company", "acme", "--owner", "alice", "--name", "Acme")),
        ("user", ("user", "add", "bob", "--role", "clerk")),
        ("", ("user", "role", "bob", "credit_controller")),
        ("", ("user", "role", "bob", "clerk")),
        ("company", ("company", "set", "--iban", "FR7630006000011234567890189", "--bic",
                     "AGRIFRPP", "--address-line1", "12 rue de la Paix", "--city", "Paris",
                     "--postal-code", "75002", "--email", "billing@acme.example",
                     "--tax-id", "FR40303265045", "--creditor-id", "DE98ZZZ09999999999")),
        ("", ("company", "show")),
        ("", ("company", "numbering", "--series", "INV", "--year", "2026", "--prefix", "FA")),
        ("", ("terms", "add", "NET45", "--name", "45 days net", "--days", "45")),
        ("", ("terms", "set", "NET45", "--name", "45 days end of month", "--days", "45",
              "--end-of-month")),
        ("", ("terms", "list")),
        ("", ("bank", "account", "add", "SAVINGS", "--name", "Savings",
              "--iban", "DE89370400440532013000")),
        ("", ("bank", "account", "list")),
        ("", ("bank", "mapping", "add", "mybank", "--column", "date=Date",
              "--column", "amount=Amount")),
        ("", ("bank", "mapping", "list")),
        ("", ("bank", "mapping", "add", "old", "--column", "date=D", "--column", "amount=A")),
        ("", ("bank", "mapping", "remove", "old")),
        ("", ("bank", "import", str(statement))),
        ("", ("bank", "statements")),
        ("", ("bank", "lines", "--status", "unmatched")),
        ("", ("customer", "add", "--code", "C1", "--name", "Dupont", "--country", "FR",
              "--email", "compta@dupont.example")),
        ("", ("customer", "add", "--code", "C2", "--name", "Durand", "--country", "FR",
              "--email", "compta@durand.example")),
        ("", ("customer", "list")),
        ("", ("customer", "update", "C1", "--phone", "0102030405")),
        ("", ("customer", "add-iban", "C2", "DE89 3704 0044 0532 0130 00")),
        ("", ("customer", "remove-iban", "C2", "DE89370400440532013000")),
        ("", ("customer", "show", "C1")),
        ("inv1", ("invoice", "create", "--customer", "C1", "--date", "2025-03-10",
                  "--line", "Conseil;1;100;20", "--post", *day)),
        ("draft", ("invoice", "create", "--customer", "C1", "--date", "2025-03-10",
                   "--line", "Conseil;2;100;20", *day)),
        ("", lambda s: ("invoice", "update", str(s["draft"]["id"]), "--contract", "CT-7")),
        ("inv2", lambda s: ("invoice", "post", str(s["draft"]["id"]), *day)),
        ("inv3", ("invoice", "create", "--customer", "C2", "--date", "2025-03-10",
                  "--line", "Conseil;1;50;20", "--post", *day)),
        ("", ("invoice", "show", "INV2025-00001")),
        ("", ("invoice", "list")),
        ("", ("invoice", "einvoice", "INV2025-00001", "--format", "ubl")),
        ("", ("invoice", "einvoice", "INV2025-00001", "--format", "cii", "--output",
              str(tmp / "inv.xml"))),
        ("", ("invoice", "pdf", "INV2025-00001", "--output", str(tmp / "inv.pdf"))),
        ("", ("invoice", "send", "INV2025-00001", *day)),
        ("", ("credit-note", "create", "--customer", "C1", "--date", "2025-03-10",
              "--corrects", "INV2025-00002", "--line", "Conseil;0.5;100;20", "--post", *day)),
        ("", ("receipt", "record", "--customer", "C1", "--amount", "50", "--date",
              "2025-03-12")),
        ("alloc", ("receipt", "allocate", "RCT2025-00001", "--invoice", "INV2025-00001=50",
                   "--as-of", "2025-03-12")),
        ("", lambda s: ("receipt", "unallocate", str(s["alloc"][0]["allocation"]),
                        "--as-of", "2025-03-12")),
        ("", ("receipt", "auto-allocate", "--as-of", "2025-03-12")),
        ("", ("receipt", "record", "--customer", "C1", "--amount", "30", "--date",
              "2025-03-13")),
        ("refund", ("receipt", "refund", "RCT2025-00002", "--amount", "10", "--as-of",
                    "2025-03-13")),
        ("", lambda s: ("refund", "reverse", s["refund"]["refund"], "--as-of", "2025-03-13")),
        ("", ("receipt", "reverse", "RCT2025-00002", "--reason", "returned", "--as-of",
              "2025-03-14")),
        ("adj", ("invoice", "adjust", "INV2025-00001", "--kind", "deduction", "--amount", "1",
                 "--reason-code", "pricing",
                 "--as-of", "2025-03-15")),
        ("", lambda s: ("adjustment", "reverse", str(s["adj"]["adjustment"]), "--as-of",
                        "2025-03-15")),
        ("", ("adjustment", "list")),
        ("", ("adjustment", "settings")),
        ("", ("invoice", "write-off", "INV2025-00001", "--reason", "gone", "--as-of",
              "2025-03-16")),
        ("", ("receipt", "record", "--customer", "C1", "--amount", "20", "--date",
              "2025-03-17")),
        ("", ("invoice", "recover", "INV2025-00001", "--receipt", "RCT2025-00003", "--as-of",
              "2025-03-17")),
        ("", ("invoice", "history", "INV2025-00001")),
        ("", ("customer", "write-off", "C2", "--reason", "insolvent", "--as-of", "2025-03-18")),
        ("", ("balance", "--as-of", "2025-03-31")),
        ("", ("open-items", "--as-of", "2025-03-31")),
        ("", ("report", "aging", "--as-of", "2025-03-31")),
        ("", ("report", "aging", "--detail", "--as-of", "2025-03-31")),
        ("", ("report", "unapplied", "--as-of", "2025-03-31")),
        ("", ("report", "kpis", "--months", "2", "--as-of", "2025-03-31")),
        ("", ("report", "trends", "--months", "2", "--as-of", "2025-03-31")),
        ("", ("report", "forecast", "--weeks", "4", "--as-of", "2025-03-31")),
        ("", ("report", "forecast", "--backtest", "--runs", "1", "--as-of", "2025-03-31")),
        ("", ("report", "pack", "--month", "2025-03", "--pdf", str(tmp / "pack.pdf"))),
        ("", ("report", "portfolio", "--as-of", "2025-03-31")),
        ("", ("report", "forecast", "--weeks", "4", "--estimator", "model", "--as-of",
              "2025-03-31")),
        ("", ("credit", "predict", "--as-of", "2025-03-31")),
        ("", ("credit", "predict", "C1", "--retrain", "--as-of", "2025-03-31")),
        ("", ("credit", "backtest", "--as-of", "2025-03-20", "--until", "2025-03-31")),
        ("", ("customer", "statement", "C1", "--from", "2025-03-01", "--to", "2025-03-31")),
        ("", ("customer", "statement", "C1", "--output", str(tmp / "st.pdf"),
              "--as-of", "2025-03-31")),
        ("", ("customer", "statement", "C1", "--email", "--as-of", "2025-03-31")),
        ("", ("customer", "statement", "--schedule", "set", "--every", "monthly", "--day", "1",
              "--as-of", "2025-03-15")),
        ("", ("customer", "statement", "--schedule", "show")),
        ("", ("customer", "statement", "--schedule", "run", "--send", "--as-of", "2025-04-01")),
        ("", ("customer", "statement", "--schedule", "stop")),
        ("", ("import", "customers", str(customers))),
        ("", ("customer", "export-data", "C9", "--output", str(tmp / "c9.zip"))),
        ("", ("customer", "anonymise", "C9", "--confirm")),
        ("", ("company", "two-factor", "require")),
        ("", ("company", "two-factor", "lift")),
        ("", ("user", "two-factor-reset", "bob")),
        ("", ("user", "add", "gone", "--role", "viewer")),
        ("", ("user", "remove", "gone")),
        ("", ("export", "customers", str(tmp / "out.csv"))),
        ("export", ("export", "customers")),
        ("", ("quote", "create", "--customer", "C1", "--line", "Audit;1;500;20", *day)),
        ("", ("quote", "revise", "QUO2025-00001", "--notes", "with travel", *day)),
        ("", ("quote", "send", "QUO2025-00001", "--no-email", *day)),
        ("", ("quote", "accept", "QUO2025-00001", *day)),
        ("", ("quote", "convert", "QUO2025-00001", *day)),
        ("", ("quote", "create", "--customer", "C1", "--line", "Audit;1;500;20", *day)),
        ("", ("quote", "send", "QUO2025-00002", "--no-email", *day)),
        ("", ("quote", "decline", "QUO2025-00002", *day)),
        ("", ("quote", "show", "QUO2025-00001", *day)),
        ("", ("quote", "list", *day)),
        ("schedule", ("recurring", "add", "--customer", "C1", "--line", "Hosting;1;10;20",
                      "--every", "month", "--start", "2025-03-01", *day)),
        ("", lambda s: ("recurring", "stop", str(s["schedule"]["id"]), *day)),
        ("", lambda s: ("recurring", "resume", str(s["schedule"]["id"]), *day)),
        ("", ("recurring", "run", *day)),
        ("", ("recurring", "list", *day)),
        ("", lambda s: ("recurring", "show", str(s["schedule"]["id"]))),
        ("", ("fx", "rate", "add", "USD", "0.91", "--date", "2025-03-01")),
        ("", ("fx", "rate", "import", str(rates))),
        ("", ("fx", "rate", "list")),
        ("", ("fx", "rate", "show", "USD", *day)),
        ("", ("customer", "add", "--code", "U1", "--name", "Smith", "--country", "US",
              "--currency", "USD")),
        ("", ("invoice", "create", "--customer", "U1", "--date", "2025-03-10",
              "--line", "Support;1;100;0;;O", "--post", *day)),
        ("run", ("fx", "revalue", "--as-of", "2025-03-31", "--rate", "USD=0.95")),
        ("", ("fx", "revaluations",)),
        ("", lambda s: ("fx", "revalue-reverse", str(s["run"]["run"]))),
        ("", ("template", "show", "invoice", "--language", "fr")),
        ("", ("template", "set", "invoice", "--message", "--language", "fr", "--subject",
              "Facture {number}", "--body-file", str(body))),
        ("", ("template", "list")),
        ("", ("template", "reset", "invoice", "--message", "--language", "fr")),
        ("template", ("template", "show", "statement")),
        ("", lambda s: _preview(layout, s["template"]["html"], tmp / "preview.pdf")),
        ("conseil", ("invoice", "create", "--customer", "C1", "--date", "2025-03-20",
                     "--line", "Conseil;1;100;20", "--post", "--as-of", "2025-03-20")),
        ("", ("bank", "import", str(paid))),
        # the lines by their ids (not counted from 1: PostgreSQL's sequences run on)
        ("lines", ("bank", "lines")),
        ("", ("bank", "match")),
        ("", ("bank", "review")),
        ("", lambda s: ("bank", "reject", str(_line(s, 1)))),
        ("", lambda s: ("bank", "confirm", str(_line(s, 2)))),
        ("", lambda s: ("bank", "unmatch", str(_line(s, 2)), "--as-of", "2025-03-31")),
        ("", ("bank", "settings", "--auto-apply-threshold", "0.9")),
        ("", ("bank", "direct-debit", "--due-by", "2025-03-31", "--dry-run")),
        ("", ("bank", "reconcile-report", "--as-of", "2025-03-31", "--detail")),
        ("", ("bank", "rule", "add", "bank-fees", "--text", "fees", "--direction", "out",
              "--amount-max", "50", "--account", "bank_charges")),
        ("", ("bank", "rule", "add", "dupont", "--counterparty", "dupont", "--direction",
              "in", "--customer", "C1", "--position", "1")),
        ("", ("bank", "rule", "list")),
        ("", ("bank", "rule", "remove", "dupont")),
        ("", lambda s: ("bank", "remittance", str(_line(s, 1)),
                        _advice(tmp, s["conseil"]["number"]))),
        ("", ("bank", "match", "--auto-apply", "--dry-run")),
        # collections: ids from the answers
        ("cinv", ("invoice", "create", "--customer", "C1", "--date", "2025-03-21",
                  "--line", "Conseil;3;100;20", "--post", "--as-of", "2025-03-21")),
        ("disp", lambda s: ("dispute", "open", s["cinv"]["number"], "--reason", "pricing",
                            "--amount", "60", "--as-of", "2025-04-25")),
        ("", lambda s: ("dispute", "resolve", str(s["disp"]["id"]), "--credit-note-line",
                        "Remise;1;50;20", "--as-of", "2025-04-28")),
        ("disp2", lambda s: ("dispute", "open", s["cinv"]["number"], "--reason", "quality",
                             "--amount", "10", "--as-of", "2025-04-28")),
        ("", lambda s: ("dispute", "reject", str(s["disp2"]["id"]), "--as-of", "2025-04-29")),
        ("", ("dispute", "list")),
        ("", lambda s: ("promise", "add", "C1", "--amount", "100", "--date", "2025-05-05",
                        "--invoice", s["cinv"]["number"], "--as-of", "2025-04-29")),
        ("", ("promise", "list", "--as-of", "2025-05-06")),
        ("", ("promise", "review", "--as-of", "2025-05-06")),
        ("plan", ("plan", "create", "C1", "--instalments", "3", "--first-due", "2025-05-15",
                  "--as-of", "2025-05-07")),
        ("", lambda s: ("plan", "show", str(s["plan"]["id"]), "--as-of", "2025-05-07")),
        ("", ("plan", "list", "--as-of", "2025-06-30")),
        ("", ("plan", "review", "--as-of", "2025-06-30")),
        ("", ("user", "role", "bob", "collector")),
        ("", ("worklist", "assign", "C1", "bob", "--next", "2025-05-10", "--as-of",
              "2025-05-07")),
        ("", ("worklist", "--as-of", "2025-06-30")),
        ("reply", ("customer", "note", "C1", "Asked for a copy", "--inbound-reply",
                   "--as-of", "2025-05-08")),
        ("", lambda s: ("customer", "note", "--handled", str(s["reply"]["id"]), "--as-of",
                        "2025-05-09")),
        ("", ("customer", "call", "C1", "--outcome", "reached", "--notes", "will pay",
              "--as-of", "2025-05-09")),
        ("", ("customer", "timeline", "C1", "--as-of", "2025-06-30")),
        ("", ("credit", "settings", "--horizon-days", "30", "--thresholds", "25,50,75")),
        ("", ("credit", "limit", "set", "C1", "5000", "--reason", "annual review")),
        ("", ("credit", "limit", "set", "--company-default", "1000", "--reason", "policy")),
        ("", ("credit", "limit", "show", "C1")),
        ("", ("credit", "exposure", "C1", "--as-of", "2025-03-31")),
        ("", ("credit", "hold", "C1", "--reason", "cheque bounced")),
        ("", ("invoice", "create", "--customer", "C1", "--date", "2025-03-25",
              "--line", "Conseil;1;100;20", "--post", "--override-credit", "paid by card",
              "--as-of", "2025-03-25")),
        ("", ("credit", "release", "C1", "--reason", "card payment cleared")),
        ("", ("credit", "behaviour", "C1", "--as-of", "2025-03-31")),
        ("", ("credit", "risk", "--as-of", "2025-03-31")),
        ("suggest", ("credit", "suggest-limits", "--as-of", "2025-03-31")),
        ("", lambda s: ("credit", "suggest-limits", "--accept", s["suggest"][0]["customer"],
                        "--as-of", "2025-03-31")),
        ("", ("dunning", "rate", "add", "--from", "2025-01-01", "--percent", "3.15")),
        ("", ("dunning", "rate", "import", str(ref_rates))),
        ("", ("dunning", "rate", "list")),
        ("", ("dunning", "interest", "set", "--country", "FR", "--compensation", "40")),
        ("", ("dunning", "interest", "list")),
        ("", ("dunning", "policy", "add", "STD", "--level", "-3;Friendly reminder;email",
              "--level", "5;First reminder;email+letter;10.00;interest",
              "--level", "30;Final notice;email+call;;agency", "--default")),
        ("", ("dunning", "policy", "list")),
        ("", ("dunning", "policy", "show", "STD")),
        ("", ("dunning", "policy", "edit", "STD", "--level", "1=-3;Friendly reminder;email",
              "--level", "2=5;First reminder;email+letter;12.00;interest",
              "--level", "3=30;Final notice;email+call;;agency", "--name", "Standard")),
        ("", ("dunning", "policy", "assign", "STD", "--customer", "C1")),
        ("", ("dunning", "policy", "text", "STD", "2", "--language", "fr", "--subject",
              "Relance {level}", "--body-file", str(body))),
        ("", ("dunning", "policy", "text", "STD", "2")),
        ("", ("dunning", "run", "--dry-run", "--as-of", "2025-05-20")),
        ("", ("dunning", "run", "--send", "--as-of", "2025-05-20")),
        ("notices", ("dunning", "history", "C1")),
        ("", lambda s: ("dunning", "letter", str(s["notices"][0]["id"]), "--output",
                        str(tmp / "reminder.pdf"))),
        ("", lambda s: ("dunning", "agency", str(s["notices"][0]["id"]), "--output",
                        str(tmp / "agency.csv"))),
        ("", ("period", "close", "--through", "2025-02-28")),
        ("", ("customer", "review-list", "--as-of", "2099-06-30")),
        ("", ("customer", "contact", "C1", "compta@dupont.example", "--phone", "0102")),
        ("", ("customer", "add-contact", "C1", "Lea", "--email", "lea@dupont.example",
              "--roles", "payables")),
        ("", ("customer", "remove-contact", "C1", "lea@dupont.example")),
        ("", ("customer", "add", "--code", "C3", "--name", "DUPONT SARL", "--country", "FR")),
        ("dups", ("customer", "duplicates")),
        ("merged", lambda s: ("customer", "merge", *_pair_of(s["dups"], "C3"),
                              "--reason", "entered twice")),
        ("", lambda s: ("customer", "unmerge", s["merged"]["alias"])),
        ("", ("check",)),
        ("", ("demo", "--company", "demo", "--customers", "2", "--as-of", "2025-03-31")),
    ]


def _pair_of(pairs: list[dict[str, Any]], code: str) -> tuple[str, str]:
    """The duplicate pair found for ``code``: (the duplicate, the other)."""
    pair = next(p for p in pairs if code in (p["a"], p["b"]))
    return (code, pair["b"] if pair["a"] == code else pair["a"])


def _line(seen: dict[str, Any], n: int) -> int:
    """The id of the statement's n-th line (from 0), in the order imported."""
    return int(sorted(line["line"] for line in seen["lines"])[n])


def _advice(tmp: Path, number: str) -> str:
    """A remittance advice paying ``number`` in full."""
    advice = tmp / "advice.csv"
    advice.write_text(f"Invoice,Amount\n{number},120.00\n", encoding="utf-8")
    return str(advice)


def _preview(layout: Path, html: str, output: Path) -> tuple[str, ...]:
    layout.write_text(html, encoding="utf-8")
    return ("template", "preview", "statement", "--file", str(layout), "--output", str(output))


def _covered(argv: tuple[str, ...], leaves: set[tuple[str, ...]]) -> tuple[str, ...]:
    for n in (3, 2, 1):
        if tuple(argv[:n]) in leaves:
            return tuple(argv[:n])
    raise AssertionError(f"no command {argv}")


def test_every_command_answers_in_json(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                       settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    leaves = leaf_commands()
    seen: dict[str, Any] = {}
    ran: set[tuple[str, ...]] = set()
    for name, step in story(tmp_path):
        argv = step(seen) if callable(step) else step
        code = main([*argv, "--json"])
        out, err = capsys.readouterr()
        assert (code, err) == (0, ""), (argv, err)
        try:
            answer = json.loads(out)
        except ValueError:
            pytest.fail(f"{' '.join(argv)} --json did not print JSON: {out[:300]!r}")
        if name:
            seen[name] = answer
        ran.add(_covered(argv, leaves))
    missing = leaves - ran - {tuple(k.split()) for k in NOT_RUN}
    assert not missing, f"commands with no --json case: {sorted(missing)}"
    assert seen["export"] and seen["export"][0]["code"] == "C1"


def test_a_file_to_standard_output_and_json_are_refused(capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    assert main(["init", "--company", "acme", "--owner", "alice"]) == 0
    capsys.readouterr()
    code = main(["customer", "statement", "C1", "--output", "-", "--json"])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert json.loads(err)["code"] == "invalid"


def test_mail_without_a_mail_server_goes_to_a_file_not_the_terminal(tmp_path: Path) -> None:
    # given an installation with no mail server (a process of its own: its own settings)
    env = {k: v for k, v in os.environ.items()
           if k not in ("SALESLEDGER_DATABASE_URL", "SALESLEDGER_TESTING", "SALESLEDGER_COMPANY",
                        "SALESLEDGER_EMAIL_HOST", "SALESLEDGER_EMAIL_BACKEND",
                        "SALESLEDGER_EMAIL_FILE_PATH")}
    env["SALESLEDGER_HOME"] = str(tmp_path)

    def cli(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "salesledger.cli.main", *argv], env=env,
                              capture_output=True, text=True, timeout=300)

    for argv in (("init", "--company", "acme", "--owner", "alice"),
                 ("customer", "add", "--code", "C1", "--name", "Dupont", "--country", "FR",
                  "--email", "compta@dupont.example")):
        assert cli(*argv).returncode == 0
    # when a statement is e-mailed with --json
    done = cli("customer", "statement", "C1", "--email", "--json")
    # then standard output is the JSON answer alone, and the message is in var/mail/
    assert (done.returncode, done.stderr) == (0, "")
    answer = json.loads(done.stdout)
    [written] = (tmp_path / "var" / "mail").glob("*.eml")
    assert answer["status"] == "logged"
    assert answer["detail"] == ("no mail server is configured: the message was written to "
                                f"{written}")
    message = email.message_from_bytes(written.read_bytes())
    assert message["To"] == "compta@dupont.example"
    assert message["Message-ID"] == answer["message_id"]
    assert [p.get_content_type() for p in message.walk()][-1] == "application/pdf"
    assert "base64" not in done.stdout
    # and the worker, which logs as it goes on standard error, answers in JSON too
    done = cli("worker", "--once", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["tasks"] >= 1
