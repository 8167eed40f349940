"""``H``: the history, every incident the backend holds (resolved and closed ones too).

The queue holds what is open; this asks the backend a page at a time
(``Backend.page_incidents``: keyset paging by id, newest first), so it is as quick on a
million incidents as on a hundred. The filter is the queue's language (``/``: ``svc:``,
``@user``, ``p1``, keys, words, ``status:``); without a typed ``status:`` it shows every
status. Moving the cursor near the end of what is shown fetches the next page; ``enter``
opens the incident, ``esc`` clears the filter and then goes back.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from backends.base import BackendError
from console.domain import durations
from console.domain.keys import BY_ID
from console.domain.models import OPEN_STATUSES, Incident, Status
from console.domain.query import Filter, QueryError, parse
from console.domain.text import clean
from console.tui.context import context
from screens.dialog import PRIORITY_STYLES
from widgets.filter_box import FilterInput, opens_at_once
from widgets.footer import StableFooter
from widgets.keybindings import binding_for
from widgets.status_line import StatusLine

PAGE = 50
"""Incidents per page: more than a tall terminal shows, few enough to parse in a blink."""
AHEAD = 10
"""Fetch the next page when the cursor is this close to the end of what is shown."""
EVERY_STATUS = frozenset(Status)


def history_filter(typed: Filter) -> Filter:
    """The typed filter over every status, unless it names its own ``status:``."""
    if typed.statuses == OPEN_STATUSES and "status:" not in typed.source.lower():
        return Filter(
            priorities=typed.priorities,
            services=typed.services,
            assignees=typed.assignees,
            unassigned=typed.unassigned,
            statuses=EVERY_STATUS,
            breached=typed.breached,
            breaching=typed.breaching,
            text=typed.text,
            keys=typed.keys,
            source=typed.source,
        )
    return typed


class HistoryScreen(Screen[None]):
    DEFAULT_CSS = """
    HistoryScreen #history-bar { height: 1; padding: 0 1; background: $panel; }
    HistoryScreen DataTable { height: 1fr; }
    """
    AUTO_FOCUS = "#history"
    BINDINGS = [
        *(binding_for(BY_ID[k]) for k in ("cursor_down", "cursor_up", "first", "last")),
        binding_for(BY_ID["open"]),
        opens_at_once(binding_for(BY_ID["filter"])),
        Binding("escape", "back", "Back", show=True),
        binding_for(BY_ID["help"]),
    ]

    def __init__(self) -> None:
        super().__init__(id="history-screen")
        self.typed = Filter()
        self.shown: list[Incident] = []
        self.next: str | None = None
        self.exhausted = False
        self.fetching = False
        self._generation = 0
        """Bumped by each new filter: a page that arrives for an older one is dropped."""

    def compose(self) -> ComposeResult:
        yield Static(id="history-bar")
        yield FilterInput(
            placeholder="filter: INC-N  p1  svc:NAME  @user  status:resolved  words",
            id="history-filter",
            select_on_focus=False,
        )
        yield DataTable(id="history", cursor_type="row", zebra_stripes=True)
        yield StatusLine(id="status")
        yield StableFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, width in (
            ("KEY", 9),
            ("PR", 2),
            ("STATUS", 12),
            ("SERVICE", 14),
            ("ASSIGNEE", 10),
            ("OPENED", 7),
            ("TITLE", None),
        ):
            table.add_column(label, width=width, key=label.lower())
        self.restart()

    # data ----------------------------------------------------------------------------------
    @property
    def table(self) -> DataTable[Text]:
        return self.query_one(DataTable)

    def restart(self) -> None:
        """Start again from the newest incident (a new filter)."""
        self._generation += 1
        self.shown = []
        self.next = None
        self.exhausted = False
        self.fetching = False
        self.table.clear()
        self._show_bar()
        self.fetch()

    @work(group="history", exit_on_error=False)
    async def fetch(self) -> None:
        """The next page of the current filter (a worker: the screen stays responsive)."""
        if self.fetching or self.exhausted:
            return
        app = context(self)
        generation = self._generation
        wanted = history_filter(self.typed)
        query = wanted.to_query(app.user, app.now, limit=PAGE)
        self.fetching = True
        self._show_bar()
        try:
            page = await app.backend.page_incidents(query, self.next)
        except BackendError as exc:
            if generation == self._generation:
                self.fetching = False
                app.set_status(f"history: could not load incidents: {exc}", error=True)
                self._show_bar()
            return
        if generation != self._generation:
            return  # the filter changed meanwhile; its own fetch is under way
        self.fetching = False
        self.next = page.next
        self.exhausted = page.next is None
        # the backend narrows; the filter's own predicate decides (breaching has no column)
        fresh = [
            i for i in page.incidents if wanted.matches(i, app.now, app.settings.sla, app.user)
        ]
        self._append(fresh)
        self._show_bar()

        if not self.exhausted and self._near_end():
            self.fetch()  # a page the predicate thinned out: keep filling the screen

    def _append(self, incidents: list[Incident]) -> None:
        table = self.table
        now = context(self).now
        for incident in incidents:
            self.shown.append(incident)
            opened = durations.age((now - incident.created_at).total_seconds())
            table.add_row(
                Text(incident.key, style="bold"),
                Text(
                    incident.priority.value,
                    style=PRIORITY_STYLES.get(incident.priority.value, ""),
                ),
                Text(incident.status.label),
                Text(clean(incident.service, limit=14)),
                Text(clean(incident.assignee or "-", limit=10)),
                Text(opened),
                Text(clean(incident.title, limit=100) or "(no title)"),
                key=str(incident.id),
            )

    def _near_end(self) -> bool:
        table = self.table
        visible = max(1, table.size.height - 1)
        return table.cursor_row >= len(self.shown) - max(AHEAD, visible - len(self.shown) + AHEAD)

    def _show_bar(self) -> None:
        text = Text()
        text.append(" H ", style="reverse bold")
        text.append(" history: every incident, newest first", style="bold")
        if self.typed.source:
            text.append("  ·  filter: ")
            text.append(self.typed.source, style="bold")
            text.append("  (esc clears)", style="dim")
        text.append(f"  ·  {len(self.shown)} shown")
        if self.fetching:
            text.append("  ·  loading…")
        elif self.exhausted:
            text.append("  ·  all of them" if self.shown else "  ·  none match")
        else:
            text.append("  ·  more below")
        self.query_one("#history-bar", Static).update(text)

    # keys ----------------------------------------------------------------------------------
    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        if not self.exhausted and not self.fetching and self._near_end():
            self.fetch()

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        self.action_open()

    @property
    def cursor_incident(self) -> Incident | None:
        row = self.table.cursor_row
        return self.shown[row] if 0 <= row < len(self.shown) else None

    def action_cursor_down(self) -> None:
        self.table.action_cursor_down()

    def action_cursor_up(self) -> None:
        self.table.action_cursor_up()

    def action_first(self) -> None:
        self.table.move_cursor(row=0)

    def action_last(self) -> None:
        """To the last incident shown (the next page follows, as at any row near the end)."""
        self.table.move_cursor(row=max(0, len(self.shown) - 1))

    def action_open(self) -> None:
        from screens.incident import IncidentScreen

        incident = self.cursor_incident
        if incident is not None:
            self.app.push_screen(IncidentScreen(incident.id))

    def action_filter(self) -> None:
        self.query_one(FilterInput).open(self.typed.source)

    def action_back(self) -> None:
        """esc: first the typed filter (or the box, if open without focus), then back."""
        if self.query_one(FilterInput).display or not self.typed.is_empty:
            self.clear_filter()
            return
        self.app.pop_screen()

    @property
    def filter_home(self) -> DataTable[Text]:
        return self.table

    def clear_filter(self) -> None:
        box = self.query_one(FilterInput)
        box.value = ""
        box.close()
        if not self.typed.is_empty:
            self.typed = Filter()
            self.restart()

    def submit_filter(self, value: str) -> None:
        """``enter`` in the box: apply ``value`` and close, or say what is wrong and stay."""
        app = context(self)
        try:
            typed = parse(value)
        except QueryError as exc:
            app.set_status(f"filter: {exc}", error=True)
            return
        self.query_one(FilterInput).close()
        self.typed = typed
        self.restart()
