"""KPIs over the PostgreSQL store: the two queries ``backends.common.stats`` describes, with
id arrays as parameters; the rest is ``backends.common.stats.window_kpis``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from backends.common.stats import resolved_within, window_kpis
from backends.postgres.change_events import change_events
from console.domain.changes import PRIOR
from console.domain.kpis import Kpis, team_services
from console.domain.models import Incident, TimelineEntry, utc

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
    resolved = resolved_within(incidents, start, end)
    timelines: dict[int, list[TimelineEntry]] = {i: [] for i in resolved}
    if resolved:
        for row in await backend.fetch(
            "SELECT incident_id, entry FROM timeline WHERE incident_id = ANY($1::bigint[])"
            " ORDER BY id",
            resolved,
        ):
            timelines[row["incident_id"]].append(TimelineEntry.model_validate_json(row["entry"]))
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
