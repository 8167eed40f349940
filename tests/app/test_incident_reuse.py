"""Opening incidents one after another reuses one incident screen, showing only the new one."""

from __future__ import annotations

from textual.widgets import Static

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.lifecycle import AddNote
from console.tui.app import make_app
from screens.incident import IncidentScreen
from screens.queue import QueueScreen
from tests.app.conftest import loaded
from tests.app.triage_helpers import plain
from tests.waiting import wait_until


def _text(screen: IncidentScreen, selector: str) -> str:
    return plain(screen.query_one(selector, Static))


async def test_the_second_open_shows_the_second_incident_on_the_same_screen(
    backend: SqliteBackend, clock: FrozenClock
) -> None:
    first, second = await backend.get_incident("INC-1"), await backend.get_incident("INC-3")
    await backend.act(first.id, AddNote(text="only on the first"), "bob", first.version)
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await loaded(pilot)
        opened = []
        for incident in (first, second):
            queue.list.move_cursor(queue.model.index_of(incident.id) or 0)
            await pilot.press("enter")
            screen = await wait_until(
                lambda: app.screen if isinstance(app.screen, IncidentScreen) else None,
                pilot=pilot,
            )
            await wait_until(
                lambda s=screen, i=incident: (
                    i.key in _text(s, "#headline") and "loading" not in _text(s, "#timeline")
                ),
                pilot=pilot,
            )
            opened.append((screen, _text(screen, "#timeline"), _text(screen, "#details")))
            await pilot.press("escape")
            await wait_until(lambda: isinstance(app.screen, QueueScreen), pilot=pilot)
        (one, timeline_one, _), (two, timeline_two, details_two) = opened
        assert one is two
        assert "only on the first" in timeline_one
        assert "only on the first" not in timeline_two
        assert first.key not in details_two
