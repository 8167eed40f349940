"""``y`` on the queue and the incident screen: the incident's key to the clipboard."""

from __future__ import annotations

from typing import Any

from textual.app import App

from console.tui.context import context


def copy_key(app: App[Any], key: str) -> None:
    """Copy through the terminal (Textual writes OSC 52, which works over SSH and in tmux
    with ``set-clipboard on``), and say so on the status line."""
    app.copy_to_clipboard(key)
    context(app).set_status(f"{key} copied to the clipboard (OSC 52)")
