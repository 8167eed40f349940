"""API tokens in the SQLite store (the ``TokenStore`` capability): the statements are
``backends.common.tokens``; writes share the store's write lock, busy timeout and error
mapping (``Unavailable``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from backends.common.tokens import SqlTokenStore
from console.domain.clock import Clock

if TYPE_CHECKING:
    from backends.sqlite.store import SqliteBackend


class _Runner:
    def __init__(self, store: SqliteBackend) -> None:
        self.store = store

    async def write(self, sql: str, params: Sequence[Any]) -> None:
        async with self.store.transaction() as db:
            await db.execute(sql, params)

    async def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return await self.store.fetchall(sql, params)


class SqliteTokenStore(SqlTokenStore):
    """Tokens in the ``tokens`` table of the SQLite store."""

    def __init__(self, store: SqliteBackend, clock: Clock | None = None) -> None:
        super().__init__(_Runner(store), clock or store.clock)
        self.store = store
