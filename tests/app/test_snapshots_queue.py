"""Snapshots of the queue: fixed data, a frozen clock, a fixed user and explicit sizes.

``queue_app`` is the module-level factory: it seeds a fresh SQLite file, opens a store on it
and builds the App the same way the CLI does, so nothing varies between runs (no wall clock,
no login name, no blinking cursor on screen). Look at each SVG as a PNG before accepting it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.tui.app import IncidentApp, make_app
from tests.app.conftest import T0, seed_queue, settings_with
from tests.waiting import wait_until

OPENED: list[SqliteBackend] = []


def queue_app(path: Path, *, empty: bool = False, **settings: Any) -> IncidentApp:
    clock = FrozenClock(T0)
    if not empty:
        asyncio.run(seed_queue(path, clock))
    backend = asyncio.run(SqliteBackend(path, clock=clock).open())
    OPENED.append(backend)
    return make_app(backend, clock=clock, user="alice", settings=settings_with(**settings))


@pytest.fixture(autouse=True)
def close_stores() -> Iterator[None]:
    yield
    while OPENED:
        asyncio.run(OPENED.pop().close())


def after_load(*keys: str) -> Callable[[Any], Any]:
    async def run(pilot: Any) -> None:
        await wait_until(lambda: getattr(pilot.app.screen, "loaded", False), pilot=pilot)
        await pilot.pause()
        for key in keys:
            await pilot.press(key)
        await pilot.pause()

    return run


def test_queue_normal(snap_compare: Any, tmp_path: Path) -> None:
    app = queue_app(tmp_path / "q.db")
    assert snap_compare(app, terminal_size=(120, 40), run_before=after_load())


def test_queue_breaching_view(snap_compare: Any, tmp_path: Path) -> None:
    app = queue_app(tmp_path / "q.db")
    assert snap_compare(app, terminal_size=(120, 40), run_before=after_load("4"))


def test_queue_empty_guide(snap_compare: Any, tmp_path: Path) -> None:
    app = queue_app(tmp_path / "q.db", empty=True)
    assert snap_compare(app, terminal_size=(120, 40), run_before=after_load())


def test_queue_filtered(snap_compare: Any, tmp_path: Path) -> None:
    app = queue_app(tmp_path / "q.db")
    keys = ("slash", *"svc:search", "enter")
    assert snap_compare(app, terminal_size=(120, 40), run_before=after_load(*keys))


def test_queue_filter_error(snap_compare: Any, tmp_path: Path) -> None:
    app = queue_app(tmp_path / "q.db")
    keys = ("slash", *"owner:bob", "enter")
    assert snap_compare(app, terminal_size=(120, 40), run_before=after_load(*keys))


def test_queue_marked(snap_compare: Any, tmp_path: Path) -> None:
    app = queue_app(tmp_path / "q.db")
    keys = ("space", "j", "space", "space")
    assert snap_compare(app, terminal_size=(120, 40), run_before=after_load(*keys))


def test_queue_80x24(snap_compare: Any, tmp_path: Path) -> None:
    app = queue_app(tmp_path / "q.db")
    assert snap_compare(app, terminal_size=(80, 24), run_before=after_load("j"))


def test_queue_300x80(snap_compare: Any, tmp_path: Path) -> None:
    app = queue_app(tmp_path / "q.db")
    assert snap_compare(app, terminal_size=(300, 80), run_before=after_load())


def test_queue_high_contrast(snap_compare: Any, tmp_path: Path) -> None:
    app = queue_app(tmp_path / "q.db", theme="high-contrast")
    assert snap_compare(app, terminal_size=(120, 40), run_before=after_load("j"))


def test_queue_no_colour(snap_compare: Any, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("NO_COLOR", "1")  # read when the App is built, as in a terminal
    app = queue_app(tmp_path / "q.db")
    assert app.no_color
    assert snap_compare(app, terminal_size=(120, 40), run_before=after_load("j"))


def test_queue_readonly(snap_compare: Any, tmp_path: Path) -> None:
    clock = FrozenClock(T0)
    asyncio.run(seed_queue(tmp_path / "q.db", clock))
    backend = asyncio.run(SqliteBackend(tmp_path / "q.db", clock=clock).open())
    OPENED.append(backend)
    app = make_app(backend, clock=clock, user="alice", readonly=True)
    assert snap_compare(app, terminal_size=(120, 40), run_before=after_load())


def test_help_screen(snap_compare: Any, tmp_path: Path) -> None:
    app = queue_app(tmp_path / "q.db", keymap={"acknowledge": "A"})
    assert snap_compare(app, terminal_size=(120, 40), run_before=after_load("question_mark"))
