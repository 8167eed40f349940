"""The ``DeliveryLog`` capability (the notifier's outbox) over any SQL store's ``deliveries``
and ``notifier_cursor`` tables.

Statements are written once, with ``?`` marks; a store gives two seams: a write transaction
as a ``backends.common.directory.SqlWriter`` and a read. Why the log is an outbox, and how
a message survives the death of its server, is in ``console.domain.deliveries``. The rules
the tables keep:

- one row per non-empty idempotency key (a unique index): a second server logging the same
  message gets ``None`` for it from ``add`` and does not send it;
- the notifier's place in the change feed (``notifier_cursor``) moves in the transaction
  that logs the change's messages, and never backwards: a new leader resumes after the last
  change whose messages are in the log, and finds those messages in ``pending()``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any

from backends.common.directory import SqlWriter
from backends.common.rows import ts
from console.domain.deliveries import Delivery, DeliveryStatus, NewDelivery, PendingDelivery
from console.domain.models import utc

COLUMNS = (
    "id, created_at, updated_at, target, url, event, incident_key, status, attempts,"
    " response_code, error, idem_key"
)
_NAMES = [c.strip() for c in COLUMNS.split(",")]
_OPEN = "status IN ('queued', 'retrying')"

Begin = Callable[[], AbstractAsyncContextManager[SqlWriter]]
Read = Callable[..., Awaitable[Sequence[Sequence[Any]]]]


def delivery_from_row(row: Sequence[Any]) -> Delivery:
    """A ``deliveries`` row (``COLUMNS``, epoch-second times) as a ``Delivery``."""
    values = dict(zip(_NAMES, row, strict=True))
    values["created_at"] = datetime.fromtimestamp(values["created_at"], UTC)
    values["updated_at"] = datetime.fromtimestamp(values["updated_at"], UTC)
    values["key"] = values.pop("idem_key") or ""
    return Delivery.model_validate(values)


class SqlDeliveryLog:
    """``DeliveryLog`` on the ``deliveries`` and ``notifier_cursor`` tables."""

    def __init__(self, begin: Begin, read: Read) -> None:
        self._begin = begin
        self._read = read

    async def add(
        self, deliveries: Sequence[NewDelivery], seq: int | None = None
    ) -> list[int | None]:
        if not deliveries and seq is None:
            return []
        ids: list[int | None] = []
        async with self._begin() as tx:
            if seq is not None:
                await tx.run(
                    "INSERT INTO notifier_cursor (id, seq) VALUES (1, ?) ON CONFLICT (id)"
                    " DO UPDATE SET seq = CASE WHEN excluded.seq > notifier_cursor.seq"
                    " THEN excluded.seq ELSE notifier_cursor.seq END",
                    seq,
                )
            for d in deliveries:
                at = utc(d.at).timestamp()
                inserted = await tx.rows(
                    "INSERT INTO deliveries (created_at, updated_at, target, url, event,"
                    " incident_key, status, error, idem_key, body)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
                    at,
                    at,
                    d.target,
                    d.url,
                    d.event,
                    d.incident_key,
                    d.status,
                    d.error,
                    d.key or None,
                    d.body,
                )
                ids.append(int(inserted[0][0]) if inserted else None)
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
        async with self._begin() as tx:
            await tx.run(
                "UPDATE deliveries SET status = ?, attempts = ?, response_code = ?, error = ?,"
                " updated_at = ? WHERE id = ?",
                status,
                attempts,
                response_code,
                error,
                ts(at),
                delivery_id,
            )

    async def pending(self) -> list[PendingDelivery]:
        rows = await self._read(
            "SELECT id, target, event, incident_key, idem_key, body, attempts FROM deliveries"
            f" WHERE {_OPEN} ORDER BY id"
        )
        return [
            PendingDelivery(
                id=int(r[0]),
                target=r[1],
                event=r[2],
                incident_key=r[3],
                key=r[4] or "",
                body=r[5],
                attempts=int(r[6]),
            )
            for r in rows
        ]

    async def abandon_unfinished(self, error: str, at: datetime) -> int:
        async with self._begin() as tx:
            rows = await tx.rows(
                f"UPDATE deliveries SET status = 'failed', updated_at = ?, error = ? WHERE {_OPEN}"
                " RETURNING id",
                ts(at),
                error,
            )
        return len(rows)

    async def cursor(self) -> int | None:
        rows = await self._read("SELECT seq FROM notifier_cursor WHERE id = 1")
        return int(rows[0][0]) if rows else None

    async def recent(self, limit: int = 100) -> list[Delivery]:
        rows = await self._read(f"SELECT {COLUMNS} FROM deliveries ORDER BY id DESC LIMIT ?", limit)
        return [delivery_from_row(row) for row in rows]
