"""Failover without lost or double pages: two ``incidents serve`` replicas on one PostgreSQL
database, a real webhook receiver; kill -9 the leader between two due escalation levels.
The other replica takes over, and each due level escalates once and pages once."""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta
from pathlib import Path

import pytest

from backends.postgres.store import PostgresBackend
from console.domain.models import (
    EntryKind,
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    NewIncident,
    Priority,
    Service,
    TargetKind,
    User,
)
from tests.intake.receiver import Receiver
from tests.postgres import fresh_dsn
from tests.remote.server import ServerProcess
from tests.waiting import wait_until

pytestmark = pytest.mark.slow
USERS = ("alice", "bob", "carol")
WAIT = timedelta(seconds=3)


def _config(home: Path, receiver: Receiver) -> None:
    folder = home / "config" / "incident-console"
    folder.mkdir(parents=True)
    (folder / "config.toml").write_text(
        "[server]\nescalator_interval = 0.2\n\n"
        f'[[notify.webhooks]]\nurl = "{receiver.url}"\nevents = ["incident.escalated"]\n'
        'min_priority = "P5"\n'
    )


async def test_kill_9_the_leader_mid_escalation_pages_each_level_once(tmp_path: Path) -> None:
    dsn = await fresh_dsn()
    policy = EscalationPolicy(
        id="p",
        name="three people",
        levels=tuple(
            EscalationLevel(targets=(EscalationTarget(kind=TargetKind.USER, id=u),), wait=WAIT)
            for u in USERS
        ),
    )
    async with Receiver() as receiver, PostgresBackend(dsn) as store:
        for user in USERS:
            await store.put_user(User(id=user, name=user))
        await store.put_policy(policy)
        await store.put_service(Service(id="web", name="Web", policy="p"))
        homes = [tmp_path / name for name in ("a", "b")]
        for home in homes:
            _config(home, receiver)
        servers = [ServerProcess(dsn, home=home).start() for home in homes]
        try:
            await asyncio.gather(*(s.ready() for s in servers))

            def leader() -> ServerProcess | None:
                found = [s for s in servers if any("leading" in x for x in s.output)]
                return found[0] if len(found) == 1 else None

            first = await wait_until(leader, what="one replica to lead")
            incident = await store.create_incident(
                NewIncident(title="db down", service="web", priority=Priority.P1), "alice"
            )
            # Level 2 is paged by the first leader; then it dies before level 3 is due.
            await wait_until(lambda: len(receiver.requests) >= 1, what="the level 2 page")
            assert first.proc is not None
            first.proc.send_signal(signal.SIGKILL)
            first.proc.wait(10)
            survivor = next(s for s in servers if s is not first)
            await wait_until(
                lambda: any("leading" in x for x in survivor.output), what="the takeover"
            )
            await wait_until(lambda: len(receiver.requests) >= 2, what="the level 3 page")
            # Level 3 is the last; nothing more may come (no repeat, no double page).
            timeline = await store.timeline(incident.id)
            levels = [e.data.get("level") for e in timeline if e.kind == EntryKind.ESCALATED]
            assert levels == [2, 3]
            pages = [r["incident"]["escalation_level"] for r in receiver.requests]
            assert pages == [2, 3], "one page per due level, none lost, none doubled"
        finally:
            for server in servers:
                server.stop()
        assert [r["incident"]["escalation_level"] for r in receiver.requests] == [2, 3]
