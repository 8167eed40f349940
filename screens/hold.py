"""Put on hold: why (awaiting caller / vendor / change / problem) and an optional note.

The SLA clocks pause while an incident is on hold, so the reason is required: it is what a
reviewer checks when a paused clock looks suspicious.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, RadioButton, RadioSet, Static

from console.domain.lifecycle import Hold
from console.domain.models import HoldReason, Incident
from screens.dialog import Dialog, incidents_text, naming


def reason_label(reason: HoldReason) -> str:
    return reason.value.replace("_", " ")


class HoldScreen(Dialog[Hold]):
    """Dismisses with a ``Hold`` action, ``None`` on cancel."""

    confirm_label = "Put on hold (ctrl+s)"

    def __init__(self, targets: Sequence[Incident]) -> None:
        super().__init__()
        self._targets = tuple(targets)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield self.title_widget(f"Put {naming(self._targets)} on hold")
            with VerticalScroll(classes="targets"):
                yield Static(incidents_text(self._targets), markup=False)
            yield Static("Reason (the SLA clocks pause while on hold)", classes="field-label")
            with RadioSet(id="reason"):
                for index, reason in enumerate(HoldReason):
                    yield RadioButton(reason_label(reason), value=index == 0, name=reason.value)
            yield Static("Note (optional)", classes="field-label")
            yield Input(
                placeholder="e.g. vendor ticket 4411", id="note", max_length=2000, compact=True
            )
            yield from self.buttons()

    def on_mount(self) -> None:
        self.query_one("#reason", RadioSet).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        pressed = self.query_one("#reason", RadioSet).pressed_button
        reason = (
            HoldReason(pressed.name) if pressed and pressed.name else HoldReason.AWAITING_CALLER
        )
        note = self.query_one("#note", Input).value.strip()
        self.dismiss(Hold(reason=reason, note=note))
