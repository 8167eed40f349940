"""Several processes on one file: they see each other's commits, and writers never collide."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from backends.base import Conflict
from backends.sqlite.store import SqliteBackend
from console.domain.lifecycle import AddNote
from console.domain.models import EntryKind, NewIncident
from tests.store.conftest import run_python
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

OTHER_PROCESS_ACTS = """
    import asyncio, sys
    from backends.sqlite.store import SqliteBackend
    from console.domain.lifecycle import Acknowledge
    from console.domain.models import NewIncident

    async def main():
        async with SqliteBackend(sys.argv[1]) as backend:
            incident = await backend.create_incident(
                NewIncident(title="from the other process", service="web"), "bob")
            incident = await backend.act(incident.id, Acknowledge(), "bob", incident.version)
            print(incident.id)

    asyncio.run(main())
"""


async def test_watch_sees_commits_of_another_process(store: SqliteBackend, db_path: Path) -> None:
    since = await store.last_seq()
    feed = store.watch(since)
    seen: list = []

    async def collect() -> None:
        async for change in feed:
            seen.append(change)
            if len(seen) == 2:
                return

    collector = asyncio.create_task(collect())
    incident_id = int((await run_python(OTHER_PROCESS_ACTS, str(db_path))).strip())
    await asyncio.wait_for(collector, 10)
    assert [(c.kind, c.entity_id, c.version) for c in seen] == [
        ("incident.created", str(incident_id), 1),
        ("incident.updated", str(incident_id), 2),
    ]
    assert (await store.get_incident(incident_id)).assignee == "bob"
    await feed.aclose()  # type: ignore[attr-defined]


async def test_concurrent_writers_in_one_process_exactly_one_wins(
    store: SqliteBackend, db_path: Path
) -> None:
    incident = await store.create_incident(NewIncident(title="contended", service="web"), "a")
    others = [SqliteBackend(db_path) for _ in range(3)]
    for other in others:
        await other.open()
    try:
        writers = [store, store, *others]  # same connection twice, and separate connections
        results = await asyncio.gather(
            *(
                writer.act(incident.id, AddNote(text=f"note {n}"), f"w{n}", incident.version)
                for n, writer in enumerate(writers)
            ),
            return_exceptions=True,
        )
    finally:
        for other in others:
            await other.close()
    wins = [r for r in results if not isinstance(r, BaseException)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(wins) == 1 and len(conflicts) == len(writers) - 1, results
    assert all(c.current_version == 2 for c in conflicts)
    timeline = await store.timeline(incident.id)
    assert [e.kind for e in timeline] == [EntryKind.CREATED, EntryKind.NOTE]


RACE = """
    import asyncio, json, os, sys, time
    from backends.base import Conflict
    from backends.sqlite.store import SqliteBackend
    from console.domain.lifecycle import AddNote

    async def main():
        path, incident_id, name, go, retry = sys.argv[1:6]
        async with SqliteBackend(path) as backend:
            version = (await backend.get_incident(int(incident_id))).version
            open(go + "." + name, "w").close()  # ready: this process has read the version
            while not os.path.exists(go):
                time.sleep(0.001)
            outcome = []
            while True:
                try:
                    await backend.act(int(incident_id), AddNote(text=name), name, version)
                    outcome.append("won")
                    break
                except Conflict as exc:
                    outcome.append("conflict")
                    if retry != "retry":
                        break
                    version = exc.current_version
            print(json.dumps(outcome))

    asyncio.run(main())
"""


async def _race(store: SqliteBackend, db_path: Path, tmp_path: Path, retry: bool) -> list:
    incident = await store.create_incident(NewIncident(title="race", service="web"), "a")
    go = tmp_path / f"go-{retry}"
    names = [f"proc{n}" for n in range(4)]
    runs = [
        asyncio.create_task(
            run_python(
                RACE, str(db_path), str(incident.id), name, str(go), "retry" if retry else "once"
            )
        )
        for name in names
    ]
    # A barrier: go only once every process has started and read version 1.
    await wait_until(
        lambda: all(Path(f"{go}.{name}").exists() for name in names),
        what="every process to read version 1",
        interval=0.05,
    )
    go.touch()
    outcomes = [json.loads(out) for out in await asyncio.gather(*runs)]
    return [incident.id, names, outcomes]


async def test_concurrent_processes_one_wins_the_rest_conflict(
    store: SqliteBackend, db_path: Path, tmp_path: Path
) -> None:
    incident_id, _, outcomes = await _race(store, db_path, tmp_path, retry=False)
    assert sorted(o[-1] for o in outcomes) == ["conflict", "conflict", "conflict", "won"]
    timeline = await store.timeline(incident_id)
    assert [e.kind for e in timeline] == [EntryKind.CREATED, EntryKind.NOTE]
    assert (await store.get_incident(incident_id)).version == 2


async def test_concurrent_processes_retrying_lose_no_entry(
    store: SqliteBackend, db_path: Path, tmp_path: Path
) -> None:
    incident_id, names, outcomes = await _race(store, db_path, tmp_path, retry=True)
    assert all(o[-1] == "won" for o in outcomes)
    timeline = await store.timeline(incident_id)
    notes = [e for e in timeline if e.kind == EntryKind.NOTE]
    assert sorted(e.actor for e in notes) == names  # every writer's note is there, once
    assert [e.version for e in timeline] == list(range(1, len(names) + 2))
    changes = [c for c in await store.changes(0) if c.entity_id == str(incident_id)]
    assert [c.version for c in changes] == list(range(1, len(names) + 2))
