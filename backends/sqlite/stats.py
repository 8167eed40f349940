"""KPIs over the SQLite store: fetch what the window needs, compute with ``console.domain.kpis``.

Two queries, whatever the window: the incidents touched in the window or still open (an open
incident's SLA clock may breach inside the window without any write), then the timelines of
those resolved in the window (first-call resolution reads who did what), both by id lists
passed as one JSON parameter. ``updated_at >= start`` catches every incident created,
acknowledged or resolved in the window, since each of those writes moves ``updated_at``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from backends.sqlite.change_events import change_events
from console.domain.changes import PRIOR, dependency_map, had_change_before
from console.domain.kpis import Kpis, compute_kpis, team_services
from console.domain.models import Incident, Status, TimelineEntry, utc

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
    resolved = [
        i.id
        for i in incidents
        if i.status in (Status.RESOLVED, Status.CLOSED)
        and i.resolved_at is not None
        and start <= i.resolved_at <= end
    ]
    timelines: dict[int, list[TimelineEntry]] = {i: [] for i in resolved}
    if resolved:
        for incident_id, entry in await backend.fetchall(
            "SELECT incident_id, entry FROM timeline"
            " WHERE incident_id IN (SELECT value FROM json_each(?)) ORDER BY id",
            [_json_list(resolved)],
        ):
            timelines[incident_id].append(TimelineEntry.model_validate_json(entry))
    changes = await change_events(backend, since=start - PRIOR, until=end, limit=None)
    dependencies = dependency_map(services)

    def changed_before(incident: Incident) -> bool:
        return had_change_before(
            incident.service, incident.created_at, changes, dependencies=dependencies, window=PRIOR
        )

    return compute_kpis(
        incidents,
        timelines,
        since=since,
        now=end,
        policy=backend.settings.sla,
        services=services,
        service=service,
        team=team,
        changed_before=changed_before,
    )


def _json_list(values: list[int] | list[str]) -> str:
    import json

    return json.dumps(values)
