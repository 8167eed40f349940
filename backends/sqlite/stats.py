"""KPIs over the SQLite store: the two queries ``backends.common.stats`` describes, by id
lists passed as one JSON parameter; the rest is ``backends.common.stats.window_kpis``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from backends.common.stats import resolved_within, window_kpis
from backends.sqlite.change_events import change_events
from console.domain.changes import PRIOR
from console.domain.kpis import Kpis, team_services
from console.domain.models import Incident, TimelineEntry, utc

if TYPE_CHECKING:
    from backends.sqlite.store import SqliteBackend


async def sqlite_stats(
    backend: SqliteBackend,
    since: timedelta,
    *,
    service: str | None = None,
    team: str | None = None,
    now: datetime | None = None,
) -> Kpis:
    end = utc(now) if now is not None else utc(backend.clock.now())
    start = end - since
    services = await backend.services()
    clauses = ["(is_open = 1 OR updated_at >= ?)"]
    params: list[object] = [start.timestamp()]
    if service is not None:
        clauses.append("service = ?")
        params.append(service)
    scope = team_services(services, team)
    if scope is not None:
        clauses.append("service IN (SELECT value FROM json_each(?))")
        params.append(_json_list(sorted(scope)))
    rows = await backend.fetchall(
        f"SELECT data FROM incidents WHERE {' AND '.join(clauses)} ORDER BY id", params
    )
    incidents = [Incident.model_validate_json(row[0]) for row in rows]
    resolved = resolved_within(incidents, start, end)
    timelines: dict[int, list[TimelineEntry]] = {i: [] for i in resolved}
    if resolved:
        for incident_id, entry in await backend.fetchall(
            "SELECT incident_id, entry FROM timeline"
            " WHERE incident_id IN (SELECT value FROM json_each(?)) ORDER BY id",
            [_json_list(resolved)],
        ):
            timelines[incident_id].append(TimelineEntry.model_validate_json(entry))
    changes = await change_events(backend, since=start - PRIOR, until=end, limit=None)
    return window_kpis(
        incidents,
        timelines,
        changes,
        services,
        since=since,
        end=end,
        policy=backend.settings.sla,
        service=service,
        team=team,
    )


def _json_list(values: list[int] | list[str]) -> str:
    import json

    return json.dumps(values)
