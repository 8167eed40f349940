"""``incidents serve`` for a bench script: one way to start it, shared by every script.

``start_server(db, config)`` runs a real server process on a free loopback port over
``db`` with ``config`` as its only configuration (``INCIDENTS_CONFIG``; the caller's other
``INCIDENTS_*`` variables are left out, and ``XDG_CONFIG_HOME`` points beside the file) and
returns it with its URL once it says where it listens. A thread reads the server's output
to the end, so a chatty server (a log line per request) never blocks on a full pipe; the
last lines are kept for the error when it does not start.

Stand-alone scripts import it by file name (``bench/console_scale.py`` takes this folder
off ``sys.path``), so it imports only the standard library.
"""

from __future__ import annotations

import collections
import os
import re
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LISTENING = re.compile(r"listening on (http://\S+)")


def start_server(
    db: Path, config: Path, *, timeout: float = 60.0, wrapper: Sequence[str] = ()
) -> tuple[subprocess.Popen[str], str]:
    """Start ``incidents serve`` on ``db`` with the config file ``config`` (it must exist;
    an empty file means the defaults); return the process and its base URL. ``wrapper``
    is a command line to run the server under (``valgrind --tool=callgrind``, say)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENTS_")}
    env["INCIDENTS_CONFIG"] = str(config)
    env["XDG_CONFIG_HOME"] = str(config.parent)
    env["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen(
        [*wrapper, sys.executable, "-m", "console", "serve", "--db", str(db), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=ROOT,
    )
    tail: collections.deque[str] = collections.deque(maxlen=40)
    found: list[str] = []
    listening = threading.Event()

    def drain() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            tail.append(line)
            if not found and (match := LISTENING.search(line)):
                found.append(match.group(1))
                listening.set()
        listening.set()  # the output ended: the server is gone

    threading.Thread(target=drain, name="serve-output", daemon=True).start()
    if listening.wait(timeout) and found:
        return process, found[0]
    process.kill()
    process.wait(10)
    raise SystemExit(f"incidents serve did not start:\n{''.join(tail)[-2000:]}")
