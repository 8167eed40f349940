"""The outgoing-webhook delivery log in the SQLite store (table ``deliveries``, migration 2).

The ``DeliveryLog`` capability (``backends.capabilities``) of ``SqliteBackend``: writes go
through the store's ``transaction()``, reads through its reader connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from console.domain.deliveries import Delivery, DeliveryStatus, NewDelivery
from console.domain.models import utc

if TYPE_CHECKING:
    from backends.sqlite.store import SqliteBackend

COLUMNS = (
    "id, created_at, updated_at, target, url, event, incident_key, status, attempts,"
    " response_code, error"
)
_NAMES = [c.strip() for c in COLUMNS.split(",")]


def delivery_from_row(row: Sequence[Any]) -> Delivery:
    """A ``deliveries`` row (epoch-second times) as a ``Delivery``."""
    values = dict(zip(_NAMES, row, strict=True))
    values["created_at"] = datetime.fromtimestamp(values["created_at"], UTC)
    values["updated_at"] = datetime.fromtimestamp(values["updated_at"], UTC)
    return Delivery.model_validate(values)


class SqliteDeliveryLog:
    """``DeliveryLog`` on the ``deliveries`` table."""

    def __init__(self, store: SqliteBackend) -> None:
        self.store = store

    async def add(self, deliveries: Sequence[NewDelivery], seq: int | None = None) -> list[int]:
        # One server per SQLite file: no notifier cursor is kept (``cursor`` is None).
        if not deliveries:
            return []
        async with self.store.transaction() as db:
            first = await self.store.next_id(db, "deliveries")
            ids = [first + n for n in range(len(deliveries))]
            await db.executemany(
                "INSERT INTO deliveries (id, created_at, updated_at, target, url, event,"
                " incident_key, status, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        delivery_id,
                        utc(d.at).timestamp(),
                        utc(d.at).timestamp(),
                        d.target,
                        d.url,
                        d.event,
                        d.incident_key,
                        d.status,
                        d.error,
                    )
                    for delivery_id, d in zip(ids, deliveries, strict=True)
                ],
            )
        return ids

    async def update(
        self,
        delivery_id: int,
        status: DeliveryStatus,
        *,
        attempts: int,
        response_code: int | None,
        error: str,
        at: datetime,
    ) -> None:
        async with self.store.transaction() as db:
            await db.execute(
                "UPDATE deliveries SET status = ?, attempts = ?, response_code = ?, error = ?,"
                " updated_at = ? WHERE id = ?",
                [status, attempts, response_code, error, utc(at).timestamp(), delivery_id],
            )

    async def abandon_unfinished(self, error: str, at: datetime) -> int:
        async with self.store.transaction() as db:
            cursor = await db.execute(
                "UPDATE deliveries SET status = 'failed', updated_at = ?, error = ?"
                " WHERE status IN ('queued', 'retrying')",
                [utc(at).timestamp(), error],
            )
            return int(cursor.rowcount)

    async def cursor(self) -> int | None:
        return None

    async def recent(self, limit: int = 100) -> list[Delivery]:
        rows = await self.store.fetchall(
            f"SELECT {COLUMNS} FROM deliveries ORDER BY id DESC LIMIT ?", [limit]
        )
        return [delivery_from_row(row) for row in rows]
