"""A client outlives its server: kill -9, changes meanwhile, restart on the same port."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from backends.base import Unavailable
from backends.remote import RemoteBackend, Retry
from backends.sqlite.store import SqliteBackend
from console.domain.lifecycle import Acknowledge, AddNote
from console.domain.models import Change, NewIncident
from tests.remote.conftest import ROLES, seed_directory
from tests.remote.server import ServerProcess, make_tokens
from tests.waiting import wait_until


@pytest.mark.slow
async def test_watch_reconnects_after_a_restart_and_catches_up(tmp_path: Path) -> None:
    db = tmp_path / "restart.db"
    tokens = await make_tokens(db, ROLES)
    await seed_directory(db)
    server = ServerProcess(db, home=tmp_path).start()
    url = await server.ready()
    fast = Retry(base_delay=0.05, max_delay=0.5, offline_after=3)
    watcher = RemoteBackend(url, tokens["vic"], retry=fast)
    actor = RemoteBackend(url, tokens["rex"], retry=fast)
    await watcher.open()
    await actor.open()
    seen: list[Change] = []
    states: list[str] = []
    watcher.on_connection(lambda state: states.append(state.status))

    # Where the watch starts is read here, before the first change: read inside the task,
    # it could come after create_incident (the task runs later on a loaded machine), and
    # the watch would start past the one change this waits for.
    since = await watcher.last_seq()

    async def follow() -> None:
        async for change in watcher.watch(since):
            seen.append(change)

    task = asyncio.create_task(follow())
    try:
        incident = await actor.create_incident(NewIncident(title="before", service="web"), "rex")
        await wait_until(lambda: len(seen) == 1)

        server.stop(signal.SIGKILL)
        await wait_until(lambda: not watcher.connection.connected)
        assert watcher.connection.status in ("reconnecting", "offline")
        assert watcher.connection.since is not None

        # Actions while the server is down fail at once, saying nothing was sent.
        with pytest.raises(Unavailable, match="was not sent and nothing changed"):
            await actor.act(incident.id, Acknowledge(), "rex", incident.version)
        await wait_until(lambda: watcher.connection.status == "offline")

        # Meanwhile another writer changes the store directly (a local console, say).
        async with SqliteBackend(db) as local:
            current = await local.get_incident(incident.id)
            await local.act(incident.id, AddNote(text="while down"), "ada", current.version)
            await local.create_incident(NewIncident(title="during", service="web"), "ada")

        server.restart()
        await server.ready()
        await wait_until(lambda: watcher.connection.connected)
        current = await actor.get_incident(incident.id)
        await actor.act(incident.id, Acknowledge(), "rex", current.version)
        async with SqliteBackend(db) as local:
            every = await local.changes(0)
        await wait_until(lambda: bool(seen) and seen[-1].seq == every[-1].seq)
        # Every change since the watch began, the ones made while the server was down
        # included, exactly once and in order.
        assert [c.seq for c in seen] == [c.seq for c in every if c.seq >= seen[0].seq]
        assert {c.kind for c in seen} == {"incident.created", "incident.updated"}
        assert len(seen) == 4
        assert "reconnecting" in states and "offline" in states and states[-1] == "connected"
    finally:
        task.cancel()
        await watcher.close()
        await actor.close()
        server.stop()


async def test_unreachable_server_reads_fail_with_a_clear_message(tmp_path: Path) -> None:
    client = RemoteBackend(
        "http://127.0.0.1:9", "inc_a_b", retry=Retry(attempts=1, base_delay=0.01)
    )
    with pytest.raises(Unavailable, match="cannot reach the server at http://127.0.0.1:9"):
        await client.open()
    assert not client.connection.connected
    await client.close()
