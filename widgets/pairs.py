"""Label and value rows, drawn as a two-column grid: the incident screen's details, SLA
clocks and escalation.

A Rich ``Table.grid`` measures every cell, then pads and wraps each one through the general
table machinery: 2.9 ms for the nine rows of an incident's details, against 0.4 ms to wrap the
same values directly (load ~5), and the incident screen draws three such grids per open and two
every second. ``Pairs`` lays them out the way the grid does (labels in a column as wide as the
widest label, two spaces, the value wrapped in the rest with its continuation lines under it,
every line as wide as the grid) without that machinery. tests/app/test_pairs.py checks it
draws what ``Table.grid(padding=(0, 2))`` draws, character and style, at many widths.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text

LABEL = Style(dim=True)
GAP = 2
"""Spaces between the label column and the value column."""
NARROWEST_VALUE = 4
"""Below this many cells for the values, drawing is left to a Rich table (it squeezes the
labels too)."""


class Pairs:
    """Rows of (label, value); the labels are drawn dim and never wrap."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, Text]] = []

    def add(self, label: str, value: Text | str) -> None:
        shown = value if isinstance(value, Text) else Text(value)
        self.rows.append((label, shown))

    def _label_width(self) -> int:
        return max((cell_len(label) for label, _ in self.rows), default=0)

    def _table(self) -> Table:
        table = Table.grid(padding=(0, GAP))
        table.add_column(no_wrap=True)
        table.add_column()
        for label, value in self.rows:
            table.add_row(Text(label, style=LABEL), value)
        return table

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self._table())

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if not self.rows:
            return
        label_width = self._label_width()
        room = options.max_width - label_width - GAP
        if room < NARROWEST_VALUE:
            yield self._table()
            return
        widest = max(_widest_line(value) for _, value in self.rows)
        value_width = max(1, min(room, widest))
        blank = Style()
        blank_label = Segment(" " * label_width, blank)
        gap = Segment(" " * GAP, blank)
        new_line = Segment.line()
        for label, value in self.rows:
            lines = value.wrap(console, value_width, justify="left", overflow="ellipsis")
            if not lines:
                lines.append(Text(""))
            # as Rich renders a Text: unstyled runs of a Text with any style are null-styled
            plain = None if not value.spans and not value.style else blank
            first = True
            for line in lines:
                if first:
                    yield Segment(label + " " * (label_width - cell_len(label)), LABEL)
                    first = False
                else:
                    yield blank_label
                yield gap
                segments = [
                    Segment(text, style or plain) for text, style, _ in line.render(console)
                ]
                if line.style:
                    segments = list(Segment.apply_style(segments, console.get_style(line.style)))
                yield from Segment.adjust_line_length(segments, value_width, style=blank, pad=True)
                yield new_line


def _widest_line(value: Text) -> int:
    return max((cell_len(line) for line in value.plain.split("\n")), default=0)
