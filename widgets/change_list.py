"""The changes before an incident, on the incident screen: newest first, ``l`` links one.

Each row reads ``CHG-12 deployed 4m00s before this incident: v2.3 rollout (ci)``, with
``linked`` once the incident carries the change's link. Text is plain (never markup).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import BindingType
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from console.domain.changes import Candidate
from console.domain.text import clean
from widgets.keybindings import bindings_for


class ChangeList(OptionList):
    DEFAULT_CSS = """
    ChangeList {
        height: auto;
        max-height: 8;
        border: none;
        padding: 0;
    }
    ChangeList:focus {
        border: none;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [*bindings_for("changes")]

    class LinkRequested(Message):
        """The responder pressed the link key on a change."""

        def __init__(self, candidate: Candidate) -> None:
            super().__init__()
            self.candidate = candidate

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.candidates: list[Candidate] = []

    def show(self, candidates: list[Candidate], linked: set[str]) -> None:
        highlighted = self.highlighted
        self.candidates = candidates
        self.clear_options()
        for candidate in candidates:
            change = candidate.change
            line = Text()
            line.append(change.key, style="bold")
            line.append(f" {candidate.describe()}: ")
            line.append(clean(change.summary, limit=200))
            if change.source:
                line.append(f" ({clean(change.source, limit=60)})", style="dim")
            if change.key in linked:
                line.append("  linked", style="italic")
            self.add_option(Option(line))
        if candidates:
            self.highlighted = min(highlighted or 0, len(candidates) - 1)

    def action_link_change(self) -> None:
        index = self.highlighted
        if index is not None and 0 <= index < len(self.candidates):
            self.post_message(self.LinkRequested(self.candidates[index]))
