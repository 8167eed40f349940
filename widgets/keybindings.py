"""Textual bindings built from the key table (``console.domain.keys``), so there is one list.

Every binding keeps its id, which is what the config keymap remaps (``App.set_keymap``),
what help shows and what ``--readonly`` hides.
"""

from __future__ import annotations

from textual.binding import Binding

from console.domain.keys import KEYS, Key


def binding_for(key: Key) -> Binding:
    return Binding(
        key.keys,
        key.action,
        key.description,
        show=key.footer,
        id=key.id,
        tooltip=key.description,
    )


def bindings_for(screen: str) -> list[Binding]:
    """The bindings of one screen (``queue`` or ``incident``) from the key table.

    Help comes first: the footer shows bindings in this order and cuts off what does not
    fit, and at 80 columns the way to every other key must still be on screen.
    """
    keys = [key for key in KEYS if screen in key.screens and key.keys]
    keys.sort(key=lambda key: key.id != "help")
    return [binding_for(key) for key in keys]


def effective_keys(key: Key, keymap: dict[str, str]) -> str:
    """The keys that trigger ``key`` after the user's remapping, for help and the palette."""
    return keymap.get(key.id, key.keys)


def display_keys(keys: str) -> str:
    """``question_mark,slash`` -> ``?, /``: how help shows keys (``: palette`` for none)."""
    if not keys.strip():
        return ": palette"
    names = {
        "question_mark": "?",
        "slash": "/",
        "colon": ":",
        "space": "space",
        "escape": "esc",
        "enter": "enter",
    }
    return ", ".join(names.get(part.strip(), part.strip()) for part in keys.split(","))
