"""The ``escalator_due`` column, for every SQL store: when the automatic escalator may next
have something to do with an incident (``console.domain.escalation.escalator_due``).

Every write of an incident stores it (``backends.common.rows.incident_row``), with the
incident's escalation policy as stored in the same transaction. What it depends on besides
the incident is that policy and the store's SLA policy; so a policy written (``put_policy``,
a directory file) recomputes it, in the same transaction, for every triggered incident of
that policy (schedules only decide who is paged, never when). The escalator then asks only
for ``escalator_due <= now`` over a partial index: a pass with nothing due reads no incident.

``STALE`` marks a value not computed yet (rows older than the column): due at once, so the
escalator looks at such an incident rather than miss it, until ``refresh`` recomputes it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from backends.common.rows import ts
from console.domain.escalation import escalator_due
from console.domain.models import EscalationPolicy, Incident, Status
from console.domain.sla import SlaPolicy

STALE = 0.0
"""``escalator_due`` of a row written before the column existed: due since 1970."""

_BATCH = 2_000


class PolicyCache:
    """Escalation policies parsed once per stored text (a write reads the policy's row in
    its own transaction, so another process's change is seen; only the parse is cached)."""

    def __init__(self, size: int = 256) -> None:
        self._parsed: dict[str, EscalationPolicy] = {}
        self._size = size

    def parse(self, data: str) -> EscalationPolicy:
        found = self._parsed.get(data)
        if found is None:
            if len(self._parsed) >= self._size:
                self._parsed.clear()
            found = self._parsed[data] = EscalationPolicy.model_validate_json(data)
        return found

    def from_rows(self, rows: Iterable[Sequence[Any]]) -> dict[str, EscalationPolicy]:
        """``{id: policy}`` of ``(id, data)`` rows."""
        return {str(row[0]): self.parse(str(row[1])) for row in rows}


def wanted(incidents: Iterable[Incident]) -> list[str]:
    """The policy ids whose rows a write of ``incidents`` must read: only a triggered
    incident with a policy escalates by itself."""
    return sorted({i.policy for i in incidents if i.policy and i.status == Status.TRIGGERED})


class DueWriter(Protocol):
    """What ``refresh`` needs of an open write transaction (``?`` marks)."""

    async def rows(self, sql: str, *args: Any) -> Sequence[Sequence[Any]]: ...

    async def run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...


def policy_filter(policy_ids: Sequence[str]) -> tuple[str, list[Any]]:
    """A cheap pre-filter on the stored JSON for incidents of ``policy_ids`` (``LIKE`` on
    ``"policy":"<id>"``), or no filter when an id is not plain printable ASCII (its JSON
    spelling could differ); the caller checks each parsed incident's policy anyway."""
    plain = all(
        pid.isascii() and pid.isprintable() and not set(pid) & set('"\\%_') for pid in policy_ids
    )
    if not plain or not policy_ids:
        return "", []
    either = " OR ".join("data LIKE ?" for _ in policy_ids)
    return f" AND ({either})", [f'%"policy":{json.dumps(pid)}%' for pid in policy_ids]


async def refresh(
    tx: DueWriter,
    sla: SlaPolicy,
    now: datetime,
    *,
    policy_ids: Sequence[str] | None = None,
) -> int:
    """Recompute ``escalator_due`` in the caller's transaction: of the triggered incidents
    of ``policy_ids`` (after those policies were written), or of every ``STALE`` row
    (``policy_ids`` ``None``). Returns how many rows were rewritten."""
    if policy_ids is not None:
        if not policy_ids:
            return 0
        extra, params = policy_filter(policy_ids)
        where = f"is_open = 1 AND status = ?{extra}"
        args: list[Any] = [Status.TRIGGERED.value, *params]
    else:
        where, args = "escalator_due = ?", [STALE]
    policies = PolicyCache().from_rows(await tx.rows("SELECT id, data FROM policies"))
    chosen = set(policy_ids) if policy_ids is not None else None
    last, changed = 0, 0
    while True:
        rows = await tx.rows(
            f"SELECT id, data FROM incidents WHERE {where} AND id > ? ORDER BY id LIMIT ?",
            *args,
            last,
            _BATCH,
        )
        if not rows:
            return changed
        updates = []
        for incident_id, data in rows:
            incident = Incident.model_validate_json(data)
            if chosen is not None and incident.policy not in chosen:
                continue
            policy = policies.get(incident.policy) if incident.policy else None
            updates.append((ts(escalator_due(incident, policy, sla, now)), incident_id))
        if updates:
            await tx.run_many("UPDATE incidents SET escalator_due = ? WHERE id = ?", updates)
            changed += len(updates)
        last = rows[-1][0]
