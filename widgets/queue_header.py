"""The line above the queue: open incidents per priority, unacknowledged and breached.

Colours come from component classes (so themes and NO_COLOR apply); the breached count also
carries a ``!`` so it stands out without colour.
"""

from __future__ import annotations

from rich.text import Text

from console.domain.models import Priority
from widgets.line import Line
from widgets.queue_model import Counts


class QueueHeader(Line):
    DEFAULT_CSS = """
    QueueHeader {
        height: 1;
        padding: 0 1;
        background: $boost;
        & > .queue-header--p1 { color: $error; text-style: bold; }
        & > .queue-header--p2 { color: $warning; text-style: bold; }
        & > .queue-header--strong { text-style: bold; }
        & > .queue-header--breached { color: $error; text-style: bold reverse; }
        & > .queue-header--dim { color: $text-muted; }
    }
    """
    COMPONENT_CLASSES = {
        "queue-header--p1",
        "queue-header--p2",
        "queue-header--strong",
        "queue-header--breached",
        "queue-header--dim",
    }

    def header_text(self, counts: Counts, breached: int) -> Text:
        style = self.get_component_rich_style
        strong, dim = style("queue-header--strong"), style("queue-header--dim")
        text = Text()
        text.append(f"{counts.open} open", style=strong)
        for priority in Priority:
            n = counts.by_priority.get(priority, 0)
            text.append("  ")
            if not n:
                text.append(f"{priority.value} 0", style=dim)
            elif priority.rank <= 2:
                text.append(f"{priority.value} {n}", style=style(f"queue-header--p{priority.rank}"))
            else:
                text.append(f"{priority.value} {n}")
        text.append("   ")
        unacked = counts.unacknowledged
        text.append(f"unacked {unacked}", style=strong if unacked else dim)
        text.append("   ")
        if breached:
            text.append(f" ! breached {breached} ", style=style("queue-header--breached"))
        else:
            text.append("breached 0", style=dim)
        return text

    def show(self, counts: Counts, breached: int) -> None:
        """Show the counts; the same counts again (most clock ticks) change nothing."""
        if getattr(self, "_last", None) == (counts, breached):
            return
        self._last = (counts, breached)
        self.show_text(self.header_text(counts, breached))

    def notify_style_update(self) -> None:
        super().notify_style_update()
        last = getattr(self, "_last", None)
        if last is not None:
            self.show_text(self.header_text(*last))
