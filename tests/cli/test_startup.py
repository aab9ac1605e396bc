"""Start-up cost of the command line, which every scripted call pays.

Printing help or a usage error loads no Django at all; a read command on an empty company
costs little more than loading Django with the project's settings; neither loads the PDF,
XML or e-mail stacks. Costs are the CPU seconds each command's own process used (user plus
system, from ``os.wait4``), not wall time: on a loaded machine a process waits for a core far
longer than it computes, and wall times measured minutes apart wander with the load. They are
compared as ratios measured in the same run, each the best of a few runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import pytest

# What only printing, e-invoicing and sending need.
HEAVY = ("weasyprint", "lxml", "saxonche", "facturx", "pypdf", "smtplib",
         "django.core.mail.backends.smtp", "salesledger.apps.documents.delivery",
         "salesledger.apps.documents.rendering")

ROUNDS = 7
# Wall seconds after which a command counts as hung: a guard, not a measure. Generous, since
# at a load of 30 on two cores a command gets a fifteenth of a core: the first, which makes the
# schema, took 25 CPU seconds and 18 minutes of wall there.
HANG = 3600


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a fresh installation on SQLite with one empty company; byte code
    written and read where Python keeps it (the installed packages' own ``__pycache__``,
    compiled when they were installed), as an installed copy has it. A separate
    ``PYTHONPYCACHEPREFIX`` would make the first command compile Django and every library
    again: minutes of CPU on a loaded machine, for nothing the test measures."""
    home = tmp_path_factory.mktemp("startup")
    env = {k: v for k, v in os.environ.items()
           if k not in ("SALESLEDGER_DATABASE_URL", "SALESLEDGER_TESTING",
                        "PYTHONDONTWRITEBYTECODE", "SALESLEDGER_COMPANY")}
    env.pop("PYTHONPYCACHEPREFIX", None)
    env.update(SALESLEDGER_HOME=str(home), DJANGO_SETTINGS_MODULE="salesledger.config.settings")
    done = subprocess.run(_cli("init", "--company", "acme", "--owner", "alice"), env=env,
                          capture_output=True, text=True, timeout=HANG)
    assert done.returncode == 0, done.stderr
    return env


def _cli(*argv: str) -> list[str]:
    return [sys.executable, "-m", "salesledger.cli.main", *argv]


BARE_SETUP = [sys.executable, "-c", "import django; django.setup()"]


def _loaded_after(env: dict[str, str], *argv: str) -> set[str]:
    code = ("import sys\nfrom salesledger.cli.main import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            f"print('loaded:', *(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code, *argv], env=env, capture_output=True,
                          text=True, timeout=HANG)
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("loaded:"), done.stderr
    return set(last.split()[1:])


@pytest.mark.parametrize("argv", [("--help",), ("balance",), ("balance", "--json"),
                                  ("invoice", "history", "NOPE")])
def test_reading_loads_no_pdf_xml_or_mail_stack(home: dict[str, str], argv: tuple[str, ...]
                                                ) -> None:
    assert _loaded_after(home, *argv) == set()


def test_help_and_usage_errors_load_no_django(home: dict[str, str]) -> None:
    code = ("import sys\nfrom salesledger.cli.main import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n"
            "    print(e.code, 'django.apps' in sys.modules, file=sys.stderr)")
    for argv, status in ((["--help"], "0"), (["balance", "--bogus"], "2"),
                         (["invoice", "create", "--help"], "0")):
        done = subprocess.run([sys.executable, "-c", code, *argv], env=home,
                              capture_output=True, text=True, timeout=HANG)
        assert done.stderr.strip().splitlines()[-1] == f"{status} False", done.stderr


def _cpu_seconds(argv: list[str], env: dict[str, str], timeout: float = HANG) -> float:
    """The CPU time (user + system) of the process running ``argv``, waited for with
    ``os.wait4``, which reports that one child's usage: the machine's load and the other
    processes of this one (threads, other children) do not count in it."""
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
                raise AssertionError(f"{argv} did not finish in {timeout} s")
            time.sleep(0.01)
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        err.seek(0)
        assert proc.returncode == 0, err.read().decode(errors="replace")
    return usage.ru_utime + usage.ru_stime


def _best(env: dict[str, str], commands: dict[str, list[str]]) -> dict[str, float]:
    for argv in commands.values():  # once to warm the byte code and the disk cache
        _cpu_seconds(argv, env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(ROUNDS):  # interleaved: a busy moment weighs on every command alike
        for name, argv in commands.items():
            times[name].append(_cpu_seconds(argv, env))
    return {name: min(values) for name, values in times.items()}


def test_help_and_a_read_command_start_quickly(home: dict[str, str]) -> None:
    best = _best(home, {"setup": BARE_SETUP, "help": _cli("--help"),
                        "balance": _cli("balance")})
    setup = best["setup"]
    figures = ", ".join(f"{name} {t:.3f}s ({t / setup:.2f}x)" for name, t in best.items())
    print(f"\nstart-up CPU time, best of {ROUNDS}: {figures}")
    assert best["help"] < 0.5 * setup, figures
    assert best["balance"] <= 1.3 * setup, figures
