"""``?``: every binding, with the keys in effect after the user's keymap."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from console.keys import KEYS
from console.query import HELP as FILTER_HELP
from widgets.keybindings import display_keys, effective_keys

WHERE = {
    ("queue",): "queue",
    ("incident",): "incident",
    ("queue", "incident"): "both",
}


def help_table(keymap: dict[str, str], readonly: bool) -> Table:
    table = Table(box=None, expand=True, padding=(0, 1), show_edge=False)
    table.add_column("key", style="bold", no_wrap=True, min_width=10)
    table.add_column("does")
    table.add_column("where", style="dim", no_wrap=True)
    for key in KEYS:
        keys = display_keys(effective_keys(key, keymap))
        what = Text(key.description)
        if key.mutating and readonly:
            what.append("  (disabled: read-only)", style="dim italic")
        table.add_row(Text(keys), what, WHERE.get(key.screens, ", ".join(key.screens)))
    return table


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 84;
        max-width: 100%;
        height: auto;
        max-height: 90%;
        border: thick $accent;
        background: $panel;
        padding: 0 1;
    }
    HelpScreen .title { text-style: bold; margin-bottom: 1; }
    HelpScreen .hint { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [
        Binding("escape,q,question_mark", "close", "Close", id="help_close"),
    ]

    def compose(self) -> ComposeResult:
        app: Any = self.app
        with VerticalScroll():
            yield Static(
                "Keys  (remap any of them by id under [keymap] in the config file)", classes="title"
            )
            yield Static(help_table(app.keymap_ids, app.readonly), id="help-keys")
            yield Static(
                Text(
                    "Filter (/): " + FILTER_HELP + ".\nViews: 1 all open, 2 mine, 3 unassigned, "
                    "4 breaching, 5 recently resolved. esc clears the filter."
                ),
                classes="hint",
            )
            yield Static("esc closes", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)
