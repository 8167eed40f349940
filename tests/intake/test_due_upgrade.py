"""The upgrade path of the due columns, on SQLite and PostgreSQL: a database built at the
schema of an older release (its own migrations only), with incidents written as that
release wrote them (the columns its schema had), is opened by this release: the pending
migrations run, and every open incident's due columns are what ``backends.common.rows.due_row``
computes, so the escalator escalates each on time, no earlier.

From the version before the migration that added ``escalator_due`` (SQLite 12, PostgreSQL
9), and from the one before the migration that added what it is made of (SQLite 13,
PostgreSQL 10)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
import pytest

import backends.postgres.store as postgres_store
import backends.sqlite.store as sqlite_store
from backends.common.rows import DUE_COLUMNS, INCIDENT_COLUMNS, due_row, incident_row
from backends.postgres.store import PostgresBackend
from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.config import Settings
from console.domain.models import (
    Incident,
    Pause,
    Priority,
    Service,
    Status,
    User,
)
from console.services.escalator import Escalator
from tests.intake.conftest import POLICY, T0

SERVICES = (
    Service(id="checkout", name="Checkout", policy=POLICY.id),
    Service(id="search", name="Search"),
)
DIRECTORY = [
    ("users", "alice", User(id="alice", name="Alice").model_dump_json()),
    ("users", "bob", User(id="bob", name="Bob").model_dump_json()),
    ("policies", POLICY.id, POLICY.model_dump_json()),
    *(("services", s.id, s.model_dump_json()) for s in SERVICES),
]


def _incidents() -> list[Incident]:
    def made(n: int, title: str, **fields: Any) -> Incident:
        fields.setdefault("service", "checkout")
        fields.setdefault("policy", POLICY.id if fields["service"] == "checkout" else None)
        fields.setdefault("created_at", T0)
        return Incident(id=n, key=f"INC-{n}", title=title, updated_at=T0, **fields)

    held = Pause(start=T0 + timedelta(minutes=1), end=T0 + timedelta(minutes=3))
    return [
        made(1, "level 1: due at 5m", priority=Priority.P3),
        made(
            2,
            "level 2 reached at 1m: due at 11m",
            escalation_level=2,
            priority=Priority.P3,
            escalated_at=T0 + timedelta(minutes=1),
        ),
        made(3, "held 2m after it started: due at 7m", pauses=(held,), priority=Priority.P3),
        made(4, "acknowledged", status=Status.ACKNOWLEDGED, acknowledged_at=T0),
        made(5, "no policy, P1: response breach at 15m", service="search", priority=Priority.P1),
        made(6, "resolved", status=Status.RESOLVED, resolved_at=T0, priority=Priority.P3),
    ]


def _old_rows(incidents: Sequence[Incident], columns: set[str]) -> tuple[str, list[list[Any]]]:
    """The INSERT an older release made: this release's row, cut to the columns it had."""
    names = [c.strip() for c in INCIDENT_COLUMNS.split(",")]
    kept = [n for n in names if n in columns]
    rows = []
    for incident in incidents:
        policy = POLICY if incident.policy else None
        values = dict(zip(names, incident_row(incident, Settings().sla, T0, policy), strict=True))
        rows.append([values[n] for n in kept])
    return f"INSERT INTO incidents ({', '.join(kept)}) VALUES ({{marks}})", rows


async def _sqlite_at(path: Path, version: int, incidents: Sequence[Incident]) -> None:
    async with aiosqlite.connect(path, isolation_level=None) as db:
        for migration in sqlite_store.MIGRATIONS[:version]:
            for step in migration.steps:
                if isinstance(step, str):
                    await db.execute(step)
                else:
                    await step(db)
        await db.execute(f"PRAGMA user_version = {version}")
        for table, key, data in DIRECTORY:
            await db.execute(f"INSERT INTO {table} (id, data) VALUES (?, ?)", [key, data])
        columns = {row[1] for row in await db.execute_fetchall("PRAGMA table_info(incidents)")}
        sql, rows = _old_rows(incidents, columns)
        await db.executemany(sql.format(marks=",".join("?" * len(rows[0]))), rows)


async def _postgres_at(dsn: str, version: int, incidents: Sequence[Incident]) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute("CREATE TABLE incident_console_schema (version integer NOT NULL)")
            await conn.execute("INSERT INTO incident_console_schema VALUES ($1)", version)
            for migration in postgres_store.MIGRATIONS[:version]:
                for step in migration.steps:
                    await conn.execute(step)
            for table, key, data in DIRECTORY:
                await conn.execute(f"INSERT INTO {table} (id, data) VALUES ($1, $2)", key, data)
            columns = {
                str(row[0])
                for row in await conn.fetch(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_name = 'incidents'"
                )
            }
            sql, rows = _old_rows(incidents, columns)
            marks = ",".join(f"${n}" for n in range(1, len(rows[0]) + 1))
            await conn.executemany(sql.format(marks=marks), rows)
    finally:
        await conn.close()


def _before(migrations: Sequence[Any], starts: str) -> int:
    """The schema version just before the migration whose description starts so."""
    return next(n for n, m in enumerate(migrations) if m.description.startswith(starts))


ADDED_DUE = "when the escalator may next act on an incident"
ADDED_PARTS = "what escalator_due is made of"
VERSIONS = [
    (kind, _before(module.MIGRATIONS, added))
    for kind, module in (("sqlite", sqlite_store), ("postgres", postgres_store))
    for added in (ADDED_DUE, ADDED_PARTS)
]


@pytest.mark.parametrize(("kind", "version"), VERSIONS)
async def test_an_older_schema_is_migrated_and_its_due_columns_filled(
    kind: str, version: int, tmp_path: Path
) -> None:
    incidents = _incidents()
    clock = FrozenClock(T0)
    store: SqliteBackend | PostgresBackend
    if kind == "sqlite":
        path = tmp_path / "old.db"
        await _sqlite_at(path, version, incidents)
        store = SqliteBackend(path, settings=Settings(db=path), clock=clock)
        migrations = len(sqlite_store.MIGRATIONS)
    else:
        from tests.postgres import fresh_dsn

        dsn = await fresh_dsn()
        await _postgres_at(dsn, version, incidents)
        store = PostgresBackend(dsn, settings=Settings(database_url=dsn), clock=clock)
        migrations = len(postgres_store.MIGRATIONS)
    assert version < migrations
    async with store:
        if isinstance(store, PostgresBackend):
            async with store._require().acquire() as conn:
                assert await store.schema_version(conn) == migrations
            read = [
                tuple(r)
                for r in await store.fetch(
                    f"SELECT id, {', '.join(DUE_COLUMNS)} FROM incidents ORDER BY id"
                )
            ]
        else:
            rows = await store.fetchall("PRAGMA user_version")
            assert rows[0][0] == migrations
            read = await store.fetchall(
                f"SELECT id, {', '.join(DUE_COLUMNS)} FROM incidents ORDER BY id"
            )
        for incident, row in zip(incidents, read, strict=True):
            if not incident.is_open:  # never due: closed rows keep what they had
                assert row[2] is None, incident.title
                continue
            policy = POLICY if incident.policy else None
            expected = due_row(incident, store.settings.sla, T0, policy)
            assert row == (incident.id, *expected), incident.title
        escalator = Escalator(store, clock)
        ticks: list[tuple[int, list[str]]] = []
        for minute in (4, 5, 7, 11, 15):
            clock.set(T0 + timedelta(minutes=minute) - timedelta(microseconds=1))
            assert await escalator.tick() == [], minute
            clock.set(T0 + timedelta(minutes=minute))
            ticks.append((minute, await escalator.tick()))
    assert ticks == [
        (4, []),
        (5, ["INC-1 escalated to level 2"]),
        (7, ["INC-3 escalated to level 2"]),
        (11, ["INC-2 escalated to level 1"]),
        (15, ["INC-1 escalated to level 1", "INC-5 response SLA breached"]),
    ]
