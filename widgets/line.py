"""A one-line text widget whose text changes often: the queue's counts, its view bar, the
status line.

``Static.update`` asks for a layout of the whole screen each time (its size could depend on
the text), and a layout repaints every widget on it: in an alert storm that was the queue's
whole screenful redrawn for every batch of changes. A ``Line`` is one row high and as wide
as its container whatever it says, so ``show`` repaints just the line, and only when the
text differs from what it shows.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class Line(Static):
    DEFAULT_CSS = """
    Line {
        height: 1;
    }
    """

    _shown: Text | None = None

    def show_text(self, text: Text) -> None:
        """Show ``text`` (styles and all); nothing happens if it is what the line shows."""
        if text == self._shown:
            return
        self._shown = text
        self.update(text, layout=False)
