"""The on-call screen (``O``) over a real SQLite file with a frozen clock: who is on call,
take / swap on-call written to the store, overrides taking effect at their start, live
directory changes, read-only consoles, and the escalator paging the override's person."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandPalette
from textual.widgets import DataTable, Input, OptionList

from backends.sqlite.store import SqliteBackend
from console.cli.directory import current_directory
from console.domain.clock import FrozenClock
from console.domain.directory import DirectoryChanges, NewOverride, parse, plan
from console.domain.models import EntryKind, NewIncident, Override
from console.services.escalator import Escalator
from console.tui.app import make_app
from screens.assign import AssignScreen
from screens.override import OverrideScreen
from screens.schedules import SchedulesScreen
from tests.app.conftest import T0, settings_with
from tests.waiting import wait_until

# T0 is Monday 2026-03-02 09:00 UTC: the weekly hand-off; ben's week (even weeks from 01-05
# are ben's: 01-05, 01-19, ..., 03-02).
TEAM = """
[[teams]]
id = "ops"
name = "Operations"

[[people]]
handle = "ana"
name = "Ana Pereira"
email = "ana@example.com"

[[people]]
handle = "ben"
name = "Ben Okafor"
email = "ben@example.com"

[[people]]
handle = "chloe"
name = "Chloe Martin"
email = "chloe@example.com"

[[schedules]]
id = "ops-oncall"
name = "Ops on call"
timezone = "UTC"

[[schedules.layers]]
name = "weekly"
people = ["ben", "ana"]
start = 2026-01-05
handoff = "09:00"
length = "1w"

[[policies]]
id = "ops-escalation"
name = "Ops escalation"

[[policies.levels]]
targets = ["person:ana"]
wait = "10m"

[[policies.levels]]
targets = ["schedule:ops-oncall"]
wait = "10m"

[[services]]
id = "web"
name = "Website"
team = "ops"
policy = "ops-escalation"
"""


async def apply(store: SqliteBackend, text: str) -> None:
    found = plan(await current_directory(store), parse(text), store.clock.now())
    await store.apply_directory(found.changes)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
async def store(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[SqliteBackend]:
    opened = await SqliteBackend(tmp_path / "oncall.db", clock=clock, poll_interval=0.02).open()
    await apply(opened, TEAM)
    yield opened
    await opened.close()


def console(store: SqliteBackend, clock: FrozenClock, **kwargs: Any) -> Any:
    settings = settings_with(timezone="Europe/Berlin", escalator=False)
    return make_app(
        store, clock=clock, settings=settings, user=kwargs.pop("user", "chloe"), **kwargs
    )


async def open_schedules(pilot: Any) -> SchedulesScreen:
    await wait_until(lambda: getattr(pilot.app, "loaded", False), pilot=pilot)
    await wait_until(lambda: bool(pilot.app.directory.schedules), pilot=pilot)
    await pilot.press("O")
    await wait_until(lambda: isinstance(pilot.app.screen, SchedulesScreen), pilot=pilot)
    screen = pilot.app.screen
    assert isinstance(screen, SchedulesScreen)
    await wait_until(lambda: "ops-oncall" in screen.windows, pilot=pilot)
    return screen


def cells(screen: SchedulesScreen, table_id: str) -> list[list[str]]:
    table = screen.query_one(table_id, DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_shows_who_is_on_call_until_when_per_policy_level_and_layer(
    store: SqliteBackend, clock: FrozenClock
) -> None:
    app = console(store, clock)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_schedules(pilot)
        assert cells(screen, "#oncall-levels") == [
            ["Ops escalation", "1", "Ana Pereira", "-", "-"],
            # hand-offs on the viewer's clock (Europe/Berlin, UTC+1 in March)
            ["", "2", "Ben Okafor", "03-09 10:00 in 7d00h", "Ana Pereira"],
        ]
        assert cells(screen, "#oncall-schedules") == [
            ["Ops on call", "Ben Okafor", "03-09 10:00 in 7d00h", "Ana Pereira"],
            [" └ weekly", "Ben Okafor", "03-09 10:00 in 7d00h", "Ana Pereira"],
        ]
        assert "t take on-call" in str(screen.query_one("#oncall-state").render())


async def test_take_on_call_is_written_and_takes_effect_at_its_start(
    store: SqliteBackend, clock: FrozenClock, tmp_path: Path
) -> None:
    app = console(store, clock)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_schedules(pilot)
        await pilot.press("t")
        await wait_until(lambda: isinstance(app.screen, OverrideScreen), pilot=pilot)
        dialog = app.screen
        # the default is now until the next hand-off; cover 11:00-13:00 Berlin instead
        assert dialog.query_one("#override-start", Input).value == "2026-03-02 10:00"
        assert dialog.query_one("#override-end", Input).value == "2026-03-09 10:00"
        dialog.query_one("#override-start", Input).value = "2026-03-02 11:00"
        dialog.query_one("#override-end", Input).value = "2026-03-02 13:00"
        await pilot.press("ctrl+s")
        await wait_until(lambda: isinstance(app.screen, SchedulesScreen), pilot=pilot)
        await wait_until(lambda: "Chloe Martin is on call" in app.status_text, pilot=pilot)
        # in the store, for everyone: another connection reads it
        async with SqliteBackend(tmp_path / "oncall.db") as other:
            (schedule,) = await other.schedules()
        assert schedule.overrides == (
            Override(
                user="chloe", start=T0 + timedelta(hours=1), end=T0 + timedelta(hours=3), by="chloe"
            ),
        )
        await wait_until(lambda: app.directory.schedules[0].overrides, pilot=pilot)
        assert screen.windows["ops-oncall"].user == "ben"  # not started yet
        assert screen.windows["ops-oncall"].next_user == "chloe"
        clock.advance(timedelta(hours=1))
        app.tick()
        await wait_until(lambda: screen.windows["ops-oncall"].user == "chloe", pilot=pilot)
        row = cells(screen, "#oncall-schedules")[0]
        assert row == [
            "Ops on call",
            "Chloe Martin *",
            "Mon 13:00 in 2h00m",
            "Ben Okafor",
        ]
        clock.advance(timedelta(minutes=30))
        app.tick()  # the countdown moves with the app clock
        await wait_until(
            lambda: cells(screen, "#oncall-schedules")[0][2] == "Mon 13:00 in 1h30m", pilot=pilot
        )


async def test_swap_with_picks_who_covers(store: SqliteBackend, clock: FrozenClock) -> None:
    app = console(store, clock, user="ben")
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_schedules(pilot)
        await pilot.press("w")
        await wait_until(lambda: isinstance(app.screen, OverrideScreen), pilot=pilot)
        # the schedule's people first, the one on call now left out: ana, then chloe
        await pilot.press("down", "enter")
        await pilot.press("ctrl+s")
        await wait_until(lambda: screen.windows["ops-oncall"].user == "chloe", pilot=pilot)
        (schedule,) = await store.schedules()
        assert schedule.overrides == (
            Override(user="chloe", start=T0, end=T0 + timedelta(weeks=1), by="ben"),
        )


async def test_a_read_only_console_sees_but_cannot_change(
    store: SqliteBackend, clock: FrozenClock
) -> None:
    app = console(store, clock, readonly=True)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_schedules(pilot)
        assert "read-only" in str(screen.query_one("#oncall-state").render())
        for key in ("t", "w"):
            await pilot.press(key)
            await wait_until(lambda: "read-only: cannot" in app.status_text, pilot=pilot)
            assert isinstance(app.screen, SchedulesScreen)
        (schedule,) = await store.schedules()
        assert schedule.overrides == ()


async def test_a_directory_applied_elsewhere_shows_up_live(
    store: SqliteBackend, clock: FrozenClock, tmp_path: Path
) -> None:
    app = console(store, clock)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_schedules(pilot)
        async with SqliteBackend(tmp_path / "oncall.db", clock=clock) as other:
            await apply(other, TEAM.replace('name = "Ops on call"', 'name = "Ops primary"'))
        await wait_until(
            lambda: cells(screen, "#oncall-schedules")[0][0] == "Ops primary", pilot=pilot
        )


async def test_the_escalator_pages_the_override_from_its_start(
    store: SqliteBackend, clock: FrozenClock
) -> None:
    cover = Override(user="chloe", start=T0 + timedelta(hours=1), end=T0 + timedelta(hours=3))
    await store.apply_directory(
        DirectoryChanges(overrides=(NewOverride(schedule="ops-oncall", override=cover),))
    )
    escalator = Escalator(store, clock)
    before = await store.create_incident(NewIncident(title="before", service="web"), "ana")
    clock.set(T0 + timedelta(minutes=50))
    at_start = await store.create_incident(NewIncident(title="at start", service="web"), "ana")
    clock.set(T0 + timedelta(minutes=59, seconds=59))
    assert await escalator.tick() == [f"{before.key} escalated to level 2"]
    clock.set(T0 + timedelta(hours=1))  # at_start's level 1 wait ends as the override starts
    assert await escalator.tick() == [f"{at_start.key} escalated to level 2"]
    for incident, paged in ((before, "paging ben"), (at_start, "paging chloe")):
        entry = (await store.timeline(incident.id))[-1]
        assert entry.kind == EntryKind.ESCALATED and paged in entry.message


async def test_the_palette_opens_it(store: SqliteBackend, clock: FrozenClock) -> None:
    app = console(store, clock)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(lambda: getattr(app, "loaded", False), pilot=pilot)
        await pilot.press("colon")
        await pilot.press(*"on call and")

        def found() -> bool:
            screen = app.screen
            if not isinstance(screen, CommandPalette):
                return False
            results = screen.query_one(OptionList)
            return results.option_count > 0 and "On call" in str(
                results.get_option_at_index(0).prompt
            )

        await wait_until(found, pilot=pilot)
        await pilot.press("enter")
        await wait_until(lambda: isinstance(app.screen, SchedulesScreen), pilot=pilot)


async def test_hostile_names_are_shown_as_plain_text(
    store: SqliteBackend, clock: FrozenClock
) -> None:
    await apply(
        store,
        TEAM.replace('name = "Ops on call"', 'name = "[/ops] on call"').replace(
            'name = "Ben Okafor"', 'name = "[red]Ben[/red] \\u001b[2J"'
        ),
    )
    app = console(store, clock)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_schedules(pilot)
        rows = cells(screen, "#oncall-schedules")
        assert rows[0][0] == "[/ops] on call"
        assert rows[0][1].startswith("[red]Ben[/red]") and "\x1b" not in rows[0][1]
        await pilot.press("w")
        await wait_until(lambda: isinstance(app.screen, OverrideScreen), pilot=pilot)


async def test_fresh_database_with_the_example_file_is_a_working_console(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """Issue 17's 'done when': apply examples/team.toml to an empty database, then the
    console's assign lists those people, escalation pages the schedule's on-call person and
    the on-call screen shows who is on call now."""
    example = Path(__file__).resolve().parents[2] / "examples" / "team.toml"
    async with SqliteBackend(tmp_path / "fresh.db", clock=clock, poll_interval=0.02) as store:
        await apply(store, example.read_text(encoding="utf-8"))
        incident = await store.create_incident(NewIncident(title="site down", service="web"), "ana")
        # the weekly rotation from Monday 2026-01-05 09:00 London: ana, ben, chloe, ana, ...;
        # T0 (2026-03-02 09:00) is 8 hand-offs later: chloe's week
        assert await store.paged_now(incident.id) == ["chloe"]
        app = console(store, clock, user="ben")
        async with app.run_test(size=(120, 30)) as pilot:
            screen = await open_schedules(pilot)
            assert cells(screen, "#oncall-schedules")[0][:2] == ["Ops on call", "Chloé Martin"]
            await pilot.press("escape")
            await wait_until(lambda: incident.id in app.incidents, pilot=pilot)
            await pilot.press("o")
            await wait_until(lambda: isinstance(app.screen, AssignScreen), pilot=pilot)
            people = app.screen.query_one("#people", OptionList)
            listed = [str(people.get_option_at_index(i).prompt) for i in range(people.option_count)]
            assert any("Chloé Martin" in p and "on call" in p for p in listed)
            assert any("Ana Pereira" in p for p in listed)
            assert any("Ben Okafor" in p for p in listed)
