"""Bulk triage over marked rows of the queue: preview, one action per incident, summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Static

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.lifecycle import Acknowledge
from console.domain.models import EntryKind, Priority, ResolutionCode, Status
from screens.assign import AssignScreen
from screens.bulk import BulkPreviewScreen
from screens.bulk_summary import BulkSummaryScreen
from screens.confirm import ConfirmScreen
from screens.priority import PriorityScreen
from screens.resolve import ResolveScreen
from tests.app import triage_helpers as helpers
from tests.app.triage_helpers import console, plain, started, state, wait_for_screen
from tests.waiting import wait_until

tclock, store, live, elsewhere = helpers.tclock, helpers.store, helpers.live, helpers.elsewhere

SIZE = (120, 40)
MARKED = ("INC-1", "INC-3", "INC-4")
TITLES = ("Checkout returns 502", "Search latency above 2s", "[bold]x[/bold] [/etc]")


async def mark(pilot: Any, keys: tuple[str, ...]) -> Any:
    """Mark the rows of ``keys`` in the queue with the mark key; return the queue screen."""
    await started(pilot)
    queue = pilot.app.screen
    for key in keys:
        incident = next(i for i in pilot.app.incidents.values() if i.key == key)
        assert queue.list.move_to(incident.id)
        await pilot.press("space")
    assert {queue.list.model.incidents[i].key for i in queue.list.marks} == set(keys)
    return queue


def shown(screen: Any) -> str:
    return "\n".join(plain(s) for s in screen.query(Static))


async def test_bulk_acknowledge_one_conflict_does_not_stop_the_others(
    store: Path, live: SqliteBackend, elsewhere: SqliteBackend, tclock: FrozenClock
) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        queue = await mark(pilot, MARKED)
        # Meanwhile another console acknowledges INC-3: the version the user saw is stale.
        search = await elsewhere.get_incident("INC-3")
        await elsewhere.act(search.id, Acknowledge(), "bob", search.version)
        await pilot.press("a")
        preview = await wait_for_screen(pilot, BulkPreviewScreen)
        text = shown(preview)
        for key, title in zip(MARKED, TITLES, strict=True):
            assert key in text and title in text
        await pilot.press("ctrl+s")
        summary = await wait_for_screen(pilot, BulkSummaryScreen)
        text = shown(summary)
        assert "Acknowledge: 2 done, 1 failed" in text
        assert "FAILED  INC-3" in text
        assert "changed since you saw it: acknowledged by bob" in text
        assert "ok      INC-1" in text and "ok      INC-4" in text
        assert app.status_text == "acknowledge: 2 done, 1 failed" and app.status_error
        await pilot.press("enter")
        await wait_until(lambda: app.screen is queue, pilot=pilot)
        # the succeeded ones are unmarked; the one that failed stays marked
        await wait_until(lambda: len(queue.list.marks) == 1, pilot=pilot)
        assert [queue.list.model.incidents[i].key for i in queue.list.marks] == ["INC-3"]
    for key in ("INC-1", "INC-4"):
        incident, timeline = await state(store, tclock, key)
        assert incident.status == Status.ACKNOWLEDGED
        assert (timeline[-1].kind, timeline[-1].actor) == (EntryKind.ACKNOWLEDGED, "alice")
    incident, timeline = await state(store, tclock, "INC-3")
    assert incident.assignee == "bob"  # bob's acknowledgement stands
    assert [e.actor for e in timeline if e.kind == EntryKind.ACKNOWLEDGED] == ["bob"]


async def test_bulk_assign(store: Path, live: SqliteBackend, tclock: FrozenClock) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        await mark(pilot, MARKED)
        await pilot.press("o")
        await wait_for_screen(pilot, AssignScreen)
        await pilot.press(*"carol", "enter")
        preview = await wait_for_screen(pilot, BulkPreviewScreen)
        assert "Assign to carol: 3 incidents?" in shown(preview)
        await pilot.press("ctrl+s")
        summary = await wait_for_screen(pilot, BulkSummaryScreen)
        assert "3 done, 0 failed" in shown(summary)
    for key in MARKED:
        incident, timeline = await state(store, tclock, key)
        assert incident.assignee == "carol"
        assert timeline[-1].kind == EntryKind.REASSIGNED


async def test_bulk_priority(store: Path, live: SqliteBackend, tclock: FrozenClock) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        await mark(pilot, MARKED)
        await pilot.press("p")
        await wait_for_screen(pilot, PriorityScreen)
        await pilot.press("1", "tab", "2", "ctrl+s")  # impact 1, urgency 2 -> P2
        preview = await wait_for_screen(pilot, BulkPreviewScreen)
        assert "impact 1, urgency 2 -> P2" in shown(preview)
        await pilot.press("ctrl+s")
        await wait_for_screen(pilot, BulkSummaryScreen)
    for key in MARKED:
        incident, _ = await state(store, tclock, key)
        assert (incident.impact, incident.urgency, incident.priority) == (1, 2, Priority.P2)


async def test_bulk_resolve_and_cancelled_preview(
    store: Path, live: SqliteBackend, tclock: FrozenClock
) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        queue = await mark(pilot, MARKED)
        # First time: the preview is cancelled and nothing changes.
        await pilot.press("r")
        await wait_for_screen(pilot, ResolveScreen)
        await pilot.press("ctrl+s")
        await wait_for_screen(pilot, BulkPreviewScreen)
        await pilot.press("escape")
        await wait_until(lambda: app.screen is queue, pilot=pilot)
        for key in MARKED:
            incident, _ = await state(store, tclock, key)
            assert incident.status == Status.TRIGGERED
        # Second time: confirmed.
        await pilot.press("r")
        await wait_for_screen(pilot, ResolveScreen)
        await pilot.press("ctrl+s")
        preview = await wait_for_screen(pilot, BulkPreviewScreen)
        assert "code: fixed" in shown(preview)
        await pilot.press("ctrl+s")
        summary = await wait_for_screen(pilot, BulkSummaryScreen)
        assert "3 done, 0 failed" in shown(summary)
    for key in MARKED:
        incident, timeline = await state(store, tclock, key)
        assert incident.status == Status.RESOLVED
        assert incident.resolution_code == ResolutionCode.FIXED
        assert timeline[-1].kind == EntryKind.RESOLVED


async def test_bulk_skips_incidents_the_action_cannot_apply_to(
    store: Path, live: SqliteBackend, tclock: FrozenClock
) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        await mark(pilot, ("INC-1", "INC-2"))  # INC-2 is already acknowledged
        await pilot.press("a")
        preview = await wait_for_screen(pilot, BulkPreviewScreen)
        assert "skipped: cannot acknowledge INC-2: it is already acknowledged" in shown(preview)
        await pilot.press("ctrl+s")
        summary = await wait_for_screen(pilot, BulkSummaryScreen)
        assert "1 done, 1 failed" in shown(summary)
    incident, _ = await state(store, tclock, "INC-1")
    assert incident.status == Status.ACKNOWLEDGED
    incident, _ = await state(store, tclock, "INC-2")
    assert incident.version == 3


async def test_bulk_escalate_confirms_each_next_level(
    store: Path, live: SqliteBackend, tclock: FrozenClock
) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        await mark(pilot, ("INC-1", "INC-3"))
        await pilot.press("e")
        confirm = await wait_for_screen(pilot, ConfirmScreen)
        body = plain(confirm.query_one("#confirm-body", Static))
        assert body.count("next: level 2 of 2, paging carol, dave") == 2
        assert "INC-1" in body and "INC-3" in body
        await pilot.press("ctrl+s")  # the confirmation named both: no second preview
        summary = await wait_for_screen(pilot, BulkSummaryScreen)
        assert "2 done, 0 failed" in shown(summary)
    for key in ("INC-1", "INC-3"):
        incident, timeline = await state(store, tclock, key)
        assert incident.escalation_level == 2
        assert timeline[-1].data["paged"] == ["carol", "dave"]
