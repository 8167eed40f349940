"""What the PostgreSQL store and the modules with their own tables share: one write
transaction (``Tx``), the errors asyncpg raises, the directory tables, and the incident
statements.

It sits below ``backends.postgres.store`` (which opens the pool and hands out a ``Tx``) and
below ``intake``, ``leader`` and the rest, which therefore import from here and name the store
only as a type: the import graph of the package has no circle (``tests/unit/test_imports.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, TypeVar

import asyncpg
from pydantic import BaseModel

from backends.base import Unavailable
from backends.common.directory import TABLES
from backends.common.rows import ENTRY_COLUMNS, INCIDENT_COLUMNS, INCIDENT_COUNT, INCIDENT_UPDATE
from backends.common.sql import numbered
from console.domain.models import EscalationPolicy, Schedule, Service, Team, User

_M = TypeVar("_M", bound=BaseModel)

# (table, model) per directory entity; the change kind is "<entity>.updated".
DIRECTORY: dict[str, tuple[str, type[BaseModel]]] = {
    "service": (TABLES["service"], Service),
    "user": (TABLES["user"], User),
    "team": (TABLES["team"], Team),
    "policy": (TABLES["policy"], EscalationPolicy),
    "schedule": (TABLES["schedule"], Schedule),
}

# What asyncpg raises when the database is unreachable or refuses the work.
DB_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,  # a pooled connection that died mid-protocol
    OSError,
    asyncio.TimeoutError,
)


WATCH_ERRORS: tuple[type[BaseException], ...] = (*DB_ERRORS, Unavailable)


class WriteRace(Unavailable):
    """A unique key or serialisation check refused the write: another writer did the same
    thing at the same moment. Nothing was written; retrying reads what the other wrote."""

    code = "write_race"


class Tx:
    """One write transaction on one connection; change rows are written at commit."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.changes: list[tuple[str, str, str, int | None]] = []

    def record_change(
        self, kind: str, entity: str, entity_id: str, version: int | None = None
    ) -> None:
        """Append to the change feed when this transaction commits."""
        self.changes.append((kind, entity, entity_id, version))

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return list(await self.conn.fetch(sql, *args))

    async def execute(self, sql: str, *args: Any) -> str:
        return str(await self.conn.execute(sql, *args))

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            await self.conn.executemany(sql, rows)

    async def ids(self, sequence: str, count: int) -> list[int]:
        """``count`` fresh values of ``sequence``, ascending."""
        if count <= 0:
            return []
        rows = await self.conn.fetch(
            f"SELECT nextval('{sequence}') AS id FROM generate_series(1, $1) ORDER BY 1", count
        )
        return [int(row["id"]) for row in rows]


class QmarkWriter:
    """``backends.common.directory.SqlWriter`` on a ``Tx``: numbers the ``?`` marks and locks
    the rows it reads for update (replicas write at once; the row lock orders them)."""

    lock_rows = " FOR UPDATE"

    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    async def rows(self, sql: str, *args: Any) -> Sequence[Sequence[Any]]:
        return [tuple(row) for row in await self.tx.fetch(numbered(sql), *args)]

    async def run(self, sql: str, *args: Any) -> None:
        await self.tx.execute(numbered(sql), *args)

    async def run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self.tx.executemany(numbered(sql), rows)

    async def record_change(self, kind: str, entity: str, entity_id: str) -> None:
        self.tx.record_change(kind, entity, entity_id)


def table_of(model: type[BaseModel]) -> str:
    return next(t for t, m in DIRECTORY.values() if m is model)


async def directory(tx: Tx, model: type[_M]) -> list[_M]:
    """Every entry of one directory table, by id (inside the caller's transaction)."""
    rows = await tx.fetch(f"SELECT data FROM {table_of(model)} ORDER BY id")
    return [model.model_validate_json(row["data"]) for row in rows]


async def directory_get(tx: Tx, model: type[_M], entity_id: str | None) -> _M | None:
    if entity_id is None:
        return None
    rows = await tx.fetch(f"SELECT data FROM {table_of(model)} WHERE id = $1", entity_id)
    return model.model_validate_json(rows[0]["data"]) if rows else None


INSERT_INCIDENT = numbered(
    f"INSERT INTO incidents ({INCIDENT_COLUMNS}) VALUES ({','.join('?' * INCIDENT_COUNT)})"
)
INSERT_ENTRY = numbered(f"INSERT INTO timeline ({ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)")
UPDATE_INCIDENT = numbered(f"UPDATE incidents SET {INCIDENT_UPDATE} WHERE id = ? AND version = ?")
UPDATE_INCIDENT_ANY_VERSION = numbered(f"UPDATE incidents SET {INCIDENT_UPDATE} WHERE id = ?")
