"""The demo written into a real SQLite file, and the simulator acting through the real store."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backends.sqlite.store import SqliteBackend
from console.cli.main import main
from console.demo import seed as demo
from console.domain.clock import FrozenClock
from console.domain.lifecycle import AddNote
from console.domain.models import IncidentQuery, Status
from console.domain.sla import SlaPolicy, SlaState, active_clock
from tests.waiting import wait_until

NOW = datetime(2026, 11, 27, 7, 30, tzinfo=UTC)
EVERYTHING = IncidentQuery(statuses=tuple(Status), limit=100_000)


async def _seeded(path: Path, clock: FrozenClock, **kwargs: object) -> SqliteBackend:
    backend = await SqliteBackend(path, clock=clock).open()
    summary = await demo.seed(backend, user="root", seed=11, **kwargs)  # type: ignore[arg-type]
    print(f"\nseeded: {'; '.join(line.strip() for line in summary.lines())}")
    return backend


async def test_seed_writes_everything_into_a_real_file(tmp_path: Path) -> None:
    clock = FrozenClock(NOW)
    backend = await _seeded(tmp_path / "demo.db", clock)
    try:
        assert len(await backend.services()) == 12
        assert len(await backend.teams()) == 3
        assert len(await backend.users()) == 11  # ten demo people and the user
        assert len(await backend.policies()) == 3
        assert len(await backend.schedules()) == 3
        assert await backend.count_incidents(EVERYTHING) == 2040
        opened = await backend.list_incidents(IncidentQuery())
        assert len(opened) == 40
        states = Counter(active_clock(i, NOW, SlaPolicy()).state for i in opened)
        assert {SlaState.RUNNING, SlaState.WARNING, SlaState.BREACHED, SlaState.PAUSED} <= set(
            states
        )
        # The store's own queue order puts a breached incident first.
        assert active_clock(opened[0], NOW, SlaPolicy()).state == SlaState.BREACHED
        mine = await backend.list_incidents(IncidentQuery(assignees=("root",)))
        assert len(mine) >= 4
        # Timelines came along, re-pointed at the store's ids.
        first = (await backend.list_incidents(EVERYTHING.model_copy(update={"sort": "age"})))[0]
        entries = await backend.timeline(first.id)
        assert entries[0].kind.value == "created"
        assert all(e.incident_id == first.id for e in entries)
        assert entries[-1].version == first.version
        assert await backend.last_seq() >= 2040
    finally:
        await backend.close()


async def test_simulator_changes_things_through_the_store(tmp_path: Path) -> None:
    clock = FrozenClock(NOW)
    backend = await _seeded(tmp_path / "demo.db", clock, history=30)
    try:
        before = {i.id: i for i in await backend.list_incidents(EVERYTHING)}
        start_seq = await backend.last_seq()
        simulator = demo.Simulator(backend, clock, rate=60, seed=3, user="root")
        said = []
        for _ in range(40):
            clock.advance(timedelta(seconds=20))
            said.append(await simulator.step())
        print("\n" + "\n".join(said[:12]))
        changes = await backend.changes(start_seq)
        kinds = Counter(c.kind for c in changes)
        assert kinds["incident.created"] >= 3
        assert kinds["incident.updated"] >= 10
        after = {i.id: i for i in await backend.list_incidents(EVERYTHING)}
        assert len(after) > len(before)
        statuses = Counter(after[i].status for i in after if i in before and after[i] != before[i])
        assert statuses[Status.RESOLVED] >= 1 and statuses[Status.ACKNOWLEDGED] >= 1
        # The person at the console is never an actor, and their incidents are left to them.
        for change in changes:
            incident_id = int(change.entity_id)
            for entry in await backend.timeline(incident_id):
                if entry.at > NOW:
                    assert entry.actor != "root"
        for incident in before.values():
            if incident.assignee == "root":
                assert after[incident.id].version == incident.version
    finally:
        await backend.close()


async def test_simulator_skips_when_somebody_else_won(tmp_path: Path) -> None:
    clock = FrozenClock(NOW)
    backend = await _seeded(tmp_path / "demo.db", clock, history=0, open_count=5)
    try:
        simulator = demo.Simulator(backend, clock, seed=1, user="root")
        await simulator.step()  # loads the directory
        stale = (await backend.list_incidents(IncidentQuery()))[0]
        await backend.act(stale.id, AddNote(text="me first"), "root", stale.version)
        said = await simulator._act("note", stale)
        assert said.startswith("skipped note") and "somebody else" in said
        assert (await backend.get_incident(stale.id)).version == stale.version + 1
    finally:
        await backend.close()


async def test_simulator_runs_until_cancelled(tmp_path: Path) -> None:
    clock = FrozenClock(NOW)
    backend = await _seeded(tmp_path / "demo.db", clock, history=0, open_count=5)
    try:
        simulator = demo.Simulator(backend, clock, rate=1200, seed=2, user="root")
        task = asyncio.create_task(simulator.run())
        await wait_until(lambda: simulator.steps >= 3, interval=0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert simulator.steps >= 3 and simulator.last
    finally:
        await backend.close()


def test_incidents_demo_writes_a_database_and_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "demo.db"
    args = ["demo", "--db", str(path), "--seed", "4", "--history", "60", "--open", "12"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert str(path) in out and "60 past incidents" in out and "12 open" in out

    assert main(args) == 1
    err = capsys.readouterr().err
    assert "already holds 72 incidents" in err and "--db" in err

    async def count() -> int:
        async with SqliteBackend(path) as backend:
            return await backend.count_incidents(EVERYTHING)

    assert asyncio.run(count()) == 72
