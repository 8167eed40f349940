"""The console holds compact rows, not full incidents, and reads the full one when needed.

- A row and its incident give the same answers to every rule the queue applies (filter,
  sort, SLA state, the SLA cell): the rules are written once, over Protocols.
- A row whose full incident is not held (one paged in behind the first screen) is read from
  the backend when acted on, at the version the row shows: an incident changed meanwhile is
  refused as stale, never overwritten.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backends.base import Conflict
from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.lifecycle import Acknowledge, created_entry
from console.domain.models import (
    Incident,
    IncidentQuery,
    Pause,
    Service,
    Status,
    TimelineEntry,
    priority_for,
)
from console.domain.order import ORDERS, row_of, sort_key
from console.domain.query import parse
from console.domain.rows import IncidentRow
from console.domain.sla import SlaPolicy, queue_state
from console.tui import app as app_module
from console.tui.app import make_app
from screens.queue import QueueScreen
from tests.app.conftest import T0
from tests.waiting import wait_until
from widgets.incident_list import sla_text
from widgets.queue_model import sla_info

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
FILTERS = [
    "",
    "p1 p2",
    "svc:pay",
    "@alice",
    "@me",
    "unassigned",
    "status:all",
    "status:hold",
    "breached",
    "breaching",
    "disk",
    '"db 7" env=prod',
    "inc-12 17",
]


def _random_incident(n: int, rng: random.Random) -> Incident:
    created = NOW - timedelta(minutes=rng.randint(1, 3000))
    status = rng.choice(list(Status))
    acked = created + timedelta(minutes=rng.randint(1, 90)) if status != Status.TRIGGERED else None
    pauses: tuple[Pause, ...] = ()
    if status == Status.ON_HOLD:
        pauses = (Pause(start=created + timedelta(minutes=5)),)
    elif rng.random() < 0.3:
        pauses = (Pause(start=created + timedelta(minutes=2), end=created + timedelta(minutes=9)),)
    done = status in (Status.RESOLVED, Status.CLOSED, Status.CANCELLED)
    impact, urgency = rng.randint(1, 3), rng.randint(1, 3)
    return Incident(
        id=n,
        key=f"INC-{n}",
        title=rng.choice(["disk full on db 7", "checkout 502", "latency", ""]),
        service=rng.choice(["payments", "checkout", "search"]),
        status=status,
        impact=impact,
        urgency=urgency,
        priority=priority_for(impact, urgency),
        assignee=rng.choice([None, "alice", "bob"]) if acked else None,
        created_at=created,
        acknowledged_at=acked,
        resolved_at=NOW - timedelta(minutes=1) if done else None,
        closed_at=NOW if status == Status.CLOSED else None,
        pauses=pauses,
        labels=rng.choice([{}, {"env": "prod"}, {"region": "eu"}]),
        updated_at=created + timedelta(minutes=rng.randint(0, 100)),
        version=rng.randint(1, 9),
    )


def test_a_row_answers_every_queue_rule_as_its_incident_does() -> None:
    rng = random.Random(5)
    policy = SlaPolicy()
    for n in range(1, 400):
        incident = _random_incident(n, rng)
        row = IncidentRow(incident)
        assert (row.id, row.key, row.version, row.title) == (
            incident.id,
            incident.key,
            incident.version,
            incident.title,
        )
        for when in (NOW, NOW + timedelta(hours=3)):
            for text in FILTERS:
                wanted = parse(text)
                assert wanted.matches(row, when, policy, "alice") == wanted.matches(
                    incident, when, policy, "alice"
                ), (text, incident)
            assert queue_state(row, when, policy) == queue_state(incident, when, policy)
            assert sla_info(row, when, policy) == sla_info(incident, when, policy)
            assert sla_text(row, when, policy) == sla_text(incident, when, policy)
            for sort in ORDERS:
                assert sort_key(sort, row_of(row, policy, when), when.timestamp()) == sort_key(
                    sort, row_of(incident, policy, when), when.timestamp()
                )


def test_a_row_keeps_a_key_that_is_not_the_stores_usual_one() -> None:
    incident = _random_incident(3, random.Random(1)).model_copy(update={"key": "OPS-3"})
    assert IncidentRow(incident).key == "OPS-3"


OPEN = app_module.FIRST_PAGE + app_module.PAGE + 50


def _records(count: int) -> list[tuple[Incident, list[TimelineEntry]]]:
    out = []
    for n in range(1, count + 1):
        created = T0 - timedelta(minutes=n)
        incident = Incident(
            id=n,
            key=f"INC-{n}",
            title=f"disk {n}",
            service="web",
            priority=priority_for(2, 2),
            created_at=created,
            updated_at=created,
        )
        out.append((incident, [created_entry(incident, "test")]))
    return out


@pytest.fixture
async def many(tmp_path: Path) -> tuple[SqliteBackend, FrozenClock]:
    clock = FrozenClock(T0)
    backend = await SqliteBackend(tmp_path / "many.db", clock=clock).open()
    await backend.put_service(Service(id="web", name="Web"))
    await backend.import_records(_records(OPEN))  # type: ignore[arg-type]
    return backend, clock


async def test_a_row_not_held_in_full_is_read_at_the_version_shown(
    many: tuple[SqliteBackend, FrozenClock],
) -> None:
    backend, clock = many
    first_page = {i.id for i in await backend.list_incidents(IncidentQuery(limit=200))}
    app = make_app(backend, clock=clock, user="alice")
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(lambda: app.fully_loaded, pilot=pilot)
            assert len(app.incidents) == OPEN
            assert all(type(row) is IncidentRow for row in app.incidents.values())
            assert len(app._full) <= app_module.FULL_KEEP
            paged = next(i for i in sorted(app.incidents) if i not in first_page)
            shown = app.incidents[paged]
            assert app.full_incident(paged) is None  # paged in as a row only
            (full,) = await app.as_shown([shown])
            assert (full.id, full.version, full.title) == (shown.id, shown.version, shown.title)
            # Changed elsewhere after the row was drawn: read as it is now, at the version
            # shown, so an action on it is refused as stale, not applied over the change.
            await backend.act(paged, Acknowledge(), "bob", shown.version)
            (stale,) = await app.as_shown([shown])
            assert stale.version == shown.version and stale.assignee == "bob"
            with pytest.raises(Conflict):
                await backend.act(paged, Acknowledge(), "alice", stale.version)
    finally:
        await backend.close()


async def test_acknowledge_on_a_row_not_held_in_full_reaches_the_store(
    many: tuple[SqliteBackend, FrozenClock],
) -> None:
    backend, clock = many
    app = make_app(backend, clock=clock, user="alice")
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(lambda: app.fully_loaded, pilot=pilot)
            screen = app.screen
            assert isinstance(screen, QueueScreen)
            target = screen.list.cursor_incident
            assert target is not None
            app._full.clear()  # as at 100,000 open: most rows are held as rows only
            await pilot.press("a")
            await wait_until(
                lambda: app.incidents[target.id].status == Status.ACKNOWLEDGED, pilot=pilot
            )
            stored = await backend.get_incident(target.id)
            assert stored.assignee == "alice" and stored.version == target.version + 1
    finally:
        await backend.close()
