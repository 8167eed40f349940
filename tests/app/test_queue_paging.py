"""The queue draws its first screen from one page in the store's order and pages in the rest.

More open incidents than the first page and one later page hold, some resolved while the
pages load: the first screen holds the store's most urgent page in the store's order, and
in the end the queue holds exactly the open ones.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.lifecycle import Acknowledge, Resolve, created_entry
from console.domain.models import (
    Incident,
    IncidentQuery,
    ResolutionCode,
    Service,
    Status,
    TimelineEntry,
    priority_for,
)
from console.tui import app as app_module
from console.tui.app import make_app
from screens.messages import IncidentsChanged
from screens.queue import QueueScreen
from tests.app.conftest import T0
from tests.waiting import wait_until

OPEN = app_module.FIRST_PAGE + app_module.PAGE + 300


def _records(count: int) -> list[tuple[Incident, list[TimelineEntry]]]:
    out = []
    for n in range(1, count + 1):
        impact, urgency = 1 + n % 3, 1 + (n // 3) % 3
        created = T0 - timedelta(minutes=(n * 7919) % 5000)
        incident = Incident(
            id=n,
            key=f"INC-{n}",
            title=f"disk {n}",
            service="web",
            impact=impact,
            urgency=urgency,
            priority=priority_for(impact, urgency),
            status=Status.TRIGGERED,
            created_at=created,
            updated_at=created,
        )
        out.append((incident, [created_entry(incident, "test")]))
    return out


async def test_first_screen_is_the_stores_first_page_then_everything_arrives(
    tmp_path: Path,
) -> None:
    clock = FrozenClock(T0)
    backend = await SqliteBackend(tmp_path / "many.db", clock=clock).open()
    await backend.put_service(Service(id="web", name="Web"))
    await backend.import_records(_records(OPEN))  # type: ignore[arg-type]
    first_page = [i.id for i in await backend.list_incidents(IncidentQuery(limit=200))]
    app = make_app(backend, clock=clock, user="alice")
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await wait_until(
                lambda: app.screen if getattr(app.screen, "loaded", False) else None,
                pilot=pilot,
            )
            shown = screen.model.ids(0, app_module.FIRST_PAGE)
            # Whatever of the rest is in already sorts after the most urgent page.
            assert shown == first_page[: len(shown)]
            assert len(shown) == app_module.FIRST_PAGE
            # Resolve a few while the pages load: they leave; nothing else is skipped.
            gone = []
            for incident_id in (3, 500, OPEN - 1):
                current = await backend.get_incident(incident_id)
                note = Resolve(code=ResolutionCode.FIXED, note="done")
                await backend.act(incident_id, note, "bob", current.version)
                gone.append(incident_id)
            await wait_until(lambda: app.fully_loaded, pilot=pilot)
            expected = OPEN - len(gone)
            await wait_until(lambda: len(screen.model) == expected, pilot=pilot)
            everything = await backend.list_incidents(IncidentQuery(limit=OPEN))
            assert screen.model.ids() == [i.id for i in everything]
    finally:
        await backend.close()


async def test_a_storm_of_changes_is_applied_a_chunk_at_a_time(tmp_path: Path) -> None:
    """Hundreds of changed incidents in one batch reach the queue in chunks of at most
    ``APPLY_CHUNK`` (each its own fetch, so keys get in between), and all of them land."""
    clock = FrozenClock(T0)
    backend = await SqliteBackend(tmp_path / "storm.db", clock=clock).open()
    await backend.put_service(Service(id="web", name="Web"))
    await backend.import_records(_records(500))  # type: ignore[arg-type]
    app = make_app(backend, clock=clock, user="alice")
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(lambda: app.fully_loaded, pilot=pilot)
            screen = app.screen
            assert isinstance(screen, QueueScreen)
            await wait_until(lambda: len(screen.model) == 500, pilot=pilot)
            since = await backend.last_seq()
            for incident_id in range(1, 451):
                current = await backend.get_incident(incident_id)
                await backend.act(incident_id, Acknowledge(), "bob", current.version)
            changes = await backend.changes(since)
            assert len({c.entity_id for c in changes if c.entity == "incident"}) == 450

            def acknowledged() -> int:
                held = screen.model.incidents
                return sum(held[i].status == Status.ACKNOWLEDGED for i in range(1, 451))

            # The live feed brings them in its own batches; then the feed is quiet and the
            # same 450 changes are applied as one batch.
            await wait_until(lambda: acknowledged() == 450, pilot=pilot)
            posted: list[int] = []
            post = app._post

            def spy(message: object) -> None:
                if isinstance(message, IncidentsChanged):
                    posted.append(len(message.changed))
                post(message)  # type: ignore[arg-type]

            app._post = spy  # type: ignore[method-assign]
            await app._apply_changes(changes)
            assert posted == [200, 200, 50]
            assert acknowledged() == 450
    finally:
        await backend.close()
