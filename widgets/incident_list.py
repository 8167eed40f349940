"""The queue as a virtual list: draws only the rows on screen, whatever the queue's length.

A stock DataTable lays out every row (about 1.2 s for 10,000), so this is a ``ScrollView``
with ``render_line(y)`` (the Line API, as Toolong does for huge logs): it asks the
``QueueModel`` for the incident at ``scroll_y + y`` and renders just that row. Updates move
keys in the model and repaint; nothing is rebuilt, so there is no flicker.

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
from datetime import datetime
from functools import lru_cache

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
"""Rows whose fixed cells are kept (far more than a terminal shows; the cache is cleared past
four times this)."""

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
    kind = active_kind(incident) if incident.is_open else "resolution"
    clock = sla_clock(incident, now, policy, kind)
    text = format_remaining(clock)
    if clock.state == SlaState.BREACHED:
        text = "!" + (text if text.startswith("-") else "BREACH")
    elif (
        incident.is_open
        and kind == "resolution"
        and sla_clock(incident, now, policy, "response").state == SlaState.BREACHED
    ):
        return "!resp", SlaState.BREACHED
    return text, clock.state


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
        self._cell_cache: dict[tuple[int, int, int], dict[str, str]] = {}
        self._painted: dict[int, tuple[int, int, int] | None] = {}
        """What each line showed when last drawn (``_line_key``): a change repaints a line
        only if its row differs."""
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
        """The app clock moved: repaint what is visible (only visible rows are computed)."""
        self.now = now
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
        width = self.scrollable_content_region.width
        base = self.rich_style
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
        style = base + self.get_component_rich_style("incident-list--header")
        text = " " * PREFIX + " ".join(fit(c.title, size) for c, size in layout(width))
        return Strip([Segment(set_cell_size(text, width), style)], width)

    def _row(self, incident: IncidentRow, width: int, base: Style) -> Strip:
        now = self.now or context(self).clock.now()
        cursor = incident.id == self.cursor_id
        marked = incident.id in self.marks
        style_of = self._style
        row_style = base
        if marked:
            row_style = row_style + style_of("incident-list--marked")
        if cursor:
            row_style = row_style + style_of("incident-list--cursor")
        # Adjacent cells of the same style become one segment: fewer segments to filter
        # and compose on every frame.
        segments: list[Segment] = []
        run: list[str] = [(">" if cursor else " ") + ("*" if marked else " ")]
        run_style = row_style
        cells = self._cells(incident, width)
        for column, size in layout(width):
            style = row_style
            name = column.name
            fitted = cells.get(name)
            if name == "prio":
                if incident.priority.rank <= 2 and incident.is_open:
                    style = row_style + style_of(f"incident-list--p{incident.priority.rank}")
            elif name == "status":
                if incident.status == Status.TRIGGERED:
                    style = row_style + style_of("incident-list--triggered")
                elif not incident.is_open:
                    style = row_style + style_of("incident-list--dim")
            elif name == "sla":
                text, state = sla_text(incident, now, self.policy)
                fitted = fit(text, size)
                if state in SLA_STYLE_CLASS:
                    style = row_style + style_of(SLA_STYLE_CLASS[state])
            elif name == "title" and (note := self._title_note(incident)):
                # Presence and the change marker move without a new version: not cached.
                mark, here = note
                fitted = fit(f"{mark}{clean(incident.title) or '(no title)'}{here}", size)
            elif name == "updated":
                fitted = fit(durations.age(now - incident.updated_at), size)
            elif fitted is None:
                fitted = fit(durations.age(now - incident.created_at), size)
            if style is not run_style:
                segments.append(Segment("".join(run), run_style))
                run, run_style = [], style
            run.append(fitted or "")
            if run_style is not row_style:
                segments.append(Segment("".join(run), run_style))
                run, run_style = [], row_style
            run.append(" ")
        segments.append(Segment("".join(run), run_style))
        strip = Strip(segments)
        return strip.crop_extend(0, width, row_style)

    def _title_note(self, incident: IncidentRow) -> tuple[str, str] | None:
        """``("Δ ", "  [ines viewing]")`` around the title, or ``None`` when neither applies."""
        app = context(self)
        mark = f"{CHANGE_MARK} " if app.recent_change(incident) is not None else ""
        here = app.presence.describe(incident.id) if app.presence is not None else ""
        if not mark and not here:
            return None
        return mark, f"  [{here}]" if here else ""

    def _cells(self, incident: IncidentRow, width: int) -> dict[str, str]:
        """The cells of a row that only a new version changes, cut to their widths.

        Cleaning and fitting them is most of a row's cost; a clock tick redraws every
        visible row but changes only its SLA and age cells, so the rest are kept per version.
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
        self.refresh()

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
