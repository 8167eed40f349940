"""The change feed: nothing missed, nothing twice, in order; live through ``watch()``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from backends.base import Backend
from console.domain.lifecycle import AddNote
from console.domain.models import Change, NewIncident, Service


async def _next(feed: AsyncIterator[Change]) -> Change:
    return await anext(feed)


async def _take(feed: AsyncIterator[Change], count: int, timeout: float = 10.0) -> list[Change]:
    taken: list[Change] = []

    async def run() -> None:
        async for change in feed:
            taken.append(change)
            if len(taken) == count:
                return

    await asyncio.wait_for(run(), timeout)
    return taken


async def _mutate(backend: Backend, count: int) -> list[tuple[str, str, int | None]]:
    """``count`` mutations of several kinds; returns what the feed must say, in order."""
    expected: list[tuple[str, str, int | None]] = []
    incident = await backend.create_incident(NewIncident(title="feed", service="web"), "alice")
    expected.append(("incident.created", str(incident.id), 1))
    while len(expected) < count:
        if len(expected) % 4 == 3:
            await backend.put_service(Service(id="web", name=f"Web shop {len(expected)}"))
            expected.append(("service.updated", "web", None))
        else:
            incident = await backend.act(
                incident.id, AddNote(text=f"n{len(expected)}"), "bob", incident.version
            )
            expected.append(("incident.updated", str(incident.id), incident.version))
    return expected


def _shape(changes: list[Change]) -> list[tuple[str, str, int | None]]:
    return [(c.kind, c.entity_id, c.version) for c in changes]


async def test_changes_are_complete_ordered_and_paged(backend: Backend) -> None:
    since = await backend.last_seq()
    expected = await _mutate(backend, 12)
    changes = await backend.changes(since)
    assert _shape(changes) == expected
    seqs = [c.seq for c in changes]
    assert seqs == sorted(set(seqs)) and seqs[0] > since
    assert await backend.last_seq() == seqs[-1]

    paged: list[Change] = []
    cursor = since
    while page := await backend.changes(cursor, limit=5):
        assert len(page) <= 5
        paged += page
        cursor = page[-1].seq
    assert paged == changes
    assert await backend.changes(seqs[-1]) == []


async def test_watch_yields_each_change_once_in_order(backend: Backend) -> None:
    since = await backend.last_seq()
    feed = backend.watch(since)
    collector = asyncio.create_task(_take(feed, 10))
    # The watch starts from ``since``: whether it is already following when the changes
    # land or replays them when it starts, each must come exactly once, in order.
    expected = await _mutate(backend, 10)
    seen = await collector
    assert _shape(seen) == expected
    assert seen == await backend.changes(since)
    # Nothing more arrives when nothing more happens.
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(anext(feed), 0.5)
    await feed.aclose()  # type: ignore[attr-defined]


async def test_watch_replays_from_a_sequence_and_resumes(backend: Backend) -> None:
    since = await backend.last_seq()
    expected = await _mutate(backend, 8)
    first = backend.watch(since)
    head = await _take(first, 3)
    await first.aclose()  # type: ignore[attr-defined]
    # A new watch from the last sequence seen picks up exactly where the old one stopped.
    rest = backend.watch(head[-1].seq)
    tail = await _take(rest, 5)
    await rest.aclose()  # type: ignore[attr-defined]
    assert _shape(head + tail) == expected
    assert len({c.seq for c in head + tail}) == 8


async def test_watch_from_now_skips_history(backend: Backend) -> None:
    await _mutate(backend, 3)
    before = await backend.last_seq()
    feed = backend.watch()
    first = asyncio.create_task(_next(feed))
    incident = await backend.create_incident(NewIncident(title="now", service="db"), "alice")
    # The watch may take a moment to start; keep changing things until it reports one.
    for n in range(50):
        done, _ = await asyncio.wait({first}, timeout=0.1)
        if done:
            break
        incident = await backend.act(incident.id, AddNote(text=f"{n}"), "bob", incident.version)
    change = await asyncio.wait_for(first, 5)
    assert change.seq > before
    await feed.aclose()  # type: ignore[attr-defined]


async def test_directory_put_and_get(backend: Backend) -> None:
    services = {s.id: s for s in await backend.services()}
    assert set(services) == {"web", "db"}
    assert {u.id for u in await backend.users()} == {"alice", "bob", "carol"}
    assert [t.id for t in await backend.teams()] == ["ops"]
    assert [p.id for p in await backend.policies()] == ["web-oncall"]
    assert [s.id for s in await backend.schedules()] == ["primary"]

    since = await backend.last_seq()
    renamed = services["db"].model_copy(update={"name": "Database fleet"})
    assert await backend.put_service(renamed) == renamed
    added = Service(id="dns", name="DNS", policy="web-oncall")
    await backend.put_service(added)
    after = {s.id: s for s in await backend.services()}
    assert after["db"] == renamed and after["dns"] == added and len(after) == 3
    assert _shape(await backend.changes(since)) == [
        ("service.updated", "db", None),
        ("service.updated", "dns", None),
    ]
    # A new service is usable at once, and its policy is the incident's default.
    incident = await backend.create_incident(NewIncident(title="x", service="dns"), "alice")
    assert incident.policy == "web-oncall"
