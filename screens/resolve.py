"""Resolve: a resolution code and a note; the dialog names the incidents it resolves."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Select, Static, TextArea

from console.domain.lifecycle import Resolve
from console.domain.models import Incident, ResolutionCode
from screens.dialog import Dialog, incidents_text, naming

# A person picks among these; ``auto_resolved`` belongs to integrations.
CODES = [code for code in ResolutionCode if code != ResolutionCode.AUTO_RESOLVED]


def code_label(code: ResolutionCode) -> str:
    return code.value.replace("_", " ")


class ResolveScreen(Dialog[Resolve]):
    """Dismisses with a ``Resolve`` action, ``None`` on cancel."""

    confirm_label = "Resolve"
    confirm_variant = "success"

    def __init__(self, targets: Sequence[Incident]) -> None:
        super().__init__()
        self._targets = tuple(targets)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield self.title_widget(f"Resolve {naming(self._targets)}")
            with VerticalScroll(classes="targets"):
                yield Static(incidents_text(self._targets), markup=False)
            yield Static("Resolution code", classes="field-label")
            yield Select(
                [(code_label(code), code) for code in CODES],
                value=ResolutionCode.FIXED,
                allow_blank=False,
                id="code",
                compact=True,
            )
            yield Static(
                "Note (optional; enter adds a line; shift+tab: the code)", classes="field-label"
            )
            yield TextArea(id="note", soft_wrap=True, tab_behavior="focus")
            yield from self.buttons()

    DEFAULT_CSS = """
    ResolveScreen #note {
        height: 5;
    }
    """

    def on_mount(self) -> None:
        # the note is what a responder types; the code (default "fixed") is a tab away
        self.query_one("#note", TextArea).focus()

    def action_submit(self) -> None:
        code = self.query_one("#code", Select).value
        note = self.query_one("#note", TextArea).text.strip()
        assert isinstance(code, ResolutionCode)
        self.dismiss(Resolve(code=code, note=note))
