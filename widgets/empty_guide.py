"""What an empty database shows instead of a blank table: how to get incidents in."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

GUIDE = (
    ("No incidents yet.\n\n", "bold"),
    ("First your team (people, on-call, escalation, services), from a file:\n", "bold"),
    ("  incidents directory apply examples/team.toml   (copy and edit it first)\n", ""),
    ("  then press O to see who is on call.\n\n", "dim"),
    ("Create one by hand: press ", ""),
    ("c", "bold reverse"),
    (" (title, service, impact and urgency).\n\n", ""),
    ("Or let Prometheus Alertmanager open them:\n", "bold"),
    ("  1. incidents integration create --service NAME --kind alertmanager\n", ""),
    ("     (prints an integration key)\n", "dim"),
    ("  2. incidents serve --db THIS-DATABASE        (listens on 127.0.0.1:8080)\n", ""),
    ("  3. in alertmanager.yml add a webhook receiver:\n", ""),
    ("       url: http://HOST:8080/v1/integrations/alertmanager\n", ""),
    ("       with the integration key from step 1 as the bearer token\n\n", ""),
    ("To look around with made-up data: incidents --demo\n", "dim"),
    ("Press ? for every key.", "dim"),
)


def guide_text() -> Text:
    text = Text()
    for part, style in GUIDE:
        text.append(part, style=style)
    return text


class EmptyGuide(Static):
    DEFAULT_CSS = """
    EmptyGuide {
        height: 1fr;
        padding: 1 4;
        background: $surface;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(guide_text(), id=id)
