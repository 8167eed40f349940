"""The outbox on one SQLite file, through real ``incidents serve`` processes: the server is
killed (-9) while the receiver holds its first webhook unanswered, two more waiting behind
it; the next server on the same file sends every unconfirmed message again with the same
idempotency key, so the receiver, counting by key, gets each notification exactly once.
(The PostgreSQL twin, with two replicas and a takeover, is in
``tests/remote/test_failover_postgres.py``.)"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from backends import capabilities
from backends.sqlite.store import SqliteBackend
from console.domain.models import NewIncident, Priority, Service
from tests.intake.receiver import Receiver
from tests.remote.failover import HELD, check_each_delivered_once, kill_9, write_config
from tests.remote.server import ServerProcess
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


async def test_kill_9_mid_delivery_and_the_next_server_sends_what_is_unconfirmed(
    tmp_path: Path,
) -> None:
    db = tmp_path / "team.db"
    hold = asyncio.Event()
    async with Receiver(hold=hold) as receiver, SqliteBackend(db) as store:
        await store.put_service(Service(id="web", name="Web"))
        write_config(tmp_path, receiver, "incident.created", **HELD)
        log = capabilities.deliveries(store)
        assert log is not None
        first = ServerProcess(db, home=tmp_path).start()
        second: ServerProcess | None = None
        try:
            await first.ready()
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
            second = ServerProcess(db, home=tmp_path).start()
            await second.ready()
            await wait_until(lambda: len(receiver.arrived) >= 2, what="the resent webhook")
            hold.set()

            async def confirmed() -> bool:
                return not await log.pending()

            await wait_until(confirmed, what="every message confirmed")
            await wait_until(lambda: len(set(receiver.keys)) >= 3, what="three accepted keys")
        finally:
            first.stop()
            if second is not None:
                second.stop()
        logged = await log.recent()
    check_each_delivered_once(logged, receiver, created)
