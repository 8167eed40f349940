"""What every triage modal shares: the frame, the cancel/confirm keys and how incidents are named.

Not a screen of its own: each modal (confirm, resolve, priority, ...) lives in its own module and
subclasses ``Dialog``. Incident text comes from alerts, so it is cleaned and shown as plain
``rich.text.Text``, never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.color import Color
from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from console.domain.models import Incident
from console.domain.text import clean

ResultT = TypeVar("ResultT")

PRIORITY_STYLES = {
    "P1": "bold red",
    "P2": "bold dark_orange",
    "P3": "yellow",
    "P4": "cyan",
    "P5": "dim",
}


def incident_line(incident: Incident, *, width: int = 60) -> Text:
    """``INC-12  P2  ack  title``: how a modal names an incident it acts on."""
    line = Text()
    line.append(incident.key, style="bold")
    line.append("  ")
    line.append(incident.priority.value, style=PRIORITY_STYLES.get(incident.priority.value, ""))
    line.append("  ")
    line.append(f"{incident.status.label:<9}", style="italic")
    line.append(" ")
    line.append(clean(incident.title, limit=width) or "(no title)")
    return line


def incidents_text(incidents: Sequence[Incident], *, width: int = 60) -> Text:
    """One line per incident, for previews and confirmations."""
    return Text("\n").join(incident_line(incident, width=width) for incident in incidents)


CANCEL_LABEL = "Back (esc)"
"""Every dialog's cancel button ("Back", so it never sits next to "Cancel incident")."""
ENTER_AND_CTRL_S = "enter, ctrl+s"


def naming(incidents: Sequence[Incident]) -> str:
    """``INC-12`` or ``3 incidents``: the short form used in titles."""
    if len(incidents) == 1:
        return incidents[0].key
    return f"{len(incidents)} incidents"


class Dialog(ModalScreen[ResultT]):
    """A centred frame with a title, the body a subclass composes, and Back / confirm buttons.

    One grammar for every dialog: ``escape`` cancels (dismisses with ``None`` / ``False``);
    ``ctrl+s`` confirms from anywhere, so multi-line fields keep ``enter`` for new lines; a
    dialog that starts on a single-line field (or a button) also confirms with ``enter``
    and says so in ``submit_keys``. The buttons show the keys: ``Back (esc)`` and
    ``<what it does> (enter, ctrl+s)``. Each dialog starts focused on the field a responder
    types into (``tests/app/test_dialog_grammar.py`` walks them all).
    """

    DEFAULT_CSS = """
    Dialog {
        align: center middle;
        background: $background 60%;
    }
    Dialog > #dialog {
        width: 80;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        overflow-y: auto;
        border: thick $accent;
        background: $surface;
        padding: 0 1;
    }
    Dialog .dialog-title {
        text-style: bold;
        width: 100%;
        margin-bottom: 1;
    }
    Dialog .targets {
        height: auto;
        max-height: 8;
        margin-bottom: 1;
    }
    Dialog .field-label {
        margin-top: 1;
        color: $text-muted;
    }
    Dialog .field-row {
        height: 1;
        margin-top: 1;
    }
    Dialog .field-row > .field-label {
        width: auto;
        margin: 0 2 0 0;
    }
    Dialog .field-error {
        color: $error;
        text-style: bold;
        width: 1fr;
        height: auto;
    }
    Dialog .hint {
        color: $text-muted;
        height: auto;
    }
    Dialog .buttons {
        height: auto;
        width: 100%;
        align-horizontal: right;
        margin-top: 1;
    }
    Dialog .buttons Button {
        margin-left: 2;
    }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Confirm"),
    ]

    confirm_label = "Confirm"
    """What confirming does, e.g. ``Resolve``; the button adds the keys."""
    confirm_variant = "primary"
    submit_keys = "ctrl+s"
    """The keys that confirm, as the confirm button shows them."""

    def on_mount(self) -> None:
        # The App's stylesheet paints every Screen opaque, and app CSS outranks DEFAULT_CSS;
        # an inline style lets the screen behind a dialog show through, dimmed, for context.
        background = self.app.theme_variables.get("background", "#000000")
        self.styles.background = Color.parse(background).with_alpha(0.6)

    def buttons(self) -> ComposeResult:
        with Horizontal(classes="buttons"):
            yield Button(CANCEL_LABEL, id="cancel", compact=True)
            yield Button(
                f"{self.confirm_label} ({self.submit_keys})",
                id="confirm",
                variant=self.confirm_variant,  # type: ignore[arg-type]
                compact=True,
            )

    def field_row(self, label: str, field_id: str) -> Horizontal:
        """A field's label with its error message beside it (empty until validation fails)."""
        return Horizontal(
            Static(label, classes="field-label"),
            Static("", classes="field-error", id=f"{field_id}-error"),
            classes="field-row",
        )

    def title_widget(self, text: str | Text) -> Static:
        body = text if isinstance(text, Text) else Text(text)
        return Static(body, classes="dialog-title", markup=False)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "cancel":
            self.action_cancel()
        elif event.button.id == "confirm":
            self.action_submit()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        raise NotImplementedError  # every dialog says what confirming returns
