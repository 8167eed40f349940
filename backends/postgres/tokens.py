"""API tokens in the PostgreSQL store (the ``TokenStore`` capability); the statements are
``backends.common.tokens``, with the marks numbered for asyncpg."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from backends.common.sql import numbered
from backends.common.tokens import SqlTokenStore
from console.domain.clock import Clock

if TYPE_CHECKING:
    from backends.postgres.store import PostgresBackend


class _Runner:
    def __init__(self, store: PostgresBackend) -> None:
        self.store = store

    async def write(self, sql: str, params: Sequence[Any]) -> None:
        async with self.store.transaction() as tx:
            await tx.execute(numbered(sql), *params)

    async def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in await self.store.fetch(numbered(sql), *params)]


class PostgresTokenStore(SqlTokenStore):
    """Tokens in the ``tokens`` table of the PostgreSQL store."""

    def __init__(self, store: PostgresBackend, clock: Clock | None = None) -> None:
        super().__init__(_Runner(store), clock or store.clock)
        self.store = store
