"""The line above the queue: open incidents per priority, unacknowledged and breached."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from console.models import Priority
from widgets.queue_model import Counts

PRIORITY_STYLE = {Priority.P1: "bold red", Priority.P2: "bold yellow"}


def header_text(counts: Counts, breached: int) -> Text:
    text = Text()
    text.append(f"{counts.open} open", style="bold")
    for priority in Priority:
        n = counts.by_priority.get(priority, 0)
        text.append("  ")
        text.append(f"{priority.value} {n}", style=PRIORITY_STYLE.get(priority, "") if n else "dim")
    text.append("   ")
    text.append(
        f"unacked {counts.unacknowledged}", style="bold" if counts.unacknowledged else "dim"
    )
    text.append("   ")
    if breached:
        text.append(f"! breached {breached}", style="bold reverse red")
    else:
        text.append("breached 0", style="dim")
    return text


class QueueHeader(Static):
    DEFAULT_CSS = """
    QueueHeader {
        height: 1;
        padding: 0 1;
        background: $boost;
    }
    """

    def show(self, counts: Counts, breached: int) -> None:
        self.update(header_text(counts, breached))
