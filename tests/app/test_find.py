"""Find anything (issue 10.4) through Pilot over a real SQLite file: keys in every form in
the filter and the palette, free text over title/service/assignee/labels, service prefixes
(an unknown one named with the known ones), ``status:`` from every view."""

from __future__ import annotations

from textual.command import CommandList

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.tui.app import make_app
from screens.incident import IncidentScreen
from tests.app.conftest import keys_shown, loaded
from tests.waiting import wait_until


async def typed(pilot, screen, text: str) -> list[str]:  # noqa: ANN001
    await pilot.press("slash")
    box = screen.query_one("#filter-input")
    box.value = ""
    await pilot.press(*text, "enter")
    await pilot.pause()
    return keys_shown(screen)


async def test_filter_finds_keys_text_services_and_statuses(
    backend: SqliteBackend, clock: FrozenClock
) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        assert await typed(pilot, screen, "INC-4") == ["INC-4"]
        assert await typed(pilot, screen, "inc-4") == ["INC-4"]
        assert "INC-4" in await typed(pilot, screen, "4")
        assert await typed(pilot, screen, "carol") == ["INC-5"]  # assignee
        assert await typed(pilot, screen, "eu-west") == ["INC-1"]  # a label
        assert await typed(pilot, screen, "svc:pay") == ["INC-2", "INC-4"]  # prefix
        assert await typed(pilot, screen, "svc:ship") == []
        assert app.status_error
        assert "no service starts with 'ship'; known: checkout, payments, search" in (
            app.status_text
        )
        # status: from view 1 asks the store for finished incidents
        await typed(pilot, screen, "status:resolved")
        await wait_until(lambda: keys_shown(screen) == ["INC-8"], pilot=pilot)


async def test_palette_opens_any_incident_by_key(
    backend: SqliteBackend, clock: FrozenClock
) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        assert 8 not in app.incidents  # resolved: not held by the console
        await pilot.press("colon", *"inc-8")
        await wait_until(
            lambda: (
                "Open INC-8" in str(app.screen.query_one(CommandList).get_option_at_index(0).prompt)
            ),
            pilot=pilot,
        )
        await pilot.press("enter")
        await wait_until(
            lambda: (
                isinstance(app.screen, IncidentScreen)
                and app.screen.incident is not None
                and app.screen.incident.key == "INC-8"
            ),
            pilot=pilot,
        )
        await pilot.press("escape", "colon", *"99")
        await wait_until(
            lambda: (
                "Open INC-99"
                in str(app.screen.query_one(CommandList).get_option_at_index(0).prompt)
            ),
            pilot=pilot,
        )
        await pilot.press("enter")
        await wait_until(lambda: "INC-99: no such incident" in app.status_text, pilot=pilot)
