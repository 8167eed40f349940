"""A one-line picker for impact or urgency (1 high, 2 medium, 3 low), driven by the keyboard.

A RadioSet would take three lines per field and needs enter to commit; triage wants one glance
and one key: ``left``/``right`` move, ``1``/``2``/``3`` jump straight to a level.
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

LEVEL_NAMES = {1: "high", 2: "medium", 3: "low"}


class LevelPicker(Widget, can_focus=True):
    """Pick a level 1..3; posts ``LevelPicker.Changed`` when the value moves."""

    DEFAULT_CSS = """
    LevelPicker {
        height: 1;
        width: auto;
        min-width: 30;
    }
    LevelPicker:focus {
        background: $accent 25%;
    }
    """

    BINDINGS = [
        Binding("left", "move(-1)", "Lower", show=False),
        Binding("right", "move(1)", "Higher", show=False),
        Binding("1", "pick(1)", "1", show=False),
        Binding("2", "pick(2)", "2", show=False),
        Binding("3", "pick(3)", "3", show=False),
    ]

    value: reactive[int] = reactive(2)

    class Changed(Message):
        def __init__(self, picker: LevelPicker, value: int) -> None:
            super().__init__()
            self.picker = picker
            self.value = value

        @property
        def control(self) -> LevelPicker:
            return self.picker

    def __init__(
        self, value: int = 2, *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.set_reactive(LevelPicker.value, min(3, max(1, value)))

    def render(self) -> Text:
        text = Text()
        for level, name in LEVEL_NAMES.items():
            label = f" {level} {name} "
            if level == self.value:
                text.append(f"[{label.strip()}]", style="bold reverse")
            else:
                text.append(f" {label.strip()} ", style="dim")
            text.append(" ")
        return text

    def action_move(self, step: int) -> None:
        self.value = min(3, max(1, self.value + step))

    def action_pick(self, level: int) -> None:
        self.value = level

    def watch_value(self, value: int) -> None:
        self.post_message(self.Changed(self, value))
