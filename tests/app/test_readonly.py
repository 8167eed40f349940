"""Read-only means read-only (issue 10.2): ``--readonly`` and wall mode over a real SQLite
file; the viewer-token mode is in tests/remote/test_readonly_viewer.py."""

from __future__ import annotations

import pytest

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.keys import MUTATING
from console.tui.app import make_app
from tests.app.readonly_walk import walk
from tests.waiting import wait_until


@pytest.mark.parametrize(
    ("mode", "reason"), [("readonly", "started with --readonly"), ("wall", "wall mode")]
)
async def test_no_command_changes_the_store(
    backend: SqliteBackend, other: SqliteBackend, clock: FrozenClock, mode: str, reason: str
) -> None:
    inc1 = await other.get_incident("INC-1")
    await other.create_problem(inc1.id, "replication breaks under write load", "bob")
    before = await other.last_seq()
    app = make_app(
        backend, clock=clock, user="alice", readonly=mode == "readonly", wall=mode == "wall"
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(lambda: app.loaded, pilot=pilot)
        refused = await walk(pilot, reason)
    # every mutating key on each screen it is on, by key and by palette
    assert refused >= 2 * (len(MUTATING) - 2)
    assert await other.last_seq() == before
