"""Applying a planned directory change inside one write transaction, for every SQL store.

The plan (``console.domain.directory.plan``) says what to write; this only writes it, after
checking again, inside the transaction, that no open incident uses what is being removed
(the file may have been planned a while ago, and incidents keep arriving). Each entry
written or removed is on the change feed (``<kind>.updated`` / ``<kind>.removed``), so open
consoles reload their directory. A store supplies its transaction as a ``SqlWriter``: SQL
with ``?`` marks, which the PostgreSQL store numbers for asyncpg.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from backends.base import InvalidAction, NotFound
from backends.common import due
from console.domain.directory import DirectoryChanges, in_use, with_override
from console.domain.models import Incident, Schedule
from console.domain.sla import SlaPolicy

TABLES = {
    "service": "services",
    "user": "users",
    "team": "teams",
    "policy": "policies",
    "schedule": "schedules",
}
"""The table of each directory entity; its change kinds are ``<entity>.updated/removed``."""


class SqlWriter(Protocol):
    """One open write transaction of a SQL store (statements use ``?`` marks)."""

    #: appended to the SELECT of the schedule an override changes (``" FOR UPDATE"`` where
    #: rows are locked one by one; empty where the whole transaction is already exclusive)
    lock_rows: str

    async def rows(self, sql: str, *args: Any) -> Sequence[Sequence[Any]]: ...

    async def run(self, sql: str, *args: Any) -> None: ...

    async def run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    async def record_change(self, kind: str, entity: str, entity_id: str) -> None: ...


async def apply_directory(
    tx: SqlWriter, changes: DirectoryChanges, sla: SlaPolicy, now: datetime
) -> None:
    """Write ``changes`` in the caller's transaction (raise to roll all of it back); the
    incidents of every policy written get their ``escalator_due`` recomputed
    (``backends.common.due``) on ``sla`` at ``now``."""
    if changes.removed:
        rows = await tx.rows("SELECT data FROM incidents WHERE is_open = 1")
        refused = in_use(changes, (Incident.model_validate_json(r[0]) for r in rows))
        if refused:
            raise InvalidAction("; ".join(refused))
    for kind, item in changes.puts():
        await tx.run(
            f"INSERT INTO {TABLES[kind]} (id, data) VALUES (?, ?)"
            " ON CONFLICT (id) DO UPDATE SET data = excluded.data",
            item.id,
            item.model_dump_json(),
        )
        await tx.record_change(f"{kind}.updated", kind, item.id)
    written = [item.id for kind, item in changes.puts() if kind == "policy"]
    await due.refresh(tx, sla, now, policy_ids=written)
    for added in changes.overrides:
        found = await tx.rows(
            f"SELECT data FROM schedules WHERE id = ?{tx.lock_rows}", added.schedule
        )
        if not found:
            raise NotFound(f"there is no schedule {added.schedule!r}")
        person = added.override.user
        if not await tx.rows("SELECT 1 FROM users WHERE id = ?", person):
            raise InvalidAction(f"there is nobody with the handle {person!r}")
        schedule = with_override(Schedule.model_validate_json(found[0][0]), added.override)
        await tx.run(
            "UPDATE schedules SET data = ? WHERE id = ?", schedule.model_dump_json(), schedule.id
        )
        await tx.record_change("schedule.updated", "schedule", schedule.id)
    for ref in changes.removed:
        await tx.run(f"DELETE FROM {TABLES[ref.kind]} WHERE id = ?", ref.id)
        await tx.record_change(f"{ref.kind}.removed", ref.kind, ref.id)
