"""Every triage key on the incident screen, through the real App and a real SQLite file.

Each test presses the keys a person would and then reads the store through a fresh
connection: the assertion is on what was saved (status, assignee, priority, timeline), not
only on what the screen says.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from textual.widgets import OptionList, Select, Static

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.lifecycle import Acknowledge, Resolve
from console.domain.models import EntryKind, HoldReason, Priority, ResolutionCode, Status
from screens.assign import AssignScreen
from screens.confirm import ConfirmScreen
from screens.hold import HoldScreen
from screens.note import NoteScreen
from screens.priority import PriorityScreen
from screens.reason import ReasonScreen
from screens.resolve import ResolveScreen
from tests.app import triage_helpers as helpers
from tests.app.triage_helpers import (
    console,
    open_incident,
    plain,
    shown_on,
    state,
    status_is,
    wait_for_screen,
)
from tests.waiting import wait_until

# the shared fixtures (a seeded file, the console's store, another console's store)
tclock, store, live, elsewhere = helpers.tclock, helpers.store, helpers.live, helpers.elsewhere

SIZE = (120, 40)


def text_of(widget: Static) -> str:
    return plain(widget)


async def test_acknowledge_needs_no_confirmation(
    store: Path, live: SqliteBackend, tclock: FrozenClock
) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_incident(pilot, "INC-1")
        await pilot.press("a")
        assert await status_is(pilot, "INC-1") == "INC-1 acknowledged"
        assert app.screen is screen  # no dialog in between
        await wait_until(lambda: shown_on(screen).status == Status.ACKNOWLEDGED, pilot=pilot)
        await wait_until(lambda: screen.entries[-1].kind == EntryKind.ACKNOWLEDGED, pilot=pilot)
    incident, timeline = await state(store, tclock, "INC-1")
    assert incident.status == Status.ACKNOWLEDGED
    assert incident.assignee == "alice"
    assert (timeline[-1].kind, timeline[-1].actor) == (EntryKind.ACKNOWLEDGED, "alice")


async def test_resolve_with_code_and_note(
    store: Path, live: SqliteBackend, tclock: FrozenClock
) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        await open_incident(pilot, "INC-1")
        await pilot.press("r")
        dialog = await wait_for_screen(pilot, ResolveScreen)
        assert "INC-1" in text_of(dialog.query(Static).first())
        # it starts on the note: typed text lands there (enter is a new line)
        await pilot.press(*"rolled back", "enter", *"to v41")
        await pilot.press("shift+tab", "enter", "down", "enter")  # the code: "workaround"
        assert dialog.query_one("#code", Select).value == ResolutionCode.WORKAROUND
        await pilot.press("ctrl+s")
        await status_is(pilot, "INC-1 resolved")
    incident, timeline = await state(store, tclock, "INC-1")
    assert incident.status == Status.RESOLVED
    assert incident.resolution_code == ResolutionCode.WORKAROUND
    assert incident.resolution_note == "rolled back\nto v41"
    assert timeline[-1].kind == EntryKind.RESOLVED
    assert timeline[-1].actor == "alice"


async def test_escalate_confirms_who_is_paged(
    store: Path, live: SqliteBackend, tclock: FrozenClock
) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        await open_incident(pilot, "INC-1")
        await pilot.press("e")
        dialog = await wait_for_screen(pilot, ConfirmScreen)
        body = text_of(dialog.query_one("#confirm-body", Static))
        assert "INC-1" in body and "Checkout returns 502" in body
        assert "now:  level 1 of 2, paging alice" in body
        assert "next: level 2 of 2, paging carol, dave" in body
        await pilot.press("enter")  # the focused button is Escalate
        await status_is(pilot, "escalated")
    incident, timeline = await state(store, tclock, "INC-1")
    assert incident.escalation_level == 2
    assert incident.status == Status.TRIGGERED
    assert timeline[-1].kind == EntryKind.ESCALATED
    assert timeline[-1].data["paged"] == ["carol", "dave"]


async def test_priority_picker_shows_priority_and_sla(
    store: Path, live: SqliteBackend, tclock: FrozenClock
) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        await open_incident(pilot, "INC-2")  # P3: impact 2, urgency 2
        await pilot.press("p")
        dialog = await wait_for_screen(pilot, PriorityScreen)
        assert dialog.focused.id == "impact"
        await pilot.press("1")  # impact 1 -> P2
        result = text_of(dialog.query_one("#result", Static))
        assert "P3 -> P2" in result
        assert "respond within 30m, resolve within 8h" in result
        await pilot.press("ctrl+s")
        await status_is(pilot, "priority now P2")
    incident, timeline = await state(store, tclock, "INC-2")
    assert (incident.impact, incident.urgency, incident.priority) == (1, 2, Priority.P2)
    assert not incident.priority_override
    assert timeline[-1].kind == EntryKind.PRIORITY_CHANGED
    assert timeline[-1].data == {"from": "P3", "to": "P2", "impact": 1, "urgency": 2}


async def test_urgency_key_opens_the_picker_on_urgency(
    store: Path, live: SqliteBackend, tclock: FrozenClock
) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        await open_incident(pilot, "INC-1")  # P1: impact 1, urgency 1
        await pilot.press("u")
        dialog = await wait_for_screen(pilot, PriorityScreen)
        assert dialog.focused.id == "urgency"
        await pilot.press("right", "right", "ctrl+s")  # urgency 3 -> P3
        await status_is(pilot, "priority now P3")
    incident, _ = await state(store, tclock, "INC-1")
    assert (incident.impact, incident.urgency, incident.priority) == (1, 3, Priority.P3)


async def test_impact_key_and_explicit_override(
    store: Path, live: SqliteBackend, tclock: FrozenClock
) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        await open_incident(pilot, "INC-2")
        await pilot.press("i")
        dialog = await wait_for_screen(pilot, PriorityScreen)
        assert dialog.focused.id == "impact"
        await pilot.press("3")  # impact 3, urgency 2 -> P4 by the matrix ...
        dialog.query_one("#override", Select).value = Priority.P1  # ... overridden to P1
        await pilot.pause()
        assert "the matrix gives P4" in text_of(dialog.query_one("#result", Static))
        await pilot.press("ctrl+s")
        await status_is(pilot, "priority now P1")
    incident, _ = await state(store, tclock, "INC-2")
    assert (incident.impact, incident.urgency, incident.priority) == (3, 2, Priority.P1)
    assert incident.priority_override


async def test_assign_type_ahead_marks_on_call(
    store: Path, live: SqliteBackend, tclock: FrozenClock
) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        await open_incident(pilot, "INC-1")
        await pilot.press("o")
        dialog = await wait_for_screen(pilot, AssignScreen)
        people = dialog.query_one("#people", OptionList)
        # everyone, on-call first, after "unassign"
        assert str(people.get_option_at_index(1).prompt).startswith("Alice Adams")
        assert "● on call" in str(people.get_option_at_index(1).prompt)
        assert "● on call" not in str(people.get_option_at_index(2).prompt)
        await pilot.press(*"car")
        assert people.option_count == 1
        assert str(people.get_option_at_index(0).prompt).startswith("Carol Chen")
        await pilot.press("enter")
        await status_is(pilot, "assigned to carol")
    incident, timeline = await state(store, tclock, "INC-1")
    assert incident.assignee == "carol"
    assert timeline[-1].kind == EntryKind.REASSIGNED
    assert timeline[-1].data == {"from": None, "to": "carol"}


async def test_unassign(store: Path, live: SqliteBackend, tclock: FrozenClock) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        await open_incident(pilot, "INC-2")  # assigned to bob
        await pilot.press("o")
        await wait_for_screen(pilot, AssignScreen)
        await pilot.press("enter")  # the first choice is "unassign"
        await status_is(pilot, "unassigned")
    incident, timeline = await state(store, tclock, "INC-2")
    assert incident.assignee is None
    assert timeline[-1].data == {"from": "bob", "to": None}


async def test_multi_line_note(store: Path, live: SqliteBackend, tclock: FrozenClock) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_incident(pilot, "INC-1")
        before = len(screen.entries)
        await pilot.press("n")
        dialog = await wait_for_screen(pilot, NoteScreen)
        await pilot.press("ctrl+s")  # empty: refused in place
        assert app.screen is dialog
        assert "empty" in text_of(dialog.query_one("#text-error", Static))
        await pilot.press(*"LB drained", "enter", *"[bold]not markup[/bold]", "ctrl+s")
        await status_is(pilot, "note added")
        await wait_until(lambda: len(screen.entries) == before + 1, pilot=pilot)
    _, timeline = await state(store, tclock, "INC-1")
    assert timeline[-1].kind == EntryKind.NOTE
    assert timeline[-1].message == "LB drained\n[bold]not markup[/bold]"


async def test_hold_with_reason_then_same_key_resumes(
    store: Path, live: SqliteBackend, tclock: FrozenClock
) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_incident(pilot, "INC-1")
        await pilot.press("h")
        await wait_for_screen(pilot, HoldScreen)
        # it starts on the note; down there moves the reason to "awaiting vendor"; enter puts
        # on hold (it used to pick a reason and leave the dialog open)
        await pilot.press("down", *"vendor ticket 4411", "enter")
        await status_is(pilot, "on hold (awaiting vendor)")
        incident, timeline = await state(store, tclock, "INC-1")
        assert incident.status == Status.ON_HOLD
        assert incident.hold_reason == HoldReason.AWAITING_VENDOR
        assert timeline[-1].kind == EntryKind.ON_HOLD
        assert "vendor ticket 4411" in timeline[-1].message
        await wait_until(lambda: shown_on(screen).status == Status.ON_HOLD, pilot=pilot)
        await pilot.press("h")  # on hold: the same key resumes, no dialog
        await status_is(pilot, "resumed")
    incident, timeline = await state(store, tclock, "INC-1")
    assert incident.status == Status.TRIGGERED
    assert timeline[-1].kind == EntryKind.RESUMED


async def test_reopen_with_reason(store: Path, live: SqliteBackend, tclock: FrozenClock) -> None:
    resolved = await live.get_incident("INC-3")
    await live.act(resolved.id, Resolve(), "bob", resolved.version)
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        await open_incident(pilot, "INC-3")
        await pilot.press("R")
        dialog = await wait_for_screen(pilot, ReasonScreen)
        assert "INC-3" in text_of(dialog.query(Static).first())
        await pilot.press(*"latency is back", "enter")
        await status_is(pilot, "INC-3 reopened")
    incident, timeline = await state(store, tclock, "INC-3")
    assert incident.status == Status.ACKNOWLEDGED
    assert incident.reopen_count == 1
    assert timeline[-1].kind == EntryKind.REOPENED
    assert "latency is back" in timeline[-1].message


async def test_cancel_asks_for_a_reason(
    store: Path, live: SqliteBackend, tclock: FrozenClock
) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        await open_incident(pilot, "INC-3")
        await pilot.press("x")
        dialog = await wait_for_screen(pilot, ReasonScreen)
        await pilot.press("enter")  # no reason: refused in place
        assert app.screen is dialog
        assert "required" in text_of(dialog.query_one("#reason-error", Static))
        await pilot.press(*"duplicate of INC-1", "enter")
        await status_is(pilot, "INC-3 cancelled")
    incident, timeline = await state(store, tclock, "INC-3")
    assert incident.status == Status.CANCELLED
    assert timeline[-1].kind == EntryKind.CANCELLED
    assert "duplicate of INC-1" in timeline[-1].message


async def test_cancelled_dialogs_change_nothing(
    store: Path, live: SqliteBackend, tclock: FrozenClock
) -> None:
    before, before_timeline = await state(store, tclock, "INC-1")
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_incident(pilot, "INC-1")
        for key, dialog in (
            ("e", ConfirmScreen),
            ("r", ResolveScreen),
            ("x", ReasonScreen),
            ("o", AssignScreen),
            ("p", PriorityScreen),
            ("h", HoldScreen),
            ("n", NoteScreen),
        ):
            await pilot.press(key)
            await wait_for_screen(pilot, dialog)
            await pilot.press("escape")
            await wait_until(lambda: app.screen is screen, pilot=pilot)
            await status_is(pilot, "cancelled, nothing was changed")
    after, after_timeline = await state(store, tclock, "INC-1")
    assert after == before
    assert after_timeline == before_timeline


async def test_stale_version_is_refused_and_names_the_change(
    store: Path, live: SqliteBackend, elsewhere: SqliteBackend, tclock: FrozenClock
) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_incident(pilot, "INC-1")
        seen = shown_on(screen)
        # Another console acknowledges it after this screen loaded it.
        await elsewhere.act(seen.id, Acknowledge(), "bob", seen.version)
        assert shown_on(screen).version == seen.version  # still what the user saw
        await pilot.press("o")
        await wait_for_screen(pilot, AssignScreen)
        await pilot.press(*"carol", "enter")
        text = await status_is(pilot, "changed since you saw it")
        assert text.startswith("INC-1 changed since you saw it: acknowledged by bob")
        assert app.status_error
        # the screen now shows the current version
        await wait_until(lambda: shown_on(screen).version == seen.version + 1, pilot=pilot)
        assert shown_on(screen).assignee == "bob"
    incident, timeline = await state(store, tclock, "INC-1")
    assert incident.assignee == "bob"  # nothing overwritten
    assert [e.kind for e in timeline[-1:]] == [EntryKind.ACKNOWLEDGED]


async def test_invalid_action_is_refused_before_any_dialog(
    store: Path, live: SqliteBackend, tclock: FrozenClock
) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_incident(pilot, "INC-2")  # already acknowledged
        await pilot.press("a")
        text = await status_is(pilot, "already acknowledged")
        assert app.status_error and text == "cannot acknowledge INC-2: it is already acknowledged"
        await pilot.press("R")  # reopen: only a resolved incident
        await status_is(pilot, "cannot reopen INC-2")
        assert app.screen is screen
    incident, _ = await state(store, tclock, "INC-2")
    assert incident.version == 3  # created, acknowledged, note: nothing more


async def test_readonly_refuses(store: Path, live: SqliteBackend, tclock: FrozenClock) -> None:
    app = console(live, tclock, readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_incident(pilot, "INC-1")
        assert screen.check_action("triage", ("acknowledge",)) is False
        for key in "areopnhxc":
            await pilot.press(key)
        await pilot.pause()
        assert app.screen is screen  # no dialog opened
        await app.triage.run("acknowledge", [shown_on(screen)])
        assert app.status_text.startswith("read-only console (started with --readonly): ack is")
    incident, timeline = await state(store, tclock, "INC-1")
    assert incident.version == 1 and incident.status == Status.TRIGGERED
    assert len(timeline) == 1


async def test_store_unavailable_is_reported_and_nothing_changes(
    store: Path, tclock: FrozenClock
) -> None:
    backend = await SqliteBackend(store, clock=tclock, poll_interval=60, busy_timeout=0.2).open()
    blocker = sqlite3.connect(store, timeout=0.1)
    app = console(backend, tclock)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_incident(pilot, "INC-1")
            blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            await pilot.press("a")
            text = await status_is(pilot, "locked by another process")
            assert "nothing was changed" in text and app.status_error
            blocker.rollback()
            assert shown_on(screen).status == Status.TRIGGERED
    finally:
        blocker.close()
        await backend.close()
    incident, timeline = await state(store, tclock, "INC-1")
    assert incident.status == Status.TRIGGERED and len(timeline) == 1


async def test_one_action_at_a_time(store: Path, live: SqliteBackend, tclock: FrozenClock) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_incident(pilot, "INC-1")
        await pilot.press("r")
        await wait_for_screen(pilot, ResolveScreen)
        await app.triage.run("acknowledge", [shown_on(screen)])  # e.g. from the palette
        assert app.status_text == "the previous action is still open or running: finish it first"
        await pilot.press("escape")
        await wait_until(lambda: app.screen is screen, pilot=pilot)
        await pilot.press("a")
        await status_is(pilot, "INC-1 acknowledged")
    incident, _ = await state(store, tclock, "INC-1")
    assert incident.status == Status.ACKNOWLEDGED


async def test_a_note_refused_as_stale_is_offered_again_not_lost(
    store: Path, live: SqliteBackend, elsewhere: SqliteBackend, tclock: FrozenClock
) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_incident(pilot, "INC-1")
        seen = shown_on(screen)
        await pilot.press("n")
        await wait_for_screen(pilot, NoteScreen)
        await pilot.press(*"rolled back", "enter", *"v41")
        await elsewhere.act(seen.id, Acknowledge(), "bob", seen.version)  # while typing
        await pilot.press("ctrl+s")
        offer = await wait_for_screen(pilot, ConfirmScreen)
        body = plain(offer.query_one("#confirm-body", Static))
        assert "INC-1 changed since you saw it: acknowledged by bob" in body
        assert "INC-1  P1  ack" in body  # the incident as it is now
        assert "rolled back\nv41" in body  # what was typed, kept
        await pilot.press("ctrl+s")
        await status_is(pilot, "INC-1 note added")
    incident, timeline = await state(store, tclock, "INC-1")
    assert [(e.kind, e.actor) for e in timeline[-2:]] == [
        (EntryKind.ACKNOWLEDGED, "bob"),
        (EntryKind.NOTE, "alice"),
    ]
    assert timeline[-1].message == "rolled back\nv41"
    assert incident.assignee == "bob"


async def test_a_stale_note_can_be_dropped(
    store: Path, live: SqliteBackend, elsewhere: SqliteBackend, tclock: FrozenClock
) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_incident(pilot, "INC-1")
        seen = shown_on(screen)
        await elsewhere.act(seen.id, Acknowledge(), "bob", seen.version)
        await pilot.press("n")
        await wait_for_screen(pilot, NoteScreen)
        await pilot.press(*"hello", "ctrl+s")
        await wait_for_screen(pilot, ConfirmScreen)
        await pilot.press("escape")
        await status_is(pilot, "add a note: dropped, nothing was changed")
    _, timeline = await state(store, tclock, "INC-1")
    assert timeline[-1].kind == EntryKind.ACKNOWLEDGED
