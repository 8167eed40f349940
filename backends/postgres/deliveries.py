"""The outgoing-webhook delivery log of the PostgreSQL store, which is the notifier's outbox
(tables ``deliveries`` and ``notifier_cursor``; the statements are
``backends.common.deliveries``, with the marks numbered for asyncpg)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from backends.common.deliveries import SqlDeliveryLog
from backends.common.sql import numbered
from backends.postgres.tx import QmarkWriter

if TYPE_CHECKING:
    from backends.postgres.store import PostgresBackend


class PostgresDeliveryLog(SqlDeliveryLog):
    """``DeliveryLog`` on the PostgreSQL store's tables."""

    def __init__(self, store: PostgresBackend) -> None:
        @asynccontextmanager
        async def begin() -> AsyncIterator[QmarkWriter]:
            async with store.transaction() as tx:
                yield QmarkWriter(tx)

        async def read(sql: str, *args: Any) -> Sequence[Sequence[Any]]:
            return [tuple(row) for row in await store.fetch(numbered(sql), *args)]

        super().__init__(begin, read)
        self.store = store
