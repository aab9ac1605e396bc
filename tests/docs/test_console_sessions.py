"""The console sessions of ``README.md`` and ``docs/**/*.md``, run as written.

Every fenced block opened with ```` ```console ```` is a session. Each document runs on a fresh,
empty database (the test's transaction, rolled back afterwards, with its id sequences restarted
so that ids are those a new installation gives; what a command defers to the commit, such as
sending e-mail, runs when the command returns), in a scratch working directory, its sessions in
the order they appear. The conventions:

- ``$ `` starts a command; a line ending in ``\\`` continues on the next line. The lines after
  it, up to the next ``$ ``, are what it prints: standard output, then standard error (where a
  refused command prints ``code: message``), as a terminal would show them.
- A command must exit with status 0 unless it printed on standard error and the document shows
  that error, or the next command is ``$ echo $?``, which prints the status of the command
  before it, to show it exactly.
- ``…`` in an expected line matches any text on that line (a hash, a timestamp, a size); a line
  that is only ``…`` matches any number of lines, none included.
- Commands understood: ``salesledger ...`` (also written ``.venv/bin/salesledger``), run
  in-process (``salesledger manage ...`` through ``call_command``); ``salesledger ... > FILE``
  (standard output into a file); ``export VAR=VALUE ...``
  (``SALESLEDGER_COMPANY`` is honoured; the others, such as ``SALESLEDGER_HOME`` and ``PATH``,
  say where a reader's database and command live and are not needed here); ``cat FILE``: a file
  no command wrote is written with the lines the document shows (this is how a document supplies
  the CSV files it imports, and shows them to the reader), a file a command wrote is printed and
  compared; ``echo $?``. Anything else fails the test, so a document cannot show a command that
  was never run.
- Output that depends on the day the command runs must not appear: use ``--as-of`` /
  ``--date``, or ``…`` for a timestamp.
- A block that cannot run here (it shows a database broken on purpose, or needs a mail server)
  is preceded by ``<!-- console: not run, REASON -->``; use it sparingly and say why.

Other fenced blocks (```` ```sh ````, ```` ```csv ````...) are not run.
"""

from __future__ import annotations

import difflib
import re
import shlex
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from salesledger.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
NOT_RUN = re.compile(r"<!--\s*console:\s*not run\b")
PROGRAMS = ("salesledger", ".venv/bin/salesledger")


@dataclass
class Command:
    line: int  # 1-based line of the ``$`` in its document
    text: str
    expected: list[str] = field(default_factory=list)


def sessions(path: Path) -> Iterator[Command]:
    """The commands of every console block of ``path``, in order, with what each shows."""
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        if lines[i].strip() != "```console":
            i += 1
            continue
        skipped = i > 0 and bool(NOT_RUN.search(lines[i - 1]))
        i += 1
        current: Command | None = None
        while i < len(lines) and lines[i].strip() != "```":
            line = lines[i]
            if line.startswith("$ "):
                if current is not None and not skipped:
                    yield current
                current = Command(i + 1, line[2:])
                while current.text.endswith("\\") and i + 1 < len(lines):
                    i += 1
                    current.text = current.text[:-1] + " " + lines[i].strip()
            elif current is None:
                raise AssertionError(f"{path}:{i + 1}: a console block must start with '$ '")
            else:
                current.expected.append(line)
            i += 1
        if current is not None and not skipped:
            yield current
        i += 1


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether ``actual`` is ``expected``, ``…`` standing for any text or any lines."""
    parts = []
    for line in expected:
        if line.strip() == "…":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(".*".join(re.escape(p) for p in line.split("…")) + r"\n")
    return re.fullmatch("".join(parts), "".join(a + "\n" for a in actual), re.S) is not None


class Shell:
    """Runs the commands a document shows, the ``salesledger`` ones in-process."""

    def __init__(self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                 cwd: Path, on_commit: Any) -> None:
        self.capsys, self.monkeypatch, self.cwd = capsys, monkeypatch, cwd
        self.on_commit = on_commit
        self.status = 0
        self.supplied: set[Path] = set()  # files the document wrote with ``cat``

    def run(self, command: Command) -> tuple[int, list[str], str]:
        """(status, lines printed, standard error) of one command."""
        words = shlex.split(command.text)
        program, args = words[0], words[1:]
        if program in PROGRAMS:
            return self._salesledger(args)
        if program == "export":
            for assignment in args:
                name, _, value = assignment.partition("=")
                if name == "SALESLEDGER_COMPANY":
                    self.monkeypatch.setenv(name, value)
            return 0, [], ""
        if program == "echo" and args == ["$?"]:
            return 0, [str(self.status)], ""
        if program == "cat" and len(args) == 1:
            file = self.cwd / args[0]
            if file in self.supplied or not file.exists():
                file.write_text("".join(e + "\n" for e in command.expected), encoding="utf-8")
                self.supplied.add(file)
            return 0, file.read_text(encoding="utf-8").splitlines(), ""
        raise AssertionError(f"the documents may not show {program!r}: only salesledger, "
                             "export, cat FILE and echo $? are run")

    def _salesledger(self, args: list[str]) -> tuple[int, list[str], str]:
        target = None
        if len(args) >= 2 and args[-2] == ">":
            args, target = args[:-2], self.cwd / args[-1]
        self.capsys.readouterr()
        try:
            with self.on_commit(execute=True):
                if args[:1] == ["manage"]:
                    # What ``main`` runs, less the closing of every connection at the end
                    # (``run_from_argv``), which would end the test's transaction.
                    call_command(*args[1:])
                    status = 0
                else:
                    status = main(args)
        except SystemExit as exc:  # argparse: usage errors and --help
            status = exc.code if isinstance(exc.code, int) else 2
        out, err = self.capsys.readouterr()
        if target is not None:
            target.write_text(out, encoding="utf-8")
            out = ""
        self.status = status
        return status, (out + err).splitlines(), err


def document_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def restart_id_sequences() -> None:
    """Ids from 1, as in a new database, for every table empty inside the test's transaction."""
    from django.apps import apps
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cursor:
        sequences = []
        for model in apps.get_models(include_auto_created=True):
            if not model._meta.managed or model._base_manager.exists():
                continue
            sequences += connection.introspection.get_sequences(
                cursor, model._meta.db_table, model._meta.local_fields)
        for statement in connection.ops.sequence_reset_by_name_sql(no_style(), sequences):
            cursor.execute(statement)


def has_sessions(path: Path) -> bool:
    return any(line.strip() == "```console"
               for line in path.read_text(encoding="utf-8").splitlines())


def test_placeholders_match_any_text_or_any_lines() -> None:
    assert matches(["wrote a.pdf (… bytes)"], ["wrote a.pdf (17,010 bytes)"])
    assert not matches(["wrote a.pdf (… bytes)"], ["wrote b.pdf (17,010 bytes)"])
    assert matches(["number  INV1", "…", "total  1.00"], ["number  INV1", "total  1.00"])
    assert matches(["number  INV1", "…", "total  1.00"], ["number  INV1", "a", "b",
                                                         "total  1.00"])
    assert not matches(["number  INV1", "…"], ["number  INV2", "a"])
    assert not matches(["a"], ["a", "b"])
    assert not matches(["a.b"], ["axb"])  # the rest of a line is literal text


def test_sessions_are_read_with_continuations_and_skips(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text("text\n```console\n$ salesledger a \\\n    --b\nout 1\n$ echo $?\n0\n```\n"
                   "<!-- console: not run, a reason -->\n```console\n$ salesledger c\n```\n"
                   "```sh\n$ salesledger d\n```\n", encoding="utf-8")
    assert [(c.line, c.text, c.expected) for c in sessions(doc)] == [
        (3, "salesledger a  --b", ["out 1"]), (6, "echo $?", ["0"])]


@pytest.mark.django_db
@pytest.mark.parametrize("document", [d for d in DOCUMENTS if has_sessions(d)], ids=document_id)
def test_console_sessions_print_what_the_document_shows(
        document: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path, django_capture_on_commit_callbacks: Any) -> None:
    monkeypatch.delenv("SALESLEDGER_COMPANY", raising=False)
    monkeypatch.setenv("COLUMNS", "80")  # argparse wraps --help to the terminal's width
    monkeypatch.chdir(tmp_path)
    restart_id_sequences()
    shell = Shell(capsys, monkeypatch, tmp_path, django_capture_on_commit_callbacks)
    refused = ""  # a command that exited non-zero with nothing on standard error
    for command in sessions(document):
        if refused and command.text != "echo $?":
            pytest.fail(refused, pytrace=False)
        refused = ""
        where = f"{document_id(document)}:{command.line}: $ {command.text}"
        try:
            status, actual, err = shell.run(command)
        except Exception:  # a traceback is a defect too: say which command of which document
            pytest.fail(f"{where}\n{traceback.format_exc()}", pytrace=False)
        actual = [a.rstrip() for a in actual]
        expected = [e.rstrip() for e in command.expected]
        if not matches(expected, actual):
            diff = "\n".join(difflib.unified_diff(
                expected, actual, "the document shows", "the command printed", lineterm=""))
            pytest.fail(f"{where}\nexit status {status}\n{diff}", pytrace=False)
        if status != 0 and not err:
            refused = (f"{where}\nexit status {status} with nothing on standard error "
                       "(show it with '$ echo $?')")
    if refused:
        pytest.fail(refused, pytrace=False)
