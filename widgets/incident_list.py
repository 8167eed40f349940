"""The queue as a virtual list: draws only the rows on screen, whatever the queue's length.

A stock DataTable lays out every row (about 1.2 s for 10,000), so this is a ``ScrollView``
with ``render_line(y)`` (the Line API, as Toolong does for huge logs): it asks the
``QueueModel`` for the incident at ``scroll_y + y`` and renders just that row. Updates move
keys in the model and repaint; nothing is rebuilt, so there is no flicker.

The clock: a row's line is kept per version, width, cursor and mark as runs of segments with
a slot for each cell that moves without a new version (SLA, age, updated, the title's note).
A tick works out the visible rows' moving cells, again only once their reading can have
changed (``sla.steady_for``: ``!-2d03h`` holds for up to an hour), and refreshes just the lines
that differ; nothing else is restyled, laid out or repainted.

The cursor is an incident id, not a row number: when rows move, appear or vanish it stays on
the same incident (or, if that incident left the view, on its neighbour), and the viewport
keeps the cursor at the same height on screen so the list does not jump under the reader.

Wrong-row safety: a live change that puts another incident under the cursor is a ``Shift``
(the incident the reader was on left the view; or ``j``/``k`` landed on a row whose incident
slid in less than ``GUARD_SECONDS`` ago). ``take_shift()`` hands it to the next action key
once, which refuses and names both incidents. Marks stay on incidents that leave the view.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from console.domain import durations
from console.domain.models import Status
from console.domain.rows import IncidentRow
from console.domain.sla import (
    SlaFacts,
    SlaPolicy,
    SlaState,
    active_kind,
    format_remaining,
    sla_clock,
    steady_for,
)
from console.domain.text import clean
from console.tui.context import context
from widgets.queue_model import QueueModel

GUARD_SECONDS = 0.7
"""How long after a row slid under the cursor an action key is refused. A reader needs about
200-300 ms to notice a change in what they look at and a typist has already committed to the
next key some 200-300 ms before it lands (keystroke intervals of fast typists are ~150-250
ms), so a key within ~0.5 s of the change was aimed at what was there before; 0.7 s adds a
margin for terminal and SSH latency, while staying short enough that a responder who read
the new row and presses the key is never refused twice."""


@dataclass(frozen=True, slots=True)
class Shift:
    """Another incident came under the cursor without the reader choosing it."""

    before: IncidentRow
    """The incident the reader was looking at (its newest version)."""
    after: int | None
    """The id under the cursor now."""
    at: float
    """``time.monotonic()`` of the change."""
    left: bool
    """``before`` left the view: the next action key is refused however late it comes."""


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    title: str
    width: int
    """0 for the one flexible column (the title)."""


# In order of importance: the first five always show; the rest join as width allows.
CORE_COLUMNS = (
    Column("key", "KEY", 9),
    Column("prio", "PR", 2),
    Column("status", "STATUS", 9),
    Column("sla", "SLA", 8),
    Column("title", "TITLE", 0),
)
EXTRA_COLUMNS = (
    Column("service", "SERVICE", 14),
    Column("assignee", "ASSIGNEE", 12),
    Column("age", "AGE", 5),
)
# Wide terminals (a NOC screen, 300 columns) get more facts instead of a huge title gap.
WIDE_COLUMNS = (
    Column("level", "ESC", 3),
    Column("alerts", "ALERTS", 6),
    Column("updated", "UPDATED", 7),
    Column("labels", "LABELS", 0),
)
ORDER = (
    "key", "prio", "status", "sla", "service", "title", "assignee", "level", "alerts", "age",
    "updated", "labels",
)  # fmt: skip
PREFIX = 2  # cursor marker and mark marker, so both read without colour
MIN_TITLE = 28
MAX_TITLE = 90
"""Beyond this the title stops growing and the labels column takes the rest."""
MIN_LABELS = 16


CHANGE_MARK = "Δ"
"""Before a title: its service (or a dependency) changed shortly before it started (a
character, not a colour, so it survives NO_COLOR)."""


@lru_cache(maxsize=16)
def layout(width: int) -> list[tuple[Column, int]]:
    """Columns and their widths for a line ``width`` cells wide.

    The first five columns always show (80x24 stays usable); service, assignee and age join
    while the title keeps ``MIN_TITLE`` cells; very wide lines add the wide columns and cap
    the title so the labels get the rest.
    """
    chosen = list(CORE_COLUMNS)
    fixed = PREFIX + sum(c.width + 1 for c in chosen if c.width)
    for extra in EXTRA_COLUMNS:
        if width - fixed - (extra.width + 1) >= MIN_TITLE:
            chosen.append(extra)
            fixed += extra.width + 1
    labels_width = 0
    if width >= 200:
        chosen = [
            Column(c.name, c.title, c.width + 6) if c.name in ("service", "assignee") else c
            for c in chosen
        ]
        wide = [c for c in WIDE_COLUMNS if c.width]
        fixed = PREFIX + sum(c.width + 1 for c in chosen + wide if c.width)
        if width - fixed - MAX_TITLE - 1 >= MIN_LABELS:
            chosen += list(WIDE_COLUMNS)
            labels_width = width - fixed - MAX_TITLE - 1
            fixed += labels_width + 1
    title_width = max(8, width - fixed)
    by_name = {c.name: c for c in chosen}
    sizes = {"title": title_width, "labels": labels_width}
    return [
        (by_name[name], by_name[name].width or sizes[name]) for name in ORDER if name in by_name
    ]


def fit(text: str, width: int) -> str:
    """``text`` padded or cut to exactly ``width`` terminal cells (wide characters count 2)."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"


CELL_CACHE_ROWS = 200
"""Rows whose fixed cells, clock cells and drawn lines are kept (far more than a terminal
shows; each cache is cleared past four times this)."""

MOVING_COLUMNS = frozenset({"sla", "title", "age", "updated"})
"""Columns whose text moves without a new version: the clock cells, and the title with its
change marker and who else is here."""


class Moving(NamedTuple):
    """What a row shows that changes without a new version, as of one instant."""

    sla: str
    state: SlaState
    age: str
    updated: str
    note: tuple[str, str] | None


@dataclass(slots=True)
class Drawn:
    """One row as drawn for a cursor and mark state: the fixed runs of segments with a slot
    for each moving cell, and the last strip filled in (with the ``Moving`` it shows)."""

    segments: list[Segment]
    slots: list[tuple[int, str, int]]
    """(index into ``segments``, column name, width) of each moving cell."""
    row_style: Style
    length: int
    title: str
    """The title cell as cut to its width."""
    full_title: str
    """The whole cleaned title (a note before or after it is cut again with it)."""
    moving: Moving | None = None
    strip: Strip | None = None


SLA_STYLE_CLASS = {
    SlaState.WARNING: "incident-list--warning",
    SlaState.BREACHED: "incident-list--breached",
    SlaState.PAUSED: "incident-list--dim",
    SlaState.MET: "incident-list--dim",
}


def sla_text(incident: SlaFacts, now: datetime, policy: SlaPolicy) -> tuple[str, SlaState]:
    """The SLA cell: ``12:34`` running, ``!-01:05`` breached (marked without colour);
    ``!resp`` when the response was acknowledged late (still breached: ``sla.is_breached``)
    while the resolution clock runs in time."""
    text, state, _ = sla_reading(incident, now, policy)
    return text, state


def sla_reading(
    incident: SlaFacts, now: datetime, policy: SlaPolicy
) -> tuple[str, SlaState, timedelta | None]:
    """``sla_text`` and how long from ``now`` it surely stays (``sla.steady_for``; ``None``:
    until the incident changes)."""
    kind = active_kind(incident) if incident.is_open else "resolution"
    clock = sla_clock(incident, now, policy, kind)
    lasts = steady_for(clock, policy)
    text = format_remaining(clock)
    if clock.state == SlaState.BREACHED:
        text = "!" + (text if text.startswith("-") else "BREACH")
    elif incident.is_open and kind == "resolution":
        response = sla_clock(incident, now, policy, "response")
        if response.state == SlaState.BREACHED:
            return "!resp", SlaState.BREACHED, lasts
        lasts = _sooner(lasts, steady_for(response, policy))
    return text, clock.state, lasts


def _sooner(a: timedelta | None, b: timedelta | None) -> timedelta | None:
    """The shorter of two spans, ``None`` being forever."""
    if a is None or b is None:
        return b if a is None else a
    return min(a, b)


def next_age(since: datetime, now: datetime) -> datetime:
    """When ``durations.age(now - since)`` next reads differently (it grows with time)."""
    whole = max(0, int((now - since).total_seconds()))
    step = durations.age_step(whole)
    return since + timedelta(seconds=(whole // step + 1) * step)


@dataclass(slots=True)
class Clocks:
    """A row's moving cells as read at ``at``, sure to stay until ``until`` (not at it, unless
    that is ``at``) while the incident stays at ``version``."""

    at: datetime
    until: datetime
    version: int
    moving: Moving

    def holds(self, version: int, now: datetime) -> bool:
        return version == self.version and (now == self.at or self.at < now < self.until)


class IncidentList(ScrollView, can_focus=True):
    """Rows of incidents drawn on demand; cursor and marks bound to incident ids."""

    DEFAULT_CSS = """
    IncidentList {
        height: 1fr;
        scrollbar-gutter: stable;
        overflow-x: hidden;
        background: $surface;
        & > .incident-list--header { text-style: bold; color: $text-muted; }
        & > .incident-list--cursor { background: $primary 40%; }
        &:focus > .incident-list--cursor { background: $primary 70%; text-style: bold; }
        & > .incident-list--marked { color: $text; background: $secondary 25%; }
        & > .incident-list--warning { color: $warning; text-style: bold; }
        & > .incident-list--breached { color: $error; text-style: bold reverse; }
        & > .incident-list--dim { color: $text-muted; }
        & > .incident-list--p1 { color: $error; text-style: bold; }
        & > .incident-list--p2 { color: $warning; text-style: bold; }
        & > .incident-list--triggered { text-style: bold; }
    }
    """
    COMPONENT_CLASSES = {
        "incident-list--header",
        "incident-list--cursor",
        "incident-list--marked",
        "incident-list--warning",
        "incident-list--breached",
        "incident-list--dim",
        "incident-list--p1",
        "incident-list--p2",
        "incident-list--triggered",
    }

    class CursorMoved(Message):
        """The cursor is on another incident (or on none)."""

        def __init__(self, incident_id: int | None) -> None:
            super().__init__()
            self.incident_id = incident_id

    class CursorShifted(Message):
        """A live change moved the cursor off the incident the reader was on."""

        def __init__(self, shift: Shift) -> None:
            super().__init__()
            self.shift = shift

    def __init__(self, model: QueueModel, *, name: str | None = None, id: str | None = None):
        super().__init__(name=name, id=id)
        self.model = model
        self.cursor_id: int | None = None
        self._cursor_index = 0
        self.marks: set[int] = set()
        self._marked_seen: dict[int, IncidentRow] = {}
        """The last version of each marked incident (those that left the view too)."""
        self.shift: Shift | None = None
        self.guard_seconds = GUARD_SECONDS
        self._neighbours: tuple[int | None, int | None] = (None, None)
        self._before_slide: tuple[int | None, int | None] = (None, None)
        self._slid_at = float("-inf")
        self.now: datetime | None = None
        self.policy = model.tracker.policy
        self._styles: dict[str, Style] = {}
        self._base: Style | None = None
        self._cell_cache: dict[tuple[int, int, int], dict[str, str]] = {}
        self._painted: dict[int, tuple[int, int, int] | None] = {}
        """What each line showed when last drawn (``_line_key``): a change repaints a line
        only if its row differs."""
        self._moving: dict[int, Clocks] = {}
        """Incident id -> its moving cells, and until when they stay."""
        self._drawn: dict[tuple[int, int, int, bool, bool], Drawn] = {}
        """(id, version, width, cursor, marked) -> the row as drawn."""
        self._change_marks: dict[int, tuple[int, bool]] = {}
        """Incident id -> (version, whether a change shortly before it gets the marker)."""
        self._others: tuple[datetime, dict[int, str]] | None = None
        self._width: tuple[tuple[Size, bool], int] | None = None
        self._header_line: tuple[int, Strip] | None = None
        self.empty_text = "Nothing here."
        """Shown when no row passes the filter (the screen says what would help)."""

    # geometry ------------------------------------------------------------------------------
    @property
    def page_rows(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _sync_size(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.model) + 1)

    def on_resize(self, event: events.Resize) -> None:
        self._sync_size()
        self._scroll_to_cursor()

    # cursor --------------------------------------------------------------------------------
    @property
    def cursor_index(self) -> int | None:
        return self.model.index_of(self.cursor_id)

    @property
    def cursor_incident(self) -> IncidentRow | None:
        if self.cursor_id is None:
            return None
        return self.model.incidents.get(self.cursor_id)

    def move_cursor(self, index: int) -> None:
        count = len(self.model)
        if count == 0:
            self._set_cursor(None, 0)
            return
        index = max(0, min(count - 1, index))
        self._set_cursor(self.model.id_at(index), index)
        self._scroll_to_cursor()

    def move_to(self, incident_id: int) -> bool:
        index = self.model.index_of(incident_id)
        if index is None:
            return False
        self.move_cursor(index)
        return True

    def _set_cursor(self, incident_id: int | None, index: int) -> None:
        changed = incident_id != self.cursor_id
        self.cursor_id = incident_id
        self._cursor_index = index
        if changed:
            self.shift = None  # the reader moved (a live move sets its shift after this)
        self._neighbours = self._around(index)
        self.refresh()
        if changed:
            self.post_message(self.CursorMoved(incident_id))

    def _around(self, index: int) -> tuple[int | None, int | None]:
        above = self.model.id_at(index - 1) if index > 0 else None
        return above, self.model.id_at(index + 1)

    def _scroll_to_cursor(self) -> None:
        index = self.model.index_of(self.cursor_id)
        if index is None:
            return
        top = int(self.scroll_y)
        rows = self.page_rows
        if index < top:
            self.scroll_to(y=index, animate=False, immediate=True)
        elif index >= top + rows:
            self.scroll_to(y=index - rows + 1, animate=False, immediate=True)

    def action_cursor_down(self) -> None:
        self._step(+1)

    def action_cursor_up(self) -> None:
        self._step(-1)

    def _step(self, delta: int) -> None:
        """``j``/``k``: if the row the reader aimed at was replaced a moment ago, the landing
        incident is a ``Shift`` from the one that was shown there."""
        aimed = self._before_slide[delta > 0]
        recent = time.monotonic() - self._slid_at < self.guard_seconds
        self.move_cursor((self.cursor_index or 0) + delta)
        if recent and aimed is not None and aimed != self.cursor_id:
            before = self.model.incidents.get(aimed)
            if before is not None:
                self.shift = Shift(before, self.cursor_id, self._slid_at, left=False)

    def take_shift(self) -> Shift | None:
        """The shift the next action key must refuse (once), or ``None``."""
        shift, self.shift = self.shift, None
        if shift is None or shift.after != self.cursor_id:
            return None
        if shift.left or time.monotonic() - shift.at < self.guard_seconds:
            return shift
        return None

    def action_page_down(self) -> None:
        self.move_cursor((self.cursor_index or 0) + self.page_rows)

    def action_page_up(self) -> None:
        self.move_cursor((self.cursor_index or 0) - self.page_rows)

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self.model) - 1)

    def on_click(self, event: events.Click) -> None:
        row = event.y - 1 + int(self.scroll_y)
        if event.y >= 1 and 0 <= row < len(self.model):
            self.move_cursor(row)

    # data changes --------------------------------------------------------------------------
    def rows_changed(self, *, live: bool = False) -> None:
        """The model changed: keep the cursor on its incident and the view steady.

        ``live``: the change came from outside (the feed, the clock), not from the reader's
        own filter, sort or view; a cursor moved by it is a ``Shift``.
        """
        old_index = self._cursor_index
        old_top = int(self.scroll_y)
        old_id = self.cursor_id
        old_neighbours = self._neighbours
        self._sync_size()
        for incident_id in self.marks:
            seen = self.model.incidents.get(incident_id)
            if seen is not None:
                self._marked_seen[incident_id] = seen
        count = len(self.model)
        new_index = self.model.index_of(self.cursor_id)
        if new_index is None:
            # the incident left the view: stay at the same height, on its neighbour
            if count:
                new_index = min(old_index, count - 1)
                self._set_cursor(self.model.id_at(new_index), new_index)
            else:
                self._set_cursor(None, 0)
            before = self.model.incidents.get(old_id) if old_id is not None else None
            if live and before is not None:
                self.shift = Shift(before, self.cursor_id, time.monotonic(), left=True)
                self.post_message(self.CursorShifted(self.shift))
            if not count or new_index is None:
                self.refresh()
                return
        else:
            self._cursor_index = new_index
            self._neighbours = self._around(new_index)
        if live and self._neighbours != old_neighbours:
            self._before_slide = old_neighbours
            self._slid_at = time.monotonic()
        if new_index != old_index and old_top <= old_index < old_top + self.page_rows:
            # keep the cursor where the reader's eye is
            target = max(0, old_top + (new_index - old_index))
            self.scroll_to(y=target, animate=False, immediate=True)
        self._scroll_to_cursor()
        self._refresh_changed()

    def _refresh_changed(self) -> None:
        """Repaint only the lines whose row is not what they show: a storm's changes mostly
        touch incidents off screen, and those cost no repaint of the visible screenful."""
        top = int(self.scroll_y)
        width = self.size.width
        for y in range(1, self.size.height):
            if self._painted.get(y) != self._line_key(top + y - 1):
                self.refresh(Region(0, y, width, 1))

    def _line_key(self, index: int) -> tuple[int, int, int] | None:
        """What line ``index`` of the queue shows: (index, id, version), or ``None``."""
        incident_id = self.model.id_at(index)
        if incident_id is None:
            return None
        return index, incident_id, self.model.incidents[incident_id].version

    def tick(self, now: datetime) -> None:
        """The app clock moved: repaint only the visible rows whose clock text changed.

        Most readings move once a minute or once an hour (``1h05m``, ``!-2d03h``), so most
        ticks repaint a few rows or none; the rest of a row is never rebuilt on a tick.
        """
        self.now = now
        height = self.size.height
        if not self.is_mounted or height <= 1:
            return
        top = int(self.scroll_y)
        width = self.size.width
        moving = self._moving
        changed: list[Region] = []
        for y in range(1, height):
            incident_id = self.model.id_at(top + y - 1)
            if incident_id is None:
                break
            incident = self.model.incidents[incident_id]
            before = moving.get(incident_id)
            shown = before.moving if before and before.version == incident.version else None
            if shown != self._moving_at(incident, now):
                changed.append(Region(0, y, width, 1))
        if changed:
            self.refresh(*changed)

    def facts_changed(self) -> None:
        """Presence, change events or the directory moved: titles' notes are read again."""
        self._moving.clear()
        self._change_marks.clear()
        self._others = None
        self.refresh()

    # marks ---------------------------------------------------------------------------------
    def toggle_mark(self) -> None:
        if self.cursor_id is None:
            return
        self.marks.symmetric_difference_update({self.cursor_id})
        incident = self.cursor_incident
        if self.cursor_id in self.marks and incident is not None:
            self._marked_seen[self.cursor_id] = incident
        else:
            self._marked_seen.pop(self.cursor_id, None)
        self.move_cursor((self.cursor_index or 0) + 1)
        self.refresh()

    def mark_all(self) -> None:
        self.marks = set(self.model.ids())
        self._marked_seen = {i: self.model.incidents[i] for i in self.marks}
        self.refresh()

    def clear_marks(self) -> None:
        self.marks.clear()
        self._marked_seen.clear()
        self.refresh()

    def unmark(self, ids: set[int] | frozenset[int] | tuple[int, ...]) -> None:
        self.marks.difference_update(ids)
        for incident_id in ids:
            self._marked_seen.pop(incident_id, None)
        self.refresh()

    @property
    def marks_hidden(self) -> int:
        """How many marked incidents are not in this view (they stay marked)."""
        return sum(1 for i in self.marks if not self.model.contains(i))

    def marked_incidents(self) -> list[IncidentRow]:
        """Marked incidents, those in the view first in queue order, then those that left it,
        each in the newest version this list saw (a bulk action previews them all)."""
        shown = sorted((i for i in self.marks if self.model.contains(i)), key=self.model.index_of)  # type: ignore[arg-type]
        hidden = sorted(i for i in self.marks if not self.model.contains(i))
        found = []
        for incident_id in [*shown, *hidden]:
            incident = self.model.incidents.get(incident_id) or self._marked_seen.get(incident_id)
            if incident is not None:
                found.append(incident)
        return found

    # drawing -------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self._content_width()
        base = self._base_style()
        if y == 0:
            return self._header(width, base)
        index = int(self.scroll_y) + y - 1
        self._painted[y] = self._line_key(index)
        incident_id = self.model.id_at(index)
        if incident_id is None:
            if y == 1 and not len(self.model) and self.empty_text:
                style = base + self._style("incident-list--dim")
                return Strip([Segment(fit("  " + self.empty_text, width), style)], width)
            return Strip.blank(width, base)
        incident = self.model.incidents[incident_id]
        return self._row(incident, width, base)

    def _header(self, width: int, base: Style) -> Strip:
        if self._header_line is None or self._header_line[0] != width:
            style = base + self._style("incident-list--header")
            text = " " * PREFIX + " ".join(fit(c.title, size) for c, size in layout(width))
            line = Strip([Segment(set_cell_size(text, width), style)], width)
            self._header_line = (width, line)
        return self._header_line[1]

    def _row(self, incident: IncidentRow, width: int, base: Style) -> Strip:
        """A row's line: kept as long as its version, cursor, mark and clock text stay."""
        now = self.now or context(self).clock.now()
        moving = self._moving_at(incident, now)
        cursor = incident.id == self.cursor_id
        marked = incident.id in self.marks
        key = (incident.id, incident.version, width, cursor, marked)
        drawn = self._drawn.get(key)
        if drawn is None:
            if len(self._drawn) > 4 * CELL_CACHE_ROWS:
                self._drawn.clear()
            drawn = self._drawn[key] = self._draw(incident, width, base, cursor, marked)
        elif drawn.moving == moving and drawn.strip is not None:
            return drawn.strip
        return self._fill(drawn, moving, width)

    def _draw(
        self, incident: IncidentRow, width: int, base: Style, cursor: bool, marked: bool
    ) -> Drawn:
        """The fixed part of a row: its cells in runs of one style (fewer segments to filter
        and compose on every frame), with a slot for each cell that moves with the clock."""
        style_of = self._style
        row_style = base
        if marked:
            row_style = row_style + style_of("incident-list--marked")
        if cursor:
            row_style = row_style + style_of("incident-list--cursor")
        segments: list[Segment] = []
        slots: list[tuple[int, str, int]] = []
        run: list[str] = [(">" if cursor else " ") + ("*" if marked else " ")]
        run_style = row_style
        length = PREFIX
        cells = self._cells(incident, width)
        columns = layout(width)
        for n, (column, size) in enumerate(columns):
            name = column.name
            length += size
            if name in MOVING_COLUMNS:
                if run:
                    segments.append(Segment("".join(run), run_style))
                slots.append((len(segments), name, size))
                segments.append(Segment("", row_style))  # filled in by ``_fill``
                run, run_style = [], row_style
            else:
                style = row_style
                if name == "prio":
                    if incident.priority.rank <= 2 and incident.is_open:
                        style = row_style + style_of(f"incident-list--p{incident.priority.rank}")
                elif name == "status":
                    if incident.status == Status.TRIGGERED:
                        style = row_style + style_of("incident-list--triggered")
                    elif not incident.is_open:
                        style = row_style + style_of("incident-list--dim")
                if style is not run_style:
                    if run:
                        segments.append(Segment("".join(run), run_style))
                    run, run_style = [], style
                run.append(cells.get(name) or "")
                if run_style is not row_style:
                    segments.append(Segment("".join(run), run_style))
                    run, run_style = [], row_style
            if n < len(columns) - 1:
                run.append(" ")
                length += 1
        if run:
            segments.append(Segment("".join(run), run_style))
        title = clean(incident.title) or "(no title)"
        return Drawn(segments, slots, row_style, length, cells.get("title", ""), title)

    def _fill(self, drawn: Drawn, moving: Moving, width: int) -> Strip:
        """``drawn`` with the clock cells of ``moving``: only those segments are made."""
        segments = drawn.segments.copy()
        row_style = drawn.row_style
        for index, name, size in drawn.slots:
            style = row_style
            if name == "sla":
                text = fit(moving.sla, size)
                if moving.state in SLA_STYLE_CLASS:
                    style = row_style + self._style(SLA_STYLE_CLASS[moving.state])
            elif name == "title":
                text = drawn.title
                if moving.note is not None:
                    # Presence and the change marker move without a new version.
                    mark, here = moving.note
                    text = fit(f"{mark}{drawn.full_title}{here}", size)
            elif name == "age":
                text = fit(moving.age, size)
            else:
                text = fit(moving.updated, size)
            segments[index] = Segment(text, style)
        strip = Strip(segments, drawn.length)
        if drawn.length != width:
            strip = strip.crop_extend(0, width, row_style)
        drawn.moving, drawn.strip = moving, strip
        return strip

    def _moving_at(self, incident: IncidentRow, now: datetime) -> Moving:
        """The moving cells of ``incident`` at ``now``. The clock cells are worked out again
        only once their reading can have changed (an hour's reading holds for an hour)."""
        note = self._title_note(incident, now)
        known = self._moving.get(incident.id)
        if known is not None and known.holds(incident.version, now):
            if known.moving.note != note:
                known.moving = known.moving._replace(note=note)
            return known.moving
        sla, state, lasts = sla_reading(incident, now, self.policy)
        until = min(next_age(incident.created_at, now), next_age(incident.updated_at, now))
        if lasts is not None:
            until = min(until, now + lasts)
        moving = Moving(
            sla,
            state,
            durations.age(now - incident.created_at),
            durations.age(now - incident.updated_at),
            note,
        )
        if len(self._moving) > 4 * CELL_CACHE_ROWS:
            self._moving.clear()
            self._change_marks.clear()
        self._moving[incident.id] = Clocks(now, until, incident.version, moving)
        return moving

    def _title_note(self, incident: IncidentRow, now: datetime) -> tuple[str, str] | None:
        """``("Δ ", "  [ines viewing]")`` around the title, or ``None`` when neither applies."""
        marked = self._change_marks.get(incident.id)
        if marked is None or marked[0] != incident.version:
            # Change events and the directory come with a message (``facts_changed``).
            changed = context(self).recent_change(incident) is not None
            marked = self._change_marks[incident.id] = (incident.version, changed)
        mark = f"{CHANGE_MARK} " if marked[1] else ""
        here = self._others_at(now).get(incident.id, "")
        if not mark and not here:
            return None
        return mark, f"  [{here}]" if here else ""

    def _others_at(self, now: datetime) -> dict[int, str]:
        """Who else is on which incident at ``now``: the board is read once an instant."""
        if self._others is None or self._others[0] != now:
            presence = context(self).presence
            self._others = (now, presence.describe_all(now) if presence is not None else {})
        return self._others[1]

    def _cells(self, incident: IncidentRow, width: int) -> dict[str, str]:
        """The cells of a row that only a new version changes, cut to their widths.

        Cleaning and fitting them is most of a row's cost; the clock moves only the SLA, age
        and updated cells (``Moving``), so the rest are kept per version.
        """
        key = (incident.id, incident.version, width)
        cells = self._cell_cache.get(key)
        if cells is not None:
            return cells
        if len(self._cell_cache) > 4 * CELL_CACHE_ROWS:
            self._cell_cache.clear()  # bounded: a screenful is all that is ever needed
        cells = {}
        for column, size in layout(width):
            name = column.name
            if name == "key":
                text = incident.key
            elif name == "prio":
                text = incident.priority.value
            elif name == "status":
                text = incident.status.label
            elif name == "service":
                text = clean(incident.service)
            elif name == "title":
                text = clean(incident.title) or "(no title)"
            elif name == "assignee":
                text = clean(incident.assignee) if incident.assignee else "-"
            elif name == "level":
                text = f"L{incident.escalation_level}" if incident.policy else "-"
            elif name == "alerts":
                text = str(incident.alert_count) if incident.alert_count else "-"
            elif name == "labels":
                text = clean(", ".join(f"{k}={v}" for k, v in sorted(incident.labels.items())))
            else:
                continue  # sla, updated, age: they move with the clock
            cells[name] = fit(text, size)
        self._cell_cache[key] = cells
        return cells

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._base = None
        self._width = None
        self._header_line = None
        self._drawn.clear()
        self.refresh()

    def _content_width(self) -> int:
        """``scrollable_content_region.width`` (a walk to the screen), once per size."""
        key = (self.outer_size, self.show_vertical_scrollbar)
        if self._width is None or self._width[0] != key:
            self._width = (key, self.scrollable_content_region.width)
        return self._width[1]

    def _base_style(self) -> Style:
        """The widget's own style (``rich_style`` walks every ancestor), once per restyle."""
        if self._base is None:
            self._base = self.rich_style
        return self._base

    def _style(self, name: str) -> Style:
        """Component styles, looked up once per theme instead of once per cell."""
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(name)
        return style

    def refresh_row(self, incident_id: int) -> None:
        index = self.model.index_of(incident_id)
        if index is None:
            return
        y = index - int(self.scroll_y) + 1
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))
