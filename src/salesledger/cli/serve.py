"""``salesledger serve``: one command from an empty directory to a running site.

Migrates the database, collects the static files (served by WhiteNoise), loads the demo
company when the database has none (unless ``--no-demo``), and serves the WSGI application
with waitress, a production-grade pure-Python server. Ctrl-C (or SIGTERM) stops it cleanly.
"""

from __future__ import annotations

import signal
import sys
from typing import Any


def _url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def serve(*, host: str, port: int, demo: bool) -> int:
    from django.core.management import call_command

    from salesledger.apps.core.demo import DEMO_PASSWORD, DEMO_USER, demo_login_works
    from salesledger.apps.core.selectors import company_has_data

    print("preparing the database ...", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    if demo and not company_has_data():
        from salesledger.apps.core.demo import demo_load

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
    print("press Ctrl-C to stop\n", flush=True)
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        waitress_serve(application, host=host, port=port, threads=8)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    print("salesledger stopped", file=sys.stderr, flush=True)
    return 0
