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
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock, SystemClock
from console.domain.models import Status
from tests.app.conftest import Row, seed_queue
from tests.waiting import wait_until_sync

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
]
INCIDENTS = str(Path(sys.executable).with_name("incidents"))


class Terminal:
    def __init__(self, socket: str, session: str = "console") -> None:
        self.socket = socket
        self.session = session

    def tmux(self, *args: str) -> str:
        # COLUMNS/LINES (set inside the test session) would pin the console to 80x24
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10, env=env
        )
        return result.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.session)

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", self.session, key)

    def wait_for_line(self, predicate: Any) -> str:
        """The first line on screen that satisfies ``predicate``, once there is one."""

        def line() -> str | None:
            return next((text for text in self.screen().splitlines() if predicate(text)), None)

        return wait_until_sync(line, what="such a line", detail=self._shows)

    def wait_for(self, text: str) -> str:
        """The whole screen, once it shows ``text``."""

        def screen() -> str | None:
            shown = self.screen()
            return shown if text in shown else None

        return wait_until_sync(screen, what=repr(text), detail=self._shows)

    def _shows(self) -> str:
        return f"the screen shows:\n{self.screen()}"


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
    terminal.wait_for_line(
        lambda line: "INC-2" in line and "Payment" in line and " ack " in line and "alice" in line
    )

    backend = await SqliteBackend(db).open()
    try:
        inc2 = await backend.get_incident("INC-2")
        inc1 = await backend.get_incident("INC-1")
    finally:
        await backend.close()
    assert inc2.status == Status.ACKNOWLEDGED and inc2.assignee == "alice"
    assert inc1.status == Status.TRIGGERED  # the row the cursor left was not touched

    terminal.keys("q")
    wait_until_sync(  # q quit the real process
        lambda: "console" not in terminal.tmux("list-sessions"), what="q to end the console"
    )


def test_demo_leaves_no_database_behind(tmp_path: Path, terminal: Terminal) -> None:
    """``incidents --demo`` writes its database under the temp folder (0700) and removes it
    when the console quits (it used to leave ~13 MB there on every run)."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    command = f"env TMPDIR={temp} {INCIDENTS} --demo --as alice"
    terminal.tmux("new-session", "-d", "-s", "console", "-x", "120", "-y", "40", command)
    terminal.wait_for("INC-")
    (folder,) = [p for p in temp.iterdir() if p.name.startswith("incidents-demo-")]
    assert (folder / "demo.db").stat().st_size > 0
    assert folder.stat().st_mode & 0o777 == 0o700
    assert (folder / "demo.db").stat().st_mode & 0o777 == 0o600
    terminal.keys("q")
    wait_until_sync(
        lambda: "console" not in terminal.tmux("list-sessions"), what="q to end the console"
    )
    wait_until_sync(lambda: not list(temp.iterdir()), what="the demo folder to be removed")
