"""One leader per SQLite file: two ``incidents serve`` on one database file, a real webhook
receiver. Only the holder of the lease (``backends.sqlite.leader``) runs the escalator and
the notifier, so each notification is sent once; kill -9 the leader and the other takes
over once the lease runs out, with no escalation lost or doubled.

Before, both servers ran both: every webhook came twice (10 posts for 5 incidents).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from backends import capabilities
from backends.sqlite.store import SqliteBackend
from console.domain.models import EntryKind, NewIncident, Priority, Service
from tests.intake.receiver import Receiver
from tests.remote.failover import kill_9, leading, seed_escalation, the_leader, write_config
from tests.remote.server import ServerProcess
from tests.waiting import wait_until

pytestmark = pytest.mark.slow
WAIT = timedelta(seconds=4)
LEASE = 5.0
SERVER = f"escalator_interval = 0.2\nleader_lease = {LEASE}"


async def test_two_servers_on_one_file_send_each_notification_once(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    async with Receiver() as receiver, SqliteBackend(db) as store:
        await store.put_service(Service(id="web", name="Web"))
        homes = [tmp_path / name for name in ("a", "b")]
        for home in homes:
            write_config(home, receiver, "incident.created", server=SERVER)
        servers = [ServerProcess(db, home=home).start() for home in homes]
        log = capabilities.deliveries(store)
        assert log is not None
        try:
            await asyncio.gather(*(s.ready(timeout=60) for s in servers))
            await wait_until(
                lambda: the_leader(servers),
                what="one server to lead",
                detail=lambda: "\n---\n".join("".join(s.output) for s in servers),
            )
            created = [
                await store.create_incident(
                    NewIncident(title=f"disk {n}", service="web", priority=Priority.P2), "alice"
                )
                for n in range(5)
            ]
            await wait_until(lambda: len(set(receiver.keys)) >= 5, what="five notifications")

            async def confirmed() -> bool:
                return len(await log.recent()) >= 5 and not await log.pending()

            await wait_until(confirmed, what="every message confirmed")
            assert the_leader(servers) is not None
        finally:
            for server in servers:
                server.stop()
        logged = await log.recent()
    assert sorted(d.incident_key for d in logged) == sorted(i.key for i in created)
    assert len(receiver.requests) == 5, "each notification sent once (10 posts before)"


async def test_kill_9_the_leader_and_the_other_takes_over_paging_each_level_once(
    tmp_path: Path,
) -> None:
    db = tmp_path / "shared.db"
    async with Receiver() as receiver, SqliteBackend(db) as store:
        await seed_escalation(store, WAIT)
        homes = [tmp_path / name for name in ("a", "b")]
        for home in homes:
            write_config(home, receiver, "incident.escalated", server=SERVER)
        servers = [ServerProcess(db, home=home).start() for home in homes]
        try:
            await asyncio.gather(*(s.ready(timeout=60) for s in servers))
            first = await wait_until(
                lambda: the_leader(servers),
                what="one server to lead",
                detail=lambda: "\n---\n".join("".join(s.output) for s in servers),
            )
            incident = await store.create_incident(
                NewIncident(title="db down", service="web", priority=Priority.P1), "alice"
            )
            # Level 2 is paged by the first leader; then it dies before level 3 is due.
            await wait_until(lambda: len(receiver.requests) >= 1, what="the level 2 page")
            kill_9(first)
            survivor = next(s for s in servers if s is not first)
            # The dead leader's lease runs out (LEASE seconds), then the survivor takes it.
            await wait_until(lambda: leading(survivor), what="the takeover")
            await wait_until(lambda: len(set(receiver.keys)) >= 2, what="the level 3 page")
            timeline = await store.timeline(incident.id)
            levels = [e.data.get("level") for e in timeline if e.kind == EntryKind.ESCALATED]
            assert levels == [2, 3], "each due level escalated once, none lost"
            pages = [r["incident"]["escalation_level"] for r in receiver.once().values()]
            assert pages == [2, 3], "one page per due level, none lost, none doubled"
        finally:
            for server in servers:
                server.stop()
        assert [r["incident"]["escalation_level"] for r in receiver.once().values()] == [2, 3]
        assert len(receiver.requests) <= 3, "only the page in flight at the kill comes again"


async def test_the_lease_passes_at_once_when_its_holder_stops_cleanly(tmp_path: Path) -> None:
    """A leader that stops (SIGTERM) expires its lease at once: the other need not wait."""
    from backends.sqlite.leader import LeaseLeadership

    db = tmp_path / "lease.db"
    async with SqliteBackend(db) as one, SqliteBackend(db) as two:
        first = LeaseLeadership(one, ttl=3600)
        second = LeaseLeadership(two, ttl=3600, retry=0.05)
        await first.acquire()
        waiting = asyncio.create_task(second.acquire())
        await asyncio.sleep(0)
        assert not waiting.done()
        await first.release()
        await asyncio.wait_for(waiting, 30)
        assert second.term == first.term + 1
        rows = await two.fetchall("SELECT holder, term FROM leases")
        assert rows == [(second.holder, second.term)]
        await second.release()
