"""The wall over a real SQLite file with a frozen clock: what it counts, marks and pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from backends.base import ConnectionState
from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.models import NewIncident
from console.tui.app import IncidentApp, make_app
from screens.wall import WallScreen, connection_label
from tests.waiting import wait_until
from tests.wall.data import MTTA_TODAY_SECONDS, T0, seed_wall
from widgets.wall_model import (
    NEW_WINDOW,
    PAGE_SECONDS,
    countdown,
    is_breached,
    is_new_p1,
    mtta_digits,
    new_breaches,
    new_p1s,
)
from widgets.wall_tile import WallTile


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
async def backend(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[SqliteBackend]:
    path = tmp_path / "wall.db"
    await seed_wall(path, clock)
    opened = await SqliteBackend(path, clock=clock, poll_interval=0.02).open()
    yield opened
    await opened.close()


def wall_app(backend: SqliteBackend, clock: FrozenClock) -> IncidentApp:
    return make_app(backend, clock=clock, wall=True, user="noc")


async def ready(pilot: Any) -> WallScreen:
    app = pilot.app
    await wait_until(lambda: isinstance(app.screen, WallScreen) and app.loaded, pilot=pilot)
    wall = app.screen
    await wait_until(lambda: wall._mtta is not None, pilot=pilot)
    await pilot.pause()
    return wall


def text_of(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector).render())


def tile(screen: Any, name: str) -> str:
    return screen.query_one(f"#tile-{name}", WallTile)._value


async def test_tiles_banner_and_order(backend: SqliteBackend, clock: FrozenClock) -> None:
    app = wall_app(backend, clock)
    async with app.run_test(size=(160, 48)) as pilot:
        wall = await ready(pilot)
        # open P1: INC-1 (new) and INC-3; P2: INC-2, INC-4, INC-14, INC-18
        assert (tile(wall, "p1"), tile(wall, "p2")) == ("2", "4")
        # never acknowledged: 11 of the 18 open; breached: INC-2 (response, 36 of 30 min)
        assert (tile(wall, "unacked"), tile(wall, "breached")) == ("11", "1")
        assert tile(wall, "mtta") == mtta_digits(MTTA_TODAY_SECONDS)[0] == "12.2"
        banner = text_of(wall, "#wall-banner")
        assert "!! NEW P1 !! INC-1 Checkout returns 502" in banner
        assert "!! BREACHED !! INC-2 Payment webhooks delayed" in banner
        # most urgent first: the new P1 nobody answered, the breach, then P1s by time left
        assert wall._order is not None
        assert [o.key for o in wall._order.rows[:3]] == ["INC-1", "INC-2", "INC-3"]
        first = str(wall.query_one("#urgent-0 .urgent-row--info").render())
        assert first.startswith(" !! NEW P1 !! ") and "INC-1" in first
        second = str(wall.query_one("#urgent-1 .urgent-row--info").render())
        assert second.startswith(" BREACHED ") and "INC-2" in second
        header = text_of(wall, "#wall-header")
        assert "connected" in header and "last update 0s ago" in header
        assert "2026-03-02 09:30:04 UTC" in header


async def test_hostile_titles_are_plain_text(backend: SqliteBackend, clock: FrozenClock) -> None:
    app = wall_app(backend, clock)
    async with app.run_test(size=(160, 48)) as pilot:
        wall = await ready(pilot)
        rest = text_of(wall, "#wall-rest")
        assert "[bold red]pwned[/]" in rest
        assert "\x1b" not in rest and "\x07" not in rest


async def test_pages_turn_with_the_clock_and_widgets_are_reused(
    backend: SqliteBackend, clock: FrozenClock
) -> None:
    app = wall_app(backend, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        wall = await ready(pilot)
        widgets = len(list(wall.walk_children()))
        first = text_of(wall, "#wall-rest")
        assert "MORE OPEN: 1-5 of 15" in first
        clock.advance(PAGE_SECONDS)
        app.tick()
        await pilot.pause()
        second = text_of(wall, "#wall-rest")
        assert "MORE OPEN: 6-10 of 15" in second and second != first
        assert len(list(wall.walk_children())) == widgets


async def test_a_new_p1_from_elsewhere_is_announced(
    backend: SqliteBackend, clock: FrozenClock, tmp_path: Path
) -> None:
    app = wall_app(backend, clock)
    async with app.run_test(size=(160, 48)) as pilot:
        wall = await ready(pilot)
        widgets = len(list(wall.walk_children()))
        other = await SqliteBackend(backend.path, clock=clock).open()
        try:
            await other.create_incident(
                NewIncident(title="Core router down", service="edge", impact=1, urgency=1),
                "alertmanager",
            )
        finally:
            await other.close()
        await wait_until(lambda: tile(wall, "p1") == "3", pilot=pilot)
        assert "INC-21 Core router down" in text_of(wall, "#wall-banner")
        assert "+1 more" in text_of(wall, "#wall-banner")
        assert len(list(wall.walk_children())) == widgets


async def test_only_quit(backend: SqliteBackend, clock: FrozenClock) -> None:
    app = wall_app(backend, clock)
    async with app.run_test(size=(120, 36)) as pilot:
        wall = await ready(pilot)
        for key in ("a", "r", "e", "escape", "enter", "c", "space"):
            await pilot.press(key)
            await pilot.pause()
        assert app.screen is wall
        assert (await backend.get_incident(1)).acknowledged_at is None
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0 or app.return_code is None


def test_connection_labels() -> None:
    assert connection_label(ConnectionState(), T0) == ("connected", False)
    assert connection_label(ConnectionState("reconnecting", attempt=3), T0) == (
        "RECONNECTING (attempt 3)",
        True,
    )
    offline = ConnectionState("offline", since=T0 - timedelta(minutes=2))
    assert connection_label(offline, T0) == ("OFFLINE for 2m00s: data may be stale", True)


def test_countdown_digits() -> None:
    from console.domain.sla import SlaClock, SlaState

    def clock(used: float, target: float, state: SlaState = SlaState.RUNNING) -> SlaClock:
        return SlaClock(
            kind="response",
            state=state,
            target=timedelta(seconds=target),
            used=timedelta(seconds=used),
            due=None,
        )

    assert countdown(clock(60, 900)) == "14:00"
    assert countdown(clock(0, 4 * 3600 + 5)) == "4:00:05"
    assert countdown(clock(960, 900, SlaState.BREACHED)) == "-01:00"
    assert countdown(clock(10, 900, SlaState.PAUSED)) == "--:--"
    assert mtta_digits(None) == ("--", "no acks yet")
    assert mtta_digits(2 * 3600) == ("2.0", "hours")


async def test_what_the_clock_moves_matches_a_walk_of_every_open_incident(
    backend: SqliteBackend, clock: FrozenClock
) -> None:
    """The wall orders and counts only when incidents change or the tracker reports a new
    SLA state; each second it reads the new P1s, the new breaches and the breached count
    from that. At every step they must be what a walk of all open incidents finds."""
    app = wall_app(backend, clock)
    async with app.run_test(size=(160, 48)) as pilot:
        wall = await ready(pilot)
        seen_new_p1 = seen_new_breach = False
        for _ in range(50):  # 50 minutes: INC-1 stops being new, breaches come and age
            clock.advance(timedelta(minutes=1))
            app.tick()
            await pilot.pause()
            now, info = app.now, app.tracker.info
            open_ = [i for i in app.incidents.values() if i.is_open]
            assert wall._order is not None
            expected_p1 = sorted(
                (i for i in open_ if is_new_p1(i, now)), key=lambda i: i.created_at, reverse=True
            )
            assert [i.id for i in new_p1s(wall._order, now)] == [i.id for i in expected_p1]
            breached = [i for i in open_ if is_breached(i, info.get(i.id), now)]
            expected_breach = {i.id for i in breached if now - (info[i.id].due or now) < NEW_WINDOW}
            assert {i.id for i in new_breaches(wall._order, info, now)} == expected_breach
            assert tile(wall, "breached") == str(len(breached))
            seen_new_p1 |= bool(expected_p1)
            seen_new_breach |= bool(expected_breach)
        assert seen_new_p1 and seen_new_breach  # the steps covered both
        assert wall._order is not None
        assert not new_p1s(wall._order, app.now)  # and INC-1 aged out of the banner
