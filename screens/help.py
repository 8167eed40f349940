"""``?``: every binding, with the keys in effect after the user's keymap."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from console.domain.keys import KEYS, help_for
from console.domain.query import HELP as FILTER_HELP
from console.tui.context import context
from widgets.keybindings import display_keys, effective_keys

WHERE = {
    ("queue",): "queue",
    ("incident",): "incident",
    ("queue", "incident"): "both",
}


def help_rows(keymap: dict[str, str], readonly: bool) -> list[tuple[str, str, str]]:
    """(keys, what it does, where) for every binding, with the keys in effect."""
    rows = []
    for key in KEYS:
        what = help_for(key)
        if key.mutating and readonly:
            what += "  (disabled: read-only)"
        keys = display_keys(effective_keys(key, keymap))
        rows.append((keys, what, WHERE.get(key.screens, ", ".join(key.screens))))
    return rows


def help_table(rows: list[tuple[str, str, str]]) -> Table:
    table = Table(box=None, expand=True, padding=(0, 1), show_edge=False)
    table.add_column("key", style="bold", no_wrap=True, min_width=10)
    table.add_column("does")
    table.add_column("where", style="dim", no_wrap=True)
    for keys, what, where in rows:
        table.add_row(Text(keys), Text(what), Text(where))
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

    def __init__(self) -> None:
        super().__init__()
        app = context(self)
        self.rows = help_rows(app.keymap_ids, app.readonly)

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(
                "Keys  (remap any of them by id under [keymap] in the config file)",
                classes="title",
                markup=False,
            )
            yield Static(help_table(self.rows), id="help-keys")
            yield Static(
                Text(
                    "Filter (/): " + FILTER_HELP + ".\nViews: 1 all open, 2 mine, 3 unassigned, "
                    "4 breaching, 5 recently resolved, 6 triggered, 7 breached. esc clears the "
                    "filter."
                ),
                classes="hint",
            )
            yield Static(
                Text(
                    "In every dialog: ctrl+s confirms (enter too where you type one line or "
                    "pick from a list), esc goes back, tab and shift+tab move between fields."
                ),
                classes="hint",
            )
            yield Static(
                Text("esc, q or ? closes this help; up/down, PageUp/PageDown scroll it."),
                classes="hint",
            )

    def action_close(self) -> None:
        self.dismiss(None)
