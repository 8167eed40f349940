"""``Pairs`` draws exactly what the Rich grid it replaces drew: same characters, same styles.

The incident screen's details, SLA clocks and escalation were ``Table.grid(padding=(0, 2))``
with a no-wrap label column; ``Pairs`` is the fast path for that one shape, so it is checked
against the grid itself on generated rows at every width from far too narrow to wide.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text

from widgets.pairs import GAP, LABEL, Pairs

CONSOLE = Console(width=200, color_system="truecolor", force_terminal=True, legacy_windows=False)

WORDS = st.sampled_from(
    ["checkout", "P1", "(medium),", "urgency", "", "a", "dedup", "日本語の", "x" * 70, "=", "-"]
)
STYLES = st.sampled_from([None, "bold", "dim", "bold red", "italic"])


@st.composite
def values(draw: st.DrawFn) -> Text:
    text = Text(style=draw(st.sampled_from(["", "", "bold"])))
    for _ in range(draw(st.integers(0, 12))):
        word = draw(WORDS)
        text.append(word, style=draw(STYLES))
        text.append(draw(st.sampled_from([" ", " ", "  ", "\n", ", "])))
    return text


LABELS = st.sampled_from(["Service", "Status", "Priority", "Acknowledged", "Next", "Paged now"])


def grid(rows: list[tuple[str, Text]]) -> Table:
    table = Table.grid(padding=(0, GAP))
    table.add_column(no_wrap=True)
    table.add_column()
    for label, value in rows:
        table.add_row(Text(label, style=LABEL), value)
    return table


def cells(renderable: RenderableType, width: int) -> list[list[tuple[str, Style | None]]]:
    lines = CONSOLE.render_lines(
        renderable, CONSOLE.options.update_width(width), pad=False, new_lines=False
    )
    return [[(char, seg.style) for seg in line for char in seg.text] for line in lines]


def pairs_of(rows: list[tuple[str, Text]]) -> Pairs:
    pairs = Pairs()
    for label, value in rows:
        pairs.add(label, value.copy())
    return pairs


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(st.tuples(LABELS, values()), min_size=1, max_size=9), width=st.integers(1, 130)
)
def test_pairs_draw_what_the_grid_draws(rows: list[tuple[str, Text]], width: int) -> None:
    assert cells(pairs_of(rows), width) == cells(grid(rows), width)


def test_the_widths_the_incident_screen_uses() -> None:
    rows = [
        ("Service", Text("checkout (Checkout)")),
        ("Priority", Text.assemble(("P2", "bold red"), " impact 2 (medium), urgency 2 (medium)")),
        ("Labels", Text("env=prod, team=payments, " + "z" * 90)),
        ("Links", Text("change CHG-1\nproblem PRB-2 [open]")),
        ("Resolution", Text("")),
        ("Description", Text("line one\n\nline three", style="italic")),
    ]
    for width in (20, 38, 40, 78, 79, 158):
        assert cells(pairs_of(rows), width) == cells(grid(rows), width), width


def test_a_string_value_is_plain_text_and_labels_are_dim() -> None:
    pairs = Pairs()
    pairs.add("Status", "[bold]triggered[/]")  # never markup
    (line,) = CONSOLE.render_lines(pairs, CONSOLE.options.update_width(60), pad=False)
    text = "".join(segment.text for segment in line)
    assert text.startswith("Status  [bold]triggered[/]")
    assert Segment("Status", LABEL) in line
