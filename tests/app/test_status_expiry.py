"""Status-line messages expire (issue 10.5): information after ``INFO_SECONDS``, an error about
one event after ``ERROR_SECONDS``, on the console's own clock (frozen here: only
``clock.advance`` and ``app.tick`` move it, so no test waits on real time). An error about a
lasting condition stays until that condition is over (the offline case runs against a real
server in tests/remote/test_offline_text.py)."""

from __future__ import annotations

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.tui.app import ERROR_SECONDS, INFO_SECONDS, make_app
from tests.app.conftest import loaded
from tests.waiting import wait_until


async def test_information_expires_after_a_few_seconds(
    backend: SqliteBackend, clock: FrozenClock
) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("ctrl+a")  # "8 marked (ctrl+u clears)"
        await wait_until(lambda: "marked" in app.status_text, pilot=pilot)
        assert not app.status_error
        status = app.screen.query_one("#status")
        assert "marked" in str(status.render())
        clock.advance(INFO_SECONDS - 1)
        app.tick()
        assert "marked" in app.status_text
        clock.advance(1)
        app.tick()
        await pilot.pause()
        assert app.status_text == ""
        assert "marked" not in str(status.render())


async def test_an_error_stays_longer_then_expires(
    backend: SqliteBackend, clock: FrozenClock
) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("slash", *"svc:", "enter")  # "'svc:' needs a value after it"
        await wait_until(lambda: app.status_text.startswith("filter: "), pilot=pilot)
        assert app.status_error
        clock.advance(ERROR_SECONDS - 1)
        app.tick()
        assert app.status_text.startswith("filter: ") and app.status_error
        clock.advance(1)
        app.tick()
        await pilot.pause()
        assert app.status_text == "" and not app.status_error
        assert not app.screen.query_one("#status").has_class("-error")


async def test_a_new_message_restarts_the_time_and_a_condition_holds_it(
    backend: SqliteBackend, clock: FrozenClock
) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        app.set_status("first")
        clock.advance(INFO_SECONDS - 1)
        app.set_status("second")  # its own few seconds, from now
        clock.advance(INFO_SECONDS - 1)
        app.tick()
        assert app.status_text == "second"
        over = False
        app.set_status("waiting for something", error=True, until=lambda: over)
        clock.advance(10 * ERROR_SECONDS)
        app.tick()
        assert app.status_text == "waiting for something"  # the condition is not over
        over = True
        app.tick()
        assert app.status_text == ""
