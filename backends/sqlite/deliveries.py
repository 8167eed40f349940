"""The outgoing-webhook delivery log of the SQLite store, which is the notifier's outbox
(tables ``deliveries`` and ``notifier_cursor``; the statements are
``backends.common.deliveries``). Writes go through the store's ``transaction()``, reads
through its reader connection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from backends.common.deliveries import SqlDeliveryLog
from backends.sqlite.writer import writing

if TYPE_CHECKING:
    from backends.sqlite.store import SqliteBackend

SCHEMA = (
    # The outbox: the body to send again and the idempotency key every copy carries.
    "ALTER TABLE deliveries ADD COLUMN idem_key TEXT",
    "ALTER TABLE deliveries ADD COLUMN body TEXT NOT NULL DEFAULT ''",
    "CREATE UNIQUE INDEX deliveries_key ON deliveries (idem_key) WHERE idem_key IS NOT NULL",
    "CREATE INDEX deliveries_open ON deliveries (id) WHERE status IN ('queued', 'retrying')",
    """
    CREATE TABLE notifier_cursor (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL
    )
    """,
)


class SqliteDeliveryLog(SqlDeliveryLog):
    """``DeliveryLog`` on the SQLite store's tables."""

    def __init__(self, store: SqliteBackend) -> None:
        async def read(sql: str, *args: Any) -> Sequence[Sequence[Any]]:
            return await store.fetchall(sql, args)

        super().__init__(lambda: writing(store), read)
        self.store = store
