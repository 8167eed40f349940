"""The preview before a bulk action: what will happen, to which incidents (keys and titles)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from console.domain.models import Incident
from screens.dialog import ENTER_AND_CTRL_S, Dialog, incidents_text


class BulkPreviewScreen(Dialog[bool]):
    """Dismisses with ``True`` to go ahead, ``False`` on cancel."""

    DEFAULT_CSS = """
    BulkPreviewScreen #bulk-targets {
        max-height: 16;
    }
    """

    def __init__(self, what: str, targets: Sequence[Incident], *, detail: str = "") -> None:
        super().__init__()
        self._what = what
        self._targets = tuple(targets)
        self._detail = detail
        self.confirm_label = f"Confirm {len(self._targets)}"
        self.submit_keys = ENTER_AND_CTRL_S  # it starts on the confirm button

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield self.title_widget(f"{self._what.capitalize()}: {len(self._targets)} incidents?")
            if self._detail:
                yield Static(Text(self._detail), classes="hint", markup=False)
            with VerticalScroll(classes="targets", id="bulk-targets"):
                yield Static(incidents_text(self._targets), markup=False)
            yield Static(
                "Each incident is changed on its own, at the version shown here; one that "
                "changed meanwhile is skipped and reported, the others go ahead.",
                classes="hint",
            )
            yield from self.buttons()

    def on_mount(self) -> None:
        self.query_one("#confirm").focus()

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_submit(self) -> None:
        self.dismiss(True)
