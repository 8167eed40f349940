"""End to end: the real ``incidents`` command in a real terminal (tmux), keys in, screen out.

Starts ``incidents --db FILE --as alice`` in a detached tmux session on its own socket, moves
the cursor, acknowledges with ``a``, reads the screen with ``capture-pane`` and checks the
database through a fresh SqliteBackend.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock, SystemClock
from console.domain.models import Status
from tests.app.conftest import Row, seed_queue

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
]
INCIDENTS = str(Path(sys.executable).with_name("incidents"))


class Terminal:
    def __init__(self, socket: str) -> None:
        self.socket = socket

    def tmux(self, *args: str) -> str:
        # COLUMNS/LINES (set inside the test session) would pin the console to 80x24
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10, env=env
        )
        return result.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "console")

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", "console", key)
            time.sleep(0.15)

    def wait_for_line(self, predicate: Any, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.screen().splitlines():
                if predicate(line):
                    return line
            time.sleep(0.1)
        raise AssertionError(f"no such line; the screen shows:\n{self.screen()}")

    def wait_for(self, text: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the screen shows:\n{screen}")


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    term = Terminal(f"incidents-e2e-{uuid.uuid4().hex[:8]}")
    yield term
    term.tmux("kill-server")


async def test_acknowledge_in_a_real_terminal(tmp_path: Path, terminal: Terminal) -> None:
    # minutes_ago is measured from the real clock, so the console shows live countdowns
    now = SystemClock().now()
    db = tmp_path / "e2e.db"
    rows = (
        Row("Checkout returns 502 for EU customers", "checkout", 1, 1, 5),
        Row("Payment webhooks delayed", "payments", 2, 2, 40),
        Row("Search latency above 2s", "search", 2, 3, 90),
    )
    await seed_queue(db, FrozenClock(now), rows, at=now)

    command = f"{INCIDENTS} --db {db} --as alice"
    terminal.tmux("new-session", "-d", "-s", "console", "-x", "120", "-y", "40", command)
    screen = terminal.wait_for("INC-2")
    assert "INC-1" in screen and "INC-3" in screen
    assert "Ack" in screen  # the footer names the main keys
    lines = screen.splitlines()
    cursor_line = next(line for line in lines if line.startswith(">"))
    assert "INC-1" in cursor_line  # the P1 is first

    terminal.keys("j")  # to INC-2 (P3, created 40 minutes ago)
    screen = terminal.wait_for("> INC-2")
    terminal.keys("a")
    terminal.wait_for("INC-2 acknowledged")  # the status line
    row = terminal.wait_for_line(lambda line: "INC-2" in line and "Payment" in line)
    deadline = time.monotonic() + 5
    while not (" ack " in row and "alice" in row) and time.monotonic() < deadline:
        time.sleep(0.1)
        row = terminal.wait_for_line(lambda line: "INC-2" in line and "Payment" in line)
    assert " ack " in row and "alice" in row, row

    backend = await SqliteBackend(db).open()
    try:
        inc2 = await backend.get_incident("INC-2")
        inc1 = await backend.get_incident("INC-1")
    finally:
        await backend.close()
    assert inc2.status == Status.ACKNOWLEDGED and inc2.assignee == "alice"
    assert inc1.status == Status.TRIGGERED  # the row the cursor left was not touched

    terminal.keys("q")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "console" in terminal.tmux("list-sessions"):
        time.sleep(0.1)
    assert "console" not in terminal.tmux("list-sessions")  # q quit the real process
