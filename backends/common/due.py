"""The ``escalator_due`` column, for every SQL store: when the automatic escalator may next
have something to do with an incident (``console.domain.escalation.escalator_due``).

Every write of an incident stores it (``backends.common.rows.incident_row``), with the
incident's escalation policy as stored in the same transaction. What it depends on besides
the incident is that policy and the store's SLA policy (``now`` only ends an open hold, whose
counted time does not grow; schedules only decide who is paged, never when); so:

- **a policy written** (``put_policy``, a directory file) recomputes it, in the same
  transaction, for every triggered incident of that policy (``refresh``). The row keeps
  what it is made of (``rows.due_row``: the policy id, level, loop, ``escalation_from`` and
  ``breach_mark``), so for every incident whose hold time does not shift its wait (the
  domain's ``EscalationClock.linear``) that is ONE ``UPDATE`` computed in SQL
  (``escalator_due_sql``, a mirror of ``level_wait`` and ``min`` that
  tests/store/test_due_sql.py checks against the domain), over a partial index of the
  triggered incidents by policy; only the few others are parsed and recomputed here;
- **the SLA policy changed** (a store opened with other SLA settings than the last one that
  opened it, kept in ``due_basis``): every open row is marked ``STALE`` in one statement
  and recomputed in batches, each its own transaction (``mark_if_basis_changed``,
  ``refresh_stale``). ``sla_due`` (the queue's "breached") is recomputed with them.

The escalator then asks only for ``escalator_due <= now`` over a partial index: a pass with
nothing due reads no incident.

``STALE`` marks a value not computed yet (rows older than the column, or computed on other
SLA settings): due at once, so the escalator looks at such an incident rather than miss it,
until ``refresh_stale`` recomputes it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from backends.common.rows import DUE_UPDATE, due_row
from console.domain.models import EscalationPolicy, Incident, Status
from console.domain.sla import SlaPolicy

STALE = 0.0
"""``escalator_due`` of a row not computed on the store's SLA settings: due since 1970."""

BATCH = 2_000
"""Rows parsed and recomputed per statement (and per transaction in ``refresh_stale``)."""

BASIS_SCHEMA = "CREATE TABLE due_basis (id INTEGER PRIMARY KEY CHECK (id = 1), sla TEXT NOT NULL)"
"""The SLA settings the stored due columns were computed on (``sla_basis``)."""

_TRIGGERED = f"is_open = 1 AND status = '{Status.TRIGGERED.value}'"
"""Literal, so the partial index ``incidents_policy`` applies (SQLite and PostgreSQL)."""

POLICY_INDEX = f"CREATE INDEX incidents_policy ON incidents (policy) WHERE {_TRIGGERED}"


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

    async def run(self, sql: str, *args: Any) -> None: ...

    async def run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...


def _micros(wait: timedelta) -> int:
    return wait // timedelta(microseconds=1)


def escalation_sql(policy: EscalationPolicy | None) -> str:
    """SQL for ``ts(next_escalation_at)`` of a triggered row whose ``escalation_from`` is set
    (its ``EscalationClock`` is linear): ``NULL`` when ``level_wait`` is ``None`` (no policy,
    or the last level with no repeat left), else the chosen level's wait after
    ``escalation_from``, added in integer microseconds and divided once, as
    ``datetime.timestamp`` rounds (the same float, so "due at its instant" holds to the
    microsecond). The waits are literals: integers made here, not input."""
    if policy is None:
        return "NULL"
    waits = [_micros(level.wait) for level in policy.levels]
    # level_wait: a level below 1 counts as 1, one past the end as the last.
    picks = " ".join(f"WHEN escalation_level <= {n} THEN {w}" for n, w in enumerate(waits[:-1], 1))
    wait = f"CASE {picks} ELSE {waits[-1]} END" if picks else str(waits[-1])
    return (
        f"CASE WHEN escalation_level >= {len(waits)} AND escalation_loop >= {policy.repeat}"
        f" THEN NULL ELSE CAST(escalation_from + {wait} AS DOUBLE PRECISION) / 1000000 END"
    )


def escalator_due_sql(policy: EscalationPolicy | None) -> str:
    """SQL for ``ts(escalator_due)`` of such a row: the earlier of ``escalation_sql`` and
    ``breach_mark``, either being ``NULL`` (never) when the other is not."""
    due = escalation_sql(policy)
    return (
        f"CASE WHEN ({due}) IS NULL THEN breach_mark"
        f" WHEN breach_mark IS NULL OR breach_mark > ({due}) THEN ({due}) ELSE breach_mark END"
    )


async def _policies(tx: DueWriter, ids: Sequence[str] | None = None) -> dict[str, EscalationPolicy]:
    if ids is None:
        return PolicyCache().from_rows(await tx.rows("SELECT id, data FROM policies"))
    marks = ",".join("?" * len(ids))
    rows = await tx.rows(f"SELECT id, data FROM policies WHERE id IN ({marks})", *ids)
    return PolicyCache().from_rows(rows)


async def _recompute(
    tx: DueWriter,
    rows: Sequence[Sequence[Any]],
    policies: dict[str, EscalationPolicy],
    sla: SlaPolicy,
    now: datetime,
) -> None:
    """Rewrite the due columns of ``(id, data)`` rows from the parsed incident."""
    updates = []
    for incident_id, data in rows:
        incident = Incident.model_validate_json(data)
        policy = policies.get(incident.policy) if incident.policy else None
        updates.append((*due_row(incident, sla, now, policy), incident_id))
    await tx.run_many(f"UPDATE incidents SET {DUE_UPDATE} WHERE id = ?", updates)


async def refresh(
    tx: DueWriter, sla: SlaPolicy, now: datetime, *, policy_ids: Sequence[str]
) -> int:
    """Recompute ``escalator_due`` of the triggered incidents of ``policy_ids``, in the
    caller's transaction, after those policies were written (or removed): one ``UPDATE``
    per policy for the linear ones, the others parsed. Returns how many were parsed."""
    if not policy_ids:
        return 0
    policies = await _policies(tx, policy_ids)
    for policy_id in policy_ids:
        due = escalator_due_sql(policies.get(policy_id))
        await tx.run(
            f"UPDATE incidents SET escalator_due = {due}"
            f" WHERE {_TRIGGERED} AND policy = ? AND escalation_from IS NOT NULL"
            # only rows whose value moves (a policy whose waits stay rewrites none), and
            # never a STALE one (its breach_mark may be of other SLA settings: refresh_stale's)
            f" AND coalesce(escalator_due, -1) NOT IN ({STALE}, coalesce({due}, -1))",
            policy_id,
        )
    marks = ",".join("?" * len(policy_ids))
    last, parsed = 0, 0
    while True:
        rows = await tx.rows(
            f"SELECT id, data FROM incidents WHERE {_TRIGGERED} AND policy IN ({marks})"
            " AND escalation_from IS NULL AND id > ? ORDER BY id LIMIT ?",
            *policy_ids,
            last,
            BATCH,
        )
        if not rows:
            return parsed
        await _recompute(tx, rows, policies, sla, now)
        parsed += len(rows)
        last = rows[-1][0]


async def refresh_stale(tx: DueWriter, sla: SlaPolicy, now: datetime, after: int = 0) -> int:
    """Recompute one batch (``BATCH``) of ``STALE`` rows with ids above ``after``, in the
    caller's transaction; returns the last id done, 0 when there was none. A store runs it
    in transactions of their own until it returns 0: the rows still ``STALE`` between two
    batches stay due at once, so the escalator misses none of them meanwhile."""
    rows = await tx.rows(
        "SELECT id, data FROM incidents WHERE escalator_due = ? AND id > ? ORDER BY id LIMIT ?",
        STALE,
        after,
        BATCH,
    )
    if not rows:
        return 0
    await _recompute(tx, rows, await _policies(tx), sla, now)
    return int(rows[-1][0])


def sla_basis(sla: SlaPolicy) -> str:
    """The SLA settings as canonical JSON: equal settings, equal text."""
    return json.dumps(sla.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


async def basis_changed(tx: DueWriter, sla: SlaPolicy) -> bool:
    """Whether the due columns were computed on other SLA settings than ``sla`` (or none
    recorded yet)."""
    rows = await tx.rows("SELECT sla FROM due_basis WHERE id = 1")
    return not rows or rows[0][0] != sla_basis(sla)


async def mark_if_basis_changed(tx: DueWriter, sla: SlaPolicy) -> bool:
    """In the caller's write transaction: when the stored rows were computed on other SLA
    settings, mark every open one ``STALE`` (one statement) and record ``sla`` as the
    basis; ``refresh_stale`` then recomputes them. Returns whether it marked."""
    if not await basis_changed(tx, sla):
        return False
    await tx.run(f"UPDATE incidents SET escalator_due = {STALE} WHERE is_open = 1")
    await tx.run(
        "INSERT INTO due_basis (id, sla) VALUES (1, ?)"
        " ON CONFLICT (id) DO UPDATE SET sla = excluded.sla",
        sla_basis(sla),
    )
    return True
