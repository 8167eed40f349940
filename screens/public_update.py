"""Write to the public status page: publish an incident, or add a public update to it.

Public text is not a note: customers read it on ``/status``. The dialog says so, asks for a
public title the first time (the internal one may name hosts or customers; it is offered
cleaned, to edit), and dismisses with a ``Publish`` or ``PublicUpdate`` action.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static, TextArea

from console.domain.lifecycle import PublicUpdate, Publish
from console.domain.models import Incident
from console.domain.text import clean
from screens.dialog import Dialog, incident_line

TITLE_MAX = 200
MESSAGE_MAX = 5_000


class PublicUpdateScreen(Dialog[Publish | PublicUpdate]):
    """Dismisses with ``Publish`` (not yet public) or ``PublicUpdate``; ``None`` on cancel."""

    DEFAULT_CSS = """
    PublicUpdateScreen #message {
        height: 6;
    }
    PublicUpdateScreen .warning {
        color: $warning;
        height: auto;
    }
    """

    def __init__(self, incident: Incident) -> None:
        super().__init__()
        self._incident = incident
        self._publish = not incident.public
        self.confirm_label = "Publish" if self._publish else "Post update"

    def compose(self) -> ComposeResult:
        verb = "Publish" if self._publish else "Public update for"
        with Vertical(id="dialog"):
            yield self.title_widget(f"{verb} {self._incident.key} on the status page")
            yield Static(incident_line(self._incident), markup=False)
            yield Static(
                "Anyone can read this on /status. Internal notes, assignees and alerts stay "
                "internal.",
                classes="warning",
                markup=False,
            )
            if self._publish:
                yield self.field_row("Public title", "title")
                yield Input(
                    clean(self._incident.title, limit=TITLE_MAX),
                    id="title",
                    max_length=TITLE_MAX,
                )
            else:
                yield Static(Text(f"Public title: {self._incident.public_title}"), markup=False)
            yield self.field_row("Update", "message")
            yield TextArea(id="message", soft_wrap=True, tab_behavior="focus")
            yield Static("enter: new line   ctrl+s: post   esc: back", classes="hint")
            yield from self.buttons()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#message", TextArea).focus()

    def _error(self, field: str, text: str) -> None:
        self.query_one(f"#{field}-error", Static).update(Text(text))

    def action_submit(self) -> None:
        message = clean(self.query_one("#message", TextArea).text, multiline=True).strip()
        if not message:
            self._error("message", "the update is empty")
            return
        message = message[:MESSAGE_MAX]
        if not self._publish:
            self.dismiss(PublicUpdate(message=message))
            return
        title = clean(self.query_one("#title", Input).value).strip()
        if not title:
            self._error("title", "a public title is needed")
            return
        self.dismiss(Publish(title=title[:TITLE_MAX], message=message))
