"""The home screen: the live queue of incidents, most urgent first.

Rows come from ``app.incidents`` and change by diff when the App posts ``IncidentsChanged``;
countdowns repaint when ``app.now`` ticks. Triage keys hand the marked incidents (or the one
under the cursor) to ``app.triage`` exactly as they are shown, versions included.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input

from backends.base import BackendError, NotFound
from console.domain.models import DONE_STATUSES, Incident
from console.domain.query import VIEWS, Filter, QueryError, parse
from console.domain.rows import IncidentRow
from console.domain.text import clean
from console.tui.context import ConsoleContext, context
from screens.clipboard import copy_key
from screens.incident import IncidentScreen
from screens.links import open_link
from screens.messages import (
    ChangesChanged,
    ConnectionChanged,
    DirectoryChanged,
    IncidentsChanged,
    PresenceChanged,
)
from screens.triage import TriageDone
from widgets.empty_guide import EmptyGuide
from widgets.filter_box import FilterInput, opens_at_once
from widgets.footer import StableFooter
from widgets.incident_list import IncidentList
from widgets.keybindings import bindings_for
from widgets.line import Line
from widgets.queue_header import QueueHeader
from widgets.queue_model import SORTS, Counts, QueueModel
from widgets.status_line import StatusLine

VIEW_KEYS = tuple(VIEWS)


def describe_change(incident: Incident | IncidentRow) -> str:
    """``INC-2039 acknowledged (ines)``: the incident as it is now, for the status line."""
    who = f" ({clean(incident.assignee)})" if incident.assignee else ""
    return f"{incident.key} {incident.status.value.replace('_', ' ')}{who}"


class QueueScreen(Screen[None]):
    AUTO_FOCUS = "#incidents"
    BINDINGS = [
        *(opens_at_once(binding) for binding in bindings_for("queue")),
        Binding("escape", "escape", "Clear filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(id="queue")
        app = context(self)
        self.model = QueueModel(app.tracker, app.user)
        self.view_id = "all"
        self.typed = Filter()
        self.loaded = False
        self._counts: Counts | None = None
        self._incident_screen: IncidentScreen | None = None

    @property
    def console_app(self) -> ConsoleContext:
        return context(self)

    def compose(self) -> ComposeResult:
        yield QueueHeader(id="queue-header")
        yield Line(id="filter-bar")
        yield FilterInput(
            placeholder="filter: p1 p2  svc:NAME  @user  @me  unassigned  status:ack  breached  words",
            id="filter-input",
            select_on_focus=False,
        )
        yield IncidentList(self.model, id="incidents")
        yield EmptyGuide(id="guide")
        yield StatusLine(id="status")
        yield StableFooter()

    def on_mount(self) -> None:
        self.query_one(EmptyGuide).display = False
        self.watch(self.app, "now", self._tick, init=False)
        app = self.console_app
        if app.loaded:
            self._load(list(app.incidents.values()))
        self._show_bar()

    def on_screen_resume(self) -> None:
        # Back from an incident or a dialog: what it left is collected once the responder
        # pauses (a collection on a fixed timer landed on the next open: p95 +10 ms).
        context(self).collect_garbage_when_idle()

    # data ----------------------------------------------------------------------------------
    @property
    def list(self) -> IncidentList:
        return self.query_one(IncidentList)

    def _load(self, incidents: Sequence[IncidentRow]) -> None:
        self.loaded = True
        self.model.incidents = {i.id: i for i in incidents}
        self.model.rebuild(self.console_app.now)
        self.list.now = self.console_app.now
        self.list.rows_changed()
        if self.list.cursor_id is None:
            self.list.move_cursor(0)
        self._after_change()

    @on(IncidentsChanged)
    def _incidents_changed(self, message: IncidentsChanged) -> None:
        app = self.console_app
        app.remember(message.changed)
        if not self.loaded:
            if app.loaded:
                self._load(list(app.incidents.values()))
            return
        now = app.now
        # the App's own rows (one per incident, shared), except those it did not keep
        held = app.incidents
        self.model.upsert((held.get(i.id) or i for i in message.changed), now)
        gone = [i for i in message.removed if i not in app.incidents]
        if gone:
            self.model.remove(gone)
        self._let_go()
        # The responder's own action (the versions this console wrote) is no surprise: the
        # cursor moves on without a wrong-row notice, and triage's own line says what was done.
        own = all(app.is_own(incident) for incident in message.changed)
        self.list.rows_changed(live=not own)
        self._after_change()

    def _let_go(self) -> None:
        """Drop finished incidents the App no longer keeps, so a console (or the queue under a
        wall) that runs for weeks holds a bounded number; the recently-resolved view keeps
        what it fetched until it is left."""
        if self.model.filter.statuses & DONE_STATUSES:
            return
        incidents = self.console_app.incidents
        stale = [i for i in self.model.done if i not in incidents]
        if stale:
            self.model.remove(stale)

    @on(TriageDone)
    def _triage_done(self, message: TriageDone) -> None:
        # Bulk actions unmark what succeeded; what failed stays marked for another try.
        if self.list.marks.intersection(message.succeeded):
            self.list.unmark(message.succeeded)
            self._show_bar()

    @on(IncidentList.CursorShifted)
    def _cursor_shifted(self, message: IncidentList.CursorShifted) -> None:
        """Say where the incident under the cursor went; the next action key is refused."""
        now_on = self.list.cursor_incident
        where = f"; the cursor is on {now_on.key}" if now_on is not None else ""
        self.console_app.set_status(
            f"{describe_change(message.shift.before)}, left this view{where}"
        )
        self._show_bar()

    @on(DirectoryChanged)
    @on(PresenceChanged)
    @on(ChangesChanged)
    def _directory_changed(self) -> None:
        self.list.facts_changed()

    @on(ConnectionChanged)
    def _connection_changed(self) -> None:
        self.list.refresh()

    def _tick(self, now: object) -> None:
        app = self.console_app
        if not self.loaded:
            return
        if self.model.retime(app.retimed, app.now):
            self.list.rows_changed(live=True)
        self.list.tick(app.now)
        self._show_header(recount=False)

    def _after_change(self) -> None:
        if self.typed.is_empty and self.view_id == "all":
            self.list.empty_text = "No open incidents. c creates one."
        elif self.typed.is_empty:
            self.list.empty_text = "No incidents in this view. 1 shows all open incidents."
        else:
            self.list.empty_text = "No incidents match the filter (esc clears it)."
        self._show_header()
        self._show_bar()
        empty = self.loaded and not self.model.incidents and self.view_id == "all"
        self.query_one(EmptyGuide).display = empty and self.typed.is_empty
        self.list.display = not self.query_one(EmptyGuide).display

    def _show_header(self, recount: bool = True) -> None:
        """Counts walk every incident, so a tick reuses them; only the breached count moves."""
        if recount or self._counts is None:
            self._counts = self.model.counts()
        self.query_one(QueueHeader).show(self._counts, len(self.model.tracker.breached))

    def _show_bar(self) -> None:
        view = VIEWS[self.view_id]
        text = Text()
        text.append(f" {VIEW_KEYS.index(self.view_id) + 1} ", style="reverse bold")
        text.append(f" {view.label}", style="bold")
        text.append(f"  ·  sort: {self.model.sort}")
        if self.typed.source:
            text.append("  ·  filter: ")
            text.append(self.typed.source, style="bold")  # Text.append: never markup
            text.append("  (esc clears)", style="dim")
        if self.loaded:
            text.append(f"  ·  {len(self.model)} shown")
            if self.list.marks:
                marked = f"{len(self.list.marks)} marked"
                if hidden := self.list.marks_hidden:
                    marked += f", {hidden} not in this view"
                text.append(f"  ·  {marked}", style="bold reverse")
        else:
            text.append("  ·  loading…")
        if self.console_app.readonly:
            text.append("  ·  ")
            text.append(f" READ-ONLY as {clean(self.console_app.user)} ", style="bold reverse")
        self.query_one("#filter-bar", Line).show_text(text)

    def _apply_filter(self) -> None:
        combined = VIEWS[self.view_id].filter.combine(self.typed)
        self.model.set_filter(combined, self.console_app.now)
        if combined.statuses & DONE_STATUSES:
            self.run_worker(self._fetch_finished(combined), group="view", exclusive=True)
        self.list.rows_changed()
        if self.list.cursor_id is None or self.list.cursor_index is None:
            self.list.move_cursor(0)
        self._after_change()

    # targets -------------------------------------------------------------------------------
    def targets(self) -> builtins.list[IncidentRow]:
        """The marked incidents, else the one under the cursor, as they are shown (triage
        reads the full incidents at these versions: ``app.as_shown``)."""
        marked = self.list.marked_incidents()
        if marked:
            return marked
        incident = self.list.cursor_incident
        return [incident] if incident is not None else []

    # actions -------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "triage" and self.console_app.readonly:
            return False  # hidden from the footer and disabled
        return True

    def action_triage(self, action_id: str) -> None:
        targets = [] if action_id == "create" else self.targets()
        if action_id != "create" and not targets:
            self.console_app.set_status("nothing to act on: the queue is empty", error=True)
            return
        shift = self.list.take_shift() if action_id != "create" and not self.list.marks else None
        if shift is not None:
            now_on = self.list.cursor_incident
            now_key = now_on.key if now_on is not None else "no incident"
            self.console_app.set_status(
                f"not done: the row changed under the cursor ({describe_change(shift.before)}"
                f"{', left this view' if shift.left else ''}); the cursor is on {now_key} now,"
                f" press the key again to act on it",
                error=True,
            )
            return
        self.run_worker(
            self.console_app.triage.run(action_id, targets), group="triage", exit_on_error=False
        )

    def action_cursor_down(self) -> None:
        self.list.action_cursor_down()

    def action_cursor_up(self) -> None:
        self.list.action_cursor_up()

    def action_page_down(self) -> None:
        self.list.action_page_down()

    def action_page_up(self) -> None:
        self.list.action_page_up()

    def action_first(self) -> None:
        self.list.action_first()

    def action_last(self) -> None:
        self.list.action_last()

    def action_open(self) -> None:
        incident = self.list.cursor_incident
        if incident is not None:
            self._open_id(incident.id)

    def _open_id(self, incident_id: int) -> None:
        screen = self._incident_screen
        if screen is None:
            # One incident screen, installed so that leaving it keeps it for the next open.
            screen = self._incident_screen = IncidentScreen(incident_id)
            self.app.install_screen(screen, f"incident-{id(self)}")
        else:
            screen.show_incident(incident_id)
        self.app.push_screen(screen)

    def action_copy_key(self) -> None:
        incident = self.list.cursor_incident
        if incident is not None:
            copy_key(self.app, incident.key)

    def action_open_link(self) -> None:
        incident = self.list.cursor_incident
        if incident is not None:
            self.run_worker(self._open_link(incident), group="open-link", exclusive=True)

    async def _open_link(self, shown: IncidentRow) -> None:
        """The links are not in the row: read the incident, then open its first link."""
        app = self.console_app
        try:
            (incident,) = await app.as_shown([shown])
        except BackendError as exc:
            app.set_status(f"could not read {shown.key}: {exc}", error=True)
            return
        await open_link(self.app, incident)

    def action_mark(self) -> None:
        self.list.toggle_mark()
        self._show_bar()

    def action_mark_all(self) -> None:
        self.list.mark_all()
        self._show_bar()
        self.console_app.set_status(f"{len(self.list.marks)} marked (ctrl+u clears)")

    def action_clear_marks(self) -> None:
        self.list.clear_marks()
        self._show_bar()

    def action_filter(self) -> None:
        self.query_one(FilterInput).open(self.typed.source)

    def action_escape(self) -> None:
        """esc steps back: first the typed filter, then the marks, then to all open."""
        if not self.typed.is_empty:
            self.clear_filter()
        elif self.list.marks:
            self.action_clear_marks()
        elif self.view_id != "all":
            self.action_view("all")

    def clear_filter(self) -> None:
        self.typed = Filter()
        self.query_one(FilterInput).close()
        self._apply_filter()

    @property
    def filter_home(self) -> IncidentList:
        return self.list

    @on(Input.Changed, "#filter-input")
    def _filter_typed(self, event: Input.Changed) -> None:
        """Filter as you type: each complete query applies at once; a half-typed one
        (``svc:`` before its value) keeps the last that parsed, and says why on enter."""
        if self.query_one(FilterInput).is_late(event):
            return
        try:
            typed = parse(event.value)
        except QueryError:
            return
        if typed != self.typed or typed.source != self.typed.source:
            self.typed = typed
            self._apply_filter()

    def submit_filter(self, value: str) -> None:
        """``enter`` in the box: apply ``value`` and close, or say what is wrong and stay."""
        try:
            self.typed = parse(value)
        except QueryError as exc:
            self.console_app.set_status(f"filter: {exc}", error=True)
            return
        if self.console_app.status_text.startswith("filter: "):
            self.console_app.set_status("")
        if unknown := self._unknown_services(self.typed):
            self.console_app.set_status(f"filter: {unknown}", error=True)
        self.query_one(FilterInput).close()
        self._apply_filter()

    def _unknown_services(self, typed: Filter) -> str:
        """``no service starts with 'ship'; known: checkout, payments``, or empty."""
        services = self.console_app.directory.services
        known = sorted({s.id for s in services})
        names = [(s.id.lower(), (s.name or "").lower()) for s in services]
        missing = [
            p
            for p in sorted(typed.services)
            if not any(i.startswith(p) or n.startswith(p) for i, n in names)
        ]
        if not missing or not known:
            return ""
        return f"no service starts with {', '.join(repr(p) for p in missing)}; known: {', '.join(known)}"

    async def open_key(self, key: str) -> None:
        """Open one incident by key, open or not, asking the store (the palette's jump)."""
        app = self.console_app
        try:
            incident = await app.backend.get_incident(key)
        except NotFound:
            app.set_status(f"{key}: no such incident", error=True)
            return
        except BackendError as exc:
            app.set_status(f"could not look up {key}: {exc}", error=True)
            return
        self._open_id(incident.id)

    def action_cycle_sort(self) -> None:
        index = SORTS.index(self.model.sort) if self.model.sort in SORTS else -1
        self.model.set_sort(SORTS[(index + 1) % len(SORTS)], self.console_app.now)
        self.list.rows_changed()
        self._show_bar()

    def action_view(self, view_id: str) -> None:
        if view_id not in VIEWS:
            return
        self.view_id = view_id
        self._apply_filter()
        self._let_go()
        self.list.rows_changed()

    async def _fetch_finished(self, wanted: Filter) -> None:
        """Finished incidents are not kept live: a view or a typed ``status:`` that asks for
        them (recently resolved, ``status:resolved``, ``status:all``) fetches them."""
        app = self.console_app
        query = wanted.to_query(app.user, app.now, sort="updated", limit=2000)
        try:
            incidents = await app.backend.list_incidents(query)
        except BackendError as exc:
            app.set_status(f"could not load resolved incidents: {exc}", error=True)
            return
        # not remembered by the App: resolved incidents are not followed live, only shown
        self.model.upsert(incidents, app.now)
        self.list.rows_changed(live=True)
        self._after_change()
