"""Change events (``ChangeLog``) as every SQL store keeps them, written once: the known-service
rule, the event as recorded, its row, and the newest-first query with its filters.

Statements use ``?`` marks (``backends.common.sql.numbered`` turns them into ``$n``). A
store only numbers the event and runs these inside its write transaction, with an entry on
its change feed (``change_event.recorded``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from backends.base import NotFound
from console.domain.changes import ChangeEvent, NewChange

LIMIT = 500
"""The most change events one read returns, unless a caller asks for all (``limit=None``)."""

INSERT = "INSERT INTO change_events (id, service, at, data) VALUES (?, ?, ?, ?)"


def check_service(change: NewChange, services: Iterable[str]) -> None:
    """A change event must name a service the directory knows."""
    known = set(services)
    if change.service not in known:
        names = ", ".join(sorted(known)) or "none yet"
        raise NotFound(f"unknown service {change.service!r} (known services: {names})")


def recorded(change: NewChange, event_id: int, actor: str, now: datetime) -> ChangeEvent:
    return ChangeEvent(**change.model_dump(), id=event_id, recorded_at=now, recorded_by=actor)


def row(event: ChangeEvent) -> list[object]:
    """The parameters of ``INSERT`` for ``event``."""
    return [event.id, event.service, event.at.timestamp(), event.model_dump_json()]


def select(
    services: Sequence[str] | None,
    since: datetime | None,
    until: datetime | None,
    limit: int | None,
) -> tuple[str, list[object]] | None:
    """The query for change events newest first, optionally only on ``services`` and within
    a window (``limit=None``: all of them, for the KPI window); ``None`` when nothing can
    match (an empty list of services)."""
    where: list[str] = []
    params: list[object] = []
    if services is not None:
        if not services:
            return None
        where.append(f"service IN ({', '.join('?' * len(services))})")
        params.extend(services)
    if since is not None:
        where.append("at >= ?")
        params.append(since.timestamp())
    if until is not None:
        where.append("at <= ?")
        params.append(until.timestamp())
    sql = "SELECT data FROM change_events"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY at DESC, id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(max(1, min(limit, LIMIT)))
    return sql, params
