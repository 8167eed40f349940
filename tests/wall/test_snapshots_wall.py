"""Snapshots of the wall at 80x24, 160x48, 200x56, 240x67 and 320x90 (and under NO_COLOR): fixed data, frozen
clock. Each SVG was looked at as a PNG (``rsvg-convert x.svg -o x.png``) before accepting it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.tui.app import IncidentApp, make_app
from screens.wall import WallScreen
from tests.waiting import wait_until
from tests.wall.data import T0, seed_wall

OPENED: list[SqliteBackend] = []


def wall_app(path: Path) -> IncidentApp:
    clock = FrozenClock(T0)
    asyncio.run(seed_wall(path, clock))
    backend = asyncio.run(SqliteBackend(path, clock=clock, poll_interval=60).open())
    OPENED.append(backend)
    return make_app(backend, clock=clock, wall=True, user="noc")


@pytest.fixture(autouse=True)
def close_stores() -> Iterator[None]:
    yield
    while OPENED:
        asyncio.run(OPENED.pop().close())


async def settled(pilot: Any) -> None:
    app = pilot.app
    await wait_until(
        lambda: isinstance(app.screen, WallScreen) and app.loaded and app.screen._mtta is not None,
        pilot=pilot,
        what="the wall to load",
    )
    await pilot.pause()
    await pilot.pause()


def test_wall_80x24(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(wall_app(tmp_path / "w.db"), terminal_size=(80, 24), run_before=settled)


def test_wall_160x48(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(wall_app(tmp_path / "w.db"), terminal_size=(160, 48), run_before=settled)


def test_wall_240x67(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(wall_app(tmp_path / "w.db"), terminal_size=(240, 67), run_before=settled)


def test_wall_no_color(snap_compare: Any, tmp_path: Path, monkeypatch: Any) -> None:
    """Without colour the new P1 and the breach still stand out by their textual markers."""
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(wall_app(tmp_path / "w.db"), terminal_size=(120, 36), run_before=settled)


def test_wall_200x56(snap_compare: Any, tmp_path: Path) -> None:
    """A 1920x1080 browser at its default font (``incidents web --wall``): digits scale up."""
    assert snap_compare(wall_app(tmp_path / "w.db"), terminal_size=(200, 56), run_before=settled)


def test_wall_320x90(snap_compare: Any, tmp_path: Path) -> None:
    """A big TV: countdowns at eight rows a digit, each still with its title beside it."""
    assert snap_compare(wall_app(tmp_path / "w.db"), terminal_size=(320, 90), run_before=settled)
