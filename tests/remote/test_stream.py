"""The live change stream: resume with Last-Event-ID, pings, watch(), shutdown with streams open."""

from __future__ import annotations

import asyncio
import signal

import httpx

from backends.remote import sse_events
from console.domain.lifecycle import AddNote
from console.domain.models import Change, NewIncident
from tests.remote.conftest import Live
from tests.waiting import TIMEOUT, wait_until


async def read_changes(
    client: httpx.AsyncClient, count: int, last_event_id: int | None = None
) -> tuple[list[Change], list[str]]:
    """Open the stream, read ``count`` change events (and note the event ids), disconnect."""
    headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
    changes: list[Change] = []
    ids: list[str] = []
    async with client.stream("GET", "/v1/stream", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for event in sse_events(response.aiter_lines()):
            if event.event == "change":
                change = Change.model_validate_json(event.data)
                changes.append(change)
                ids.append(event.id or "")
                if len(changes) == count:
                    break
    return changes, ids


async def test_resume_with_last_event_id_misses_and_repeats_nothing(live: Live) -> None:
    rex = await live.remote("responder")
    incident = await rex.create_incident(NewIncident(title="one", service="web"), "rex")
    for n in range(4):
        incident = await rex.act(incident.id, AddNote(text=f"note {n}"), "rex", incident.version)
    async with live.http("viewer") as client:
        first, ids = await asyncio.wait_for(read_changes(client, 3, last_event_id=0), 10)
        assert ids == [str(change.seq) for change in first]  # event id = change seq
        # Disconnected: more happens meanwhile.
        for n in range(3):
            incident = await rex.act(
                incident.id, AddNote(text=f"later {n}"), "rex", incident.version
            )
        other = await rex.create_incident(NewIncident(title="two", service="web"), "rex")
        last = await rex.last_seq()
        expected = await rex.changes(first[-1].seq)
        assert expected[-1].seq == last
        rest, _ = await asyncio.wait_for(
            read_changes(client, len(expected), last_event_id=first[-1].seq), 10
        )
    assert rest == expected
    every = [c.seq for c in first + rest]
    assert every == sorted(set(every))  # nothing twice
    assert every == [c.seq for c in await rex.changes(0)]  # nothing missed
    assert rest[-1].entity_id == str(other.id)


async def test_a_stream_from_now_gets_live_changes_and_pings(live: Live) -> None:
    rex = await live.remote("responder")
    async with live.http("viewer") as client:
        lines: list[str] = []
        async with (
            asyncio.timeout(TIMEOUT),
            client.stream("GET", "/v1/stream", params={"ping": 0.5}) as response,
        ):
            created = False
            async for line in response.aiter_lines():
                lines.append(line)
                if line == ": connected" and not created:
                    created = True
                    await rex.create_incident(NewIncident(title="live", service="web"), "rex")
                got_change = any(seen.startswith("id: ") for seen in lines)
                if got_change and line == ": ping":
                    break
    assert any(line.startswith("id: ") for line in lines)
    assert ": ping" in lines


async def test_watch_yields_each_change_once_in_order(live: Live) -> None:
    vic = await live.remote("viewer")
    rex = await live.remote("responder")
    start = await vic.last_seq()
    seen: list[Change] = []

    async def follow() -> None:
        async for change in vic.watch(start):
            seen.append(change)
            if len(seen) == 5:
                return

    task = asyncio.create_task(follow())
    incident = await rex.create_incident(NewIncident(title="w", service="web"), "rex")
    for n in range(4):
        incident = await rex.act(incident.id, AddNote(text=str(n)), "rex", incident.version)
    await asyncio.wait_for(task, 10)
    assert [c.seq for c in seen] == [c.seq for c in await rex.changes(start)]
    assert vic.connection.connected


async def test_sigterm_stops_the_server_with_streams_open(live: Live) -> None:
    clients = [live.http("viewer") for _ in range(3)]
    opened: list[asyncio.Task[None]] = []
    ready = asyncio.Event()
    connected = 0

    async def hold(client: httpx.AsyncClient) -> None:
        nonlocal connected
        async with client.stream("GET", "/v1/stream", params={"ping": 60}) as response:
            async for line in response.aiter_lines():
                if line == ": connected":
                    connected += 1
                    if connected == len(clients):
                        ready.set()

    for client in clients:
        opened.append(asyncio.create_task(hold(client)))
    await asyncio.wait_for(ready.wait(), 10)
    # It must end by itself: uvicorn would otherwise wait for the streams forever (and be
    # killed after 30 s). How fast it goes is a figure, not an assertion.
    ended = await asyncio.to_thread(live.server.stop, signal.SIGTERM, 30.0)
    assert ended, "SIGTERM did not stop the server with streams open; it had to be killed"
    # Every stream ended cleanly or with a dropped connection; none hangs.
    done, pending = await asyncio.wait(opened, timeout=5)
    assert not pending
    for client in clients:
        await client.aclose()


async def test_a_stream_whose_client_left_is_freed_while_idle(live: Live) -> None:
    """A client that disconnects from an idle stream (no change, no ping due for 300 s)
    frees it at once: the server notices the disconnect, not only its next write."""

    async def open_streams(client: httpx.AsyncClient) -> int:
        metrics = (await client.get("/metrics")).text
        line = next(x for x in metrics.splitlines() if x.startswith("incidents_sse_streams "))
        return int(float(line.split()[1]))

    async with live.http("viewer") as client:
        async with client.stream("GET", "/v1/stream", params={"ping": 300}) as response:
            assert response.status_code == 200
            await wait_until(lambda: open_streams(client), what="the stream is open")

        # Left without reading further: no write is due on that stream for five minutes.
        async def freed() -> bool:
            return await open_streams(client) == 0

        await wait_until(freed, what="the left stream is freed")
