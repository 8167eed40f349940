"""The token store and the delivery log behave the same on every store (the capabilities
of ``backends.capabilities``, over SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backends import capabilities
from backends.base import Backend, NotFound
from backends.postgres.store import PostgresBackend
from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.deliveries import NewDelivery

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    clock = FrozenClock(T0)
    opened: SqliteBackend | PostgresBackend
    if request.param == "postgres":
        from tests.postgres import fresh_dsn

        opened = PostgresBackend(await fresh_dsn(), clock=clock)
    else:
        opened = SqliteBackend(tmp_path / "c.db", clock=clock)
    async with opened:
        yield opened


async def test_tokens(store: Backend) -> None:
    tokens = capabilities.tokens(store)
    assert tokens is not None
    info, token = await tokens.create("alice", "responder", "laptop")
    assert token.startswith("inc_") and info.user == "alice"
    principal = await tokens.verify(token)
    assert principal is not None and (principal.user, principal.role) == ("alice", "responder")
    assert await tokens.verify(token[:-1] + ("x" if token[-1] != "x" else "y")) is None
    assert await tokens.verify("inc_nope_nope") is None
    [listed] = await tokens.list()
    assert listed.last_used_at == T0, "a verified token records its use"
    with pytest.raises(ValueError, match="unknown role"):
        await tokens.create("bob", "root")
    revoked = await tokens.revoke(info.id)
    assert revoked.revoked_at == T0
    assert await tokens.verify(token) is None
    assert await tokens.list(include_revoked=False) == []
    with pytest.raises(NotFound):
        await tokens.revoke("missing")


async def test_delivery_log(store: Backend) -> None:
    log = capabilities.deliveries(store)
    assert log is not None
    rows = [
        NewDelivery(T0, "chat", "https://hooks.example", "incident.created", f"INC-{n}", "queued")
        for n in (1, 2)
    ]
    added = await log.add(rows)
    ids = [i for i in added if i is not None]
    assert len(ids) == 2 and ids == sorted(ids)
    await log.update(
        ids[0], "delivered", attempts=1, response_code=200, error="", at=T0 + timedelta(seconds=1)
    )
    assert await log.abandon_unfinished("stopped", T0 + timedelta(seconds=2)) == 1
    newest, oldest = await log.recent()
    assert (oldest.id, oldest.status, oldest.response_code) == (ids[0], "delivered", 200)
    assert (newest.incident_key, newest.status, newest.error) == ("INC-2", "failed", "stopped")
    assert newest.updated_at == T0 + timedelta(seconds=2)
    assert [d.id for d in await log.recent(1)] == [ids[1]]


async def test_the_delivery_log_is_an_outbox(store: Backend) -> None:
    """Unconfirmed messages are kept with their body and key for the next notifier; a key
    is logged once (a second notifier logging the same message gets None); the notifier's
    place in the feed moves with the rows, never backwards."""
    log = capabilities.deliveries(store)
    assert log is not None
    assert await log.cursor() is None and await log.pending() == []

    def row(n: int, key: str) -> NewDelivery:
        return NewDelivery(
            T0,
            "chat",
            "https://hooks.example",
            "incident.created",
            f"INC-{n}",
            "queued",
            key=key,
            body=f'{{"n": {n}}}',
        )

    first = await log.add([row(1, "k1"), row(2, "k2")], seq=7)
    assert None not in first and await log.cursor() == 7
    again = await log.add([row(2, "k2"), row(3, "k3"), row(4, "")], seq=5)
    assert again[0] is None, "the message with key k2 is logged already"
    assert again[1] is not None and again[2] is not None
    assert await log.cursor() == 7, "the cursor never moves back"
    pending = await log.pending()
    assert [(p.incident_key, p.key, p.body, p.attempts) for p in pending] == [
        ("INC-1", "k1", '{"n": 1}', 0),
        ("INC-2", "k2", '{"n": 2}', 0),
        ("INC-3", "k3", '{"n": 3}', 0),
        ("INC-4", "", '{"n": 4}', 0),
    ]
    assert first[0] is not None and first[1] is not None
    await log.update(
        first[0], "delivered", attempts=1, response_code=200, error="", at=T0 + timedelta(1)
    )
    await log.update(first[1], "retrying", attempts=2, response_code=503, error="HTTP 503", at=T0)
    assert [(p.key, p.attempts) for p in await log.pending()] == [("k2", 2), ("k3", 0), ("", 0)]
    assert {d.key for d in await log.recent()} == {"k1", "k2", "k3", ""}


async def test_tally_counts_open_incidents_and_breaches_by_the_domain_rule(store: Backend) -> None:
    from console.domain.models import NewIncident, Priority, Service, Status
    from console.domain.sla import SlaPolicy, is_breached

    await store.put_service(Service(id="web", name="Web"))
    tally = capabilities.tally(store)
    assert tally is not None
    assert await tally.open_counts(T0) == []
    urgent = await store.create_incident(
        NewIncident(title="a", service="web", impact=1, urgency=1), "t"
    )
    await store.create_incident(NewIncident(title="b", service="web"), "t")
    counts = {(c.priority, c.status): (c.open, c.breached) for c in await tally.open_counts(T0)}
    assert counts == {
        (Priority.P1, Status.TRIGGERED): (1, 0),
        (Priority.P3, Status.TRIGGERED): (1, 0),
    }
    later = T0 + timedelta(minutes=16)  # past P1's 15-minute response target
    assert is_breached(urgent, later, SlaPolicy())  # the stores here run the defaults
    counts = {(c.priority, c.status): (c.open, c.breached) for c in await tally.open_counts(later)}
    assert counts[(Priority.P1, Status.TRIGGERED)] == (1, 1)
    assert counts[(Priority.P3, Status.TRIGGERED)] == (1, 0)
