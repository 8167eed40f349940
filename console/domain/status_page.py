"""The public status page: what customers may see, built from incidents marked public.

Everything here is a whitelist. ``build_status_page`` copies, field by field, only what is
meant for the public (the public title, the service's name, start and end times, the text
of public updates) into models that have no other fields, so an internal field (assignee,
notes, alert details, actors, labels, the internal title) cannot leak by being added to
``Incident`` later. The HTTP layer renders these models and nothing else.

A service's state comes from its open public incidents: a P1 means an outage, any other
priority means degraded; no open public incident means operational.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Literal

from console.domain.models import (
    EntryKind,
    Incident,
    Model,
    Priority,
    Service,
    Status,
    TimelineEntry,
    utc,
)

HISTORY_DAYS = 30
PUBLIC_ENTRY_KINDS = frozenset({EntryKind.PUBLISHED, EntryKind.PUBLIC_UPDATE})
"""The only timeline entries whose text leaves the console."""


class ServiceState(StrEnum):
    OPERATIONAL = "operational"
    DEGRADED = "degraded"
    OUTAGE = "outage"

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]

    @property
    def rank(self) -> int:
        return _STATE_RANK[self]


_STATE_LABELS = {
    ServiceState.OPERATIONAL: "Operational",
    ServiceState.DEGRADED: "Degraded performance",
    ServiceState.OUTAGE: "Outage",
}
_STATE_RANK = {ServiceState.OPERATIONAL: 0, ServiceState.DEGRADED: 1, ServiceState.OUTAGE: 2}


def state_for(priority: Priority) -> ServiceState:
    """What an open public incident of ``priority`` does to its service."""
    return ServiceState.OUTAGE if priority == Priority.P1 else ServiceState.DEGRADED


class PublicUpdateView(Model):
    at: datetime
    message: str


class PublicIncident(Model):
    key: str
    title: str
    service: str
    """The service's display name."""
    state: Literal["open", "resolved", "cancelled"]
    impact: ServiceState
    """What it does (or did) to its service."""
    started_at: datetime
    ended_at: datetime | None = None
    updates: tuple[PublicUpdateView, ...] = ()
    """Newest first."""


class ServiceStatus(Model):
    id: str
    name: str
    state: ServiceState


class HistoryDay(Model):
    day: date
    incidents: tuple[str, ...] = ()
    """Keys of the public incidents that started or were still open that day."""


class StatusPage(Model):
    generated_at: datetime
    state: ServiceState
    """The worst state of any service."""
    services: tuple[ServiceStatus, ...]
    open: tuple[PublicIncident, ...]
    """Public incidents still open, most severe first."""
    recent: tuple[PublicIncident, ...]
    """Public incidents that ended in the history window, newest first."""
    history: tuple[HistoryDay, ...]
    """The last ``HISTORY_DAYS`` days, newest first."""


def _state(incident: Incident) -> Literal["open", "resolved", "cancelled"]:
    if incident.is_open:
        return "open"
    return "cancelled" if incident.status == Status.CANCELLED else "resolved"


def _ended(incident: Incident) -> datetime | None:
    if incident.is_open:
        return None
    return incident.resolved_at or incident.closed_at or incident.updated_at


def public_view(
    incident: Incident, entries: Iterable[TimelineEntry], service_name: str
) -> PublicIncident:
    """The public face of one published incident (only whitelisted fields)."""
    updates = sorted(
        (
            PublicUpdateView(at=entry.at, message=entry.message)
            for entry in entries
            if entry.kind in PUBLIC_ENTRY_KINDS and entry.incident_id == incident.id
        ),
        key=lambda update: update.at,
        reverse=True,
    )
    return PublicIncident(
        key=incident.key,
        title=incident.public_title or incident.key,
        service=service_name,
        state=_state(incident),
        impact=state_for(incident.priority),
        started_at=incident.created_at,
        ended_at=_ended(incident),
        updates=tuple(updates),
    )


def history_start(now: datetime, days: int = HISTORY_DAYS) -> datetime:
    """The first instant the history window covers (midnight UTC, ``days - 1`` days ago)."""
    today = utc(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days - 1)


def build_status_page(
    services: Sequence[Service],
    incidents: Iterable[Incident],
    entries: Mapping[int, Sequence[TimelineEntry]],
    now: datetime,
    *,
    days: int = HISTORY_DAYS,
) -> StatusPage:
    """The status page at ``now`` from every public incident open now or ended in the window.

    ``entries`` holds each incident's timeline (or only its public entries); anything that is
    not public is ignored here, so a backend may pass whatever is cheapest to read.
    """
    now = utc(now)
    start = history_start(now, days)
    names = {service.id: service.name for service in services}
    views: list[tuple[Incident, PublicIncident]] = []
    for incident in incidents:
        if not incident.public:
            continue
        ended = _ended(incident)
        if ended is not None and ended < start:
            continue
        view = public_view(
            incident, entries.get(incident.id, ()), names.get(incident.service, incident.service)
        )
        views.append((incident, view))

    worst: dict[str, ServiceState] = {}
    for incident, view in views:
        if view.state == "open":
            current = worst.get(incident.service, ServiceState.OPERATIONAL)
            if view.impact.rank > current.rank:
                worst[incident.service] = view.impact
    ids = sorted({*names, *worst})
    statuses = tuple(
        ServiceStatus(
            id=service_id,
            name=names.get(service_id, service_id),
            state=worst.get(service_id, ServiceState.OPERATIONAL),
        )
        for service_id in sorted(ids, key=lambda s: (names[s] if s in names else s).lower())
    )
    overall = max(
        (s.state for s in statuses), key=lambda s: s.rank, default=ServiceState.OPERATIONAL
    )

    open_views = sorted(
        (view for _, view in views if view.state == "open"),
        key=lambda v: (-v.impact.rank, v.started_at),
    )
    recent = sorted(
        (view for _, view in views if view.state != "open"),
        key=lambda v: v.ended_at or v.started_at,
        reverse=True,
    )
    history = []
    first_day = start.date()
    for offset in range(days):
        day = now.date() - timedelta(days=offset)
        if day < first_day:
            break
        day_start = datetime(day.year, day.month, day.day, tzinfo=now.tzinfo)
        day_end = day_start + timedelta(days=1)
        keys = tuple(
            view.key
            for _, view in sorted(views, key=lambda pair: pair[1].started_at)
            if view.started_at < day_end and (view.ended_at is None or view.ended_at >= day_start)
        )
        history.append(HistoryDay(day=day, incidents=keys))
    return StatusPage(
        generated_at=now,
        state=overall,
        services=statuses,
        open=tuple(open_views),
        recent=tuple(recent),
        history=tuple(history),
    )
