"""Presence end to end: two real consoles on one SQLite file, in tmux, see each other.

ines opens INC-2 in her console; bob's queue row of INC-2 says "ines viewing"; ines starts
a note (a dialog) and bob's row says she is writing one; when bob opens a dialog on INC-2
too, his console warns him; ines quits and bob's row no longer names her. A change recorded
from the CLI marks the incident in the queue (the Δ marker) and shows on its screen.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock, SystemClock
from tests.app.conftest import Row, seed_queue
from tests.app.test_e2e_tmux import INCIDENTS, Terminal
from tests.waiting import wait_until_sync

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
]


async def test_two_consoles_see_each_other(tmp_path: Path) -> None:
    now = SystemClock().now()
    db = tmp_path / "team.db"
    rows = (
        Row("Checkout returns 502 for EU customers", "checkout", 1, 1, 5),
        Row("Payment webhooks delayed", "payments", 2, 2, 40),
    )
    await seed_queue(db, FrozenClock(now), rows, at=now)
    socket = f"incidents-presence-{uuid.uuid4().hex[:8]}"
    ines, bob = Terminal(socket, "ines"), Terminal(socket, "bob")
    try:
        for term in (ines, bob):
            command = f"{INCIDENTS} --db {db} --as {term.session}"
            ines.tmux("new-session", "-d", "-s", term.session, "-x", "140", "-y", "30", command)
        for term in (ines, bob):
            term.wait_for("INC-2")

        ines.keys("j")
        ines.wait_for("> INC-2")
        ines.keys("Enter")
        ines.wait_for("Payment webhooks delayed")
        bob.wait_for_line(lambda line: "INC-2" in line and "[ines viewing]" in line)

        ines.keys("n")  # a note dialog on INC-2
        bob.wait_for_line(lambda line: "INC-2" in line and "ines writing a note on" in line)

        bob.keys("j")
        bob.wait_for("> INC-2")
        bob.keys("Enter")
        bob.wait_for("also here: ines writing a note on")
        bob.keys("n")
        bob.wait_for("careful: ines is writing a note on INC-2 right now")
        bob.keys("Escape")

        ines.keys("Escape")  # close the dialog: she is still on INC-2
        bob.wait_for("also here: ines viewing")
        ines.keys("Escape")  # back to her queue: she no longer has INC-2 open
        wait_until_sync(
            lambda: "also here" not in bob.screen(), what="bob's screen to stop naming ines"
        )
        ines.keys("Enter")  # INC-2 again, then quit: leaving takes her presence away
        bob.wait_for("also here: ines viewing")
        ines.keys("q")
        wait_until_sync(
            lambda: "ines:" not in ines.tmux("list-sessions"), what="ines's console to end"
        )
        wait_until_sync(
            lambda: "also here" not in bob.screen(), what="bob's screen to stop naming ines"
        )

        recorded = subprocess.run(
            [
                INCIDENTS,
                "change",
                "record",
                "--db",
                str(db),
                "--service",
                "payments",
                "--summary",
                "webhook worker v7",
                "--at",
                (now - timedelta(minutes=45)).isoformat(),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert recorded.returncode == 0, recorded.stderr
        bob.wait_for("CHG-1 deployed")
        bob.keys("Escape")
        bob.wait_for_line(lambda line: "INC-2" in line and "Δ Payment" in line)
    finally:
        ines.tmux("kill-server")

    async with SqliteBackend(db) as store:
        timeline = await store.timeline(2)
    assert all("viewing" not in e.message and "presence" not in e.message for e in timeline)
