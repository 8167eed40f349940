"""The escalator reads only what is due (``escalator_due``), with a frozen clock, on SQLite
and PostgreSQL: due exactly at its time, through alert intake too, a policy change honoured
either way, and a pass with nothing due reads no incident."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from backends.sqlite.store import SqliteBackend
from console.domain.config import IntakeSettings, Settings
from console.domain.intake import parse_alertmanager
from console.domain.lifecycle import Hold, Resume
from console.domain.models import (
    EntryKind,
    HoldReason,
    Incident,
    IncidentPage,
    IncidentQuery,
    NewIncident,
    Priority,
    Status,
)
from console.services.escalator import Escalator
from tests.intake.conftest import POLICY, T0, Intake, am_body, seed

DUE = IncidentQuery(escalator_due=True)


def _waits(first: timedelta) -> Any:
    """``POLICY`` with level 1 waiting ``first``."""
    return POLICY.model_copy(
        update={"levels": (POLICY.levels[0].model_copy(update={"wait": first}), *POLICY.levels[1:])}
    )


async def _new(intake: Intake, **fields: Any) -> Incident:
    fields.setdefault("service", "checkout")
    return await intake.store.create_incident(NewIncident(title="t", **fields), "alice")


async def test_due_exactly_at_its_time(intake: Intake) -> None:
    incident = await _new(intake, priority=Priority.P3)
    escalator = Escalator(intake.store, intake.clock)
    intake.clock.advance(timedelta(minutes=5) - timedelta(microseconds=1))
    assert await intake.store.count_incidents(DUE) == 0
    assert await escalator.tick() == []
    intake.clock.advance(timedelta(microseconds=1))
    assert await intake.store.count_incidents(DUE) == 1
    assert await escalator.tick() == [f"{incident.key} escalated to level 2"]
    assert await intake.store.count_incidents(DUE) == 0, "level 2 waits 10 minutes"


async def test_an_alert_opened_incident_is_due_on_time(intake: Intake) -> None:
    _, signals = parse_alertmanager(json.dumps(am_body([{}])), IntakeSettings())
    result = await intake.store.ingest(intake.am, signals)
    [key] = result.created
    intake.clock.advance(timedelta(minutes=4, seconds=59))
    assert await intake.store.count_incidents(DUE) == 0
    intake.clock.advance(timedelta(seconds=1))
    [due] = await intake.store.list_incidents(DUE)
    assert due.key == key
    # The alert firing again rewrites the row; it stays due.
    await intake.store.ingest(intake.am, signals)
    assert await intake.store.count_incidents(DUE) == 1


async def test_a_shorter_and_a_longer_wait_are_honoured(intake: Intake) -> None:
    incident = await _new(intake, priority=Priority.P3)
    escalator = Escalator(intake.store, intake.clock)
    intake.clock.advance(timedelta(minutes=3))
    assert await escalator.tick() == []
    await intake.store.put_policy(_waits(timedelta(minutes=2)))
    assert await escalator.tick() == [f"{incident.key} escalated to level 2"]

    other = await _new(intake, priority=Priority.P3)
    await intake.store.put_policy(_waits(timedelta(hours=1)))
    intake.clock.advance(timedelta(minutes=30))
    assert [line for line in await escalator.tick() if other.key in line] == []
    intake.clock.advance(timedelta(minutes=30))
    assert f"{other.key} escalated to level 2" in await escalator.tick()


async def test_a_hold_shifts_the_escalation_and_repeats_loop(intake: Intake) -> None:
    incident = await _new(intake, priority=Priority.P3)
    escalator = Escalator(intake.store, intake.clock)
    intake.clock.advance(timedelta(minutes=2))
    held = await intake.store.act(
        incident.id, Hold(reason=HoldReason.AWAITING_VENDOR), "alice", incident.version
    )
    intake.clock.advance(timedelta(hours=1))
    assert await escalator.tick() == [], "on hold: nothing escalates"
    await intake.store.act(incident.id, Resume(), "alice", held.version)
    intake.clock.advance(timedelta(minutes=2, seconds=59))
    assert await escalator.tick() == [], "the hour on hold does not count"
    intake.clock.advance(timedelta(seconds=1))
    assert await escalator.tick() == [f"{incident.key} escalated to level 2"]
    intake.clock.advance(timedelta(minutes=10))
    assert await escalator.tick() == [f"{incident.key} escalated to level 1"]  # repeat loop
    intake.clock.advance(timedelta(minutes=5))
    assert await escalator.tick() == [f"{incident.key} escalated to level 2"]
    intake.clock.advance(timedelta(minutes=10))
    assert await escalator.tick() == [], "repeat=1: the second loop was the last"
    assert await intake.store.count_incidents(DUE) == 0


async def test_breaches_are_due_until_marked(intake: Intake) -> None:
    # No policy on "search": only the SLA clocks. P1: 15 minutes to respond, 4 hours to resolve.
    incident = await _new(intake, service="search", priority=Priority.P1)
    escalator = Escalator(intake.store, intake.clock)
    intake.clock.advance(timedelta(minutes=15))
    assert await intake.store.count_incidents(DUE) == 1
    assert await escalator.tick() == [f"{incident.key} response SLA breached"]
    assert await intake.store.count_incidents(DUE) == 0, "marked: due again at 4 hours"
    intake.clock.advance(timedelta(hours=4))
    assert await escalator.tick() == [f"{incident.key} resolution SLA breached"]
    assert await intake.store.count_incidents(DUE) == 0
    kinds = [e.kind for e in await intake.store.timeline(incident.id)]
    assert kinds.count(EntryKind.SLA_BREACHED) == 2


class Counting:
    """The store, counting the incidents each read hands the escalator."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.incidents = 0
        self.directory_reads = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def page_incidents(self, *args: Any) -> IncidentPage:
        page: IncidentPage = await self.store.page_incidents(*args)
        self.incidents += len(page.incidents)
        return page

    async def list_incidents(self, query: IncidentQuery) -> list[Incident]:
        found: list[Incident] = await self.store.list_incidents(query)
        self.incidents += len(found)
        return found

    async def policies(self) -> Any:
        self.directory_reads += 1
        return await self.store.policies()


async def test_a_pass_with_nothing_due_reads_no_incident(tmp_path: Path) -> None:
    """3,000 triggered incidents, none due: the pass reads none of them, neither through the
    backend (counted) nor in SQLite (virtual-machine steps of every statement, counted by a
    progress handler; reading 3,000 rows takes several steps each)."""
    from console.domain.clock import FrozenClock

    clock = FrozenClock(T0)
    path = tmp_path / "x.db"
    async with SqliteBackend(path, settings=Settings(db=path), clock=clock) as store:
        await seed(store)
        batch = [NewIncident(title=f"t{n}", service="checkout") for n in range(3_000)]
        await store.create_incidents(batch, "alice")
        clock.advance(timedelta(minutes=4))
        counting = Counting(store)
        escalator = Escalator(counting, clock)  # type: ignore[arg-type]
        steps = 0

        def step() -> int:
            nonlocal steps
            steps += 1
            return 0

        reader = store._reader  # the connection every read of the pass goes through
        assert reader is not None
        stop: Any = None  # clears the handler (the stub does not say None is allowed)
        await reader.set_progress_handler(step, 1)
        assert await escalator.tick() == []
        await reader.set_progress_handler(stop, 1)
        assert counting.incidents == 0 and counting.directory_reads == 0
        assert 0 < steps < 300, steps
        # The same counter sees a read of the triggered ones (so it can fail):
        steps = 0
        await reader.set_progress_handler(step, 1)
        await store.count_incidents(IncidentQuery(statuses=(Status.TRIGGERED,)))
        await reader.set_progress_handler(stop, 1)
        assert steps > 3_000
        clock.advance(timedelta(minutes=1))
        assert len(await escalator.tick()) == 3_000
        assert counting.incidents == 3_000
