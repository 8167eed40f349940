"""On call: who each escalation policy level pages now and until when, and each schedule
and layer's person now, the next hand-off and who takes over, on the viewer's clock.

Reached with ``O`` and from the command palette. ``t`` takes on-call for the schedule under
the cursor, ``w`` swaps it to someone else: both write an override with a start and an end
to the store (``apply_directory`` with only ``overrides``, which a responder may do), so
every console sees it through the change feed. A read-only console (viewer token, wall,
``--readonly``) sees everything and changes nothing.

The rules are the escalation's own (``console.domain.escalation.window`` and
``level_window``); this screen only lays them out, and recomputes when the directory changes
or the app clock passes the earliest hand-off on screen.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from backends.base import BackendError
from console.domain import durations
from console.domain.config import Settings
from console.domain.directory import DirectoryChanges, NewOverride
from console.domain.escalation import Window, layer_window, level_window, window
from console.domain.models import Schedule, utc
from console.domain.text import clean
from console.tui.context import ConsoleContext, context
from screens.messages import DirectoryChanged
from screens.override import OverrideScreen
from widgets.footer import StableFooter
from widgets.status_line import StatusLine

DEFAULT_COVER = timedelta(hours=12)
"""How long a new override lasts by default when the schedule has no hand-off ahead."""


def viewer_zone(settings: Settings) -> tuple[tzinfo, str]:
    """The viewer's time zone: the ``timezone`` setting, else this machine's."""
    if settings.timezone:
        return ZoneInfo(settings.timezone), settings.timezone
    local = datetime.now().astimezone().tzinfo
    assert local is not None
    return local, datetime.now().astimezone().strftime("%Z") or "local"


def when(at: datetime | None, now: datetime, zone: tzinfo) -> str:
    """``Mon 09:00 in 5d10h`` on the viewer's clock (the date instead of the weekday from
    six days on, where a weekday would be ambiguous); ``-`` for never."""
    if at is None:
        return "-"
    left = max(0, int((utc(at) - utc(now)).total_seconds()))
    day = "%a" if left < 6 * 86400 else "%m-%d"
    return f"{utc(at).astimezone(zone).strftime(day + ' %H:%M')} in {durations.countdown(left)}"


class SchedulesScreen(Screen[None]):
    """The on-call view: policies and levels on top, schedules and their layers below."""

    BINDINGS: ClassVar = [
        Binding("escape", "back", "Back"),
        Binding("t", "take", "Take on-call"),
        Binding("w", "swap", "Swap with…"),
        Binding("tab", "app.focus_next", "Next table", show=False),
    ]

    DEFAULT_CSS = """
    SchedulesScreen .oncall-title {
        height: 1;
        padding: 0 1;
        background: $primary-background;
        text-style: bold;
    }
    SchedulesScreen #oncall-state {
        height: auto;
        padding: 0 1;
        color: $text-muted;
    }
    SchedulesScreen #oncall-levels {
        height: auto;
        max-height: 45%;
    }
    SchedulesScreen #oncall-schedules {
        height: 1fr;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[Schedule, int | None]] = []
        """Per row of the schedules table: its schedule and layer (``None``: the schedule)."""
        self.next_change: datetime | None = None
        self.drawn_at = datetime.min.replace(tzinfo=UTC)
        self.windows: dict[str, Window] = {}
        """Per schedule id: who is on call now, until when, and who next (for tests too)."""

    @property
    def ctx(self) -> ConsoleContext:
        return context(self)

    def compose(self) -> ComposeResult:
        _, zone_name = viewer_zone(self.ctx.settings)
        yield Static(
            f"On call by policy · times in {zone_name}", classes="oncall-title", markup=False
        )
        levels: DataTable[Any] = DataTable(id="oncall-levels", cursor_type="row")
        levels.add_columns("policy", "level", "pages now", "until", "then")
        yield levels
        yield Static("Schedules", classes="oncall-title", markup=False)
        schedules: DataTable[Any] = DataTable(id="oncall-schedules", cursor_type="row")
        schedules.add_columns("schedule / layer", "on call now", "until", "next")
        yield schedules
        yield Static("", id="oncall-state", markup=False)
        yield StatusLine(id="status")
        yield StableFooter()

    def on_mount(self) -> None:
        self.refresh_view()
        self.watch(self.app, "now", self._tick, init=False)
        self.query_one("#oncall-schedules", DataTable).focus()

    def _tick(self, now: datetime) -> None:
        # a hand-off changes who is shown; the "in 2h05m" countdowns move once a minute
        due = self.next_change is not None and utc(now) >= self.next_change
        if due or utc(now) - self.drawn_at >= timedelta(minutes=1):
            self.refresh_view()

    @on(DirectoryChanged)
    def _directory_changed(self, message: DirectoryChanged) -> None:
        self.refresh_view()

    def _person(self, user: str | None) -> str:
        if user is None:
            return "nobody"
        return clean(self.ctx.directory.user_name(user), limit=30) or user

    def _people(self, users: tuple[str, ...]) -> str:
        return ", ".join(self._person(u) for u in users) if users else "nobody"

    def refresh_view(self) -> None:
        app = self.ctx
        now = utc(app.clock.now())
        self.drawn_at = now
        zone, _ = viewer_zone(app.settings)
        directory = app.directory
        schedules = {s.id: s for s in directory.schedules}
        changes: list[datetime] = []

        levels = self.query_one("#oncall-levels", DataTable)
        levels.clear()
        for policy in sorted(directory.policies, key=lambda p: p.name.casefold()):
            for number in range(1, len(policy.levels) + 1):
                found = level_window(policy, number, now, schedules)
                if found.until is not None:
                    changes.append(found.until)
                nobody = not found.users
                levels.add_row(
                    Text(clean(policy.name, limit=28)) if number == 1 else Text(""),
                    str(number),
                    Text(self._people(found.users), style="bold red" if nobody else ""),
                    when(found.until, now, zone),
                    Text(self._people(found.next_users)) if found.until else Text("-"),
                    key=f"{policy.id}/{number}",
                )

        table = self.query_one("#oncall-schedules", DataTable)
        cursor = table.cursor_row
        table.clear()
        self.rows = []
        self.windows = {}
        for schedule in sorted(directory.schedules, key=lambda s: s.name.casefold()):
            current = window(schedule, now)
            self.windows[schedule.id] = current
            if current.until is not None:
                changes.append(current.until)
            who = Text(self._person(current.user), style="bold")
            if current.override:
                who.append(" *", style="italic")
            if current.user is None:
                who.stylize("bold red")
            table.add_row(
                Text(clean(schedule.name, limit=28), style="bold"),
                who,
                when(current.until, now, zone),
                Text(self._person(current.next_user)) if current.until else Text("-"),
                key=schedule.id,
            )
            self.rows.append((schedule, None))
            for index, rotation in enumerate(schedule.rotations):
                layer = layer_window(schedule, index, now)
                label = clean(rotation.name, limit=30) or f"layer {index + 1}"
                if rotation.active_hours is not None:
                    first, last = rotation.active_hours
                    label += f" {first:02d}-{last:02d}"
                table.add_row(
                    Text(f" └ {label}", style="dim"),
                    Text(self._person(layer.user) if layer.user else "off", style="dim"),
                    when(layer.until, now, zone),
                    Text(self._person(layer.next_user) if layer.next_user else "off", style="dim")
                    if layer.until
                    else Text("-"),
                    key=f"{schedule.id}/{index}",
                )
                self.rows.append((schedule, index))
        if self.rows and cursor >= 0:
            table.move_cursor(row=min(cursor, len(self.rows) - 1))
        self.next_change = min(changes) if changes else None
        self._state(app)

    def _state(self, app: ConsoleContext) -> None:
        if not app.directory.schedules and not app.directory.policies:
            lines = [
                "no schedules or policies yet: describe your team in a team.toml (see "
                "examples/team.toml) and run: incidents directory apply team.toml"
            ]
        elif app.readonly:
            lines = ["read-only: you can see on-call here but not change it · esc back"]
        else:
            lines = [
                "t take on-call · w swap with someone (an override everyone sees) · tab "
                "other table · esc back"
            ]
        notes = []
        if any(w.override for w in self.windows.values()):
            notes.append("* on call by an override")
        if any(r.active_hours for s, _ in self.rows for r in s.rotations):
            notes.append("layer hours (09-17) are on the schedule's own clock")
        if notes:
            lines.append("; ".join(notes))
        self.query_one("#oncall-state", Static).update("\n".join(lines))

    def selected(self) -> Schedule | None:
        table = self.query_one("#oncall-schedules", DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row][0]

    def action_back(self) -> None:
        self.dismiss()

    def action_take(self) -> None:
        self._override(take=True)

    def action_swap(self) -> None:
        self._override(take=False)

    @work(exclusive=True, group="oncall-override", exit_on_error=False)
    async def _override(self, *, take: bool) -> None:
        app = self.ctx
        verb = "take on-call" if take else "swap on-call"
        if app.readonly:
            app.set_status(f"read-only: cannot {verb} here (this console only shows it)")
            return
        schedule = self.selected()
        if schedule is None:
            app.set_status("no schedule here to change: apply a team.toml first")
            return
        now = utc(app.clock.now())
        current = window(schedule, now)
        if take and current.user == app.user:
            app.set_status(f"you are already on call for {clean(schedule.name)}")
            return
        zone, zone_name = viewer_zone(app.settings)
        override = await self.app.push_screen_wait(
            OverrideScreen(
                schedule,
                me=app.user,
                person=app.user if take else None,
                people=app.directory.users,
                start=now,
                end=current.until or now + DEFAULT_COVER,
                zone=zone,
                zone_name=zone_name,
                current=current.user,
                current_name=self._person(current.user),
                now=now,
            )
        )
        if override is None:
            return
        change = DirectoryChanges(overrides=(NewOverride(schedule=schedule.id, override=override),))
        try:
            await app.backend.apply_directory(change)
        except BackendError as exc:
            app.set_status(f"on-call not changed: {exc}", error=True)
            return
        app.set_status(
            f"{self._person(override.user)} is on call for {clean(schedule.name)} from "
            f"{utc(override.start).astimezone(zone):%a %H:%M} until "
            f"{utc(override.end).astimezone(zone):%a %H:%M}"
        )
