"""A yes/no confirmation that names what it acts on (escalate, bulk acknowledge, ...)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from screens.dialog import ENTER_AND_CTRL_S, Dialog


class ConfirmScreen(Dialog[bool]):
    """Dismisses with ``True`` on confirm, ``False`` on cancel."""

    def __init__(
        self,
        title: str | Text,
        body: Text,
        *,
        confirm_label: str = "Confirm",
        danger: bool = False,
    ) -> None:
        super().__init__()
        self._title = title
        self._body = body
        self.confirm_label = confirm_label
        self.submit_keys = ENTER_AND_CTRL_S  # it starts on the confirm button
        self.confirm_variant = "error" if danger else "primary"

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield self.title_widget(self._title)
            with VerticalScroll(classes="targets"):
                yield Static(self._body, markup=False, id="confirm-body")
            yield from self.buttons()

    def on_mount(self) -> None:
        self.query_one("#confirm").focus()

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_submit(self) -> None:
        self.dismiss(True)
