"""The PostgreSQL store beyond the contract: a change feed that never skips with many
concurrent writers, watchers that survive a lost connection, versioned migrations that
refuse a newer schema, and replicas migrating at once. A real throw-away cluster."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from backends.base import Unavailable
from backends.postgres.schema import MIGRATIONS
from backends.postgres.store import PostgresBackend, SchemaTooNew
from console.domain.lifecycle import AddNote
from console.domain.models import Change, NewIncident, Service
from tests.postgres import fresh_dsn

WRITERS = 6
PER_WRITER = 20


async def _collect(feed: AsyncIterator[Change], count: int) -> list[Change]:
    got: list[Change] = []
    async with asyncio.timeout(60):
        async for change in feed:
            got.append(change)
            if len(got) == count:
                break
    return got


async def test_many_concurrent_writers_every_watcher_gets_every_change_once_in_order() -> None:
    dsn = await fresh_dsn()
    stores = [await PostgresBackend(dsn, poll_interval=5.0).open() for _ in range(WRITERS)]
    try:
        await stores[0].put_service(Service(id="web", name="Web"))
        start = await stores[0].last_seq()
        # Each writer: creates and notes, while one slow transaction sits open in between.
        total = WRITERS * PER_WRITER * 2 + 1
        watchers = [
            asyncio.create_task(_collect(store.watch(start), total)) for store in stores[:3]
        ]

        async def write(store: PostgresBackend, n: int) -> None:
            for i in range(PER_WRITER):
                incident = await store.create_incident(
                    NewIncident(title=f"w{n}-{i}", service="web"), "alice"
                )
                await store.act(incident.id, AddNote(text="x"), "bob", incident.version)

        async def slow() -> None:
            # Takes its seq last but holds its transaction open while the others commit.
            async with stores[0].transaction() as tx:
                tx.record_change("service.updated", "service", "web")
                await asyncio.sleep(0.3)

        await asyncio.gather(*(write(s, n) for n, s in enumerate(stores)), slow())
        every = await stores[0].changes(start, 10_000)
        assert len(every) == total
        for got in await asyncio.gather(*watchers):
            seqs = [c.seq for c in got]
            assert seqs == sorted(set(seqs)), "in order, each once"
            assert got == every
    finally:
        for store in stores:
            await store.close()


async def test_a_watch_survives_a_lost_connection() -> None:
    dsn = await fresh_dsn()
    async with PostgresBackend(dsn, poll_interval=0.1) as store:
        await store.put_service(Service(id="web", name="Web"))
        feed = store.watch(await store.last_seq())
        await store.put_service(Service(id="web", name="Web 1"))
        first = await _collect(feed, 1)
        # Kill every other connection (the watcher's LISTEN connection among them).
        admin = await asyncpg.connect(dsn)
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await admin.close()
        for attempt in range(20):  # the pool's connections died too: retry until a new one
            try:
                await store.put_service(Service(id="web", name="Web 2"))
                break
            except Unavailable:
                if attempt == 19:
                    raise
        [second] = await _collect(feed, 1)
        assert second.seq > first[0].seq and second.kind == "service.updated"
        await feed.aclose()  # type: ignore[attr-defined]


async def test_a_newer_schema_is_refused_and_left_untouched() -> None:
    dsn = await fresh_dsn()
    async with PostgresBackend(dsn):
        pass
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("UPDATE incident_console_schema SET version = $1", len(MIGRATIONS) + 1)
        tables = await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await conn.close()
    with pytest.raises(SchemaTooNew, match="newer release"):
        await PostgresBackend(dsn).open()
    conn = await asyncpg.connect(dsn)
    try:
        assert (
            await conn.fetchval("SELECT version FROM incident_console_schema")
            == len(MIGRATIONS) + 1
        )
        assert (
            await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            == tables
        )
    finally:
        await conn.close()


async def test_replicas_starting_together_migrate_once() -> None:
    dsn = await fresh_dsn()
    stores = await asyncio.gather(*(PostgresBackend(dsn).open() for _ in range(4)))
    try:
        conn = await asyncpg.connect(dsn)
        try:
            assert await conn.fetchval("SELECT version FROM incident_console_schema") == len(
                MIGRATIONS
            )
            assert await conn.fetchval("SELECT count(*) FROM incident_console_schema") == 1
        finally:
            await conn.close()
    finally:
        for store in stores:
            await store.close()


async def test_a_database_of_another_program_is_refused() -> None:
    dsn = await fresh_dsn()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE TABLE payroll (id int)")
    finally:
        await conn.close()
    with pytest.raises(Unavailable, match="other program"):
        await PostgresBackend(dsn).open()


async def test_an_unreachable_server_is_a_clear_error() -> None:
    store = PostgresBackend("postgresql://nobody@127.0.0.1:9/none", connect_timeout=2)
    with pytest.raises(Unavailable, match="cannot reach PostgreSQL"):
        await store.open()


async def _probe_until(store: PostgresBackend, ok: bool) -> str:
    """Probe until a probe's outcome is ``ok``: the first use of a pooled connection the
    server ended fails as a lost connection, the next one reconnects (a few tries at most)."""
    for _ in range(10):
        try:
            await store.probe_write()
        except Unavailable as exc:
            if not ok:
                if "read-only" in str(exc):
                    return str(exc)
                continue
        else:
            if ok:
                return ""
    raise AssertionError(f"the probe never became ok={ok}: {store.last_write()}")


async def test_write_probe_fails_while_the_database_refuses_writes_and_recovers() -> None:
    """``WriteHealth`` on PostgreSQL (what ``/readyz`` asks): a database switched to
    read-only, as after a fail-over onto a standby, fails the probe saying why; it recovers
    when writes are accepted again."""
    dsn = await fresh_dsn()
    store = await PostgresBackend(dsn, poll_interval=5.0).open()
    admin = await asyncpg.connect(dsn)
    kick = (
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    try:
        await store.probe_write()
        outcome = store.last_write()
        assert outcome is not None and outcome.ok
        name = await admin.fetchval("SELECT current_database()")
        await admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        await admin.execute(kick)
        why = await _probe_until(store, ok=False)
        outcome = store.last_write()
        assert outcome is not None and not outcome.ok and outcome.error == why
        assert "nothing was changed" in why
        await admin.execute("SET default_transaction_read_only = off")
        await admin.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
        await admin.execute(kick)
        await _probe_until(store, ok=True)
        outcome = store.last_write()
        assert outcome is not None and outcome.ok
    finally:
        await admin.close()
        await store.close()
