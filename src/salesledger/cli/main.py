"""Entry point of the ``salesledger`` command.

Every command parses its arguments, calls one service or selector and renders the result.
Business errors print ``code: message`` on standard error and exit with status 2; bad
usage exits with 2 as argparse does; ``check`` exits 1 when an invariant is broken.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from salesledger.domain.errors import LedgerError


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesledger.config.settings")
    import django

    django.setup()


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree: each command group adds itself, in the order ``salesledger
    --help`` lists them (the module of each group is named in ``cli/__init__.py``)."""
    from . import (
        adjustment,
        backup,
        bank,
        collections,
        company,
        credit,
        customer,
        dunning,
        fx,
        interchange,
        invoice,
        quote,
        receipt,
        recurring,
        report,
        reports,
        serve,
        template,
        terms,
    )

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--company",
        default=os.environ.get("SALESLEDGER_COMPANY"),
        help="company code (default: $SALESLEDGER_COMPANY, or the only company)",
    )
    common.add_argument("--json", action="store_true", help="machine-readable output")
    common.add_argument(
        "--as-of",
        dest="as_of",
        metavar="YYYY-MM-DD",
        help="the day to act or report for (default: today in the company's zone)",
    )
    common.add_argument("--user", help="act as this user (default: the company's owner)")

    parser = argparse.ArgumentParser(prog="salesledger", description="The sales ledger.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in (
        company.register_init, company.register_user, company.register_period,
        customer.register, invoice.register, invoice.register_credit_note, receipt.register,
        reports.register_balance, reports.register_open_items, report.register,
        interchange.register_import, interchange.register_export, interchange.register_demo,
        reports.register_check, backup.register_backup, backup.register_restore,
        serve.register_serve,
        quote.register, recurring.register, serve.register_worker, fx.register,
        company.register, template.register, adjustment.register, receipt.register_refund,
        terms.register, bank.register, credit.register, collections.register,
        dunning.register,
    ):
        register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["manage"]:
        _setup_django()
        from django.core.management import execute_from_command_line

        execute_from_command_line(["salesledger manage", *args_list[1:]])
        return 0
    # Parsing needs no Django: help and usage errors are printed (and exit) before it loads.
    args = build_parser().parse_args(args_list)
    _setup_django()
    from django.db.utils import InterfaceError, OperationalError, ProgrammingError

    from salesledger.apps.core.faults import connection_lost
    from salesledger.domain.errors import (
        DatabaseBusy,
        DatabaseConnectionLost,
        DatabaseNotReady,
        ImportFailed,
    )

    from .render import emit_json

    if args.command in SETUP_COMMANDS:
        _migrate()
    # The command line speaks the site's language whatever a web request of this process
    # (a test's, a server's) left active.
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    try:
        status = int(args.handler(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return status
    except (OperationalError, ProgrammingError, InterfaceError) as exc:
        if _locked(exc):
            return _report(args, DatabaseBusy(
                f"the database ({_database_label()}) is busy: another process held it longer "
                "than this command waits; nothing was written, run the command again"))
        if connection_lost(exc):
            return _report(args, DatabaseConnectionLost(
                f"the connection to the database ({_database_label()}) was lost in the middle "
                "of the command: the server rolled back what it had not committed, and the "
                "command can simply be run again"))
        if not _schema_missing(exc):
            raise
        return _report(args, DatabaseNotReady(
            f"the database ({_database_label()}) has no salesledger tables yet: run "
            "'salesledger manage migrate' (or 'salesledger init' / 'salesledger demo', "
            "which set it up)"))
    except BrokenPipeError:
        # The command's own outcome stands: a breach that `check` found is not hidden
        # because the reader stopped reading (`salesledger check | head -1`).
        return _quiet_broken_pipe(getattr(args, "exit_status", 0))
    except ImportFailed as exc:
        if getattr(args, "json", False):
            emit_json(exc.as_dict(), sys.stderr)
        else:
            print(f"{exc.code}: {exc.message}", file=sys.stderr)
            for p in exc.problems:
                print(f"  {p}", file=sys.stderr)
        return 2
    except LedgerError as exc:
        return _report(args, exc)


def _report(args: argparse.Namespace, exc: LedgerError) -> int:
    from .render import emit_json

    if getattr(args, "json", False):
        emit_json(exc.as_dict(), sys.stderr)
    else:
        print(f"{exc.code}: {exc.message}", file=sys.stderr)
    return 2


# Commands that bring a database up to date before they run: they are how one starts.
SETUP_COMMANDS = frozenset({"init", "demo"})


def _migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def _locked(exc: Exception) -> bool:
    """Another writer's lock outlasted our wait (SQLite's busy timeout, PostgreSQL's
    lock_timeout)."""
    text = str(exc)
    return "database is locked" in text or "lock timeout" in text


def _schema_missing(exc: Exception) -> bool:
    text = str(exc)
    return "no such table" in text or ("relation" in text and "does not exist" in text)


def _database_label() -> str:
    from django.db import connection

    name = connection.settings_dict.get("NAME")
    return f"{connection.vendor} {name}"


def run() -> None:
    sys.exit(main())


def _quiet_broken_pipe(status: int = 0) -> int:
    # The reader went away (e.g. `salesledger export ... | head`): not an error of ours, and
    # the command's own status is returned.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return status


if __name__ == "__main__":
    run()
