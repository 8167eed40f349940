"""The wall across a room: digits scale with the screen, titles stay beside the countdowns,
and pages dwell longer when more rows fit."""

from __future__ import annotations

import pytest

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from screens.wall import INFO_MIN, wall_scales
from tests.wall.test_wall import backend, clock, ready, wall_app  # noqa: F401 - fixtures
from widgets.wall_digits import BigDigits, render_lines, rows_for, width_for
from widgets.wall_model import PAGE_SECONDS, PAGE_SECONDS_MAX, page_seconds
from widgets.wall_row import UrgentRow


def test_digits_get_more_rows_at_larger_scales() -> None:
    assert [rows_for(s) for s in (1, 2, 3, 4)] == [3, 5, 8, 10]
    for scale in (2, 3, 4):
        lines = render_lines("-12:34", scale)
        assert len(lines) == rows_for(scale)
        assert {len(line) for line in lines} == {width_for("-12:34", scale)}
    assert render_lines("8", 2)[0] == "██████"  # the top bar, two pixels per cell row
    assert render_lines("x8", 1) == render_lines("8", 1)  # unknown characters are left out


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((80, 24), (1, 1)),
        ((160, 48), (1, 1)),
        ((200, 56), (2, 2)),
        ((240, 67), (2, 2)),
        ((320, 90), (2, 3)),
        ((400, 130), (3, 4)),
    ],
)
def test_scales_follow_the_size(size: tuple[int, int], expected: tuple[int, int]) -> None:
    assert wall_scales(*size) == expected
    _, row = expected
    assert size[0] - width_for("-00:00:00", row) - 4 >= INFO_MIN or row == 1


def test_a_narrow_tall_wall_keeps_room_for_titles() -> None:
    _, row = wall_scales(190, 130)
    assert 190 - width_for("-00:00:00", row) - 4 >= INFO_MIN


def test_page_time_grows_with_the_rows_on_a_page() -> None:
    assert page_seconds(4) == PAGE_SECONDS
    assert PAGE_SECONDS < page_seconds(16) < PAGE_SECONDS_MAX
    assert page_seconds(200) == PAGE_SECONDS_MAX


@pytest.mark.parametrize(("size", "scale"), [((240, 67), 2), ((320, 90), 3)])
async def test_large_walls_show_big_countdowns_beside_titles(
    backend: SqliteBackend,  # noqa: F811
    clock: FrozenClock,  # noqa: F811
    size: tuple[int, int],
    scale: int,
) -> None:
    app = wall_app(backend, clock)
    async with app.run_test(size=size) as pilot:
        wall = await ready(pilot)
        rows = [row for row in wall.query(UrgentRow) if row.display]
        assert len(rows) >= 3
        for row in rows:
            big = row.query_one(BigDigits)
            assert big.display and big.scale == scale and big.text
            assert row.size.height == rows_for(scale)
            info = row.query_one(".urgent-row--info")
            title = str(info.render()).splitlines()[1]
            assert title.strip() and info.size.width >= INFO_MIN
            assert big.region.x >= info.region.right  # the title is beside, never under
        incident = app.incidents[1]
        assert incident.title in str(rows[0].query_one(".urgent-row--info").render())


async def test_small_walls_keep_textual_digits(
    backend: SqliteBackend,  # noqa: F811
    clock: FrozenClock,  # noqa: F811
) -> None:
    app = wall_app(backend, clock)
    async with app.run_test(size=(160, 48)) as pilot:
        wall = await ready(pilot)
        row = wall.query(UrgentRow).first()
        assert not row.query_one(BigDigits).display and row.size.height == 3
