"""A block of text whose content changes but whose height mostly does not: the parts of the
incident screen (its details, SLA clocks, escalation, timeline).

``Static.update`` asks for a layout of the whole screen each time, because the new content
could be taller or shorter; a layout reflows every widget and then repaints the screen in
full. Opening one incident after another changes every part's text and almost never its
height, and those layouts were a fifth of the process time of an open (bench/console_scale.py
at 100,000 open). A ``Panel`` measures its new content at the width it is laid out at and
asks for a layout only when that height differs from the height it has; otherwise it repaints
itself in place. The measure is not extra work when the content is a ``RenderOnce``: the draw
reuses it.

Use it for blocks whose width does not follow their text (``width`` not ``auto``); for one row
of text that changes often see ``widgets.line.Line``.
"""

from __future__ import annotations

from textual.visual import VisualType
from textual.widgets import Static


class Panel(Static):
    def show_content(self, content: VisualType) -> None:
        """Show ``content``; the screen is laid out again only if it needs another height."""
        width, height = self.size  # the content area as laid out now (0 x 0 until then)
        self.update(content, layout=False)
        if not self.display:
            return  # hidden: showing it (a style change) lays the screen out anyway
        styled = self.styles.width
        if not width or (styled is not None and styled.is_auto):
            self.refresh(layout=True)
        elif self.get_content_height(self.container_size, self.screen.size, width) != height:
            self.refresh(layout=True)
