"""Ask for a reason before cancelling or reopening; the dialog names the incidents."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, Static

from console.domain.models import Incident
from screens.dialog import ENTER_AND_CTRL_S, Dialog, incidents_text


class ReasonScreen(Dialog[str]):
    """Dismisses with the reason (possibly empty when not required), ``None`` on cancel."""

    def __init__(
        self,
        title: str,
        targets: Sequence[Incident],
        *,
        confirm_label: str,
        required: bool,
        placeholder: str = "why",
        danger: bool = False,
    ) -> None:
        super().__init__()
        self._title = title
        self._targets = tuple(targets)
        self._required = required
        self._placeholder = placeholder
        self.confirm_label = confirm_label
        self.submit_keys = ENTER_AND_CTRL_S
        self.confirm_variant = "error" if danger else "primary"

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield self.title_widget(self._title)
            with VerticalScroll(classes="targets"):
                yield Static(incidents_text(self._targets), markup=False)
            label = "Reason" + ("" if self._required else " (optional)")
            yield self.field_row(label, "reason")
            yield Input(placeholder=self._placeholder, id="reason", max_length=2000, compact=True)
            yield from self.buttons()

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        reason = self.query_one("#reason", Input).value.strip()
        if self._required and not reason:
            self.query_one("#reason-error", Static).update(Text("a reason is required"))
            self.query_one("#reason", Input).focus()
            return
        self.dismiss(reason)
