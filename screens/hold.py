"""Put on hold: why (awaiting caller / vendor / change / problem) and an optional note.

The SLA clocks pause while an incident is on hold, so the reason is required: it is what a
reviewer checks when a paused clock looks suspicious.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, RadioButton, RadioSet, Static

from console.domain.lifecycle import Hold
from console.domain.models import HoldReason, Incident
from screens.dialog import ENTER_AND_CTRL_S, Dialog, incidents_text, naming


def reason_label(reason: HoldReason) -> str:
    return reason.value.replace("_", " ")


class ReasonChoice(RadioSet):
    """The hold reasons; ``enter`` picks the highlighted one and puts on hold (a plain
    RadioSet's enter only picks, which left the dialog open)."""

    BINDINGS = [Binding("enter", "choose", "Choose and put on hold", show=False)]

    def action_choose(self) -> None:
        # the highlighted button carries "-selected"; pressing it posts a message the
        # submit would not wait for, so the choice is handed over directly
        highlighted = next((b for b in self.query(RadioButton) if b.has_class("-selected")), None)
        chosen = highlighted or self.pressed_button
        screen = self.screen
        if isinstance(screen, HoldScreen):
            screen.submit(HoldReason(chosen.name) if chosen and chosen.name else None)


class HoldScreen(Dialog[Hold]):
    """Dismisses with a ``Hold`` action, ``None`` on cancel.

    It starts on the note (what a responder types); up/down there change the reason, and
    enter puts on hold from either field.
    """

    BINDINGS = [
        Binding("up", "reason(-1)", "Previous reason", show=False),
        Binding("down", "reason(1)", "Next reason", show=False),
    ]

    confirm_label = "Put on hold"
    submit_keys = ENTER_AND_CTRL_S

    def __init__(self, targets: Sequence[Incident]) -> None:
        super().__init__()
        self._targets = tuple(targets)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield self.title_widget(f"Put {naming(self._targets)} on hold")
            with VerticalScroll(classes="targets"):
                yield Static(incidents_text(self._targets), markup=False)
            yield Static("Reason (the SLA clocks pause while on hold)", classes="field-label")
            with ReasonChoice(id="reason"):
                for index, reason in enumerate(HoldReason):
                    yield RadioButton(reason_label(reason), value=index == 0, name=reason.value)
            yield Static("Note (optional; up/down change the reason)", classes="field-label")
            yield Input(
                placeholder="e.g. vendor ticket 4411", id="note", max_length=2000, compact=True
            )
            yield from self.buttons()

    def on_mount(self) -> None:
        self.query_one("#note", Input).focus()

    def action_reason(self, step: int) -> None:
        buttons = list(self.query(RadioButton))
        pressed = self.query_one("#reason", RadioSet).pressed_index
        buttons[max(0, min(len(buttons) - 1, pressed + step))].value = True

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        self.submit(None)

    def submit(self, reason: HoldReason | None) -> None:
        """Put on hold for ``reason`` (``None``: the pressed one)."""
        if reason is None:
            pressed = self.query_one("#reason", RadioSet).pressed_button
            reason = (
                HoldReason(pressed.name) if pressed and pressed.name else HoldReason.AWAITING_CALLER
            )
        note = self.query_one("#note", Input).value.strip()
        self.dismiss(Hold(reason=reason, note=note))
