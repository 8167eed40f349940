"""Applying a directory file to the SQLite store: every write in one transaction.

The plan (``console.domain.directory.plan``) says what to write; this only writes it, after
checking again, inside the transaction, that no open incident uses what is being removed
(the file may have been planned a while ago, and incidents keep arriving). Each entry
written or removed is on the change feed (``<kind>.updated`` / ``<kind>.removed``), so open
consoles reload their directory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from backends.base import InvalidAction, NotFound
from console.domain.directory import DirectoryChanges, in_use, with_override
from console.domain.models import Incident, Schedule

if TYPE_CHECKING:
    from backends.sqlite.store import SqliteBackend

TABLES = {
    "service": "services",
    "user": "users",
    "team": "teams",
    "policy": "policies",
    "schedule": "schedules",
}


async def apply_directory(backend: SqliteBackend, changes: DirectoryChanges) -> None:
    async with backend.transaction() as db:
        if changes.removed:
            rows = await db.execute_fetchall("SELECT data FROM incidents WHERE is_open = 1")
            refused = in_use(changes, (Incident.model_validate_json(r[0]) for r in rows))
            if refused:
                raise InvalidAction("; ".join(refused))
        for kind, item in changes.puts():
            await db.execute(
                f"INSERT INTO {TABLES[kind]} (id, data) VALUES (?, ?)"
                " ON CONFLICT (id) DO UPDATE SET data = excluded.data",
                [item.id, item.model_dump_json()],
            )
            await backend.record_change(db, f"{kind}.updated", kind, item.id)
        for added in changes.overrides:
            rows = list(
                await db.execute_fetchall(
                    "SELECT data FROM schedules WHERE id = ?", [added.schedule]
                )
            )
            if not rows:
                raise NotFound(f"there is no schedule {added.schedule!r}")
            person = added.override.user
            if not list(await db.execute_fetchall("SELECT 1 FROM users WHERE id = ?", [person])):
                raise InvalidAction(f"there is nobody with the handle {person!r}")
            schedule = with_override(Schedule.model_validate_json(rows[0][0]), added.override)
            await db.execute(
                "UPDATE schedules SET data = ? WHERE id = ?",
                [schedule.model_dump_json(), schedule.id],
            )
            await backend.record_change(db, "schedule.updated", "schedule", schedule.id)
        for ref in changes.removed:
            await db.execute(f"DELETE FROM {TABLES[ref.kind]} WHERE id = ?", [ref.id])
            await backend.record_change(db, f"{ref.kind}.removed", ref.kind, ref.id)
