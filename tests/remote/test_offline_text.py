"""Nothing typed is lost while the server is away (issue 10.5): a note refused while offline
is kept, the error stays while the server is away (on the console's frozen clock, however
long) and gives way to "connected again" when it is back, and ctrl+r offers the note again
against the incident as it is now; confirming sends it. A real ``incidents serve`` on
loopback, killed with SIGKILL and restarted on the same port and file."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from backends.remote import RemoteBackend, Retry
from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.models import EntryKind, NewIncident
from console.tui.app import ERROR_SECONDS, make_app
from screens.confirm import ConfirmScreen
from screens.note import NoteScreen
from tests.app.conftest import T0, loaded
from tests.remote.conftest import ROLES, seed_directory
from tests.remote.server import ServerProcess, make_tokens
from tests.waiting import wait_until

NOTE = "rolled back the deploy, watching the error rate"


async def notes(db: Path, incident_id: int) -> list[str]:
    async with SqliteBackend(db) as local:
        return [e.message for e in await local.timeline(incident_id) if e.kind == EntryKind.NOTE]


@pytest.mark.slow
async def test_a_note_typed_while_offline_is_kept_and_offered_again(tmp_path: Path) -> None:
    db = tmp_path / "offline.db"
    tokens = await make_tokens(db, ROLES)
    await seed_directory(db)
    async with SqliteBackend(db) as local:
        incident = await local.create_incident(
            NewIncident(title="Checkout 502", service="web"), "ada"
        )
    server = ServerProcess(db, home=tmp_path).start()
    url = await server.ready()
    remote = RemoteBackend(
        url, tokens["rex"], retry=Retry(base_delay=0.05, max_delay=0.5, offline_after=3)
    )
    await remote.open()
    clock = FrozenClock(T0)
    app = make_app(remote, clock=clock, user="rex")
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await loaded(pilot)
            assert screen.list.cursor_incident.id == incident.id
            server.stop(signal.SIGKILL)
            await wait_until(lambda: not remote.connection.connected, pilot=pilot)

            await pilot.press("n")
            await wait_until(lambda: isinstance(app.screen, NoteScreen), pilot=pilot)
            await pilot.press(*NOTE, "ctrl+s")
            await wait_until(lambda: app.triage.unsent, pilot=pilot)
            [kept] = app.triage.unsent
            assert kept.plan.typed == NOTE and kept.incident.id == incident.id
            # the line said so (unless a background error, e.g. presence, has replaced it since)
            assert "is kept" in app.status_text or "cannot reach" in app.status_text
            assert app.status_error
            # an error about the connection stays while it lasts, however long
            shown = app.status_text
            clock.advance(10 * ERROR_SECONDS)
            app.tick()
            assert app.status_text == shown and app.status_error

            server.restart()
            await server.ready()
            await wait_until(lambda: remote.connection.connected, pilot=pilot)
            await wait_until(lambda: app.status_text.startswith("connected again"), pilot=pilot)
            assert "your note on INC-1 was not sent; ctrl+r offers it again" in app.status_text
            assert "cannot reach" not in app.status_text  # the offline error is over
            assert await notes(db, incident.id) == []  # nothing was sent meanwhile

            await pilot.press("ctrl+r")
            await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot)
            body = str(app.screen.query_one("#confirm-body").render())
            assert NOTE in body and "INC-1" in body
            await pilot.press("ctrl+s")
            await wait_until(lambda: app.status_text.startswith("INC-1 note added"), pilot=pilot)
            assert await notes(db, incident.id) == [NOTE]
            assert not app.triage.unsent
            await pilot.press("ctrl+r")  # nothing left to offer
            await wait_until(
                lambda: app.status_text.startswith("nothing to send again"), pilot=pilot
            )
    finally:
        await remote.close()
        server.stop()
