"""Snapshots of the incident screen and every triage dialog: fixed data, frozen clock, set sizes.

The App is built as the CLI builds it, over a seeded SQLite file. Cursor blinking is switched
off in the dialogs before the picture is taken so a slow machine cannot catch it mid-blink.
Look at each SVG as a PNG before accepting it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.lifecycle import Acknowledge
from console.tui.app import IncidentApp, make_app
from screens.bulk_summary import BulkSummaryScreen
from screens.dialog import Dialog
from screens.incident import IncidentScreen
from tests.app.triage_helpers import T0, seed, wait_for_screen
from tests.waiting import wait_until

OPENED: list[SqliteBackend] = []


def triage_app(path: Path) -> IncidentApp:
    clock = FrozenClock(T0)
    asyncio.run(seed(path, clock))
    backend = asyncio.run(SqliteBackend(path, clock=clock, poll_interval=60).open())
    OPENED.append(backend)
    return make_app(backend, clock=clock, user="alice")


@pytest.fixture(autouse=True)
def close_stores() -> Iterator[None]:
    yield
    while OPENED:
        asyncio.run(OPENED.pop().close())


async def _steady(pilot: Any) -> None:
    for widget in pilot.app.screen.query("Input, TextArea"):
        widget.cursor_blink = False
    await pilot.pause()
    await pilot.pause()


async def _dialog_keys(pilot: Any, keys: tuple[str, ...]) -> None:
    """The first key opens a dialog (wait for it); the rest are typed into it."""
    if not keys:
        return
    await pilot.press(keys[0])
    await wait_for_screen(pilot, Dialog)
    for key in keys[1:]:
        await pilot.press(key)


def on_incident(
    incident_id: int, *keys: str, text: str = "", after: Callable[[Any], Any] | None = None
) -> Callable[[Any], Any]:
    """Open incident ``incident_id``, press ``keys``, type ``text``, then wait for quiet."""

    async def run(pilot: Any) -> None:
        app = pilot.app
        await wait_until(lambda: getattr(app.screen, "loaded", False), pilot=pilot)
        screen = IncidentScreen(incident_id)
        await app.push_screen(screen)
        await wait_until(lambda: bool(screen.entries), pilot=pilot)
        await _dialog_keys(pilot, keys)
        if text:
            await pilot.press(*text)
        if after is not None:
            await after(pilot)
        await _steady(pilot)

    return run


def on_queue_marked(
    *keys: str, conflict: bool = False, shows: type[Dialog[Any]] = Dialog
) -> Callable[[Any], Any]:
    """Mark INC-1, INC-3 and INC-4 in the queue, press ``keys``, wait for ``shows``."""

    async def run(pilot: Any) -> None:
        app = pilot.app
        await wait_until(lambda: getattr(app.screen, "loaded", False), pilot=pilot)
        queue = app.screen
        for incident_id in (1, 3, 4):
            queue.list.move_to(incident_id)
            await pilot.press("space")
        queue.list.move_to(1)
        if conflict:
            other = await SqliteBackend(app.backend.path, clock=app.clock).open()
            try:
                await other.act(3, Acknowledge(), "bob", 1)
            finally:
                await other.close()
        await _dialog_keys(pilot, keys)
        await wait_for_screen(pilot, shows)
        await _steady(pilot)

    return run


def test_incident_screen(snap_compare: Any, tmp_path: Path) -> None:
    app = triage_app(tmp_path / "t.db")
    assert snap_compare(app, terminal_size=(120, 36), run_before=on_incident(1))


def test_incident_screen_80x24_with_notes(snap_compare: Any, tmp_path: Path) -> None:
    app = triage_app(tmp_path / "t.db")
    assert snap_compare(app, terminal_size=(80, 24), run_before=on_incident(2))


def test_resolve_dialog(snap_compare: Any, tmp_path: Path) -> None:
    app = triage_app(tmp_path / "t.db")
    run = on_incident(1, "r", text="rolled back the LB config")  # it starts on the note
    assert snap_compare(app, terminal_size=(100, 30), run_before=run)


def test_escalate_confirmation(snap_compare: Any, tmp_path: Path) -> None:
    app = triage_app(tmp_path / "t.db")
    assert snap_compare(app, terminal_size=(100, 30), run_before=on_incident(1, "e"))


def test_priority_picker(snap_compare: Any, tmp_path: Path) -> None:
    app = triage_app(tmp_path / "t.db")
    run = on_incident(2, "p", "1")  # INC-2 P3 -> impact 1 gives P2
    assert snap_compare(app, terminal_size=(100, 30), run_before=run)


def test_assign_type_ahead(snap_compare: Any, tmp_path: Path) -> None:
    app = triage_app(tmp_path / "t.db")
    run = on_incident(1, "o", text="sre")  # Alice (on call) and Bob match the team
    assert snap_compare(app, terminal_size=(100, 30), run_before=run)


def test_note_dialog(snap_compare: Any, tmp_path: Path) -> None:
    app = triage_app(tmp_path / "t.db")
    run = on_incident(1, "n", text="Drained eu-west-1b; [bold]not markup[/bold]")
    assert snap_compare(app, terminal_size=(100, 30), run_before=run)


def test_hold_dialog(snap_compare: Any, tmp_path: Path) -> None:
    app = triage_app(tmp_path / "t.db")
    # it starts on the note; down there moves the reason to "awaiting vendor"
    run = on_incident(1, "h", "down", text="vendor ticket 4411")
    assert snap_compare(app, terminal_size=(100, 30), run_before=run)


def test_cancel_dialog_requires_a_reason(snap_compare: Any, tmp_path: Path) -> None:
    app = triage_app(tmp_path / "t.db")
    run = on_incident(3, "x", "enter")
    assert snap_compare(app, terminal_size=(100, 30), run_before=run)


def test_create_form_with_validation_errors(snap_compare: Any, tmp_path: Path) -> None:
    app = triage_app(tmp_path / "t.db")
    run = on_incident(1, "c", "ctrl+s")
    assert snap_compare(app, terminal_size=(80, 24), run_before=run)


def test_bulk_preview(snap_compare: Any, tmp_path: Path) -> None:
    app = triage_app(tmp_path / "t.db")
    assert snap_compare(app, terminal_size=(100, 30), run_before=on_queue_marked("a"))


def test_bulk_summary_with_a_conflict(snap_compare: Any, tmp_path: Path) -> None:
    app = triage_app(tmp_path / "t.db")
    run = on_queue_marked("a", "ctrl+s", conflict=True, shows=BulkSummaryScreen)
    assert snap_compare(app, terminal_size=(100, 30), run_before=run)


def test_incident_screen_breached_and_escalation_due(snap_compare: Any, tmp_path: Path) -> None:
    """16 minutes on: the response clock is red and marked in words; the escalation is due."""
    app = triage_app(tmp_path / "t.db")

    async def late(pilot: Any) -> None:
        pilot.app.clock.advance(16 * 60)
        pilot.app.tick()
        await pilot.pause()
        pilot.app.clear_notifications()  # the App's breach toasts are the queue's subject

    assert snap_compare(app, terminal_size=(120, 30), run_before=on_incident(1, after=late))
