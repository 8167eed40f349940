"""The history view (issue 10.4): ``H`` pages through every incident the backend holds,
resolved ones too, newest first, with the queue's filter language; ``enter`` opens one.
Pilot over a real SQLite file with 128 incidents (three pages of 50)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.lifecycle import Resolve
from console.domain.models import NewIncident, Status
from console.tui.app import make_app
from screens.history import PAGE, HistoryScreen
from screens.incident import IncidentScreen
from tests.app.conftest import loaded, type_ahead
from tests.waiting import wait_until

MORE = 120


@pytest.fixture
async def big(db: Path, clock: FrozenClock) -> Path:
    """The queue's 8 incidents and 120 more, resolved (only the history shows them)."""
    store = await SqliteBackend(db, clock=clock).open()
    try:
        made = await store.create_incidents(
            [
                NewIncident(
                    title=f"Old outage {n}",
                    service="payments" if n % 2 else "search",
                    assignee="bob" if n % 10 == 0 else None,
                )
                for n in range(MORE)
            ],
            "erin",
        )
        for incident in made:
            await store.act(incident.id, Resolve(note="fixed"), "bob", incident.version)
    finally:
        await store.close()
    return db


async def open_history(pilot) -> HistoryScreen:  # noqa: ANN001
    """The queue loaded, then ``H``: the history screen."""
    await loaded(pilot)
    await pilot.press("H")
    await wait_until(lambda: isinstance(pilot.app.screen, HistoryScreen), pilot=pilot)
    screen = pilot.app.screen
    assert isinstance(screen, HistoryScreen)
    return screen


def shown(screen: HistoryScreen) -> list[str]:
    return [incident.key for incident in screen.shown]


async def filtered(pilot, screen: HistoryScreen, text: str) -> list[str]:  # noqa: ANN001
    await pilot.press("slash")
    screen.query_one("#history-filter", Input).value = ""
    await pilot.press(*text, "enter")
    # this filter's own pages, every one: "not fetching and exhausted" alone also holds for
    # the previous filter, before the enter is taken
    await wait_until(
        lambda: screen.typed.source == text and not screen.fetching and screen.exhausted,
        pilot=pilot,
        what=f"every page of {text!r}",
    )
    return shown(screen)


def footer_widths(screen: HistoryScreen) -> list[int]:
    """The width of each key the footer shows, once it has them (built after the screen)."""
    widths = [key.region.width for key in screen.query("FooterKey")]
    return widths if widths and all(widths) else []


async def test_history_pages_through_every_incident_newest_first(
    big: Path, clock: FrozenClock
) -> None:
    backend = await SqliteBackend(big, clock=clock).open()
    app = make_app(backend, clock=clock, user="alice")
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_history(pilot)
            await wait_until(lambda: len(screen.shown) >= PAGE, pilot=pilot)
            assert shown(screen)[:3] == ["INC-128", "INC-127", "INC-126"]
            assert not screen.exhausted  # more below, fetched as the cursor gets there
            # the footer's keys are mounted after the screen (bindings_changed, recompose)
            await wait_until(lambda: footer_widths(screen), pilot=pilot, what="the footer's keys")
            for _ in range(3):
                await pilot.press("G")  # to the last row shown: the next page follows
                await wait_until(lambda: not screen.fetching, pilot=pilot)
            await wait_until(lambda: screen.exhausted, pilot=pilot)
            assert shown(screen) == [f"INC-{n}" for n in range(128, 0, -1)]
            bar = str(screen.query_one("#history-bar").render())
            assert "128 shown" in bar and "all of them" in bar

            # the queue's filter language, over every status
            # bob has every tenth (n even: search), payments the odd ones: none in both
            assert await filtered(pilot, screen, "svc:pay @bob") == []
            assert "none match" in str(screen.query_one("#history-bar").render())
            found = await filtered(pilot, screen, "svc:sea @bob status:resolved")
            assert found == [f"INC-{9 + n}" for n in range(MORE - 1, -1, -1) if n % 10 == 0]
            assert await filtered(pilot, screen, "status:open svc:pay") == ["INC-4", "INC-2"]
            # a bare number is a word of the title and the key: outage 117, outage 17, INC-17
            assert await filtered(pilot, screen, "outage 17") == ["INC-126", "INC-26", "INC-17"]

            # a resolved incident by key, opened from the history
            assert await filtered(pilot, screen, "inc-8") == ["INC-8"]
            assert screen.shown[0].status == Status.RESOLVED
            await pilot.press("enter")
            await wait_until(
                lambda: (
                    isinstance(app.screen, IncidentScreen)
                    and app.screen.incident is not None
                    and app.screen.incident.key == "INC-8"
                ),
                pilot=pilot,
            )
            await pilot.press("escape")  # back to the history, filter kept
            await wait_until(lambda: app.screen is screen, pilot=pilot)
            assert shown(screen) == ["INC-8"]
            await pilot.press("escape")  # clears the filter: all of them again
            await wait_until(lambda: len(screen.shown) >= PAGE, pilot=pilot)
            assert screen.typed.is_empty
            await pilot.press("escape")  # back to the queue
            await wait_until(lambda: app.screen.id == "queue", pilot=pilot)
    finally:
        await backend.close()


async def test_history_filter_keys_typed_ahead_act_in_order(
    backend: SqliteBackend, clock: FrozenClock
) -> None:
    """The queue's filter box, so the same order of keys: ``/`` opens it as the App takes
    the key, ``enter`` applies exactly what was typed before it, and the keys behind it
    act on the history (a ``/`` opens the box again, the letters behind it go in). Before,
    ``/`` and ``enter`` were bindings run when the key came back up to the App: the letters
    behind them went to the table, or into the box before it was submitted."""
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_history(pilot)
        box = screen.query_one("#history-filter", Input)
        type_ahead(app, ["slash", *"svc:pay", "enter", "slash", "space", "p2"])
        await wait_until(
            lambda: box.value == "svc:pay p2", pilot=pilot, what="'svc:pay p2' in the box"
        )
        assert screen.typed.source == "svc:pay" and not app.status_error
        assert box.display and screen.focused is box
        type_ahead(app, ["enter", "escape"])  # applied, then cleared: every incident again
        await wait_until(
            lambda: screen.typed.is_empty and screen.exhausted and not screen.fetching,
            pilot=pilot,
            what="the filter cleared",
        )
        assert not box.display and screen.focused is screen.table
        assert len(screen.shown) == 8 and app.screen is screen


async def test_history_says_why_a_filter_is_refused(
    backend: SqliteBackend, clock: FrozenClock
) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_history(pilot)
        await wait_until(lambda: screen.exhausted, pilot=pilot)
        assert len(screen.shown) == 8  # the resolved INC-8 too
        await pilot.press("slash", *"svc:", "enter")
        await wait_until(lambda: app.status_text.startswith("filter: "), pilot=pilot)
        assert app.status_error and len(screen.shown) == 8
