"""Marks and bulk actions from the queue, against a real SQLite file and another writer."""

from __future__ import annotations

from pathlib import Path

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.lifecycle import AddNote
from console.tui.app import make_app
from screens.assign import AssignScreen
from tests.app.conftest import keys_shown, loaded
from tests.waiting import wait_until


async def test_mark_three_and_assign_with_one_conflict(
    db: Path, backend: SqliteBackend, other: SqliteBackend, clock: FrozenClock
) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        assert keys_shown(screen)[:3] == ["INC-2", "INC-1", "INC-4"]
        await pilot.press("j", "space", "space", "end", "space")  # INC-1, INC-4, INC-6
        assert sorted(i.key for i in screen.targets()) == ["INC-1", "INC-4", "INC-6"]
        seen = {i.key: i.version for i in screen.targets()}

        # another console writes to INC-4 after the user saw it: its version moves on
        inc4 = await other.get_incident("INC-4")
        await other.act(inc4.id, AddNote(text="looking"), "carol", inc4.version)

        await pilot.press("o")
        await wait_until(lambda: type(app.screen).__name__ == "AssignScreen", pilot=pilot)
        await pilot.press(*"bob")
        await wait_until(
            lambda: isinstance(app.screen, AssignScreen) and app.screen.selected() == "bob",
            pilot=pilot,
        )
        await pilot.press("enter")
        await wait_until(lambda: type(app.screen).__name__ == "BulkPreviewScreen", pilot=pilot)
        await pilot.press("ctrl+s")
        await wait_until(lambda: type(app.screen).__name__ == "BulkSummaryScreen", pilot=pilot)
        await pilot.press("enter")
        await wait_until(lambda: app.screen is screen, pilot=pilot)

        assert "2 done, 1 failed" in app.status_text
        # the failed one stays marked, the others are unmarked
        await wait_until(lambda: [i.key for i in screen.targets()] == ["INC-4"], pilot=pilot)

    check = await SqliteBackend(db, clock=clock).open()
    try:
        stored = {key: await check.get_incident(key) for key in seen}
    finally:
        await check.close()
    assert stored["INC-1"].assignee == "bob" and stored["INC-6"].assignee == "bob"
    assert stored["INC-4"].assignee is None  # the conflict was refused, not overwritten
    assert stored["INC-1"].version == seen["INC-1"] + 1
