"""After a bulk action: what succeeded and what did not, and why, per incident."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from console.domain.models import Incident
from console.domain.text import clean
from screens.dialog import Dialog


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one action did to one incident: ``ok`` and a message (the error when not ok)."""

    incident: Incident
    ok: bool
    message: str
    stale: bool = False
    """Refused because the incident changed since the user saw it (a ``Conflict``)."""


def summary_text(outcomes: Sequence[Outcome]) -> Table:
    """Failures first (they need attention), then successes; ``ok``/``FAILED`` in words."""
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column()
    for outcome in sorted(outcomes, key=lambda o: o.ok):
        status = Text("ok", style="bold green") if outcome.ok else Text("FAILED", style="bold red")
        table.add_row(
            status,
            Text(outcome.incident.key, style="bold"),
            Text(clean(outcome.message, limit=300)),
        )
    return table


class BulkSummaryScreen(Dialog[None]):
    """A report; any key that closes it (enter, esc) returns to where the user was."""

    DEFAULT_CSS = """
    BulkSummaryScreen #summary {
        max-height: 18;
    }
    """

    submit_keys = "enter, ctrl+s"

    def __init__(self, what: str, outcomes: Sequence[Outcome]) -> None:
        super().__init__()
        self._what = what
        self._outcomes = tuple(outcomes)

    def compose(self) -> ComposeResult:
        done = sum(1 for o in self._outcomes if o.ok)
        failed = len(self._outcomes) - done
        title = f"{self._what.capitalize()}: {done} done, {failed} failed"
        with Vertical(id="dialog"):
            yield self.title_widget(title)
            with VerticalScroll(classes="targets", id="summary"):
                yield Static(summary_text(self._outcomes), markup=False)
            if failed:
                yield Static(
                    "The failed ones stay marked; the queue shows their latest state.",
                    classes="hint",
                )
            with Horizontal(classes="buttons"):
                yield Button("Close (enter, esc)", id="close", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#close").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_submit(self) -> None:
        self.dismiss(None)
