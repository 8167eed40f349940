"""A wall tile: a caption and a number in large digits, updated in place."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Digits, Static


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
        yield Static("", classes="wall-tile--unit", markup=False)

    def show(self, value: str, *, alert: bool = False, unit: str = "") -> None:
        """Change the number (and its unit line) only when it changed."""
        if value != self._value:
            self._value = value
            self.query_one(Digits).update(value)
        if unit != self._unit:
            self._unit = unit
            self.query_one(".wall-tile--unit", Static).update(unit)
        self.set_class(alert, "-alert")
