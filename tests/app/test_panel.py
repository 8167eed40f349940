"""A ``Panel`` lays the screen out again only when its new content needs another height.

What must hold whatever it skips: after each ``show_content`` the panel is exactly as tall as
its content, what is below it starts right under it, and it shows the new text.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from tests.waiting import wait_until
from widgets.panel import Panel


class Panels(App[None]):
    CSS = """
    #row { height: auto; }
    #main { width: 1fr; }
    #side { width: 20; height: auto; }
    #hidden { display: none; }
    .-show #hidden { display: block; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            with Horizontal(id="row"):
                yield Panel(Text("one"), id="main")
                with Vertical(id="side"):
                    yield Panel(Text(""), id="hidden")
                    yield Panel(Text("side"), id="narrow")
            yield Static("below", id="below")
            yield Static("last", id="last")


def layouts_asked(panel: Panel) -> list[bool]:
    """Record each refresh the panel asks for: ``True`` for one with a layout."""
    asked: list[bool] = []
    original = panel.refresh

    def spy(*regions: Any, **flags: Any) -> Any:
        asked.append(bool(flags.get("layout")))
        return original(*regions, **flags)

    panel.refresh = spy  # type: ignore[method-assign]
    return asked


def lines_of(widget: Static) -> list[str]:
    return [widget.render_line(y).text.rstrip() for y in range(widget.size.height)]


async def test_same_height_repaints_in_place_and_another_height_lays_out() -> None:
    app = Panels()
    async with app.run_test(size=(60, 20)) as pilot:
        main = app.query_one("#main", Panel)
        below = app.query_one("#below", Static)
        await pilot.pause()
        asked = layouts_asked(main)

        main.show_content(Text("a\nb\nc"))  # 1 -> 3 lines
        await wait_until(lambda: main.size.height == 3, pilot=pilot)
        assert True in asked
        assert below.region.y == main.region.bottom

        asked.clear()
        main.show_content(Text("x\ny\nz"))  # same height: no layout
        await pilot.pause()
        assert asked and True not in asked
        assert lines_of(main) == ["x", "y", "z"]
        assert below.region.y == main.region.bottom

        main.show_content(Text("1\n2\n3\n4\n5"))  # taller
        await wait_until(lambda: main.size.height == 5, pilot=pilot)
        assert True in asked
        assert lines_of(main) == ["1", "2", "3", "4", "5"]
        assert below.region.y == main.region.bottom

        main.show_content(Text("short"))  # shorter
        await wait_until(lambda: main.size.height == 1, pilot=pilot)
        assert below.region.y == main.region.bottom


async def test_the_height_is_measured_at_the_panels_width() -> None:
    app = Panels()
    async with app.run_test(size=(60, 20)) as pilot:
        narrow = app.query_one("#narrow", Panel)
        below = app.query_one("#below", Static)
        await pilot.pause()
        assert narrow.size.width == 20
        asked = layouts_asked(narrow)
        # 30 characters fit on one line of the screen but wrap to two in the 20-wide column
        narrow.show_content(Text("twenty-nine characters wide.."))
        await wait_until(lambda: narrow.size.height == 2, pilot=pilot)
        assert True in asked
        assert below.region.y >= narrow.region.bottom


async def test_a_hidden_panel_asks_for_no_layout_and_shows_its_content_once_shown() -> None:
    app = Panels()
    async with app.run_test(size=(60, 20)) as pilot:
        hidden = app.query_one("#hidden", Panel)
        narrow = app.query_one("#narrow", Panel)
        await pilot.pause()
        asked = layouts_asked(hidden)
        hidden.show_content(Text("now\nshown"))
        await pilot.pause()
        assert True not in asked
        app.screen.add_class("-show")
        await wait_until(lambda: hidden.size.height == 2, pilot=pilot)
        assert lines_of(hidden) == ["now", "shown"]
        assert narrow.region.y == hidden.region.bottom
