"""Change events in the PostgreSQL store (table ``change_events``, migration 6): the
``ChangeLog`` capability, as on SQLite (``backends/sqlite/change_events.py``): append-only
facts, each recorded with an entry on the change feed (``change_event.recorded``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from backends.base import NotFound
from console.domain.changes import ChangeEvent, NewChange

if TYPE_CHECKING:
    from backends.postgres.store import PostgresBackend

LIMIT = 500


async def record_change_event(store: PostgresBackend, change: NewChange, actor: str) -> ChangeEvent:
    services = {s.id for s in await store.services()}
    if change.service not in services:
        known = ", ".join(sorted(services)) or "none yet"
        raise NotFound(f"unknown service {change.service!r} (known services: {known})")
    now = store.clock.now()
    async with store.transaction() as tx:
        [event_id] = await tx.ids("change_events_id_seq", 1)
        event = ChangeEvent(**change.model_dump(), id=event_id, recorded_at=now, recorded_by=actor)
        await tx.execute(
            "INSERT INTO change_events (id, service, at, data) VALUES ($1, $2, $3, $4)",
            event.id,
            event.service,
            event.at.timestamp(),
            event.model_dump_json(),
        )
        tx.record_change("change_event.recorded", "change_event", str(event.id))
    return event


async def change_events(
    store: PostgresBackend,
    *,
    services: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = LIMIT,
) -> list[ChangeEvent]:
    """Newest first, optionally only on ``services`` and within a window (``limit=None``:
    all of them, for the KPI window)."""
    where: list[str] = []
    params: list[object] = []
    if services is not None:
        if not services:
            return []
        params.append(list(services))
        where.append(f"service = ANY(${len(params)}::text[])")
    if since is not None:
        params.append(since.timestamp())
        where.append(f"at >= ${len(params)}")
    if until is not None:
        params.append(until.timestamp())
        where.append(f"at <= ${len(params)}")
    sql = "SELECT data FROM change_events"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY at DESC, id DESC"
    if limit is not None:
        params.append(max(1, min(limit, LIMIT)))
        sql += f" LIMIT ${len(params)}"
    rows = await store.fetch(sql, *params)
    return [ChangeEvent.model_validate_json(row["data"]) for row in rows]
