"""After a bulk action: what succeeded and what did not, and why, per incident."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from console.models import Incident
from console.text import clean
from screens.dialog import Dialog


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one action did to one incident: ``ok`` and a message (the error when not ok)."""

    incident: Incident
    ok: bool
    message: str


def summary_text(outcomes: Sequence[Outcome]) -> Text:
    """Failures first (they need attention), then successes; ``ok``/``FAILED`` in words."""
    lines = []
    for outcome in sorted(outcomes, key=lambda o: o.ok):
        line = Text()
        if outcome.ok:
            line.append("ok      ", style="bold green")
        else:
            line.append("FAILED  ", style="bold red")
        line.append(f"{outcome.incident.key:<10}", style="bold")
        line.append(clean(outcome.message, limit=200))
        lines.append(line)
    return Text("\n").join(lines)


class BulkSummaryScreen(Dialog[None]):
    """A report; any key that closes it (enter, esc) returns to where the user was."""

    DEFAULT_CSS = """
    BulkSummaryScreen #summary {
        max-height: 18;
    }
    """

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
                    "Failed incidents stay marked; the queue shows their latest state.",
                    classes="hint",
                )
            with Horizontal(classes="buttons"):
                yield Button("Close (enter)", id="close", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#close").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_submit(self) -> None:
        self.dismiss(None)
