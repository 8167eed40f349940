"""The status line: the connection state and the last message (errors in red).

The App owns the text (``app.set_status``); every StatusLine on any screen shows it.
"""

from __future__ import annotations

from rich.text import Text

from console.domain.text import clean
from widgets.line import Line


class StatusLine(Line):
    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $text-muted;
    }
    StatusLine.-error { color: $text-error; background: $error-muted; text-style: bold; }
    StatusLine.-offline { color: $text-warning; background: $warning-muted; text-style: bold; }
    """

    def on_mount(self) -> None:
        self.watch(self.app, "status_text", self._update, init=True)
        self.watch(self.app, "connection_text", self._update, init=True)
        self.watch(self.app, "status_error", self._update, init=True)

    def _update(self, _: object = None) -> None:
        app = self.app
        message: str = getattr(app, "status_text", "")
        connection: str = getattr(app, "connection_text", "")
        error: bool = getattr(app, "status_error", False)
        text = Text()
        if connection:
            text.append(clean(connection))
            if message:
                text.append("  |  ")
        text.append(clean(message))  # messages quote titles, names, server errors
        self.set_class(error, "-error")
        self.set_class(bool(connection) and not error, "-offline")
        self.show_text(text)
