"""One automation leader among replicas on PostgreSQL: two servers' automations on one
database, a real webhook receiver; the leader dies mid-escalation and the other takes over;
every due level escalates once and pages once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from backends.postgres.store import PostgresBackend
from console.domain.clock import FrozenClock
from console.domain.config import NotifySettings, Settings, WebhookTarget
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
from console.services.automation import Automation
from tests.intake.receiver import Receiver
from tests.postgres import fresh_dsn
from tests.waiting import wait_until

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
POLICY = EscalationPolicy(
    id="p",
    name="three people",
    levels=tuple(
        EscalationLevel(
            targets=(EscalationTarget(kind=TargetKind.USER, id=user),), wait=timedelta(minutes=1)
        )
        for user in ("alice", "bob", "carol")
    ),
)


async def test_the_leader_dies_mid_escalation_and_each_level_pages_once() -> None:
    dsn = await fresh_dsn()
    clock = FrozenClock(T0)
    async with Receiver() as receiver:
        target = WebhookTarget(url=receiver.url, events=["incident.escalated"], min_priority="P5")
        settings = Settings(database_url=dsn, notify=NotifySettings(webhooks=[target]))
        stores = [
            await PostgresBackend(dsn, settings=settings, clock=clock, leader_retry=0.1).open()
            for _ in range(2)
        ]
        for user in ("alice", "bob", "carol"):
            await stores[0].put_user(User(id=user, name=user))
        await stores[0].put_policy(POLICY)
        await stores[0].put_service(Service(id="web", name="Web", policy="p"))
        automations = [Automation(s, settings, clock, interval=0.05) for s in stores]
        runs = [asyncio.create_task(a.run()) for a in automations]
        try:
            await wait_until(lambda: any(a.leading for a in automations))
            leader = next(n for n, a in enumerate(automations) if a.leading)
            assert not automations[1 - leader].leading, "one leader"
            incident = await stores[0].create_incident(
                NewIncident(title="down", service="web", priority=Priority.P1), "alice"
            )
            clock.set(T0 + timedelta(minutes=1, seconds=1))
            await wait_until(lambda: len(receiver.requests) == 1)
            log = stores[0].capabilities.deliveries
            assert log is not None

            async def logged() -> bool:
                return [d.status for d in await log.recent()] == ["delivered"]

            await wait_until(logged)

            # The leader dies: its tasks stop without any clean-up and its connections drop.
            runs[leader].cancel()
            await stores[leader].close()
            other = automations[1 - leader]
            await wait_until(lambda: other.leading)

            clock.set(T0 + timedelta(minutes=2, seconds=2))
            await wait_until(lambda: len(receiver.requests) == 2)
            survivor = stores[1 - leader]
            timeline = await survivor.timeline(incident.id)
            escalations = [e for e in timeline if e.kind == EntryKind.ESCALATED]
            assert [e.data.get("level") for e in escalations] == [2, 3]
            texts = [r["incident"]["escalation_level"] for r in receiver.requests]
            assert texts == [2, 3], "one page per due level, none lost, none doubled"
            survivor_log = survivor.capabilities.deliveries
            assert survivor_log is not None

            async def both_logged() -> bool:
                statuses = [d.status for d in await survivor_log.recent()]
                return statuses == ["delivered", "delivered"]

            await wait_until(both_logged)
        finally:
            for run in runs:
                run.cancel()
            await asyncio.gather(*runs, return_exceptions=True)
            for store in stores:
                await store.close()
