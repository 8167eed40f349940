"""The clock tick repaints only the queue rows whose clock cells changed.

A row's SLA and age cells move with the clock; the rest of it moves only with a new
version. The tick works out each visible row's moving cells (again only once their reading
can have changed) and refreshes just the lines that differ, so a screen of readings in hours
or days costs nearly nothing a second. Checked against a fresh draw of every line: a cached
line must never show an old reading, and a line that did not change is not repainted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.tui.app import make_app
from tests.app.conftest import T0, Row, seed_queue
from tests.waiting import wait_until
from widgets.incident_list import IncidentList

MIXED = (
    Row("fresh P1, mm:ss", "checkout", 1, 1, 2),
    Row("fresh P2", "payments", 1, 2, 4),
    Row("in the warning band", "payments", 1, 2, 26),
    Row("an hour and a half", "search", 2, 2, 90),
    Row("acknowledged", "search", 2, 2, 95, "bob", "ack"),
    Row("on hold", "search", 2, 3, 300, "carol", "hold"),
    Row("a day old", "checkout", 3, 3, 60 * 26),
    Row("days old", "payments", 2, 3, 60 * 24 * 4 + 17),
    Row("P5 fresh", "search", 3, 3, 1),
)
STEPS = (1, 1, 1, 57, 1, 1, 600, 1, 1, 3541, 1, 86400, 1, 1)


def _lines(widget: IncidentList) -> list[Any]:
    return [widget.render_line(y) for y in range(widget.size.height)]


async def test_a_tick_repaints_exactly_the_rows_whose_clock_cells_changed(tmp_path: Path) -> None:
    clock = FrozenClock(T0)
    await seed_queue(tmp_path / "q.db", clock, MIXED)
    backend = await SqliteBackend(tmp_path / "q.db", clock=clock).open()
    try:
        app = make_app(backend, clock=clock, user="alice")
        async with app.run_test(size=(260, 20)) as pilot:
            await wait_until(lambda: getattr(app.screen, "loaded", False), pilot=pilot)
            await pilot.pause()
            widget = app.screen.query_one(IncidentList)
            refreshed: list[tuple[Any, ...]] = []
            original = widget.refresh

            def spy(*regions: Any, **flags: Any) -> Any:
                refreshed.append(regions)
                return original(*regions, **flags)

            widget.refresh = spy  # type: ignore[method-assign]
            partial = 0
            for step in STEPS:
                before = _lines(widget)
                refreshed.clear()
                clock.advance(step)
                app.tick()
                ticked = list(refreshed)
                after = _lines(widget)
                # What the tick left on screen is what a draw from nothing gives.
                widget.facts_changed()
                widget.notify_style_update()
                assert after == _lines(widget), f"a stale line after a {step} s tick"
                if any(not regions for regions in ticked):
                    continue  # the rows moved (a state changed): the whole list repaints
                painted = {region.y for regions in ticked for region in regions}
                changed = {y for y, (a, b) in enumerate(zip(before, after, strict=True)) if a != b}
                assert painted == changed, f"after a {step} s tick"
                partial += 1 if 0 < len(painted) < len(MIXED) else 0
            assert partial >= 3, "no tick repainted only some rows"
            # Readings in hours and days hold: with the fresh rows past the hour, most 1 s
            # ticks repaint nothing at all.
            refreshed.clear()
            clock.advance(1)
            app.tick()
            assert not refreshed, "a tick repainted rows whose readings did not change"
    finally:
        await backend.close()
