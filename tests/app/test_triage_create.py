"""Creating an incident from the console: validation next to the fields, then the store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from textual.widgets import Select, Static

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.models import EntryKind, IncidentQuery, Priority, Status
from screens.create import CreateScreen
from tests.app import triage_helpers as helpers
from tests.app.triage_helpers import (
    console,
    open_incident,
    plain,
    started,
    state,
    status_is,
    wait_for_screen,
)
from tests.waiting import wait_until

tclock, store, live, elsewhere = helpers.tclock, helpers.store, helpers.live, helpers.elsewhere

SIZE = (100, 34)


def error(dialog: CreateScreen, field: str) -> str:
    return plain(dialog.query_one(f"#{field}-error", Static)).strip()


async def count(backend: SqliteBackend) -> int:
    return await backend.count_incidents(IncidentQuery(statuses=tuple(Status)))


async def test_validation_errors_next_to_fields_then_create(
    store: Path, live: SqliteBackend, tclock: FrozenClock
) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("c")  # from the queue
        dialog: CreateScreen = await wait_for_screen(pilot, CreateScreen)
        await pilot.press("ctrl+s")
        assert error(dialog, "title") == "a title is required"
        assert error(dialog, "service") == "pick a service"
        assert error(dialog, "assignee") == ""
        assert app.screen is dialog and dialog.focused is dialog.query_one("#title")
        assert await count(live) == 4  # nothing was sent
        await pilot.press(*"   ", "ctrl+s")  # blank is not a title
        assert error(dialog, "title") == "a title is required"
        await pilot.press(*"VPN drops every 10 minutes [red]")
        await pilot.press("tab", "enter", "down", "down", "enter")  # service: Payments
        assert dialog.query_one("#service", Select).value == "payments"
        await pilot.press("tab", "1")  # impact 1
        await pilot.pause()
        assert "Priority: P2" in plain(dialog.query_one("#matrix", Static))
        dialog.query_one("#assignee", Select).value = "dave"
        await pilot.press("ctrl+s")
        text = await status_is(pilot, "created")
        assert text == "INC-5 created (P2)"
    incident, timeline = await state(store, tclock, "INC-5")
    assert incident.title == "VPN drops every 10 minutes [red]"
    assert (incident.service, incident.impact, incident.urgency) == ("payments", 1, 2)
    assert incident.priority == Priority.P2
    assert incident.assignee == "dave"
    assert incident.policy == "sre"  # the service's policy
    assert (timeline[0].kind, timeline[0].actor) == (EntryKind.CREATED, "alice")


async def test_create_from_the_incident_screen_and_cancel(
    store: Path, live: SqliteBackend, tclock: FrozenClock
) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_incident(pilot, "INC-1")
        await pilot.press("c")
        await wait_for_screen(pilot, CreateScreen)
        await pilot.press(*"something", "escape")
        await wait_until(lambda: app.screen is screen, pilot=pilot)
        await status_is(pilot, "create: cancelled, nothing was created")
    assert await count(live) == 4


async def test_a_refused_create_keeps_what_was_typed(store: Path, tclock: FrozenClock) -> None:
    """The store is locked by another writer: the form comes back with the input and why."""
    backend = await SqliteBackend(store, clock=tclock, poll_interval=60, busy_timeout=0.2).open()
    app = console(backend, tclock)
    blocker = sqlite3.connect(store, timeout=0.1)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot)
            await pilot.press("c")
            dialog = await wait_for_screen(pilot, CreateScreen)
            await pilot.press(*"Printer on fire")
            dialog.query_one("#service", Select).value = "search"
            blocker.execute("BEGIN IMMEDIATE")  # hold the write lock
            await pilot.press("ctrl+s")
            await wait_until(lambda: app.screen is not dialog, pilot=pilot)
            again = await wait_for_screen(pilot, CreateScreen)
            problem = plain(again.query_one("#problem", Static))
            assert "nothing was changed" in problem
            assert again.query_one("#title").value == "Printer on fire"
            assert again.query_one("#service", Select).value == "search"
            blocker.rollback()
            await pilot.press("ctrl+s")
            await status_is(pilot, "INC-5 created")
    finally:
        blocker.close()
        await backend.close()
    incident, _ = await state(store, tclock, "INC-5")
    assert incident.title == "Printer on fire"


async def test_first_incident_on_an_empty_database_names_its_service(
    tmp_path: Path, tclock: FrozenClock
) -> None:
    """A fresh database has no services: the form takes a typed name and creates it."""
    empty = SqliteBackend(tmp_path / "fresh.db", clock=tclock)
    await empty.open()
    try:
        app = console(empty, tclock)
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot)
            await pilot.press("c")
            dialog: CreateScreen = await wait_for_screen(pilot, CreateScreen)
            await pilot.press(*"Checkout is down", "ctrl+s")
            assert error(dialog, "service") == "name the service this incident is on"
            assert await count(empty) == 0
            assert dialog.focused is dialog.query_one("#service")  # the field to fix
            await pilot.press(*"Checkout Web", "ctrl+s")
            text = await status_is(pilot, "created")
            assert text == "INC-1 created (P3)"
        services = await empty.services()
        assert [(s.id, s.name) for s in services] == [("checkout-web", "checkout-web")]
        incident = await empty.get_incident("INC-1")
        assert (incident.title, incident.service) == ("Checkout is down", "checkout-web")
    finally:
        await empty.close()
