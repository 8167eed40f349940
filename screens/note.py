"""Add a note: a multi-line text area; ``enter`` is a new line, ``ctrl+s`` saves."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static, TextArea

from console.domain.lifecycle import AddNote
from console.domain.models import Incident
from screens.dialog import Dialog, incidents_text, naming


class NoteScreen(Dialog[AddNote]):
    """Dismisses with an ``AddNote`` action, ``None`` on cancel."""

    DEFAULT_CSS = """
    NoteScreen #text {
        height: 8;
    }
    """

    confirm_label = "Add note"

    def __init__(self, targets: Sequence[Incident]) -> None:
        super().__init__()
        self._targets = tuple(targets)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield self.title_widget(f"Note on {naming(self._targets)}")
            with VerticalScroll(classes="targets"):
                yield Static(incidents_text(self._targets), markup=False)
            yield self.field_row("Note", "text")
            yield TextArea(id="text", soft_wrap=True, tab_behavior="focus")
            yield Static("enter: new line   ctrl+s: save   esc: back", classes="hint")
            yield from self.buttons()

    def on_mount(self) -> None:
        self.query_one("#text", TextArea).focus()

    def action_submit(self) -> None:
        text = self.query_one("#text", TextArea).text.strip()
        if not text:
            self.query_one("#text-error", Static).update(Text("the note is empty"))
            return
        self.dismiss(AddNote(text=text[:20_000]))
