"""Change events in the PostgreSQL store (table ``change_events``, migration 6): the
``ChangeLog`` capability, as on SQLite (``backends/sqlite/change_events.py``): append-only
facts, each recorded with an entry on the change feed (``change_event.recorded``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from backends.common.change_events import INSERT, LIMIT, check_service, recorded, row, select
from backends.common.sql import numbered
from console.domain.changes import ChangeEvent, NewChange

if TYPE_CHECKING:
    from backends.postgres.store import PostgresBackend


async def record_change_event(store: PostgresBackend, change: NewChange, actor: str) -> ChangeEvent:
    check_service(change, (s.id for s in await store.services()))
    now = store.clock.now()
    async with store.transaction() as tx:
        [event_id] = await tx.ids("change_events_id_seq", 1)
        event = recorded(change, event_id, actor, now)
        await tx.execute(numbered(INSERT), *row(event))
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
    """Change events newest first (``backends.common.change_events.select``)."""
    query = select(services, since, until, limit)
    if query is None:
        return []
    sql, params = query
    rows = await store.fetch(numbered(sql), *params)
    return [ChangeEvent.model_validate_json(found["data"]) for found in rows]
