"""``salesledger serve`` (what ``./scripts/run`` starts), as a user runs it: a new home
directory, the database set up, the site answering, the background worker running beside
it, and both stopped cleanly by SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.mark.skipif(not Path("/proc/self/task").exists(),
                    reason="reads the process tree from /proc (Linux)")
def test_serve_runs_the_site_and_the_worker_and_stops_both(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("SALESLEDGER_DATABASE_URL", "SALESLEDGER_TESTING")}
    env["SALESLEDGER_HOME"] = str(tmp_path)
    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "salesledger.cli.main", "serve",
                             "--no-demo", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        body = b""
        # migrating a new database costs about 26 CPU seconds; a loaded machine stretches it
        for _ in range(1200):
            time.sleep(0.5)
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body = r.read()
                break
            except OSError:
                continue
        assert b'"ok"' in body, (tmp_path / "serve.log").read_text()
        workers = _children(proc.pid)
        assert len(workers) == 1
        assert b"worker" in Path(f"/proc/{workers[0]}/cmdline").read_bytes()
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
        log.close()
    output = (tmp_path / "serve.log").read_text()
    assert code == 0, output
    assert "salesledger stopped" in output
    assert not Path(f"/proc/{workers[0]}").exists() or b"Z" in Path(
        f"/proc/{workers[0]}/stat").read_bytes().split(b")")[-1][:3]
