"""Impact / urgency picker: shows the priority the ITIL matrix gives and the SLA it brings.

Changing priority re-targets the SLA clocks (they keep their start), so the dialog shows the
new targets and, for one incident, when its clock would then be due, before anyone commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Select, Static

from console.domain import durations
from console.domain.lifecycle import SetPriority
from console.domain.models import Incident, Priority, choose_priority
from console.domain.sla import SlaPolicy, SlaState, active_clock, format_remaining
from screens.dialog import ENTER_AND_CTRL_S, PRIORITY_STYLES, Dialog, incidents_text, naming
from widgets.form_level import LevelPicker

Field = Literal["impact", "urgency"]


class PriorityScreen(Dialog[SetPriority]):
    """Dismisses with a ``SetPriority`` action, ``None`` on cancel."""

    DEFAULT_CSS = """
    PriorityScreen .picker-row {
        height: 1;
        margin-top: 1;
    }
    PriorityScreen #urgency-row {
        margin-top: 0;
    }
    PriorityScreen .picker-name {
        width: 10;
        color: $text-muted;
    }
    PriorityScreen #result {
        margin-top: 1;
        height: auto;
    }
    """

    BINDINGS = [Binding("enter", "submit", "Set priority", show=False)]

    confirm_label = "Set priority"
    submit_keys = ENTER_AND_CTRL_S

    def __init__(
        self,
        targets: Sequence[Incident],
        *,
        sla: SlaPolicy,
        now: datetime,
        focus: Field | None = None,
    ) -> None:
        super().__init__()
        self._targets = tuple(targets)
        self._sla = sla
        self._now = now
        self._focus = focus
        first = self._targets[0]
        self._impact = first.impact
        self._urgency = first.urgency

    def compose(self) -> ComposeResult:
        first = self._targets[0]
        with Vertical(id="dialog"):
            yield self.title_widget(f"Priority of {naming(self._targets)}")
            with VerticalScroll(classes="targets"):
                yield Static(incidents_text(self._targets), markup=False)
            with Horizontal(classes="picker-row"):
                yield Static("Impact", classes="picker-name")
                yield LevelPicker(first.impact, id="impact")
            with Horizontal(classes="picker-row", id="urgency-row"):
                yield Static("Urgency", classes="picker-name")
                yield LevelPicker(first.urgency, id="urgency")
            yield Static("Override (optional)", classes="field-label")
            yield Select(
                [(f"{p.value} (override the matrix)", p) for p in Priority],
                prompt="no override: use the matrix",
                allow_blank=True,
                value=first.priority if first.priority_override else Select.NULL,
                id="override",
                compact=True,
            )
            yield Static(self._result(), id="result", markup=False)
            yield Static(
                "left/right or 1/2/3 pick a level, tab moves between fields",
                classes="hint",
            )
            yield from self.buttons()

    def on_mount(self) -> None:
        self.query_one(f"#{self._focus or 'impact'}", LevelPicker).focus()

    def _override(self) -> Priority | None:
        value = self.query_one("#override", Select).value if self.is_mounted else Select.NULL
        return value if isinstance(value, Priority) else None

    def _chosen(self) -> Priority:
        return choose_priority(self._impact, self._urgency, self._override()).priority

    def _result(self) -> Text:
        first = self._targets[0]
        choice = choose_priority(self._impact, self._urgency, self._override())
        matrix, chosen = choice.matrix, choice.priority
        text = Text("Priority ")
        text.append(first.priority.value, style=PRIORITY_STYLES[first.priority.value])
        text.append(" -> ")
        text.append(chosen.value, style=PRIORITY_STYLES[chosen.value])
        if choice.overridden:
            text.append(f" (override; the matrix gives {matrix.value})", style="italic")
        target = self._sla.targets[chosen]
        text.append(
            f"\nSLA target: respond within {durations.span(target.response)},"
            f" resolve within {durations.span(target.resolution)}"
        )
        if len(self._targets) == 1 and first.is_open:
            after = first.model_copy(update={"priority": chosen})
            clock = active_clock(after, self._now, self._sla)
            due = clock.due.strftime("%H:%M UTC") if clock.due else "-"
            state = format_remaining(clock)
            text.append(f"\n{first.key} {clock.kind} clock would be ")
            if clock.state == SlaState.BREACHED:
                text.append(f"BREACHED {state}", style="bold red")
            elif clock.state == SlaState.PAUSED:
                text.append("paused (on hold)")
            else:
                text.append(f"due {due}, {state} left")
        return text

    def on_level_picker_changed(self, event: LevelPicker.Changed) -> None:
        event.stop()
        if event.picker.id == "impact":
            self._impact = event.value
        else:
            self._urgency = event.value
        self._refresh_result()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._refresh_result()

    def _refresh_result(self) -> None:
        if self.is_mounted:
            self.query_one("#result", Static).update(self._result())

    def action_submit(self) -> None:
        self.dismiss(
            SetPriority(impact=self._impact, urgency=self._urgency, priority=self._override())
        )
