"""Applying a directory file to the SQLite store: ``backends.common.directory`` writes it in
one ``BEGIN IMMEDIATE`` transaction (the whole store is locked, so no row locks are needed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from backends.common import directory
from console.domain.directory import DirectoryChanges

if TYPE_CHECKING:
    import aiosqlite

    from backends.sqlite.store import SqliteBackend


class _Writer:
    """``backends.common.directory.SqlWriter`` on the store's open transaction."""

    lock_rows = ""

    def __init__(self, backend: SqliteBackend, db: aiosqlite.Connection) -> None:
        self.backend = backend
        self.db = db

    async def rows(self, sql: str, *args: Any) -> Sequence[Sequence[Any]]:
        return list(await self.db.execute_fetchall(sql, args))

    async def run(self, sql: str, *args: Any) -> None:
        await self.db.execute(sql, args)

    async def record_change(self, kind: str, entity: str, entity_id: str) -> None:
        await self.backend.record_change(self.db, kind, entity, entity_id)


async def apply_directory(backend: SqliteBackend, changes: DirectoryChanges) -> None:
    async with backend.transaction() as db:
        await directory.apply_directory(_Writer(backend, db), changes)
