"""``ChangeHub`` on a real SQLite store: with no stream open it follows the feed's end without
reading or framing the changes; a stream that opens gets them from the store."""

from __future__ import annotations

from pathlib import Path

from backends.sqlite.store import SqliteBackend
from console.domain.models import NewIncident, Service
from console.http.change_stream import ChangeHub
from tests.waiting import wait_until


async def test_with_no_stream_open_the_hub_skips_to_the_end_of_the_feed(tmp_path: Path) -> None:
    async with SqliteBackend(tmp_path / "incidents.db") as store:
        await store.put_service(Service(id="web", name="Web"))
        hub = ChangeHub(store, poll=0.02)
        await hub.start()
        try:
            start = hub.seq
            for n in range(3):
                await store.create_incident(NewIncident(title=f"t{n}", service="web"), "ana")
            end = await store.last_seq()
            await wait_until(lambda: hub.seq == end, what="the hub's seq at the feed's end")
            assert not hub.buffer and not hub.frames  # nothing read, nothing framed
            # A stream resuming from before that reads the store (``None``), not the hub.
            assert hub.frames_after(start) is None
            assert hub.frames_after(end) == b""

            hub.opened()  # a stream: from now on the hub reads and frames every change
            try:
                await store.create_incident(NewIncident(title="live", service="web"), "ana")
                latest = await store.last_seq()
                await wait_until(lambda: hub.seq == latest, what="the live change in the hub")
                assert [change.seq for change in hub.buffer] == list(range(end + 1, latest + 1))
                chunk = hub.frames_after(end)
                assert chunk is not None and f"id: {latest}".encode() in chunk
            finally:
                hub.ended()
        finally:
            await hub.stop()
