"""The SQLite store's open write transaction as the store-neutral ``SqlWriter`` seam
(``backends.common.directory``), for the statements written once in ``backends/common/``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiosqlite

    from backends.sqlite.store import SqliteBackend


class SqliteWriter:
    """``backends.common.directory.SqlWriter`` on one ``transaction()`` of the store."""

    # BEGIN IMMEDIATE holds the whole file's write lock: no row locks are needed.
    lock_rows = ""

    def __init__(self, backend: SqliteBackend, db: aiosqlite.Connection) -> None:
        self.backend = backend
        self.db = db

    async def rows(self, sql: str, *args: Any) -> Sequence[Sequence[Any]]:
        return list(await self.db.execute_fetchall(sql, args))

    async def run(self, sql: str, *args: Any) -> None:
        await self.db.execute(sql, args)

    async def run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self.db.executemany(sql, rows)

    async def record_change(self, kind: str, entity: str, entity_id: str) -> None:
        await self.backend.record_change(self.db, kind, entity, entity_id)


@asynccontextmanager
async def writing(backend: SqliteBackend) -> AsyncIterator[SqliteWriter]:
    """``backend.transaction()`` as a ``SqliteWriter``."""
    async with backend.transaction() as db:
        yield SqliteWriter(backend, db)
