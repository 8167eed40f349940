"""KPIs over any SQL store: what a store fetches for a window, and the rest, written once.

A store runs two queries, whatever the window: the incidents touched in the window or still
open (an open incident's SLA clock may breach inside the window without any write), then the
timelines of those resolved in the window (first-call resolution reads who did what), and
reads its change events from ``PRIOR`` before the window. ``updated_at >= start`` catches
every incident created, acknowledged or resolved in the window, since each of those writes
moves ``updated_at``. Which incidents need their timeline, and how change events mark an
incident, are the same for every store: they live here, and the numbers come from
``console.domain.kpis.compute_kpis``, so every store gives the same figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from console.domain.changes import PRIOR, ChangeEvent, dependency_map, had_change_before
from console.domain.kpis import Kpis, compute_kpis
from console.domain.models import Incident, Service, Status, TimelineEntry
from console.domain.sla import SlaPolicy


def resolved_within(incidents: Sequence[Incident], start: datetime, end: datetime) -> list[int]:
    """Ids of the incidents resolved (or closed) between ``start`` and ``end``: the ones
    whose timeline the KPIs read."""
    return [
        i.id
        for i in incidents
        if i.status in (Status.RESOLVED, Status.CLOSED)
        and i.resolved_at is not None
        and start <= i.resolved_at <= end
    ]


def window_kpis(
    incidents: Sequence[Incident],
    timelines: dict[int, list[TimelineEntry]],
    changes: Sequence[ChangeEvent],
    services: Sequence[Service],
    *,
    since: timedelta,
    end: datetime,
    policy: SlaPolicy,
    service: str | None,
    team: str | None,
) -> Kpis:
    """The KPIs of the window ending at ``end`` from what the store fetched; ``changes``
    are the change events from ``PRIOR`` before the window to its end."""
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
        policy=policy,
        services=services,
        service=service,
        team=team,
        changed_before=changed_before,
    )
