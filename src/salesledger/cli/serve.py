"""``salesledger serve`` and ``salesledger worker``: the commands that run until stopped.

``serve`` is one command from an empty directory to a running site.

Migrates the database, collects the static files (served by WhiteNoise), loads the demo
company when the database has none (unless ``--no-demo``), and serves the WSGI application
with waitress, a production-grade pure-Python server. Unless ``--no-worker``, it also starts
``salesledger worker`` as a child process (the background tasks: recurring invoices, freezing
the PDFs of posted documents, e-mail sending), so that one command runs the whole product.
Ctrl-C (or SIGTERM) stops both cleanly.

``worker`` runs the background tasks and the daily recurring run, in rounds.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
from typing import Any

from .common import Subparsers, add_command
from .render import emit_json


def _url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _start_worker() -> subprocess.Popen[bytes]:
    # A process of its own: rendering documents must not hold up the web server's threads.
    return subprocess.Popen([sys.executable, "-m", "salesledger.cli.main", "worker"])


def _stop_worker(worker: subprocess.Popen[bytes] | None) -> None:
    if worker is None or worker.poll() is not None:
        return
    worker.send_signal(signal.SIGTERM)  # it finishes the task at hand, then exits
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def serve(*, host: str, port: int, demo: bool, worker: bool = True) -> int:
    from django.core.management import call_command

    from salesledger.apps.core.selectors import company_has_data
    from salesledger.apps.interchange.demo import DEMO_PASSWORD, DEMO_USER, demo_login_works

    print("preparing the database ...", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    if demo and not company_has_data():
        from salesledger.apps.interchange.demo import demo_load

        print("empty database: loading the demo company (seeded, about half a minute) ...",
              flush=True)
        summary = demo_load()
        print(f"demo company {summary['company']!r} loaded: {summary['customers']} customers, "
              f"{summary['invoices']} invoices, {summary['credit_notes']} credit notes, "
              f"{summary['receipts']} receipts in {summary['seconds']} s", flush=True)

    from waitress import serve as waitress_serve

    from salesledger.config.wsgi import application

    url = _url(host, port)
    print(f"\nsalesledger is running at {url}", flush=True)
    print(f"  sign in:      {url}login/", flush=True)
    print(f"  back office:  {url}admin/", flush=True)
    if demo_login_works():
        print(f"  demo login:   user {DEMO_USER!r}, password {DEMO_PASSWORD!r}\n"
              "                (a superuser, for the demo only: it sees and may change "
              "everything in the back office)", flush=True)
    if worker:
        print("  worker:       background tasks run in a child process (--no-worker to "
              "run 'salesledger worker' yourself)", flush=True)
    print("press Ctrl-C to stop\n", flush=True)
    previous = signal.signal(signal.SIGTERM, _stop)
    child = _start_worker() if worker else None
    try:
        waitress_serve(application, host=host, port=port, threads=8)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        _stop_worker(child)
    print("salesledger stopped", file=sys.stderr, flush=True)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    return serve(host=args.host, port=args.port, demo=not args.no_demo,
                 worker=not args.no_worker)


def cmd_worker(args: argparse.Namespace) -> int:
    from salesledger.worker import worker_loop

    if not args.json:
        worker_loop(once=args.once, interval=args.interval, report=print)
        return 0
    ran = worker_loop(once=args.once, interval=args.interval,
                      report=lambda line: print(line, file=sys.stderr))
    emit_json({"tasks": ran})
    return 0


# ---------------------------------------------------------------- registration
def register_serve(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    p = add_command(sub, common, "serve", cmd_serve,
                    "migrate, load demo data if empty, and serve")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--no-demo", action="store_true")
    p.add_argument("--no-worker", action="store_true",
                   help="do not start the background worker (run 'salesledger worker' apart)")


def register_worker(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    p = add_command(sub, common, "worker", cmd_worker,
                    "run background tasks and the daily recurring run (until stopped)")
    p.add_argument("--once", action="store_true", help="one round, then exit")
    p.add_argument("--interval", type=float, default=5.0,
                   help="seconds between rounds (default 5)")
