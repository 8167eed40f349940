"""Snapshots of the on-call screen (``O``): a frozen clock, a fixed directory with an
override, the viewer in Europe/Berlin, at 80x24 and 120x30. Look at each SVG as a PNG."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.directory import DirectoryChanges, NewOverride
from console.domain.models import Override
from console.tui.app import IncidentApp, make_app
from screens.schedules import SchedulesScreen
from tests.app.conftest import T0, settings_with
from tests.app.test_schedules import TEAM, apply
from tests.waiting import wait_until

OPENED: list[SqliteBackend] = []
OFFICE = """
[[schedules.layers]]
name = "office hours"
people = ["chloe"]
start = 2026-01-05
handoff = "09:00"
length = "1d"
active_hours = [9, 17]
"""


async def seed(path: Path, clock: FrozenClock) -> None:
    async with SqliteBackend(path, clock=clock) as store:
        team = TEAM.replace('length = "1w"\n', 'length = "1w"\n' + OFFICE, 1)
        await apply(store, team)
        cover = Override(user="ana", start=T0 + timedelta(hours=2), end=T0 + timedelta(hours=5))
        await store.apply_directory(
            DirectoryChanges(overrides=(NewOverride(schedule="ops-oncall", override=cover),))
        )


def schedules_app(path: Path) -> IncidentApp:
    clock = FrozenClock(T0 + timedelta(hours=3))
    asyncio.run(seed(path, clock))
    backend = asyncio.run(SqliteBackend(path, clock=clock).open())
    OPENED.append(backend)
    settings = settings_with(timezone="Europe/Berlin", escalator=False)
    return make_app(backend, clock=clock, user="chloe", settings=settings)


@pytest.fixture(autouse=True)
def close_stores() -> Iterator[None]:
    yield
    while OPENED:
        asyncio.run(OPENED.pop().close())


async def open_schedules(pilot: Any) -> None:
    await wait_until(
        lambda: getattr(pilot.app, "loaded", False) and pilot.app.directory.schedules,
        pilot=pilot,
    )
    await pilot.press("O")
    await wait_until(
        lambda: isinstance(pilot.app.screen, SchedulesScreen) and pilot.app.screen.windows,
        pilot=pilot,
    )
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 30)])
def test_schedules_screen(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app = schedules_app(tmp_path / "s.db")
    assert snap_compare(app, terminal_size=size, run_before=open_schedules)
