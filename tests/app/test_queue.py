"""The queue screen through Pilot: a real SqliteBackend on a temp file and a frozen clock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.lifecycle import Acknowledge, Resolve, SetPriority
from console.domain.models import Priority, Status
from console.tui.app import make_app
from tests.app.conftest import EVIL_TITLE, keys_shown, loaded, type_ahead
from tests.waiting import wait_until
from widgets.filter_box import FilterInput

OPEN_ORDER = ["INC-2", "INC-1", "INC-4", "INC-3", "INC-7", "INC-5", "INC-6"]


async def test_most_urgent_first(backend: SqliteBackend, clock: FrozenClock) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        # breached first, then priority, then SLA time left (P2 INC-4 in warning before P3s)
        assert keys_shown(screen) == OPEN_ORDER
        assert screen.list.cursor_incident.key == "INC-2"
        assert "INC-8" not in keys_shown(screen)  # resolved: not in the open view


async def test_cursor_moves_with_keys(backend: SqliteBackend, clock: FrozenClock) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("j", "down", "j")
        assert screen.list.cursor_incident.key == OPEN_ORDER[3]
        await pilot.press("k")
        assert screen.list.cursor_incident.key == OPEN_ORDER[2]
        await pilot.press("end")
        assert screen.list.cursor_incident.key == OPEN_ORDER[-1]
        await pilot.press("j")  # stays on the last row
        assert screen.list.cursor_incident.key == OPEN_ORDER[-1]
        await pilot.press("home", "up")
        assert screen.list.cursor_incident.key == OPEN_ORDER[0]


async def test_cursor_follows_incident_when_another_console_reorders(
    backend: SqliteBackend, other: SqliteBackend, clock: FrozenClock
) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("j", "j", "j")
        assert screen.list.cursor_incident.key == "INC-3"
        # another process raises INC-6 (P5, below the cursor) to P1: it moves above INC-3
        inc6 = await other.get_incident("INC-6")
        await other.act(inc6.id, SetPriority(impact=1, urgency=1), "bob", inc6.version)
        await wait_until(lambda: keys_shown(screen).index("INC-6") < 3, pilot=pilot)
        assert screen.list.cursor_incident.key == "INC-3"
        assert screen.list.cursor_index == 4
        # and the viewport kept the cursor at the same height on screen
        assert screen.list.cursor_index - int(screen.list.scroll_y) == 4


async def test_cursor_moves_to_neighbour_when_incident_leaves(
    backend: SqliteBackend, other: SqliteBackend, clock: FrozenClock
) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("j")
        assert screen.list.cursor_incident.key == "INC-1"
        inc1 = await other.get_incident("INC-1")
        await other.act(inc1.id, Resolve(), "bob", inc1.version)
        await wait_until(lambda: "INC-1" not in keys_shown(screen), pilot=pilot)
        assert screen.list.cursor_incident.key == "INC-4"  # took INC-1's row


async def test_live_update_from_another_console(
    backend: SqliteBackend, other: SqliteBackend, clock: FrozenClock
) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        inc2 = await other.get_incident("INC-2")
        await other.act(inc2.id, Acknowledge(), "bob", inc2.version)
        # No refresh is asked for: only the change feed can bring it (how fast is a figure
        # for bench/store.py's watch latency, not an assertion here).
        await wait_until(
            lambda: screen.model.incidents[inc2.id].status == Status.ACKNOWLEDGED, pilot=pilot
        )
        assert screen.model.incidents[inc2.id].assignee == "bob"
        assert app.incidents[inc2.id].version == inc2.version + 1


async def test_filter_language(backend: SqliteBackend, clock: FrozenClock) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("slash")
        await pilot.press(*"p1 p2")
        await pilot.press("enter")
        assert keys_shown(screen) == ["INC-2", "INC-1", "INC-4"]
        assert "p1 p2" in str(screen.query_one("#filter-bar").render())
        # filtering as you type: each complete query applies at once
        await pilot.press("slash", "backspace", "backspace", "backspace")
        assert keys_shown(screen) == ["INC-1"]  # "p1" so far
        for _ in range(2):
            await pilot.press("backspace")
        # a query with an error keeps the last one that parsed and says what is wrong
        await pilot.press(*"svc:")
        before = keys_shown(screen)
        await pilot.press("enter")
        assert app.status_error
        assert "svc:" in app.status_text and "needs a value" in app.status_text
        assert screen.query_one("#filter-input").display  # still open to fix it
        assert keys_shown(screen) == before
        await pilot.press(*"payments")
        assert keys_shown(screen) == ["INC-2", "INC-4"]
        # esc clears the filter
        await pilot.press("escape")
        assert keys_shown(screen) == OPEN_ORDER
        await pilot.press("slash", *"svc:search @bob", "enter")
        assert keys_shown(screen) == ["INC-3"]
        await pilot.press("slash", "escape", "slash", *'"visa debit"', "enter")
        assert keys_shown(screen) == ["INC-4"]


async def test_keys_typed_ahead_of_the_filter_box_go_where_they_were_aimed(
    backend: SqliteBackend, clock: FrozenClock
) -> None:
    """``/`` opens the box and ``enter`` closes it before the App takes the next key: the
    filter's letters never reach the list as triage keys (``s`` sorts, ``r`` resolves), and
    the ``a`` after ``enter`` acknowledges instead of landing in the box (seen in the
    browser test under load: ``status:triggereda`` refused, nothing acknowledged)."""
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        sort = screen.model.sort
        type_ahead(app, ["slash", *"status", "colon", *"triggered", "enter", "a"])
        await wait_until(
            lambda: _acknowledged(backend, "INC-2"), pilot=pilot, what="INC-2 acknowledged"
        )
        assert not screen.query_one("#filter-input").display
        assert screen.typed.source == "status:triggered"
        assert screen.model.sort == sort
        # esc closes it as promptly; a "/" typed in the open box is text, not a new filter
        await pilot.press("slash", "x", "slash")
        assert screen.query_one("#filter-input").value == "status:triggeredx/"
        target = screen.list.cursor_incident.key
        assert target != "INC-2"  # the cursor moved on to a triggered one
        type_ahead(app, ["escape", "a"])
        await wait_until(
            lambda: _acknowledged(backend, target), pilot=pilot, what=f"{target} acknowledged"
        )
        assert not screen.query_one("#filter-input").display and screen.typed.is_empty


async def test_enter_and_esc_in_the_filter_box_wait_for_the_letters_typed_before_them(
    backend: SqliteBackend, clock: FrozenClock
) -> None:
    """The browser test's failure under load ("filter: unknown status 'tri'" for
    ``status:triggered``): the first letters were through the box, the rest arrived
    together with ``enter`` and the keys after it. ``enter`` applies exactly what was typed
    (not a prefix), and the keys behind it act on the queue, in order: ``j`` moves down
    one triggered row, ``a`` acknowledges that one (INC-1, not INC-2)."""
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        box = screen.query_one(FilterInput)
        await pilot.press("slash", *"status:tri")
        type_ahead(app, [*"ggered", "enter", "j", "a"])
        await wait_until(
            lambda: app.status_error or not box.display, pilot=pilot, what="enter taken"
        )
        assert not app.status_error, app.status_text
        assert screen.typed.source == "status:triggered"
        await wait_until(
            lambda: _acknowledged(backend, "INC-1"), pilot=pilot, what="INC-1 acknowledged"
        )
        assert (await backend.get_incident("INC-2")).status == Status.TRIGGERED
        assert not box.display and screen.focused is screen.list and box.value == "status:triggered"
        # esc the same way: what it clears is everything typed before it, and the "j"
        # behind it moves the cursor on the whole queue again
        await pilot.press("slash", "space", *"svc:pay")
        on = screen.list.cursor_incident.key
        below = OPEN_ORDER[OPEN_ORDER.index(on) + 1]
        type_ahead(app, [*"ments", "escape", "j"])
        await wait_until(lambda: not box.display, pilot=pilot, what="esc taken")
        await wait_until(
            lambda: screen.list.cursor_incident.key == below,
            pilot=pilot,
            what=f"the j after esc: from {on} to {below}",
        )
        assert screen.typed.is_empty and box.value == ""
        assert keys_shown(screen) == OPEN_ORDER


async def test_keys_behind_enter_act_on_the_queue_even_a_new_filter(
    backend: SqliteBackend, clock: FrozenClock
) -> None:
    """A ``/`` typed right behind ``enter`` reaches the box while it still has focus, as
    text; once the box has closed it opens it again (what ``/`` does on the queue) and the
    letters behind it go into the box, not to the list."""
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        box = screen.query_one(FilterInput)
        await pilot.press("slash", *"p1")
        type_ahead(app, ["enter", "slash", "space", *"p2"])
        await wait_until(lambda: box.value == "p1 p2", pilot=pilot, what="'p1 p2' in the box")
        assert box.display and screen.focused is box
        assert keys_shown(screen) == ["INC-2", "INC-1", "INC-4"]
        await pilot.press("enter")
        assert not box.display and screen.focused is screen.list
        assert screen.typed.source == "p1 p2"


async def _acknowledged(backend: SqliteBackend, key: str) -> Any:
    incident = await backend.get_incident(key)
    return incident if incident.status == Status.ACKNOWLEDGED else None


async def test_views_on_number_keys(backend: SqliteBackend, clock: FrozenClock) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("2")  # mine
        assert keys_shown(screen) == ["INC-7"]
        await pilot.press("3")  # unassigned
        assert set(keys_shown(screen)) == {"INC-1", "INC-2", "INC-4", "INC-6"}
        await pilot.press("4")  # breaching: breached or in the warning band
        assert keys_shown(screen) == ["INC-2", "INC-4"]
        await pilot.press("5")  # recently resolved: fetched from the backend
        await wait_until(lambda: keys_shown(screen) == ["INC-8"], pilot=pilot)
        resolved_row = screen.list.render_line(1).text
        assert "resolved" in resolved_row and " met " in resolved_row
        await pilot.press("slash", *"login", "enter")
        assert keys_shown(screen) == ["INC-8"]
        await pilot.press("escape")  # esc clears the filter first, then leaves the view
        assert keys_shown(screen) == ["INC-8"] and screen.typed.is_empty
        await pilot.press("escape")
        assert keys_shown(screen) == OPEN_ORDER


async def test_sort_cycles(backend: SqliteBackend, clock: FrozenClock) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("j")
        await pilot.press("s")
        assert screen.model.sort == "priority"
        assert keys_shown(screen) == ["INC-1", "INC-2", "INC-4", "INC-3", "INC-7", "INC-5", "INC-6"]
        await pilot.press("s")
        assert screen.model.sort == "age"
        assert keys_shown(screen) == ["INC-5", "INC-3", "INC-7", "INC-6", "INC-2", "INC-4", "INC-1"]
        await pilot.press("s")
        assert screen.model.sort == "updated"
        assert keys_shown(screen)[0] == "INC-1"
        await pilot.press("s")
        assert screen.model.sort == "urgency"
        assert keys_shown(screen) == OPEN_ORDER
        assert screen.list.cursor_incident.key == "INC-1"  # the cursor stayed on its incident


async def test_marks_and_targets(backend: SqliteBackend, clock: FrozenClock) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        assert [i.key for i in screen.targets()] == ["INC-2"]  # no marks: the cursor row
        await pilot.press("space", "j", "space")  # space marks and moves down
        assert [i.key for i in screen.targets()] == ["INC-2", "INC-4"]
        assert "2 marked" in str(screen.query_one("#filter-bar").render())
        await pilot.press("ctrl+u")
        assert screen.list.marks == set()
        await pilot.press("slash", *"p2", "enter", "ctrl+a")
        assert [i.key for i in screen.targets()] == ["INC-2", "INC-4"]
        targets = screen.targets()
        assert all(t.version == app.incidents[t.id].version for t in targets)


async def test_acknowledge_from_the_queue_reaches_the_store(
    db: Path, backend: SqliteBackend, clock: FrozenClock
) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("j")  # INC-1
        await pilot.press("a")
        await wait_until(
            lambda: screen.model.incidents[1].status == Status.ACKNOWLEDGED, pilot=pilot
        )
    check = await SqliteBackend(db, clock=clock).open()
    try:
        stored = await check.get_incident("INC-1")
    finally:
        await check.close()
    assert stored.status == Status.ACKNOWLEDGED
    assert stored.assignee == "alice"


async def test_ticks_move_countdowns_and_breaches(
    backend: SqliteBackend, clock: FrozenClock
) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        line = screen.list.render_line(2).text  # INC-1: P1, 10 minutes left to respond
        assert "10:00" in line
        clock.advance(timedelta(minutes=6))  # INC-4 (P2, created 25m ago) passes 30m
        app.tick()
        await pilot.pause()
        assert "INC-4" in " ".join(n.message for n in app._notifications)
        assert keys_shown(screen)[:2] == ["INC-2", "INC-4"]  # breached group, by priority
        assert "!-01:00" in screen.list.render_line(2).text  # 1 minute late, marked with !
        assert "04:00" in screen.list.render_line(3).text  # INC-1 counted down 6 minutes
        on_hold = next(
            screen.list.render_line(y).text
            for y in range(1, 8)
            if "INC-5" in screen.list.render_line(y).text
        )
        assert " paused " in on_hold


async def test_new_p1_from_elsewhere_notifies(
    backend: SqliteBackend, other: SqliteBackend, clock: FrozenClock
) -> None:
    from console.domain.models import NewIncident

    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        assert not list(app._notifications)
        await other.create_incident(
            NewIncident(title="Everything is down", service="checkout", impact=1, urgency=1),
            "alertmanager",
        )
        await wait_until(lambda: "INC-9" in keys_shown(screen), pilot=pilot)
        messages = [n.message for n in app._notifications]
        assert any("New P1" in m and "INC-9" in m for m in messages)
        # a new P4 is not worth a notification
        await other.create_incident(
            NewIncident(title="Minor", service="search", impact=2, urgency=3), "alertmanager"
        )
        await wait_until(lambda: "INC-10" in keys_shown(screen), pilot=pilot)
        assert not any("INC-10" in n.message for n in app._notifications)
        assert keys_shown(screen)[:3] == ["INC-2", "INC-1", "INC-9"]  # sorted in place
        assert screen.model.incidents[9].priority == Priority.P1


async def test_hostile_titles_render_as_plain_text(
    backend: SqliteBackend, other: SqliteBackend, clock: FrozenClock
) -> None:
    from console.domain.models import NewIncident

    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        for title in ("\x1b[2J\x07\x1b]0;x\x07", "long " * 99):  # nothing left; 495 chars
            await other.create_incident(
                NewIncident(title=title, service="search", impact=3, urgency=3), "alertmanager"
            )
        await wait_until(lambda: len(screen.model) == len(OPEN_ORDER) + 2, pilot=pilot)
        lines = [screen.list.render_line(y) for y in range(1, len(OPEN_ORDER) + 3)]
        by_key = {line.text.split()[0].lstrip(">*"): line.text for line in lines}
        assert "(no title)" in by_key["INC-9"]
        assert "long long…" in by_key["INC-10"]  # cut to the column, marked with an ellipsis
        texts = [line.text for line in lines]
        evil = next(t for t in texts if "INC-6" in t)
        assert "[bold]x[/bold] [/etc]" in evil
        assert "\x1b" not in "".join(texts) and "\x07" not in "".join(texts)
        assert EVIL_TITLE not in evil  # escape sequences were stripped
        # wide characters never push the columns: every line is exactly the widget width
        width = screen.list.scrollable_content_region.width
        assert all(line.cell_length == width for line in lines)
        wide = next(t for t in texts if "INC-7" in t)
        assert "支付失败" in wide


async def test_empty_database_shows_the_guide(tmp_path: Path, clock: FrozenClock) -> None:
    backend = await SqliteBackend(tmp_path / "empty.db", clock=clock).open()
    try:
        app = make_app(backend, clock=clock, user="alice")
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await loaded(pilot)
            guide = screen.query_one("#guide")
            assert guide.display and not screen.list.display
            text = str(guide.render())
            assert "press c" in text
            assert "incidents integration create" in text
            assert "/v1/integrations/alertmanager" in text
    finally:
        await backend.close()


async def test_queue_lets_go_of_finished_incidents_the_app_dropped(
    backend: SqliteBackend, other: SqliteBackend, clock: FrozenClock
) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        inc1 = await other.get_incident("INC-1")
        await other.act(inc1.id, Resolve(), "bob", inc1.version)
        await wait_until(lambda: inc1.id in screen.model.done, pilot=pilot)
        app.incidents.pop(inc1.id)  # what the App does when its history of finished is full
        inc2 = await other.get_incident("INC-2")
        await other.act(inc2.id, Acknowledge(), "bob", inc2.version)
        await wait_until(
            lambda: screen.model.incidents[inc2.id].version > inc2.version, pilot=pilot
        )
        assert inc1.id not in screen.model.incidents and inc1.id not in screen.model.done
