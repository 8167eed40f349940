"""Wrong-row safety (issue 10.1): a key acts on the incident the responder saw.

Two stores on one SQLite file: ``other`` is the second console. Times that decide the guard
are not measured here: the list's ``guard_seconds`` is set wide open (or shut) so the test
does not depend on how fast a loaded machine runs it.
"""

from __future__ import annotations

from pathlib import Path

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.lifecycle import Acknowledge, Resolve, SetPriority
from console.domain.models import Status
from console.tui.app import make_app
from screens.bulk import BulkPreviewScreen
from tests.app.conftest import keys_shown, loaded
from tests.waiting import wait_until


async def stored(db: Path, clock: FrozenClock, key: str) -> Status:
    check = await SqliteBackend(db, clock=clock).open()
    try:
        return (await check.get_incident(key)).status
    finally:
        await check.close()


async def test_cursor_incident_leaving_is_said_and_the_next_key_refused_once(
    db: Path, backend: SqliteBackend, other: SqliteBackend, clock: FrozenClock
) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("j")
        assert screen.list.cursor_incident.key == "INC-1"
        inc1 = await other.get_incident("INC-1")
        await other.act(inc1.id, Resolve(), "bob", inc1.version)
        await wait_until(lambda: "INC-1" not in keys_shown(screen), pilot=pilot)
        assert screen.list.cursor_incident.key == "INC-4"
        # the line is written when the list's CursorShifted reaches the screen, a message
        # after the rows changed (under load the status was still empty at this point)
        await wait_until(
            lambda: "left this view" in app.status_text, pilot=pilot, what="the shift said"
        )
        assert "INC-1 resolved" in app.status_text
        assert "left this view; the cursor is on INC-4" in app.status_text
        screen.list.guard_seconds = 0.0  # however late the key comes, it is refused once
        await pilot.press("a")
        # refused, or (if the guard let it through) INC-4 acknowledged: either is a new line
        await wait_until(
            lambda: "left this view;" not in app.status_text, pilot=pilot, what="the key taken"
        )
        assert app.status_error, app.status_text
        assert "INC-1" in app.status_text and "INC-4" in app.status_text
        assert await stored(db, clock, "INC-4") == Status.TRIGGERED
        await pilot.press("a")  # the second press acts on the row now shown
        await wait_until(
            lambda: screen.model.incidents[4].status == Status.ACKNOWLEDGED, pilot=pilot
        )
    assert await stored(db, clock, "INC-4") == Status.ACKNOWLEDGED


async def raise_inc6_under_inc4(screen, other: SqliteBackend, pilot) -> None:  # noqa: ANN001
    """INC-6 (P5) becomes a P3 with 3 h left: it slides in right below INC-4."""
    assert keys_shown(screen)[2:4] == ["INC-4", "INC-3"]
    inc6 = await other.get_incident("INC-6")
    await other.act(inc6.id, SetPriority(impact=1, urgency=3), "bob", inc6.version)
    await wait_until(lambda: keys_shown(screen)[2:4] == ["INC-4", "INC-6"], pilot=pilot)


async def test_j_onto_a_row_that_just_slid_in_is_refused(
    db: Path, backend: SqliteBackend, other: SqliteBackend, clock: FrozenClock
) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("j", "j")
        assert screen.list.cursor_incident.key == "INC-4"
        screen.list.guard_seconds = 3600.0  # "a moment ago", whatever the machine's speed
        await raise_inc6_under_inc4(screen, other, pilot)
        assert not app.status_text  # a slide says nothing: the line below is the key's
        await pilot.press("j", "a")  # aimed at INC-3, the row below a moment ago
        await wait_until(lambda: app.status_text, pilot=pilot, what="the key taken")
        assert screen.list.cursor_incident.key == "INC-6"
        assert app.status_error and "INC-3" in app.status_text and "INC-6" in app.status_text
        assert await stored(db, clock, "INC-6") == Status.TRIGGERED
        await pilot.press("a")  # refused once only
        await wait_until(
            lambda: screen.model.incidents[6].status == Status.ACKNOWLEDGED, pilot=pilot
        )


async def test_j_onto_a_settled_row_acts_at_once(
    db: Path, backend: SqliteBackend, other: SqliteBackend, clock: FrozenClock
) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("j", "j")
        await raise_inc6_under_inc4(screen, other, pilot)
        screen.list.guard_seconds = 0.0  # the slide is long past
        await pilot.press("j", "a")
        await wait_until(
            lambda: screen.model.incidents[6].status == Status.ACKNOWLEDGED, pilot=pilot
        )


async def test_marks_that_leave_the_view_stay_counted_and_previewed(
    backend: SqliteBackend, other: SqliteBackend, clock: FrozenClock
) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("3")  # unassigned: INC-2, INC-1, INC-4, INC-6
        await wait_until(lambda: keys_shown(screen)[:3] == ["INC-2", "INC-1", "INC-4"])
        await pilot.press("j", "space", "space")  # marks INC-1 and INC-4
        assert {screen.model.incidents[i].key for i in screen.list.marks} == {"INC-1", "INC-4"}
        inc1 = await other.get_incident("INC-1")
        await other.act(inc1.id, Acknowledge(), "bob", inc1.version)
        await wait_until(lambda: "INC-1" not in keys_shown(screen), pilot=pilot)
        bar = str(screen.query_one("#filter-bar").render())
        assert "2 marked, 1 not in this view" in bar
        await pilot.press("o")  # assign both: the preview names the one that left too
        await wait_until(lambda: app.screen.__class__.__name__ == "AssignScreen", pilot=pilot)
        await pilot.press(*"carol", "ctrl+s")
        await wait_until(lambda: isinstance(app.screen, BulkPreviewScreen), pilot=pilot)
        preview = " ".join(str(s.render()) for s in app.screen.query("Static"))
        assert "INC-1" in preview and "INC-4" in preview


async def test_own_action_taking_the_cursor_incident_away_is_no_wrong_row(
    db: Path, backend: SqliteBackend, clock: FrozenClock
) -> None:
    """The responder's own key moved INC-1 out of the view: the line says what was done
    (not "left this view"), and the next key acts on the row now under the cursor."""
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("3")  # unassigned: INC-2, INC-1, INC-4, INC-6
        await wait_until(lambda: keys_shown(screen)[:3] == ["INC-2", "INC-1", "INC-4"])
        screen.list.guard_seconds = 3600.0  # a real shift or slide would be refused
        await pilot.press("j")
        assert screen.list.cursor_incident.key == "INC-1"
        await pilot.press("a")  # acknowledging takes it: it leaves the unassigned view
        await wait_until(lambda: "INC-1" not in keys_shown(screen), pilot=pilot)
        await wait_until(lambda: app.status_text.startswith("INC-1 acknowledged"), pilot=pilot)
        assert screen.list.cursor_incident.key == "INC-4"
        assert not app.status_error and "left this view" not in app.status_text
        await pilot.press("a")  # not refused: acts on INC-4 at once
        await wait_until(lambda: app.status_text.startswith("INC-4 acknowledged"), pilot=pilot)
        assert not app.status_error
        # the feed brings the same versions again: still nothing to refuse
        last = await backend.last_seq()
        await wait_until(lambda: app._seq >= last, pilot=pilot)
        await pilot.pause()
        assert "left this view" not in app.status_text
    assert await stored(db, clock, "INC-1") == Status.ACKNOWLEDGED
    assert await stored(db, clock, "INC-4") == Status.ACKNOWLEDGED
