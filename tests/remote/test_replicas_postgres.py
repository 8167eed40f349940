"""Two ``incidents serve`` replicas on one PostgreSQL database (real processes, a real
throw-away cluster): a change made through replica A reaches a stream on replica B, and a
console that reconnects to the other replica with ``Last-Event-ID`` misses nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from backends.postgres.store import PostgresBackend
from backends.remote import RemoteBackend
from console.domain.lifecycle import AddNote
from console.domain.models import Change, NewIncident, Service
from tests.postgres import fresh_dsn
from tests.remote.server import ServerProcess

pytestmark = pytest.mark.slow


async def _sse_changes(url: str, token: str, last: int, count: int) -> list[Change]:
    """``count`` changes from ``url``'s stream, resuming after ``last`` by Last-Event-ID."""
    headers = {"Authorization": f"Bearer {token}", "Last-Event-ID": str(last)}
    got: list[Change] = []
    async with httpx.AsyncClient(timeout=30) as client:
        async with client.stream("GET", f"{url}/v1/stream", headers=headers) as response:
            assert response.status_code == 200
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    got.append(Change.model_validate_json(line[6:]))
                    if len(got) == count:
                        return got
    return got


async def test_two_replicas_share_changes_and_resume(tmp_path: Path) -> None:
    dsn = await fresh_dsn()
    async with PostgresBackend(dsn) as store:
        await store.put_service(Service(id="web", name="Web"))
        tokens = store.capabilities.tokens
        assert tokens is not None
        _, token = await tokens.create("alice", "responder")
    servers = [ServerProcess(dsn, home=tmp_path / name).start() for name in ("a", "b")]
    try:
        url_a, url_b = await asyncio.gather(*(s.ready() for s in servers))
        async with RemoteBackend(url_a, token) as a, RemoteBackend(url_b, token) as b:
            start = await b.last_seq()
            feed = b.watch(start)
            incident = await a.create_incident(NewIncident(title="db down", service="web"), "x")
            async with asyncio.timeout(20):
                change = await anext(feed)
            assert (change.kind, change.entity_id) == ("incident.created", str(incident.id))
            await feed.aclose()  # type: ignore[attr-defined]

            # Three more changes through A; a console that saw only the first resumes on B.
            for n in range(3):
                incident = await a.act(incident.id, AddNote(text=f"n{n}"), "x", incident.version)
            async with asyncio.timeout(20):
                resumed = await _sse_changes(url_b, token, change.seq, 3)
            assert [c.version for c in resumed] == [2, 3, 4]
            assert [c.seq for c in resumed] == [c.seq for c in await a.changes(change.seq)]
            # ... and back on A from the same point: the same changes.
            async with asyncio.timeout(20):
                again = await _sse_changes(url_a, token, change.seq, 3)
            assert again == resumed
    finally:
        for server in servers:
            server.stop()
