"""Locking, closing, bulk import and the thread hygiene of the SQLite store."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backends.base import Unavailable
from backends.sqlite.store import SqliteBackend
from console.domain import lifecycle
from console.domain.lifecycle import Acknowledge, AddNote, Resolve
from console.domain.models import Change, EntryKind, Incident, IncidentQuery, NewIncident, Status
from tests.store.conftest import seed
from tests.waiting import TIMEOUT, wait_until


async def _next(feed: AsyncIterator[Change]) -> Change:
    return await anext(feed)


async def test_a_locked_database_is_unavailable_and_nothing_is_half_written(
    db_path: Path,
) -> None:
    async with SqliteBackend(db_path, busy_timeout=0.2) as backend:
        await seed(backend)
        incident = await backend.create_incident(NewIncident(title="x", service="web"), "a")
        seq = await backend.last_seq()
        holder = sqlite3.connect(db_path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            # (how long busy_timeout makes it wait is a figure for bench/, not an assertion)
            with pytest.raises(Unavailable) as caught:
                await backend.act(incident.id, Acknowledge(), "alice", incident.version)
            message = str(caught.value)
            assert "locked" in message and "nothing was changed" in message
            assert str(db_path) in message
            with pytest.raises(Unavailable, match="locked"):
                await backend.create_incident(NewIncident(title="y", service="web"), "a")
            # Readers are not blocked by a writer (WAL).
            assert (await backend.get_incident(incident.id)).version == 1
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert await backend.last_seq() == seq
        assert len(await backend.timeline(incident.id)) == 1
        # Once the lock is gone the same call works.
        done = await backend.act(incident.id, Acknowledge(), "alice", incident.version)
        assert done.version == 2


async def test_import_records_backfills_history(store: SqliteBackend) -> None:
    existing = await store.create_incident(NewIncident(title="live", service="web"), "alice")
    start = datetime.now(UTC) - timedelta(days=10)
    records = []
    for n in range(50):
        created = start + timedelta(hours=n)
        incident = Incident(
            id=0,
            key="draft",
            title=f"old {n}",
            service="web",
            created_at=created,
            updated_at=created,
        )
        entries = [lifecycle.created_entry(incident, "import")]
        incident, more = lifecycle.apply(
            incident, Resolve(), "alice", created + timedelta(minutes=30)
        )
        records.append((incident, entries + more))
    since = await store.last_seq()

    imported = await store.import_records(records)

    assert [i.id for i in imported] == list(range(existing.id + 1, existing.id + 51))
    assert all(i.key == f"INC-{i.id}" for i in imported)
    sample = imported[7]
    assert await store.get_incident(sample.key) == sample
    timeline = await store.timeline(sample.id)
    assert [e.kind for e in timeline] == [EntryKind.CREATED, EntryKind.RESOLVED]
    assert all(e.incident_id == sample.id for e in timeline)
    resolved = await store.list_incidents(
        IncidentQuery(statuses=(Status.RESOLVED,), sort="age", limit=1000)
    )
    assert [i.title for i in resolved] == [f"old {n}" for n in range(50)]
    changes = await store.changes(since)
    assert [c.entity_id for c in changes] == [str(i.id) for i in imported]
    # The live incident is untouched and the store keeps numbering after the import.
    later = await store.create_incident(NewIncident(title="after", service="web"), "alice")
    assert later.id == existing.id + 51


async def test_close_ends_watches_and_leaves_no_threads(db_path: Path) -> None:
    before = set(threading.enumerate())
    backend = SqliteBackend(db_path, poll_interval=0.02)
    await backend.open()
    await seed(backend)
    since = await backend.last_seq()
    busy = backend.watch(since - 1)
    idle = backend.watch(since - 1)
    assert (await anext(idle)).seq == since  # now suspended between two items
    drained: list[Change] = []
    ended = asyncio.create_task(_drain(busy, drained))
    await wait_until(lambda: drained)  # past its first change: polling for the next one
    assert set(threading.enumerate()) - before  # the store's worker threads

    await backend.close()

    assert await asyncio.wait_for(ended, 5) >= 0  # the iterator ended by itself
    with pytest.raises(StopAsyncIteration):
        await anext(idle)
    # aiosqlite's worker threads finish a moment after their close resolves; a leaked
    # connection's thread never does.
    await wait_until(
        lambda: not set(threading.enumerate()) - before,
        what="the store's threads to end",
        interval=0.01,
        detail=lambda: set(threading.enumerate()) - before,
    )
    with pytest.raises(Unavailable, match="not open"):
        await backend.list_incidents(IncidentQuery())


async def _drain(feed: AsyncIterator[Change], seen: list[Change]) -> int:
    async for change in feed:
        seen.append(change)
    return len(seen)


async def test_in_process_writes_wake_the_watch_at_once(db_path: Path) -> None:
    # The watch polls once an hour: only the in-process wake-up can bring these changes
    # within the test's lifetime (how fast it is goes to bench/, not into an assertion).
    async with SqliteBackend(db_path, poll_interval=3600.0) as backend:
        await seed(backend)
        since = await backend.last_seq()
        feed = backend.watch(since - 1)
        assert (await anext(feed)).seq == since  # the watch has started and made its poll
        first = asyncio.create_task(_next(feed))
        incident = await backend.create_incident(NewIncident(title="x", service="web"), "a")
        change = await asyncio.wait_for(first, TIMEOUT)
        assert change.entity_id == str(incident.id)
        await backend.act(incident.id, AddNote(text="n"), "a", 1)
        assert (await asyncio.wait_for(anext(feed), TIMEOUT)).version == 2
        await feed.aclose()  # type: ignore[attr-defined]
