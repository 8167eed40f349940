"""The wall: a read-only screen for a NOC wall that runs for weeks with nobody at the keyboard.

It reads what the App already holds (``app.incidents``, ``app.tracker``, ``app.now``) and is
told about changes by ``IncidentsChanged`` / ``ConnectionChanged``, so there is one data
path; the only thing it asks the backend itself is the MTTA of today (``backend.stats``),
once a minute. Memory stays flat: every widget is created in ``compose`` (a fixed pool of
urgent rows, one text block for the paged list) and updated in place; nothing it keeps grows
with time or with the number of incidents seen. Paging follows the app clock, so the wall
needs no timer of its own.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Static

from backends.base import BackendError, ConnectionState
from console.domain import durations
from console.domain.models import utc
from console.domain.rows import IncidentRow
from console.domain.sla import SlaState
from console.domain.text import clean
from screens.messages import ConnectionChanged, IncidentsChanged
from widgets.queue_model import SlaInfo
from widgets.wall_digits import rows_for, width_for
from widgets.wall_model import (
    BREACHED,
    NEW_P1,
    WallOrder,
    clock_of,
    countdown,
    counts,
    is_breached,
    is_new_p1,
    mtta_digits,
    new_breaches,
    new_p1s,
    ordered,
    page_of,
)
from widgets.wall_row import UrgentRow
from widgets.wall_tile import WallTile

BIG_MAX = 8
"""Most urgent incidents shown with large countdowns (on the largest screens)."""
HEADER, TILES, FOOTER, BANNER = 1, 5, 1, 2
WIDE = 120
"""From this width on, the clock is a big tile too."""
MTTA_EVERY = timedelta(minutes=1)
LARGE = (180, 54)
"""From this size on (a 1920x1080 browser at its default font, a 240x67 terminal) digits
scale up: more rows per digit, sized to what fits."""
INFO_MIN = 70
"""Columns an urgent row keeps for its key, title and owner beside the countdown."""
WIDEST_COUNTDOWN = "-00:00:00"


def wall_scales(width: int, height: int) -> tuple[int, int]:
    """(tile digit scale, urgent row digit scale) for a wall of ``width`` x ``height`` cells.

    1 is Textual's three-row digits. Larger walls get 2 (5 rows), 3 (8 rows) or 4 (10 rows)
    for the countdowns, as far as the height allows at least three urgent rows and the width
    keeps ``INFO_MIN`` columns for the title; the tiles follow, one step smaller past 2.
    """
    if width < LARGE[0] or height < LARGE[1]:
        return 1, 1
    row = 2
    for scale in (4, 3):
        fits_height = height >= LARGE[1] + (rows_for(scale) - rows_for(2)) * 8
        fits_width = width - width_for(WIDEST_COUNTDOWN, scale) - 4 >= INFO_MIN
        if fits_height and fits_width:
            row = scale
            break
    return max(2, row - 1), row


def connection_label(state: ConnectionState, now: datetime) -> tuple[str, bool]:
    """What the header says about the connection, and whether it is bad news."""
    if state.status == "reconnecting":
        return f"RECONNECTING (attempt {state.attempt})", True
    if state.status == "offline":
        since = f" for {durations.elapsed(now - utc(state.since))}" if state.since else ""
        return f"OFFLINE{since}: data may be stale", True
    return "connected", False


class WallScreen(Screen[None]):
    """Big counts, the most urgent incidents with big SLA countdowns, the rest paged."""

    BINDINGS: ClassVar = [Binding("q", "app.quit", "Quit")]
    AUTO_FOCUS = None

    DEFAULT_CSS = """
    WallScreen {
        layout: vertical;
        background: $surface;
    }
    WallScreen #wall-header {
        height: 1;
        background: $primary-background;
        color: $text;
        padding: 0 1;
    }
    WallScreen #wall-tiles {
        height: 5;
        margin: 0 0 0 1;
    }
    WallScreen #wall-clock {
        display: none;
        width: 32;
    }
    WallScreen.-wide #wall-clock {
        display: block;
    }
    WallScreen #wall-banner {
        height: auto;
        max-height: 2;
        background: $error;
        color: $text;
        text-style: bold;
        padding: 0 1;
        display: none;
    }
    WallScreen #wall-banner.-shown {
        display: block;
    }
    WallScreen #wall-urgent {
        height: auto;
    }
    WallScreen #wall-rest {
        height: 1fr;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    WallScreen #wall-header, WallScreen #wall-banner, WallScreen #wall-footer {
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    WallScreen #wall-footer {
        height: 1;
        background: $panel;
        color: $text-muted;
        padding: 0 1;
    }
    WallScreen #wall-empty {
        height: 3;
        content-align: center middle;
        text-style: bold;
        color: $success;
        display: none;
    }
    WallScreen #wall-empty.-shown {
        display: block;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._order: WallOrder | None = None
        self._dirty = True
        self._last_change: datetime | None = None
        self._mtta: float | None = None
        self._mtta_at: datetime | None = None
        self._big = 3
        self._rest_lines = 5
        self._scales = (1, 1)
        self._mtta_wanted = asyncio.Event()

    # layout --------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static("", id="wall-header", markup=False)
        with Horizontal(id="wall-tiles"):
            yield WallTile("OPEN P1", id="tile-p1")
            yield WallTile("OPEN P2", id="tile-p2")
            yield WallTile("UNACKED", id="tile-unacked")
            yield WallTile("BREACHED", id="tile-breached")
            yield WallTile("MTTA TODAY", id="tile-mtta")
            with Vertical(id="wall-clock"):
                yield WallTile("TIME (UTC)", id="tile-clock")
        yield Static("", id="wall-banner", markup=False)
        yield Static("All clear: no open incidents", id="wall-empty", markup=False)
        with Vertical(id="wall-urgent"):
            for n in range(BIG_MAX):
                row = UrgentRow(id=f"urgent-{n}")
                row.set_class(n % 2 == 1, "-odd")
                row.display = False
                yield row
        yield Static("", id="wall-rest", markup=False)
        yield Static("", id="wall-footer", markup=False)

    def on_mount(self) -> None:
        app = self.app
        if getattr(app, "loaded", False):
            self._last_change = app.clock.now()  # type: ignore[attr-defined]
        self._size_to(self.size.width, self.size.height)
        self.watch(app, "now", self._on_tick, init=False)
        self.refresh_wall()
        self._mtta_wanted.set()
        self._mtta_loop()

    def on_resize(self) -> None:
        self._size_to(self.size.width, self.size.height)
        self.refresh_wall()

    def _size_to(self, width: int, height: int) -> None:
        self.set_class(width >= WIDE, "-wide")
        tile_scale, row_scale = wall_scales(width, height)
        if (tile_scale, row_scale) != self._scales:
            self._scales = (tile_scale, row_scale)
            for tile in self.query(WallTile):
                tile.set_scale(tile_scale)
            for row in self.query(UrgentRow):
                row.set_scale(row_scale)
            tiles = self.query_one("#wall-tiles")
            tiles.styles.height = TILES if tile_scale <= 1 else 2 + rows_for(tile_scale)
            clock = self.query_one("#wall-clock")
            clock.styles.width = None if tile_scale <= 1 else width_for("00:00:00", tile_scale) + 4
        tiles_height = TILES if tile_scale <= 1 else 2 + rows_for(tile_scale)
        row_height = max(3, rows_for(row_scale))
        available = max(0, height - HEADER - tiles_height - FOOTER - BANNER)
        self._big = max(1, min(BIG_MAX, available // (row_height + 2)))
        self._rest_lines = max(0, available - self._big * row_height)

    # what changes it -----------------------------------------------------------------------
    @on(IncidentsChanged)
    def _incidents_changed(self, message: IncidentsChanged) -> None:
        self._dirty = True
        if message.changed:
            self._last_change = self.app.clock.now()  # type: ignore[attr-defined]
        self.refresh_wall()

    @on(ConnectionChanged)
    def _connection_changed(self) -> None:
        self.refresh_wall()

    def _on_tick(self, now: datetime) -> None:
        if getattr(self.app, "retimed", None):
            self._dirty = True
        if self._mtta_at is None or now - self._mtta_at >= MTTA_EVERY:
            self._mtta_wanted.set()
        self.refresh_wall()

    @work(exclusive=True, group="wall-mtta", exit_on_error=False)
    async def _mtta_loop(self) -> None:
        """MTTA since midnight UTC from the backend (the same numbers as ``report``).

        One worker for the life of the screen, woken by the clock, rather than a new worker
        a minute: nothing accumulates over weeks.
        """
        app = self.app
        while True:
            await self._mtta_wanted.wait()
            self._mtta_wanted.clear()
            now = app.clock.now()  # type: ignore[attr-defined]
            self._mtta_at = now
            midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
            since = max(now - midnight, timedelta(minutes=1))
            try:
                kpis = await app.backend.stats(since, now=now)  # type: ignore[attr-defined]
            except BackendError:
                continue  # keep the last number; the header shows the connection state
            self._mtta = kpis.mtta.mean
            self.refresh_wall()

    # drawing -------------------------------------------------------------------------------
    def refresh_wall(self) -> None:
        if not self.is_mounted:
            return
        app = self.app
        now: datetime = app.now  # type: ignore[attr-defined]
        info: dict[int, SlaInfo] = app.tracker.info  # type: ignore[attr-defined]
        if self._dirty or self._order is None or now < self._order.at:
            self._order = ordered(app.incidents.values(), info, now)  # type: ignore[attr-defined]
            self._dirty = False
        wall = self._order
        order = wall.rows
        policy = app.settings.sla  # type: ignore[attr-defined]
        tally = counts(wall, len(app.tracker.breached))  # type: ignore[attr-defined]
        self._header(now)
        self.query_one("#tile-p1", WallTile).show(str(tally.open_p1), alert=tally.open_p1 > 0)
        self.query_one("#tile-p2", WallTile).show(str(tally.open_p2))
        self.query_one("#tile-unacked", WallTile).show(str(tally.unacknowledged))
        self.query_one("#tile-breached", WallTile).show(
            str(tally.breached), alert=tally.breached > 0
        )
        mtta, unit = mtta_digits(self._mtta)
        self.query_one("#tile-mtta", WallTile).show(mtta, unit=unit)
        self.query_one("#tile-clock", WallTile).show(f"{now:%H:%M:%S}")
        self._banner(wall, info, now)
        self.query_one("#wall-empty").set_class(not order, "-shown")

        width = self.size.width
        for n, row in enumerate(self.query(UrgentRow)):
            if n < self._big and n < len(order):
                incident = order[n]
                row.show(
                    incident,
                    clock_of(incident, now, policy),
                    new_p1=is_new_p1(incident, now),
                    breached=is_breached(incident, info.get(incident.id), now),
                    assignee=self._user_name(incident.assignee),
                    width=width,
                )
                row.display = True
            else:
                row.display = False
                row.clear()
        self._rest(order[self._big :], info, now, width)

    def _header(self, now: datetime) -> None:
        app = self.app
        label, bad = connection_label(app.backend.connection, now)  # type: ignore[attr-defined]
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("INCIDENT WALL", style="bold")
        text.append("  ·  ")
        text.append(f" {label} " if bad else label, style="bold reverse" if bad else "")
        text.append("  ·  ")
        if self._last_change is None:
            text.append("loading…")
        else:
            text.append(f"last update {durations.elapsed(now - self._last_change)} ago")
        clock = f"{now:%Y-%m-%d %H:%M:%S} UTC"
        pad = self.size.width - 2 - text.cell_len - len(clock)
        if pad > 1:
            text.append(" " * pad)
            text.append(clock, style="bold")
        self.query_one("#wall-header", Static).update(text)

    def _banner(self, wall: WallOrder, info: dict[int, SlaInfo], now: datetime) -> None:
        # The newest first: that is the one nobody has seen yet.
        new_p1 = new_p1s(wall, now)
        new_breach = new_breaches(wall, info, now)
        text = Text(no_wrap=True, overflow="ellipsis")
        for marker, items in ((NEW_P1, new_p1), (f"!! {BREACHED} !!", new_breach)):
            if not items:
                continue
            if text:
                text.append("\n")
            first = items[0]
            text.append(f"{marker} ", style="bold")
            text.append(f"{first.key} {clean(first.title, limit=80)} ({first.service})")
            if len(items) > 1:
                text.append(f"  +{len(items) - 1} more")
        banner = self.query_one("#wall-banner", Static)
        banner.update(text)
        banner.set_class(bool(text), "-shown")

    def _rest(
        self, rest: list[IncidentRow], info: dict[int, SlaInfo], now: datetime, width: int
    ) -> None:
        lines = self._rest_lines
        size = max(0, lines - 1)
        page, pages = page_of(len(rest), size, now)
        shown = rest[page * size : page * size + size] if size else []
        text = Text(no_wrap=True, overflow="ellipsis")
        if rest and size:
            first = page * size + 1
            text.append(
                f"MORE OPEN: {first}-{first + len(shown) - 1} of {len(rest)}"
                + (f"   (page {page + 1}/{pages}, turns by itself)" if pages > 1 else ""),
                style="bold",
            )
        policy = self.app.settings.sla  # type: ignore[attr-defined]
        wide = width >= WIDE
        for incident in shown:
            clock = clock_of(incident, now, policy)
            breached = is_breached(incident, info.get(incident.id), now)
            marker = NEW_P1 if is_new_p1(incident, now) else BREACHED if breached else ""
            text.append("\n")
            text.append(f"{marker:<12}", style="bold reverse" if marker else "")
            text.append(f" {incident.priority.value} ", style="bold")
            text.append(f"{incident.key:<9}")
            remaining = "paused" if clock.state == SlaState.PAUSED else countdown(clock)
            text.append(f"{remaining:>9}  ", style="bold" if breached else "")
            if wide:
                text.append(f"{incident.status.label:<10}")
            text.append(f"{clean(incident.service, limit=12):<13}")
            if wide:
                text.append(f"{self._user_name(incident.assignee, limit=14):<15}")
            text.append(clean(incident.title, limit=200))
        self.query_one("#wall-rest", Static).update(text)
        total = len(self._order.rows) if self._order is not None else 0
        footer = f"{total} open" + (f" · page {page + 1}/{pages}" if pages > 1 else "")
        footer += " · read-only wall · q quit"
        self.query_one("#wall-footer", Static).update(footer)

    def _user_name(self, user_id: str | None, limit: int = 24) -> str:
        if not user_id:
            return "unassigned"
        directory = getattr(self.app, "directory", None)
        name = directory.user_name(user_id) if directory is not None else user_id
        return clean(name, limit=limit)
