"""The console's compact row of an open incident: what the queue holds instead of an ``Incident``.

A console follows every open incident (100,000 in an alert storm) but shows one screenful. A
parsed ``Incident`` is ~1.3 KB (38 fields in a dict); an ``IncidentRow`` keeps, in slots,
only what the queue's rows, the filter (``Filter.matches``), the sorts (``order.sort_row``),
the SLA rules (``sla.SlaFacts``), the counts and the wall read, with the repeated strings
(service, assignee, policy) shared. Anything else (the description, links, resolution, the
timeline) is read from the backend when an incident is opened or acted on, at the version
the row shows.

The rules are written once, over Protocols both classes satisfy (``sla.SlaFacts``,
``query.FilterFacts``, ``order.SortFacts``), so a row and its incident can never disagree.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

from console.domain.models import OPEN_STATUSES, Incident, Pause, Priority, Status, hold_start

_NO_LABELS: Mapping[str, str] = MappingProxyType({})


def _shared(text: str | None) -> str | None:
    return None if text is None else sys.intern(text)


class IncidentRow:
    """One incident as the queue holds it (read-only; a new version is a new row)."""

    __slots__ = (
        "_key",
        "acknowledged_at",
        "alert_count",
        "assignee",
        "closed_at",
        "created_at",
        "escalation_level",
        "id",
        "labels",
        "pauses",
        "policy",
        "priority",
        "resolved_at",
        "service",
        "status",
        "title",
        "updated_at",
        "version",
    )

    id: int
    version: int
    title: str
    service: str
    status: Status
    priority: Priority
    assignee: str | None
    policy: str | None
    escalation_level: int
    alert_count: int
    labels: Mapping[str, str]
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    pauses: tuple[Pause, ...]
    _key: str | None

    def __init__(self, incident: Incident) -> None:
        self.id = incident.id
        self.version = incident.version
        # ``INC-<id>`` is every store's key: kept only when it is another one
        self._key = None if incident.key == f"INC-{incident.id}" else incident.key
        self.title = incident.title
        self.service = sys.intern(incident.service)
        self.status = incident.status
        self.priority = incident.priority
        self.assignee = _shared(incident.assignee)
        self.policy = _shared(incident.policy)
        self.escalation_level = incident.escalation_level
        self.alert_count = incident.alert_count
        self.labels = incident.labels or _NO_LABELS
        self.created_at = incident.created_at
        # the same instant is often parsed twice (created and updated at once)
        self.updated_at = (
            incident.created_at
            if incident.updated_at == incident.created_at
            else incident.updated_at
        )
        self.acknowledged_at = incident.acknowledged_at
        self.resolved_at = incident.resolved_at
        self.closed_at = incident.closed_at
        self.pauses = incident.pauses

    @property
    def key(self) -> str:
        return self._key if self._key is not None else f"INC-{self.id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def on_hold_since(self) -> datetime | None:
        return hold_start(self.pauses)

    def __repr__(self) -> str:
        return f"IncidentRow({self.key} v{self.version} {self.status.value} {self.priority.value})"


def row(incident: Incident | IncidentRow) -> IncidentRow:
    """``incident`` as a row (a row stays itself)."""
    return incident if isinstance(incident, IncidentRow) else IncidentRow(incident)
