"""The reports screen over the hand-computed fixture in a real SQLite store."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Select, Sparkline

from backends.base import Backend
from console.tui.app import IncidentApp, make_app
from screens.reports import ReportsScreen
from tests.kpi.fixture import NOW, WEEK, replay
from tests.waiting import wait_until

OPENED: list[Backend] = []


async def open_reports(pilot: Any) -> ReportsScreen:
    app = pilot.app
    await wait_until(lambda: app.loaded, pilot=pilot)
    await pilot.press("K")
    await wait_until(lambda: isinstance(app.screen, ReportsScreen) and app.screen.kpis, pilot=pilot)
    await pilot.pause()
    return app.screen


async def test_the_screen_shows_the_backend_numbers_and_filters(tmp_path: Path) -> None:
    backend = await replay(tmp_path / "k.db")
    try:
        app = make_app(backend, clock=backend.clock, user="alice")
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_reports(pilot)
            assert screen.kpis == await backend.stats(WEEK, now=NOW)
            assert screen.query_one("#spark-created", Sparkline).data == [
                0.0,
                0.0,
                1.0,
                1.0,
                1.0,
                1.0,
                2.0,
                0.0,
            ]
            screen.query_one("#report-window", Select).value = "24h"
            await wait_until(
                lambda: screen.kpis is not None and screen.kpis.since == "24h", pilot=pilot
            )
            assert screen.kpis == await backend.stats(timedelta(hours=24), now=NOW)
            screen.query_one("#report-team", Select).value = "data"
            await wait_until(
                lambda: screen.kpis is not None and screen.kpis.team == "data", pilot=pilot
            )
            assert screen.kpis.created == 0
            screen.query_one("#report-window", Select).value = "7d"
            await wait_until(
                lambda: screen.kpis is not None and screen.kpis.since == "7d", pilot=pilot
            )
            assert (screen.kpis.created, screen.kpis.mttr.mean) == (2, 21600.0)
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, ReportsScreen)
    finally:
        await backend.close()


def reports_app(path: Path) -> IncidentApp:
    backend = asyncio.run(replay(path))
    OPENED.append(backend)
    return make_app(backend, clock=backend.clock, user="alice")


@pytest.fixture(autouse=True)
def close_stores() -> Iterator[None]:
    yield
    while OPENED:
        asyncio.run(OPENED.pop().close())


def test_reports_snapshot_120x36(snap_compare: Any, tmp_path: Path) -> None:
    app = reports_app(tmp_path / "k.db")
    assert snap_compare(app, terminal_size=(120, 36), run_before=open_reports)


def test_reports_snapshot_80x24(snap_compare: Any, tmp_path: Path) -> None:
    app = reports_app(tmp_path / "k.db")
    assert snap_compare(app, terminal_size=(80, 24), run_before=open_reports)
