"""A wall tile: a caption and a number in large digits, updated in place."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Digits, Static

from widgets.wall_digits import BigDigits, rows_for


class WallTile(Vertical):
    """One big count on the wall; ``-alert`` turns it red when the count needs attention."""

    DEFAULT_CSS = """
    WallTile {
        width: 1fr;
        height: 5;
        padding: 0 1;
        margin: 0 1 0 0;
        min-width: 12;
        background: $panel;
    }
    WallTile > .wall-tile--label {
        height: 1;
        width: 1fr;
        text-style: bold;
        color: $text-muted;
    }
    WallTile > Digits {
        width: auto;
    }
    WallTile > BigDigits {
        display: none;
    }
    WallTile.-big > BigDigits {
        display: block;
    }
    WallTile.-big > Digits {
        display: none;
    }
    WallTile > .wall-tile--unit {
        height: 1;
        color: $text-muted;
    }
    WallTile.-alert {
        background: $error;
    }
    WallTile.-alert > .wall-tile--label, WallTile.-alert > .wall-tile--unit {
        color: $text;
    }
    """

    def __init__(self, label: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._label = label
        self._value = ""
        self._unit = ""

    def compose(self) -> ComposeResult:
        yield Static(self._label, classes="wall-tile--label", markup=False)
        yield Digits("--")
        yield BigDigits("--")
        yield Static("", classes="wall-tile--unit", markup=False)

    def set_scale(self, scale: int) -> None:
        """1: Textual's three-row digits; 2 and up: ``BigDigits`` at that scale."""
        self.set_class(scale > 1, "-big")
        self.query_one(BigDigits).set_scale(scale)
        self.styles.height = 5 if scale <= 1 else 2 + rows_for(scale)

    def show(self, value: str, *, alert: bool = False, unit: str = "") -> None:
        """Change the number (and its unit line) only when it changed."""
        if value != self._value:
            self._value = value
            self.query_one(Digits).update(value)
            self.query_one(BigDigits).update(value)
        if unit != self._unit:
            self._unit = unit
            self.query_one(".wall-tile--unit", Static).update(unit)
        self.set_class(alert, "-alert")
