"""The local console (SQLite mode) runs the escalator as a worker: an unacknowledged
incident escalates by itself while the console is open."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.config import Settings
from console.domain.models import EntryKind, NewIncident
from console.services.escalator import Escalator
from console.tui.app import make_app
from tests.intake.conftest import T0, seed
from tests.waiting import wait_until


async def test_console_worker_escalates_an_overdue_incident(tmp_path: Path) -> None:
    clock = FrozenClock(T0)
    settings = Settings(db=tmp_path / "c.db", user="alice")
    async with SqliteBackend(tmp_path / "c.db", settings=settings, clock=clock) as store:
        await seed(store)
        incident = await store.create_incident(
            NewIncident(title="nobody looked", service="checkout", impact=3, urgency=3), "bob"
        )
        clock.advance(timedelta(minutes=6))
        app = make_app(store, clock=clock, settings=settings, user="alice")
        app.escalator = Escalator(store, clock, interval=0.05)
        async with app.run_test(size=(100, 30)) as pilot:

            async def escalated() -> bool:
                kinds = [e.kind for e in await store.timeline(incident.id)]
                return EntryKind.ESCALATED in kinds

            await wait_until(escalated, pilot=pilot, interval=0.05)
            await pilot.pause()
        entry = [e for e in await store.timeline(incident.id) if e.kind == EntryKind.ESCALATED]
        assert len(entry) == 1 and entry[0].actor == "escalator"
        assert "paging bob" in entry[0].message
