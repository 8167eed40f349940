"""A local console campaigns for the SQLite file's lease before it escalates: while another
process (a server, another console) holds it, the console's escalator stays still; when the
holder lets go, the console takes over and escalates once. Before, every console on a file
ran its own escalator beside the servers' leader."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from backends import capabilities
from backends.sqlite.leader import LeaseLeadership
from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.config import ServerSettings, Settings
from console.domain.models import EntryKind, NewIncident
from console.services.automation import Automation
from console.tui.app import make_app
from tests.intake.conftest import T0, seed
from tests.waiting import wait_until


async def test_console_escalates_only_while_it_holds_the_files_lease(tmp_path: Path) -> None:
    clock = FrozenClock(T0)
    db = tmp_path / "c.db"
    settings = Settings(db=db, user="alice", server=ServerSettings(leader_lease=1.0))
    async with (
        SqliteBackend(db, settings=settings, clock=clock) as server_store,
        SqliteBackend(db, settings=settings, clock=clock) as console_store,
    ):
        await seed(server_store)
        incident = await server_store.create_incident(
            NewIncident(title="nobody looked", service="checkout", impact=3, urgency=3), "bob"
        )
        clock.advance(timedelta(minutes=6))
        assert capabilities.elector(server_store) is not None
        # The "server" leads. A real one renews its lease every ttl/3; this one takes it
        # once, so its lease is long enough to outlast the test: with the console's 1 s, a
        # loaded machine let it run out before the console had been refused three times
        # (and the console, rightly, took it). The console's own lease stays 1 s, so it
        # tries every 1/3 s.
        held = LeaseLeadership(server_store, ttl=3600.0)
        await held.acquire()

        tries: list[str] = []
        write = console_store.write

        async def counted(fn: Any) -> Any:
            tries.append(getattr(fn, "__name__", ""))
            return await write(fn)

        console_store.write = counted  # type: ignore[method-assign,assignment]

        app = make_app(console_store, clock=clock, settings=settings, user="alice")
        automation = Automation(console_store, settings, clock, interval=0.05, notify=False)
        app.escalator = automation
        async with app.run_test(size=(100, 30)) as pilot:

            async def kinds() -> list[EntryKind]:
                return [e.kind for e in await console_store.timeline(incident.id)]

            # The console asked for the lease three times and was refused each time.
            await wait_until(lambda: tries.count("_take") >= 3, pilot=pilot, interval=0.05)
            assert not automation.leading and automation.terms == 0
            assert EntryKind.ESCALATED not in await kinds()

            await held.release()  # the server stops cleanly

            async def escalated() -> bool:
                return EntryKind.ESCALATED in await kinds()

            await wait_until(escalated, pilot=pilot, interval=0.05)
            assert automation.leading and automation.notifier is None
            await pilot.pause()
        entries = [e for e in await console_store.timeline(incident.id)]
        assert [e.kind for e in entries].count(EntryKind.ESCALATED) == 1
