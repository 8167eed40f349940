"""One of the wall's most urgent incidents: who and what on the left, a big SLA countdown.

The wall keeps a fixed pool of these and re-points them at other incidents as the order
changes; a row never gets mounted or removed after start-up.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Digits, Static

from console.domain.rows import IncidentRow
from console.domain.sla import SlaClock, SlaState
from console.domain.text import clean
from widgets.wall_digits import BigDigits, rows_for
from widgets.wall_model import BREACHED, NEW_P1, countdown


class UrgentRow(Horizontal):
    DEFAULT_CSS = """
    UrgentRow {
        height: 3;
        width: 1fr;
        background: $boost;
    }
    UrgentRow.-odd {
        background: $panel;
    }
    UrgentRow > .urgent-row--info {
        width: 1fr;
        height: 3;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    UrgentRow > Digits {
        width: auto;
        min-width: 14;
        padding: 0 1;
        text-align: right;
    }
    UrgentRow > BigDigits {
        display: none;
        padding: 0 1;
    }
    UrgentRow.-big > BigDigits {
        display: block;
    }
    UrgentRow.-big > Digits {
        display: none;
    }
    UrgentRow.-big > .urgent-row--info {
        height: 1fr;
        content-align: left middle;
    }
    UrgentRow.-warning > Digits, UrgentRow.-warning > BigDigits {
        color: $warning;
    }
    UrgentRow.-breached > Digits, UrgentRow.-breached > BigDigits {
        color: $error;
    }
    UrgentRow.-breached {
        border-left: thick $error;
    }
    UrgentRow.-new {
        background: $error 40%;
        border-left: thick $error;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[object, ...] = ()
        self._digits = ""

    def compose(self) -> ComposeResult:
        yield Static("", classes="urgent-row--info", markup=False)
        yield Digits("")
        yield BigDigits("")

    def set_scale(self, scale: int) -> None:
        """1: three rows with Textual's digits; 2 and up: taller rows with ``BigDigits``,
        the title staying beside the countdown."""
        self.set_class(scale > 1, "-big")
        self.query_one(BigDigits).set_scale(scale)
        self.styles.height = max(3, rows_for(scale))

    def show(
        self,
        incident: IncidentRow,
        clock: SlaClock,
        *,
        new_p1: bool,
        breached: bool,
        assignee: str,
        width: int,
    ) -> None:
        """Point the row at ``incident``; only repaint what changed."""
        digits = countdown(clock)
        if digits != self._digits:
            self._digits = digits
            self.query_one(Digits).update(digits)
            self.query_one(BigDigits).update(digits)
        self.set_class(new_p1, "-new")
        self.set_class(breached, "-breached")
        self.set_class(clock.state == SlaState.WARNING, "-warning")
        key = (incident.id, incident.version, new_p1, breached, clock.state, clock.kind, width)
        if key == self._shown:
            return
        self._shown = key
        self.query_one(".urgent-row--info", Static).update(
            info_text(incident, clock, new_p1=new_p1, breached=breached, assignee=assignee)
        )

    def clear(self) -> None:
        self._shown = ()


def info_text(
    incident: IncidentRow, clock: SlaClock, *, new_p1: bool, breached: bool, assignee: str
) -> Text:
    """Three lines: markers and key; the title; service, owner, status and which clock."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if new_p1:
        text.append(f" {NEW_P1} ", style="bold reverse")
        text.append(" ")
    if breached:
        text.append(f" {BREACHED} ", style="bold reverse")
        text.append(" ")
    text.append(incident.priority.value, style="bold")
    text.append("  ")
    text.append(incident.key, style="bold")
    text.append("\n")
    text.append(clean(incident.title, limit=200))
    text.append("\n")
    state = "paused (on hold)" if clock.state == SlaState.PAUSED else clock.state.value
    text.append(
        f"{clean(incident.service, limit=40)} · {assignee or 'unassigned'} · "
        f"{incident.status.label} · {clock.kind} {state}",
        style="dim" if not breached else "",
    )
    return text
