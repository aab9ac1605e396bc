"""Start-up cost of the command line, which every scripted call pays.

Printing help or a usage error loads no Django at all; a read command on an empty company
costs little more than loading Django with the project's settings; neither loads the PDF,
XML or e-mail stacks. Times are compared as ratios measured in the same run, each the best of
a few runs, so that a busy machine slows both sides alike.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

# What only printing, e-invoicing and sending need.
HEAVY = ("weasyprint", "lxml", "saxonche", "facturx", "pypdf", "smtplib",
         "django.core.mail.backends.smtp", "salesledger.apps.documents.delivery",
         "salesledger.apps.documents.rendering")

ROUNDS = 7


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a fresh installation on SQLite with one empty company; byte code
    kept (apart from the source tree), as an installed copy has it."""
    home = tmp_path_factory.mktemp("startup")
    env = {k: v for k, v in os.environ.items()
           if k not in ("SALESLEDGER_DATABASE_URL", "SALESLEDGER_TESTING",
                        "PYTHONDONTWRITEBYTECODE", "SALESLEDGER_COMPANY")}
    env.update(SALESLEDGER_HOME=str(home), PYTHONPYCACHEPREFIX=str(home / "pycache"),
               DJANGO_SETTINGS_MODULE="salesledger.config.settings")
    done = subprocess.run(_cli("init", "--company", "acme", "--owner", "alice"), env=env,
                          capture_output=True, text=True, timeout=300)
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
                          text=True, timeout=120)
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
                              capture_output=True, text=True, timeout=60)
        assert done.stderr.strip().splitlines()[-1] == f"{status} False", done.stderr


def _best(env: dict[str, str], commands: dict[str, list[str]]) -> dict[str, float]:
    for argv in commands.values():  # once to warm the byte code and the disk cache
        subprocess.run(argv, env=env, capture_output=True, timeout=120)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(ROUNDS):  # interleaved: a busy moment slows every command alike
        for name, argv in commands.items():
            start = time.perf_counter()
            done = subprocess.run(argv, env=env, capture_output=True, timeout=120)
            times[name].append(time.perf_counter() - start)
            assert done.returncode == 0, done.stderr
    return {name: min(values) for name, values in times.items()}


def test_help_and_a_read_command_start_quickly(home: dict[str, str]) -> None:
    best = _best(home, {"setup": BARE_SETUP, "help": _cli("--help"),
                        "balance": _cli("balance")})
    setup = best["setup"]
    figures = ", ".join(f"{name} {t:.3f}s ({t / setup:.2f}x)" for name, t in best.items())
    print(f"\nstart-up, best of {ROUNDS}: {figures}")
    assert best["help"] < 0.5 * setup, figures
    assert best["balance"] <= 1.3 * setup, figures
