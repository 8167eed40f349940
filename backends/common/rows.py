"""How SQL stores encode incidents, timeline entries and changes in rows.

Times are epoch seconds (``REAL`` / ``double precision``) so comparisons and indexes work the
same on every engine; the full model is kept as JSON beside the columns the queue filters
and sorts on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from console.domain.escalation import escalation_clock, escalator_due_from, next_breach_mark
from console.domain.models import Change, EscalationPolicy, Incident, TimelineEntry, utc
from console.domain.query import searchable
from console.domain.sla import SlaPolicy, running_breaches, sort_due

DUE_COLUMNS = (
    "sla_due",
    "escalator_due",
    "policy",
    "escalation_level",
    "escalation_loop",
    "escalation_from",
    "breach_mark",
)
"""The columns derived from an incident on the store's SLA policy and its escalation policy
(``due_row``): what must be recomputed when one of those changes (``backends.common.due``)."""

INCIDENT_COLUMNS = (
    "id, key, status, is_open, priority, service, assignee, title, sla_due, "
    "created_at, resolved_at, updated_at, version, data, search, escalator_due, "
    "policy, escalation_level, escalation_loop, escalation_from, breach_mark"
)
"""The ``incidents`` columns in the order of ``incident_row``."""

INCIDENT_COUNT = len(INCIDENT_COLUMNS.split(","))

INCIDENT_UPDATE = (
    "status = ?, is_open = ?, priority = ?, service = ?, assignee = ?, title = ?,"
    " sla_due = ?, created_at = ?, resolved_at = ?, updated_at = ?, version = ?, data = ?,"
    " search = ?, escalator_due = ?, policy = ?, escalation_level = ?, escalation_loop = ?,"
    " escalation_from = ?, breach_mark = ?"
)
"""The SET list matching ``incident_row(...)[2:]``."""

DUE_UPDATE = ", ".join(f"{column} = ?" for column in DUE_COLUMNS)
"""The SET list matching ``due_row(...)``."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

ENTRY_COLUMNS = "id, incident_id, version, at, actor, kind, entry"
CHANGE_COLUMNS = "seq, at, kind, entity, entity_id, version"


def ts(value: datetime | None) -> float | None:
    return None if value is None else utc(value).timestamp()


def micros(value: datetime) -> int:
    """Epoch microseconds, exactly (``ts`` is this over 10**6, correctly rounded)."""
    return (utc(value) - _EPOCH) // _MICROSECOND


def due_row(
    incident: Incident, sla: SlaPolicy, now: datetime, policy: EscalationPolicy | None
) -> tuple[Any, ...]:
    """The row of ``DUE_COLUMNS``: ``sla_due`` is ``console.domain.sla.sort_due``,
    ``escalator_due`` is ``console.domain.escalation.escalator_due`` (``policy`` is the
    incident's escalation policy as stored now, ``None`` if it has none); then what
    ``escalator_due`` is made of, so a policy change recomputes it in SQL
    (``backends.common.due``): the incident's policy id, its ``EscalationClock`` (level,
    loop, and ``escalation_from``, epoch microseconds of ``since``, only while triggered
    and ``linear``) and ``breach_mark`` (``next_breach_mark``)."""
    clock = escalation_clock(incident)
    running = running_breaches(incident, sla, now) if incident.is_open else {}
    mark = next_breach_mark(incident, sla, now, running)
    return (
        ts(sort_due(incident, sla, now, running)),
        ts(escalator_due_from(incident, policy, mark)),
        incident.policy,
        incident.escalation_level,
        incident.escalation_loop,
        micros(clock.since) if clock is not None and clock.linear else None,
        ts(mark),
    )


def incident_row(
    incident: Incident, sla: SlaPolicy, now: datetime, policy: EscalationPolicy | None
) -> tuple[Any, ...]:
    """The row of ``INCIDENT_COLUMNS``: ``search`` is ``console.domain.query.searchable``
    (what free text matches), the due columns are ``due_row``."""
    due = due_row(incident, sla, now, policy)
    return (
        incident.id,
        incident.key,
        incident.status.value,
        1 if incident.is_open else 0,
        incident.priority.rank,
        incident.service,
        incident.assignee,
        incident.title,
        due[0],
        ts(incident.created_at),
        ts(incident.resolved_at),
        ts(incident.updated_at),
        incident.version,
        incident.model_dump_json(),
        searchable(incident),
        *due[1:],
    )


def entry_row(entry: TimelineEntry) -> tuple[Any, ...]:
    """The row of ``ENTRY_COLUMNS``."""
    return (
        entry.id,
        entry.incident_id,
        entry.version,
        ts(entry.at),
        entry.actor,
        entry.kind.value,
        entry.model_dump_json(),
    )


def change_from_row(row: Sequence[Any]) -> Change:
    """A row of ``CHANGE_COLUMNS`` as a ``Change``."""
    seq, at, kind, entity, entity_id, version = row
    return Change(
        seq=seq,
        at=datetime.fromtimestamp(at, UTC),
        kind=kind,
        entity=entity,
        entity_id=entity_id,
        version=version,
    )
