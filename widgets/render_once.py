"""A Rich renderable drawn once per width, however often Textual asks for it.

A ``Static`` with ``height: auto`` renders its content twice for each frame: once to find
its height and once to draw it. For a Rich ``Table`` (measuring every cell, then padding and
wrapping them) that second pass was a sixth of opening an incident. Wrap the content in
``RenderOnce`` when it is updated: it keeps the segments of its last render and gives them
again for the same width. Each ``update`` brings a new wrapper, so nothing stale is shown.
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.segment import Segment


class RenderOnce:
    """``renderable``, rendered at most once per set of render options that matter to it."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable
        self._key: tuple[object, ...] | None = None
        self._segments: list[Segment] = []

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        # Not the height: Textual passes the widget's height only when it draws, and
        # neither a Table nor a Text fills (or crops to) the height it is given.
        key = (
            options.max_width,
            options.min_width,
            options.justify,
            options.overflow,
            options.no_wrap,
            options.highlight,
            options.markup,
        )
        if key != self._key:
            self._segments = list(console.render(self.renderable, options.update(height=None)))
            self._key = key
        return self._segments

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.renderable)
