"""``l`` on the queue and the incident screen: open the incident's first link.

On the console's own machine the system browser opens it (``webbrowser``: ``$BROWSER``,
``xdg-open``, ...). Over SSH a browser would open on the far host, so the link is shown as
a terminal hyperlink (OSC 8: ctrl+click or click in most terminals) in a small dialog,
where ``y`` copies it (OSC 52). The dialog is also the fallback when no browser is known.
"""

from __future__ import annotations

import asyncio
import os
import webbrowser
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from console.domain.links import WebLink, first_link, over_ssh
from console.domain.models import Incident
from console.tui.context import context
from screens.dialog import Dialog


class LinkScreen(Dialog[None]):
    """The link as a terminal hyperlink; ``y`` copies it, ``esc`` (or enter) closes."""

    BINDINGS = [Binding("y", "copy", "Copy the link", show=False)]

    confirm_label = "Close"
    submit_keys = "enter, ctrl+s"

    def __init__(self, incident: Incident, link: WebLink, why: str) -> None:
        super().__init__()
        self._incident = incident
        self._link = link
        self._why = why

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield self.title_widget(f"{self._incident.key} {self._link.title}")
            url = Text(self._link.url, style=Style(link=self._link.url, underline=True))
            yield Static(url, id="link-url", markup=False)
            yield Static(
                f"{self._why}: click (or ctrl+click) it in your terminal; y copies it.",
                classes="hint",
                markup=False,
            )
            yield from self.buttons()

    def on_mount(self) -> None:
        self.query_one("#confirm").focus()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self._link.url)
        context(self.app).set_status(f"{self._link.url} copied to the clipboard (OSC 52)")

    def action_submit(self) -> None:
        self.dismiss(None)


async def open_link(app: App[Any], incident: Incident) -> None:
    """Open ``incident``'s first link, or show it as a hyperlink (see the module docstring)."""
    ctx = context(app)
    link = first_link(incident)
    if link is None:
        ctx.set_status(f"{incident.key} has no link to open (no runbook or alert URL)")
        return
    if over_ssh(os.environ):
        app.push_screen(LinkScreen(incident, link, "Over SSH, so not opened here"))
        return
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        app.push_screen(LinkScreen(incident, link, "No browser found on this machine"))
        return
    # a browser launcher may block (or wait for the browser): never on the UI loop
    opened = await asyncio.to_thread(browser.open, link.url)
    if opened:
        ctx.set_status(f"opened the {link.title} of {incident.key} in the browser: {link.url}")
    else:
        app.push_screen(LinkScreen(incident, link, "The browser did not start"))
