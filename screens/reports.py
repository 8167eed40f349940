"""The reports screen: KPIs from ``backend.stats`` with a window, service and team filter.

The numbers come from the backend (the same ones ``incidents report`` prints), fetched in an
exclusive worker whenever the filter changes, so a slow remote never blocks the screen and a
newer filter always wins. ``esc`` goes back to the queue.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Select, Sparkline, Static

from backends.base import BackendError
from console.domain.kpis import Kpis, parse_window
from console.domain.text import clean
from console.tui.context import context
from widgets.footer import StableFooter
from widgets.report_tables import (
    day_caption,
    service_table,
    sla_table,
    times_table,
    totals_text,
    window_text,
)

WINDOWS = ("24h", "7d", "30d")
NARROW = 110


class ReportsScreen(Screen[None]):
    """KPI tables, per-day sparklines and the filter."""

    BINDINGS: ClassVar = [
        Binding("escape", "back", "Back"),
        Binding("f5", "reload", "Reload"),
        Binding("q", "app.quit", "Quit"),
    ]

    DEFAULT_CSS = """
    ReportsScreen {
        layout: vertical;
    }
    ReportsScreen #report-title {
        height: 1;
        padding: 0 1;
        background: $primary-background;
        text-style: bold;
    }
    ReportsScreen #report-filter {
        height: 3;
        padding: 0 1;
    }
    ReportsScreen #report-filter Select {
        width: 1fr;
        margin: 0 1 0 0;
    }
    ReportsScreen #report-filter #report-window {
        width: 16;
    }
    ReportsScreen #report-body {
        padding: 0 1;
    }
    ReportsScreen #report-window-text, ReportsScreen #report-state {
        height: 1;
        color: $text-muted;
    }
    ReportsScreen #report-state.-error {
        color: $error;
        text-style: bold;
    }
    ReportsScreen #report-totals {
        height: auto;
        margin: 1 0 0 0;
    }
    ReportsScreen #report-tables {
        height: auto;
        margin: 1 0 0 0;
    }
    ReportsScreen.-narrow #report-tables {
        layout: vertical;
    }
    ReportsScreen #report-tables > Static {
        width: auto;
        height: auto;
        margin: 0 4 1 0;
    }
    ReportsScreen .report-caption {
        height: 1;
        color: $text-muted;
    }
    ReportsScreen Sparkline {
        height: 3;
        margin: 0 0 1 0;
    }
    ReportsScreen #spark-created > .sparkline--max-color {
        color: $warning;
    }
    ReportsScreen #spark-resolved > .sparkline--max-color {
        color: $success;
    }
    """

    def __init__(self, *, since: str = "7d") -> None:
        super().__init__()
        self.since = since if since in WINDOWS else "7d"
        self.service: str | None = None
        self.team: str | None = None
        self.kpis: Kpis | None = None

    def compose(self) -> ComposeResult:
        app = context(self)
        # Text, not str: a Select parses a str prompt as markup ("payments [/legacy]" crashed)
        services = [(Text(clean(s.name or s.id, limit=40)), s.id) for s in app.directory.services]
        teams = [(Text(clean(t.name or t.id, limit=40)), t.id) for t in app.directory.teams]
        yield Static("Reports: KPIs", id="report-title", markup=False)
        with Horizontal(id="report-filter"):
            yield Select(
                [(w, w) for w in WINDOWS],
                value=self.since,
                allow_blank=False,
                id="report-window",
            )
            yield Select(services, prompt="all services", id="report-service")
            yield Select(teams, prompt="all teams", id="report-team")
        with VerticalScroll(id="report-body"):
            yield Static("", id="report-window-text", markup=False)
            yield Static("loading…", id="report-state", markup=False)
            yield Static("", id="report-totals", markup=False)
            with Horizontal(id="report-tables"):
                yield Static("", id="report-times")
                yield Static("", id="report-sla")
                yield Static("", id="report-services")
            with Vertical(id="report-days"):
                yield Static("", id="caption-created", classes="report-caption", markup=False)
                yield Sparkline([], id="spark-created")
                yield Static("", id="caption-resolved", classes="report-caption", markup=False)
                yield Sparkline([], id="spark-resolved")
        yield StableFooter()

    def on_mount(self) -> None:
        self.set_class(self.size.width < NARROW, "-narrow")
        self.load()

    def on_resize(self) -> None:
        # Side by side the three tables need ~110 columns; below that they stack.
        self.set_class(self.size.width < NARROW, "-narrow")

    # filter --------------------------------------------------------------------------------
    @on(Select.Changed)
    def _filter_changed(self, event: Select.Changed) -> None:
        value = None if event.value is Select.BLANK else str(event.value)
        if event.select.id == "report-window" and value:
            self.since = value
        elif event.select.id == "report-service":
            self.service = value
        elif event.select.id == "report-team":
            self.team = value
        else:
            return
        self.load()

    def action_back(self) -> None:
        self.dismiss()

    def action_reload(self) -> None:
        self.load()

    # data ----------------------------------------------------------------------------------
    @work(exclusive=True, group="reports", exit_on_error=False)
    async def load(self) -> None:
        app = context(self)
        state = self.query_one("#report-state", Static)
        state.update("loading…")
        state.remove_class("-error")
        try:
            kpis = await app.backend.stats(
                parse_window(self.since),
                service=self.service,
                team=self.team,
                now=app.clock.now(),
            )
        except BackendError as exc:
            state.update(f"could not load the KPIs: {exc} (F5 to try again)")
            state.add_class("-error")
            return
        self.show(kpis)

    def show(self, kpis: Kpis) -> None:
        self.kpis = kpis
        self.query_one("#report-window-text", Static).update(window_text(kpis))
        self.query_one("#report-state", Static).update(
            "hold time excluded as the SLA clocks exclude it · F5 reload · esc back"
        )
        self.query_one("#report-totals", Static).update(totals_text(kpis))
        self.query_one("#report-times", Static).update(times_table(kpis))
        self.query_one("#report-sla", Static).update(sla_table(kpis))
        self.query_one("#report-services", Static).update(service_table(kpis))
        for kind in ("created", "resolved"):
            self.query_one(f"#caption-{kind}", Static).update(day_caption(kpis, kind))
            self.query_one(f"#spark-{kind}", Sparkline).data = [
                float(getattr(day, kind)) for day in kpis.per_day
            ]
