"""App-wide behaviour: read-only mode, keymap, help, palette, errors, connection, start-up."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from backends.base import ConnectionState
from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.keys import BY_ID, KEYS, MUTATING, help_for
from console.domain.models import Status
from console.tui.app import connection_text, make_app
from screens.help import HelpScreen
from tests.app.conftest import T0, keys_shown, loaded, run_command, settings_with
from tests.waiting import wait_until

INCIDENTS = str(Path(sys.executable).with_name("incidents"))


def footer_keys(app) -> set[str]:
    """Binding ids the footer would show on the current screen."""
    return {
        binding.id
        for (_, binding, enabled, _) in app.screen.active_bindings.values()
        if binding.show and enabled and binding.id
    }


async def test_readonly_hides_and_disables_mutating_keys(
    db: Path, backend: SqliteBackend, clock: FrozenClock
) -> None:
    app = make_app(backend, clock=clock, user="alice", readonly=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        shown = footer_keys(app)
        assert "open" in shown and "help" in shown
        assert not shown & MUTATING
        await pilot.press("a", "r", "c")
        await pilot.pause()
        assert screen.model.incidents[2].status == Status.TRIGGERED
        assert isinstance(app.screen, type(screen))  # no dialog opened
    check = await SqliteBackend(db, clock=clock).open()
    try:
        assert (await check.get_incident("INC-2")).status == Status.TRIGGERED
    finally:
        await check.close()


async def test_writable_footer_shows_the_main_keys(
    backend: SqliteBackend, clock: FrozenClock
) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        shown = footer_keys(app)
        assert {"acknowledge", "resolve", "escalate", "assign", "filter", "mark"} <= shown


async def test_keymap_remaps_by_binding_id(
    db: Path, backend: SqliteBackend, clock: FrozenClock
) -> None:
    settings = settings_with(keymap={"acknowledge": "A", "cursor_down": "ctrl+n"})
    app = make_app(backend, clock=clock, user="alice", settings=settings)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("ctrl+n")
        assert screen.list.cursor_incident.key == "INC-1"
        await pilot.press("a")  # no longer acknowledge
        # Had it acted, a triage worker would have started while the key was handled: let
        # any such finish, then the store must still hold the incident untouched.
        for worker in [w for w in app.workers if w.group == "triage"]:
            await worker.wait()
        assert (await backend.get_incident(1)).status == Status.TRIGGERED
        await pilot.press("A")
        await wait_until(
            lambda: screen.model.incidents[1].status == Status.ACKNOWLEDGED, pilot=pilot
        )
        await pilot.press("question_mark")
        await wait_until(lambda: isinstance(app.screen, HelpScreen), pilot=pilot)
        shown = app.screen
        assert isinstance(shown, HelpScreen)
        rows = {what: keys for keys, what, _ in shown.rows}
        assert rows[help_for(BY_ID["acknowledge"])] == "A"
        assert rows[help_for(BY_ID["cursor_down"])] == "ctrl+n"


async def test_help_lists_every_binding(backend: SqliteBackend, clock: FrozenClock) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("question_mark")
        await wait_until(lambda: isinstance(app.screen, HelpScreen), pilot=pilot)
        shown = app.screen
        assert isinstance(shown, HelpScreen)
        described = [what for _, what, _ in shown.rows]
        for key in KEYS:
            assert help_for(key) in described, key.id
        assert dict((w, k) for k, w, _ in shown.rows)[help_for(BY_ID["filter"])] == "/"
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_palette_lists_actions_with_keys(backend: SqliteBackend, clock: FrozenClock) -> None:
    from console.tui.app import KeysProvider

    app = make_app(backend, clock=clock, user="alice", readonly=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        provider = KeysProvider(app.screen)
        labels = [label for label, _, _ in provider._commands()]
        assert "Sort  (s)" in labels
        assert "Filter  (/)" in labels
        assert not any(label.startswith("Ack") for label in labels)  # read-only


async def test_palette_runs_an_action(backend: SqliteBackend, clock: FrozenClock) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        await run_command(pilot, "sort", key="colon")
        await wait_until(lambda: screen.model.sort == "priority", pilot=pilot)


async def test_backend_error_goes_to_the_status_line(
    backend: SqliteBackend, clock: FrozenClock
) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        await backend.close()  # the store goes away under the running console
        await pilot.press("5")  # recently resolved needs a query
        await wait_until(lambda: app.status_error, pilot=pilot)
        assert "could not load resolved incidents" in app.status_text
        status = str(screen.query_one("#status").render())
        assert "could not load" in status
        await pilot.press("1", "j")  # still alive and answering keys
        assert app.is_running
        assert keys_shown(screen)[0] == "INC-2"


def test_connection_text_for_the_status_line() -> None:
    assert connection_text(ConnectionState()) == ""
    assert connection_text(ConnectionState("reconnecting", attempt=3)) == (
        "reconnecting (attempt 3)"
    )
    assert connection_text(ConnectionState("offline", since=T0)) == (
        "offline since 09:00, data may be stale"
    )


async def test_connection_change_reaches_the_status_line(
    backend: SqliteBackend, clock: FrozenClock, monkeypatch
) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        state = ConnectionState("offline", since=T0)
        monkeypatch.setattr(type(backend), "connection", property(lambda self: state))
        app.tick()
        await pilot.pause()
        assert "offline since 09:00" in str(screen.query_one("#status").render())


def test_startup_errors_are_one_line(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database at all, just bytes" * 20)
    too_new = tmp_path / "future.db"
    with sqlite3.connect(too_new) as conn:
        conn.execute("PRAGMA user_version = 999")
    cases = {
        ("--db", str(garbage)): ("not an SQLite database", 1),
        # refused before anything is opened (issue 11 point 8): most likely a typo
        ("--db", "/proc/no/such/dir/x.db"): ("there is no folder /proc/no/such/dir", 2),
        ("--db", str(too_new)): ("newer release", 1),
        ("--backend", "http://127.0.0.1:9"): ("cannot reach", 1),
    }
    for args, (fragment, code) in cases.items():
        result = subprocess.run(
            [INCIDENTS, *args, "--as", "alice"], capture_output=True, text=True, timeout=30
        )
        assert result.returncode == code, result.stderr
        assert "Traceback" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("incidents: "), result.stderr
        assert fragment in lines[0], (args, lines[0])


async def test_directory_follows_the_change_feed(
    backend: SqliteBackend, other: SqliteBackend, clock: FrozenClock
) -> None:
    from console.domain.models import User

    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        assert "dave" not in {u.id for u in app.directory.users}
        await other.put_user(User(id="dave", name="Dave Diaz", team="sre"))
        await wait_until(lambda: "dave" in {u.id for u in app.directory.users}, pilot=pilot)
        assert app.directory.user_name("dave") == "Dave Diaz"


async def test_bell_rings_on_new_p1_when_configured(
    backend: SqliteBackend, other: SqliteBackend, clock: FrozenClock
) -> None:
    from console.domain.models import NewIncident

    app = make_app(backend, clock=clock, user="alice", settings=settings_with(bell=True))
    rings: list[int] = []
    app.bell = lambda: rings.append(1)  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        assert rings == []  # nothing rings for what was already open at start
        await other.create_incident(
            NewIncident(title="Down", service="checkout", impact=1, urgency=1), "alertmanager"
        )
        await wait_until(lambda: "INC-9" in keys_shown(screen), pilot=pilot)
        assert rings == [1]


async def test_palette_does_not_stack_with_a_triage_dialog(
    backend: SqliteBackend, clock: FrozenClock
) -> None:
    from textual.command import CommandPalette

    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        # both keys arrive before the dialog is up, as from a fast typist over SSH
        from textual import events

        driver = app._driver
        assert driver is not None
        driver.send_message(events.Key("p", "p"))
        driver.send_message(events.Key("colon", ":"))
        await wait_until(lambda: type(app.screen).__name__ == "PriorityScreen", pilot=pilot)
        await pilot.pause()
        assert not isinstance(app.screen, CommandPalette)
        assert "close the open dialog first" in app.status_text
        await pilot.press("escape", "enter", "escape", "2")
        assert app.is_running
        await pilot.press("colon")  # with no dialog the palette opens as usual
        await wait_until(lambda: isinstance(app.screen, CommandPalette), pilot=pilot)
