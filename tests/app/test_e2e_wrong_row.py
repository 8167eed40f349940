"""End to end, issue 10.1: two real consoles (``incidents`` in tmux) on one SQLite file.

A has the cursor on INC-2 in view 3 (unassigned); B acknowledges INC-2, so it leaves A's view
and A's cursor lands on INC-3. A's status line says where INC-2 went, and ``a`` in A is
refused once: INC-3 is not touched until A presses ``a`` again.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock, SystemClock
from console.domain.models import Status
from tests.app.conftest import Row, seed_queue
from tests.app.test_e2e_tmux import INCIDENTS, Terminal

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
]


async def status_of(db: Path, key: str) -> Status:
    backend = await SqliteBackend(db).open()
    try:
        return (await backend.get_incident(key)).status
    finally:
        await backend.close()


async def test_a_row_taken_by_another_console_is_not_hit(tmp_path: Path) -> None:
    now = SystemClock().now()
    db = tmp_path / "two.db"
    rows = (
        Row("Checkout returns 502 for EU customers", "checkout", 1, 1, 5),
        Row("Payment webhooks delayed", "payments", 2, 2, 40),
        Row("Search latency above 2s", "search", 2, 3, 90),
    )
    await seed_queue(db, FrozenClock(now), rows, at=now)
    socket = f"incidents-two-{uuid.uuid4().hex[:8]}"
    a, b = Terminal(socket, "a"), Terminal(socket, "b")
    try:
        for term, user in ((a, "alice"), (b, "bob")):
            term.tmux(
                "new-session", "-d", "-s", term.session, "-x", "120", "-y", "30",
                f"{INCIDENTS} --db {db} --as {user}",
            )  # fmt: skip
        a.wait_for("INC-3")
        a.keys("3", "j")  # view 3 (unassigned), cursor on INC-2
        a.wait_for("> INC-2")
        b.wait_for("INC-3")
        b.keys("j", "a")  # B acknowledges INC-2
        b.wait_for("INC-2 acknowledged")
        shown = a.wait_for("left this view")
        assert "INC-2 acknowledged (bob), left this view; the cursor is on INC-3" in shown
        assert "> INC-3" in shown
        a.keys("a")
        a.wait_for("not done: the row changed under the cursor")
        assert await status_of(db, "INC-3") == Status.TRIGGERED
        a.keys("a")  # now the responder has seen INC-3 under the cursor
        a.wait_for("INC-3 acknowledged")
        assert await status_of(db, "INC-3") == Status.ACKNOWLEDGED
    finally:
        a.tmux("kill-server")
