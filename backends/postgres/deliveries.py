"""The outgoing-webhook delivery log in the PostgreSQL store (the ``DeliveryLog`` capability;
rows are read back like the SQLite store's, ``backends.sqlite.deliveries.delivery_from_row``
being about columns, not SQLite)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from backends.common.rows import ts
from console.domain.deliveries import Delivery, DeliveryStatus, NewDelivery
from console.domain.models import utc

if TYPE_CHECKING:
    from backends.postgres.store import PostgresBackend

COLUMNS = (
    "id, created_at, updated_at, target, url, event, incident_key, status, attempts,"
    " response_code, error"
)


class PostgresDeliveryLog:
    """``DeliveryLog`` on the ``deliveries`` table."""

    def __init__(self, store: PostgresBackend) -> None:
        self.store = store

    async def add(self, deliveries: Sequence[NewDelivery], seq: int | None = None) -> list[int]:
        if not deliveries and seq is None:
            return []
        async with self.store.transaction() as tx:
            if seq is not None:
                # The notifier's place in the feed moves with the rows it logged, so a new
                # leader resumes exactly after the last change whose messages were logged.
                await tx.execute(
                    "INSERT INTO notifier_cursor (id, seq) VALUES (1, $1)"
                    " ON CONFLICT (id) DO UPDATE SET seq = greatest(notifier_cursor.seq, $1)",
                    seq,
                )
            if not deliveries:
                return []
            rows = await tx.fetch(
                "INSERT INTO deliveries (created_at, updated_at, target, url, event,"
                " incident_key, status, error)"
                " SELECT * FROM unnest($1::float8[], $1::float8[], $2::text[], $3::text[],"
                " $4::text[], $5::text[], $6::text[], $7::text[]) RETURNING id",
                [utc(d.at).timestamp() for d in deliveries],
                [d.target for d in deliveries],
                [d.url for d in deliveries],
                [d.event for d in deliveries],
                [d.incident_key for d in deliveries],
                [d.status for d in deliveries],
                [d.error for d in deliveries],
            )
        return sorted(int(row["id"]) for row in rows)

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
        async with self.store.transaction() as tx:
            await tx.execute(
                "UPDATE deliveries SET status = $1, attempts = $2, response_code = $3,"
                " error = $4, updated_at = $5 WHERE id = $6",
                status,
                attempts,
                response_code,
                error,
                ts(at),
                delivery_id,
            )

    async def abandon_unfinished(self, error: str, at: datetime) -> int:
        async with self.store.transaction() as tx:
            status = await tx.execute(
                "UPDATE deliveries SET status = 'failed', updated_at = $1, error = $2"
                " WHERE status IN ('queued', 'retrying')",
                ts(at),
                error,
            )
        return int(status.rsplit(" ", 1)[-1])

    async def cursor(self) -> int | None:
        rows = await self.store.fetch("SELECT seq FROM notifier_cursor WHERE id = 1")
        return int(rows[0]["seq"]) if rows else None

    async def recent(self, limit: int = 100) -> list[Delivery]:
        from backends.sqlite.deliveries import delivery_from_row

        rows = await self.store.fetch(
            f"SELECT {COLUMNS} FROM deliveries ORDER BY id DESC LIMIT $1", limit
        )
        return [delivery_from_row(tuple(row)) for row in rows]
