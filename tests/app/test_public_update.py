"""``U`` on the incident screen: publish on the status page, then post public updates."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input, TextArea

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.models import EntryKind
from screens.public_update import PublicUpdateScreen
from tests.app import triage_helpers as helpers
from tests.app.triage_helpers import console, open_incident
from tests.waiting import wait_until

tclock, store, live = helpers.tclock, helpers.store, helpers.live


async def _post(pilot: Any, app: Any, message: str) -> PublicUpdateScreen:
    await pilot.press("U")
    await wait_until(lambda: isinstance(app.screen, PublicUpdateScreen), pilot=pilot)
    dialog = app.screen
    dialog.query_one("#message", TextArea).text = message
    return dialog


async def test_publish_then_update_and_the_store_keeps_both(
    live: SqliteBackend, tclock: FrozenClock
) -> None:
    app = console(live, tclock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_incident(pilot, "INC-1")
        dialog = await _post(pilot, app, "")
        await pilot.press("ctrl+s")  # an empty update is refused in the dialog
        assert app.screen is dialog
        title = dialog.query_one("#title", Input)
        assert title.value == "Checkout returns 502 for EU customers"
        title.value = "Checkout errors in Europe"
        dialog.query_one("#message", TextArea).text = "We are investigating."
        await pilot.press("ctrl+s")
        incident = screen.incident
        assert incident is not None
        await wait_until(lambda: (app.full_incident(incident.id) or incident).public, pilot=pilot)
        published = app.incidents[incident.id].version
        await _post(pilot, app, "A fix is rolling out.")
        await pilot.press("ctrl+s")
        await wait_until(lambda: app.incidents[incident.id].version > published, pilot=pilot)
    stored = await live.get_incident("INC-1")
    assert stored.public and stored.public_title == "Checkout errors in Europe"
    entries = [
        e
        for e in await live.timeline(stored.id)
        if e.kind in (EntryKind.PUBLISHED, EntryKind.PUBLIC_UPDATE)
    ]
    assert [e.message for e in entries] == ["We are investigating.", "A fix is rolling out."]


async def test_a_read_only_console_has_no_public_update_key(
    live: SqliteBackend, tclock: FrozenClock
) -> None:
    app = console(live, tclock, readonly=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_incident(pilot, "INC-1")
        await pilot.press("U")
        await pilot.pause()
        assert not isinstance(app.screen, PublicUpdateScreen)
