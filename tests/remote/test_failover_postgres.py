"""Failover without lost or double pages: two ``incidents serve`` replicas on one PostgreSQL
database, a real webhook receiver; kill -9 the leader between two due escalation levels, or
while a webhook is in flight. The other replica takes over; each due level escalates once
and pages once, and every notification reaches the receiver once by idempotency key."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from backends import capabilities
from backends.postgres.store import PostgresBackend
from console.domain.models import EntryKind, NewIncident, Priority, Service
from tests.intake.receiver import Receiver
from tests.postgres import fresh_dsn
from tests.remote.failover import (
    HELD,
    check_each_delivered_once,
    kill_9,
    leading,
    seed_escalation,
    the_leader,
    write_config,
)
from tests.remote.server import ServerProcess
from tests.waiting import wait_until

pytestmark = pytest.mark.slow
WAIT = timedelta(seconds=3)


async def test_kill_9_the_leader_mid_escalation_pages_each_level_once(tmp_path: Path) -> None:
    dsn = await fresh_dsn()
    async with Receiver() as receiver, PostgresBackend(dsn) as store:
        await seed_escalation(store, WAIT)
        homes = [tmp_path / name for name in ("a", "b")]
        for home in homes:
            write_config(home, receiver, "incident.escalated", server="escalator_interval = 0.2")
        servers = [ServerProcess(dsn, home=home).start() for home in homes]
        try:
            await asyncio.gather(*(s.ready() for s in servers))
            first = await wait_until(lambda: the_leader(servers), what="one replica to lead")
            incident = await store.create_incident(
                NewIncident(title="db down", service="web", priority=Priority.P1), "alice"
            )
            # Level 2 is paged by the first leader; then it dies before level 3 is due.
            await wait_until(lambda: len(receiver.requests) >= 1, what="the level 2 page")
            kill_9(first)
            survivor = next(s for s in servers if s is not first)
            await wait_until(lambda: leading(survivor), what="the takeover")
            # The level 2 page may come twice (the leader died before it logged the answer:
            # the survivor sends it again from the outbox), always with the same key; the
            # receiver counts pages by key.
            await wait_until(lambda: len(set(receiver.keys)) >= 2, what="the level 3 page")
            # Level 3 is the last; nothing more may come (no repeat, no double page).
            timeline = await store.timeline(incident.id)
            levels = [e.data.get("level") for e in timeline if e.kind == EntryKind.ESCALATED]
            assert levels == [2, 3]
            pages = [r["incident"]["escalation_level"] for r in receiver.once().values()]
            assert pages == [2, 3], "one page per due level, none lost, none doubled"
        finally:
            for server in servers:
                server.stop()
        assert [r["incident"]["escalation_level"] for r in receiver.once().values()] == [2, 3]
        assert len(receiver.requests) <= 3, "only the page in flight at the kill comes again"


async def test_kill_9_the_leader_mid_delivery_loses_no_webhook(tmp_path: Path) -> None:
    """The leader dies while the receiver holds its first webhook unanswered (two more wait
    behind it). The replica that takes over sends every unconfirmed message again from the
    store's outbox with the same idempotency key: the receiver, counting by key, gets each
    of the three notifications exactly once, and the log has one delivered row per key."""
    dsn = await fresh_dsn()
    hold = asyncio.Event()
    async with Receiver(hold=hold) as receiver, PostgresBackend(dsn) as store:
        await store.put_service(Service(id="web", name="Web"))
        homes = [tmp_path / name for name in ("a", "b")]
        for home in homes:
            write_config(home, receiver, "incident.created", **HELD)
        servers = [ServerProcess(dsn, home=home).start() for home in homes]
        log = capabilities.deliveries(store)
        assert log is not None
        try:
            await asyncio.gather(*(s.ready() for s in servers))
            first = await wait_until(lambda: the_leader(servers), what="one replica to lead")
            created = [
                await store.create_incident(
                    NewIncident(title=f"disk {n}", service="web", priority=Priority.P2), "alice"
                )
                for n in range(3)
            ]

            async def all_logged() -> bool:
                return len(await log.pending()) == 3

            await wait_until(lambda: len(receiver.arrived) >= 1, what="the first webhook")
            await wait_until(all_logged, what="all three messages in the outbox")
            kill_9(first)
            survivor = next(s for s in servers if s is not first)
            await wait_until(lambda: leading(survivor), what="the takeover")
            await wait_until(lambda: len(receiver.arrived) >= 2, what="the resent webhook")
            hold.set()

            async def confirmed() -> bool:
                return not await log.pending()

            await wait_until(confirmed, what="every message confirmed")
            await wait_until(lambda: len(set(receiver.keys)) >= 3, what="three accepted keys")
        finally:
            for server in servers:
                server.stop()
        logged = await log.recent()
    check_each_delivered_once(logged, receiver, created)
