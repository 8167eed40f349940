"""How SQL stores encode incidents, timeline entries and changes in rows.

Times are epoch seconds (``REAL`` / ``double precision``) so comparisons and indexes work the
same on every engine; the full model is kept as JSON beside the columns the queue filters
and sorts on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from console.domain.escalation import escalator_due
from console.domain.models import Change, EscalationPolicy, Incident, TimelineEntry, utc
from console.domain.query import searchable
from console.domain.sla import SlaPolicy, sort_due

INCIDENT_COLUMNS = (
    "id, key, status, is_open, priority, service, assignee, title, sla_due, "
    "created_at, resolved_at, updated_at, version, data, search, escalator_due"
)
"""The ``incidents`` columns in the order of ``incident_row``."""

INCIDENT_UPDATE = (
    "status = ?, is_open = ?, priority = ?, service = ?, assignee = ?, title = ?,"
    " sla_due = ?, created_at = ?, resolved_at = ?, updated_at = ?, version = ?, data = ?,"
    " search = ?, escalator_due = ?"
)
"""The SET list matching ``incident_row(...)[2:]``."""

ENTRY_COLUMNS = "id, incident_id, version, at, actor, kind, entry"
CHANGE_COLUMNS = "seq, at, kind, entity, entity_id, version"


def ts(value: datetime | None) -> float | None:
    return None if value is None else utc(value).timestamp()


def incident_row(
    incident: Incident, sla: SlaPolicy, now: datetime, policy: EscalationPolicy | None
) -> tuple[Any, ...]:
    """The row of ``INCIDENT_COLUMNS``; ``sla_due`` is ``console.domain.sla.sort_due``,
    ``search`` is ``console.domain.query.searchable`` (what free text matches),
    ``escalator_due`` is ``console.domain.escalation.escalator_due`` (``policy`` is the
    incident's escalation policy as stored now, ``None`` if it has none)."""
    due = sort_due(incident, sla, now)
    return (
        incident.id,
        incident.key,
        incident.status.value,
        1 if incident.is_open else 0,
        incident.priority.rank,
        incident.service,
        incident.assignee,
        incident.title,
        ts(due),
        ts(incident.created_at),
        ts(incident.resolved_at),
        ts(incident.updated_at),
        incident.version,
        incident.model_dump_json(),
        searchable(incident),
        ts(escalator_due(incident, policy, sla, now)),
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
