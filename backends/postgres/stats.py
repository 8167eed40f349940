"""KPIs over the PostgreSQL store: the same two queries as ``backends.sqlite.stats`` (the
incidents touched in the window or still open, then the timelines of those resolved in it),
computed with ``console.domain.kpis.compute_kpis`` so every store gives the same numbers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from backends.postgres.change_events import change_events
from console.domain.changes import PRIOR, dependency_map, had_change_before
from console.domain.kpis import Kpis, compute_kpis, team_services
from console.domain.models import Incident, Status, TimelineEntry, utc

if TYPE_CHECKING:
    from backends.postgres.store import PostgresBackend


async def postgres_stats(
    backend: PostgresBackend,
    since: timedelta,
    *,
    service: str | None = None,
    team: str | None = None,
    now: datetime | None = None,
) -> Kpis:
    end = utc(now) if now is not None else utc(backend.clock.now())
    start = end - since
    services = await backend.services()
    clauses = ["(is_open = 1 OR updated_at >= $1)"]
    params: list[object] = [start.timestamp()]
    if service is not None:
        params.append(service)
        clauses.append(f"service = ${len(params)}")
    scope = team_services(services, team)
    if scope is not None:
        params.append(sorted(scope))
        clauses.append(f"service = ANY(${len(params)}::text[])")
    rows = await backend.fetch(
        f"SELECT data FROM incidents WHERE {' AND '.join(clauses)} ORDER BY id", *params
    )
    incidents = [Incident.model_validate_json(row["data"]) for row in rows]
    resolved = [
        i.id
        for i in incidents
        if i.status in (Status.RESOLVED, Status.CLOSED)
        and i.resolved_at is not None
        and start <= i.resolved_at <= end
    ]
    timelines: dict[int, list[TimelineEntry]] = {i: [] for i in resolved}
    if resolved:
        for row in await backend.fetch(
            "SELECT incident_id, entry FROM timeline WHERE incident_id = ANY($1::bigint[])"
            " ORDER BY id",
            resolved,
        ):
            timelines[row["incident_id"]].append(TimelineEntry.model_validate_json(row["entry"]))
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
