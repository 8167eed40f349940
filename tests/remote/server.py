"""A real ``incidents serve`` process on a loopback port, for the remote tests.

Nothing here stands in for the server: each ``ServerProcess`` is ``python -m console serve``
in its own process, with its own database file, found through the URL it prints.
"""

from __future__ import annotations

import asyncio
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from backends.sqlite.store import SqliteBackend
from backends.sqlite.tokens import SqliteTokenStore
from tests.waiting import TIMEOUT, wait_until_sync

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 2 * TIMEOUT
"""Seconds a server may take to print its URL: importing FastAPI, pydantic and the drivers
took over 20 s with the 2 cores shared by 8 sessions (load average 16)."""


def hermetic_env(home: Path) -> dict[str, str]:
    """The environment for a child process: no user config, no INCIDENTS_* overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENTS_")}
    env["XDG_CONFIG_HOME"] = str(home / "config")
    env["XDG_DATA_HOME"] = str(home / "data")
    env["PYTHONUNBUFFERED"] = "1"
    return env


async def make_tokens(db: Path, wanted: dict[str, str]) -> dict[str, str]:
    """Create (migrating the file first) one token per ``user -> role``; returns user -> token."""
    async with SqliteBackend(db) as store:
        tokens = SqliteTokenStore(store)
        made = {}
        for user, role in wanted.items():
            _, token = await tokens.create(user, role, "test")
            made[user] = token
        return made


def wait_readyz(url: str, timeout: float = TIMEOUT) -> None:
    """Poll ``/readyz`` until the server says its store answers."""

    def ready() -> bool:
        try:
            return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    wait_until_sync(ready, timeout=timeout, interval=0.02, what=f"{url}/readyz to answer 200")


def cli_token(db: Path, user: str, role: str, home: Path) -> str:
    """``incidents token create`` through the real command line; returns the printed token."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "console",
            "token",
            "create",
            "--user",
            user,
            "--role",
            role,
            "--db",
            str(db),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        env=hermetic_env(home),
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


class ServerProcess:
    """``incidents serve --db DB --port PORT`` as a child process."""

    def __init__(
        self,
        db: Path | str,
        *,
        port: int = 0,
        home: Path | None = None,
        args: tuple[str, ...] = (),
        preexec: Callable[[], None] | None = None,
    ) -> None:
        """``db``: a SQLite file, or a ``postgresql://`` URL (then give ``home``);
        ``preexec`` runs in the child before it starts (``setrlimit``, say)."""
        self.db = db
        self.port = port
        self.home = home or Path(db).parent
        self.args = args
        self.preexec = preexec
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []

    def start(self) -> ServerProcess:
        """Launch without waiting; ``wait_ready`` waits for the URL."""
        cmd = [
            sys.executable,
            "-m",
            "console",
            "serve",
            "--db",
            str(self.db),
            "--port",
            str(self.port),
            *self.args,
        ]
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=hermetic_env(self.home),
            cwd=ROOT,
            preexec_fn=self.preexec,
        )
        threading.Thread(target=self._pump, args=(self.proc,), daemon=True).start()
        return self

    def _pump(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.output.append(line)
            self.lines.put(line)

    def wait_ready(self, timeout: float = START_TIMEOUT) -> str:
        """Block until the server prints its URL; returns it."""
        deadline = time.monotonic() + timeout
        while not self.url:
            left = deadline - time.monotonic()
            if left <= 0 or (
                self.proc is not None and self.proc.poll() is not None and self.lines.empty()
            ):
                raise RuntimeError("server did not start:\n" + "".join(self.output))
            try:
                line = self.lines.get(timeout=min(left, 0.2))
            except queue.Empty:
                continue
            if "listening on " in line:
                self.url = line.split("listening on ", 1)[1].split()[0]
                self.port = int(self.url.rsplit(":", 1)[1])
        wait_readyz(self.url)
        return self.url

    async def ready(self, timeout: float = START_TIMEOUT) -> str:
        return await asyncio.to_thread(self.wait_ready, timeout)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> float:
        """Send ``sig`` and wait for the exit; returns the seconds it took."""
        if self.proc is None or self.proc.poll() is not None:
            return 0.0
        started = time.monotonic()
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        return time.monotonic() - started

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def restart(self) -> ServerProcess:
        """Start again on the same port and database."""
        self.url = ""
        self.lines = queue.Queue()
        return self.start()


class ForkedServer:
    """A server forked by a ``Zygote``: same code path as ``incidents serve``."""

    def __init__(self, pid: int, db: Path, log: Path) -> None:
        self.pid = pid
        self.db = db
        self.log = log
        self.url = ""

    def wait_ready(self, timeout: float = START_TIMEOUT) -> str:
        def listening() -> str | None:
            if not self.alive():
                raise RuntimeError(f"forked server died:\n{self._log()}")
            found = re.search(r"listening on (\S+)", self._log())
            return found.group(1) if found else None

        self.url = wait_until_sync(
            listening,
            timeout=timeout,
            interval=0.01,
            what="the forked server to listen",
            detail=self._log,
        )
        wait_readyz(self.url)
        return self.url

    def _log(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    async def ready(self, timeout: float = START_TIMEOUT) -> str:
        return await asyncio.to_thread(self.wait_ready, timeout)

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> bool:
        """Send ``sig`` and wait for the exit; returns False if it had to be killed."""
        if not self.alive():
            return True
        os.kill(self.pid, sig)
        try:
            wait_until_sync(lambda: not self.alive(), timeout=timeout, interval=0.01)
        except AssertionError:
            os.kill(self.pid, signal.SIGKILL)
            wait_until_sync(lambda: not self.alive(), interval=0.01, what="SIGKILL to end it")
            return False
        return True


class Zygote:
    """``tests/remote/zygote.py`` as a child process that forks servers on request."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self._forks = 0
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("zygote.py"))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=hermetic_env(home),
            cwd=ROOT,
        )
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline().strip()
        if first != "ready":
            raise RuntimeError(f"zygote did not start: {first!r}")

    def fork(self, db: Path, config: Path | None = None) -> ForkedServer:
        """A server on ``db`` (with the settings of ``config``, a TOML file, if given)."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        # A log of its own per fork: a server forked again on the same database (a restart
        # with other settings) must not be found "listening" at the old one's address, read
        # from the log before the new child truncated it.
        self._forks += 1
        log = db.with_name(f"{db.stem}.{self._forks}.log")
        self.proc.stdin.write(f"{db}\t{log}\t{config or ''}\n")
        self.proc.stdin.flush()
        pid = int(self.proc.stdout.readline())
        return ForkedServer(pid, db, log)

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


_shared: Zygote | None = None


def shared_zygote() -> Zygote:
    """One zygote per test session (stopped at exit)."""
    global _shared
    if _shared is None:
        import atexit
        import tempfile

        _shared = Zygote(Path(tempfile.mkdtemp(prefix="incidents-zygote-")))
        atexit.register(_shared.close)
    return _shared
