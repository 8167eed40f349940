"""Opening incidents and coming back does not keep every footer key ever drawn alive.

Each screen switch recomposes the footers; Textual's footer keys watch the footer's
``compact`` and those watchers held every removed key (with its styles) for good.
"""

from __future__ import annotations

import gc

from textual.widgets._footer import FooterKey

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.tui.app import make_app
from screens.incident import IncidentScreen
from tests.app.conftest import loaded
from tests.waiting import wait_until


def _detached_keys() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, FooterKey) and not o.is_attached)


async def test_footer_keys_of_closed_screens_are_freed(
    backend: SqliteBackend, clock: FrozenClock
) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await loaded(pilot)

        async def open_and_close(times: int) -> None:
            for _ in range(times):
                await pilot.press("enter")
                await wait_until(lambda: isinstance(app.screen, IncidentScreen), pilot=pilot)
                await pilot.pause()
                await pilot.press("escape")
                await wait_until(lambda: app.screen is queue, pilot=pilot)
                await pilot.pause()

        await open_and_close(2)
        after_two = _detached_keys()
        await open_and_close(8)
        # at most the keys of the last switch wait to go (Textual frees them on the next)
        assert _detached_keys() <= after_two, (after_two, _detached_keys())
