"""A pre-imported parent that forks ``incidents serve`` processes on request.

Booting a server costs about a second, nearly all of it importing FastAPI, uvicorn and
pydantic models; the contract suite needs a fresh server per test. This process imports
everything once, then for each request line ``DB<TAB>LOG`` forks a child that redirects its
output to ``LOG`` and runs the real ``incidents serve --db DB --port 0`` (``console.cli.main``)
in a fresh event loop: a real server process, minus the import time. It answers each
request with the child's pid. Children are reaped automatically (SIGCHLD ignored), so a
test sees a stopped child vanish from ``kill(pid, 0)``.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys

import uvicorn  # noqa: F401

import backends.sqlite.store  # noqa: F401 - imported once, inherited by every child
import console.http.app  # noqa: F401
from console.cli.main import main

# Imported lazily by ``incidents serve``; importing them here saves each child ~150 ms.
WARM = (
    "console.http.intake",
    "console.services.escalator",
    "console.services.notifier",
    "uvicorn.protocols.http.h11_impl",
    "uvicorn.protocols.http.httptools_impl",
    "uvicorn.lifespan.on",
    "uvicorn.loops.asyncio",
    "uvicorn.loops.auto",
)


def warm() -> None:
    for name in WARM:
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # optional (httptools) or not written yet


def serve_child(db: str, log: str, config: str = "") -> None:
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdin.close()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    code = 1
    try:
        given = ["--config", config] if config else []
        code = main([*given, "serve", "--db", db, "--port", "0"])
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def run() -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    warm()
    print("ready", flush=True)
    for line in sys.stdin:
        db, log, config = (line.rstrip("\n").split("\t") + ["", ""])[:3]
        if not db or not log:
            continue
        pid = os.fork()
        if pid == 0:
            serve_child(db, log, config)
        print(pid, flush=True)


if __name__ == "__main__":
    run()
