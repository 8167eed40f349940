"""The automatic escalator with a frozen clock on a real SQLite file, alone and racing."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.config import Settings
from console.domain.lifecycle import Acknowledge
from console.domain.models import EntryKind, NewIncident, Priority
from console.services.escalator import Escalator
from tests.intake.conftest import T0, seed


async def open_store(path: Path, clock: FrozenClock) -> SqliteBackend:
    return await SqliteBackend(path, settings=Settings(db=path), clock=clock).open()


async def test_escalates_each_due_level_then_repeats_then_stops(tmp_path: Path) -> None:
    clock = FrozenClock(T0)
    store = await open_store(tmp_path / "x.db", clock)
    try:
        await seed(store)
        incident = await store.create_incident(
            NewIncident(title="db down", service="checkout", impact=3, urgency=3), "alice"
        )
        escalator = Escalator(store, clock)
        assert await escalator.tick() == [], "level 1 waits 5 minutes"
        clock.advance(timedelta(minutes=4, seconds=59))
        assert await escalator.tick() == []
        clock.advance(timedelta(seconds=1))
        assert await escalator.tick() == [f"{incident.key} escalated to level 2"]
        assert await escalator.tick() == [], "level 2 waits 10 minutes from now"
        entry = (await store.timeline(incident.id))[-1]
        assert entry.kind == EntryKind.ESCALATED and entry.actor == "escalator"
        assert "paging bob" in entry.message and entry.data["automatic"] is True
        clock.advance(timedelta(minutes=10))
        assert await escalator.tick() == [f"{incident.key} escalated to level 1"]  # repeat loop
        clock.advance(timedelta(minutes=5))
        assert await escalator.tick() == [f"{incident.key} escalated to level 2"]
        clock.advance(timedelta(minutes=10))
        assert await escalator.tick() == [], "repeat=1: after the second pass it stays"
        current = await store.get_incident(incident.id)
        assert (current.escalation_level, current.escalation_loop) == (2, 1)
    finally:
        await store.close()


async def test_an_acknowledged_incident_does_not_escalate(tmp_path: Path) -> None:
    clock = FrozenClock(T0)
    store = await open_store(tmp_path / "x.db", clock)
    try:
        await seed(store)
        incident = await store.create_incident(
            NewIncident(title="t", service="checkout", impact=3, urgency=3), "alice"
        )
        await store.act(incident.id, Acknowledge(), "alice", incident.version)
        clock.advance(timedelta(hours=1))
        assert await Escalator(store, clock).tick() == []
    finally:
        await store.close()


async def test_breach_is_marked_once_per_clock(tmp_path: Path) -> None:
    clock = FrozenClock(T0)
    store = await open_store(tmp_path / "x.db", clock)
    try:
        await seed(store)
        # No policy on "search": only the SLA clocks matter here. P1: 15m response, 4h resolution.
        incident = await store.create_incident(
            NewIncident(title="t", service="search", priority=Priority.P1), "alice"
        )
        escalator = Escalator(store, clock)
        clock.advance(timedelta(minutes=14))
        assert await escalator.tick() == []
        clock.advance(timedelta(minutes=2))
        assert await escalator.tick() == [f"{incident.key} response SLA breached"]
        assert await escalator.tick() == []
        clock.advance(timedelta(hours=4))
        assert await escalator.tick() == [f"{incident.key} resolution SLA breached"]
        assert await escalator.tick() == []
        current = await store.get_incident(incident.id)
        assert current.response_breached and current.resolution_breached
        kinds = [e.kind for e in await store.timeline(incident.id)]
        assert kinds.count(EntryKind.SLA_BREACHED) == 2
    finally:
        await store.close()


async def test_two_escalators_on_one_file_escalate_exactly_once_per_level(tmp_path: Path) -> None:
    clock = FrozenClock(T0)
    path = tmp_path / "shared.db"
    one = await open_store(path, clock)
    two = await open_store(path, clock)
    try:
        await seed(one)
        incidents = [
            await one.create_incident(
                NewIncident(title=f"t{n}", service="checkout", priority=Priority.P1), "alice"
            )
            for n in range(5)
        ]
        first, second = Escalator(one, clock), Escalator(two, clock)
        for step in (timedelta(minutes=5), timedelta(minutes=10), timedelta(minutes=5)):
            clock.advance(step)
            a, b = await asyncio.gather(first.tick(), second.tick())
            escalations = [line for line in a + b if "escalated" in line]
            assert len(escalations) == len(incidents), (a, b)
        for incident in incidents:
            timeline = await one.timeline(incident.id)
            levels = [e.data["level"] for e in timeline if e.kind == EntryKind.ESCALATED]
            assert levels == [2, 1, 2]
            breaches = [e.data["clock"] for e in timeline if e.kind == EntryKind.SLA_BREACHED]
            assert breaches == ["response"], "one breach entry however many escalators"
    finally:
        await one.close()
        await two.close()
