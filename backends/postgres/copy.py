"""Moving a team from a SQLite file to PostgreSQL: every table copied row for row.

Ids, keys, versions, timelines, change sequence numbers and token digests are kept as they
are (an ``INC-42`` stays ``INC-42``, tokens and integration keys keep working), then each
sequence is moved past the highest id copied. The target must be an empty incident-console
database (freshly migrated); the copy is one transaction, so a failure leaves it empty.
Presence rows are ephemeral (consoles announce themselves again) and are not copied. The
columns derived on the store's settings (``backends.common.due``: when the escalator may
next act, the breach instant) are computed again by the target, on its own settings: every
open incident is copied as due at once and recomputed after the copy (never missed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from backends.base import InvalidAction
from backends.common import due

if TYPE_CHECKING:
    from backends.postgres.store import PostgresBackend
    from backends.sqlite.store import SqliteBackend

# table -> (columns, the sequence its ids come from); parents before children.
TABLES: dict[str, tuple[str, str | None]] = {
    "services": ("id, data", None),
    "users": ("id, data", None),
    "teams": ("id, data", None),
    "policies": ("id, data", None),
    "schedules": ("id, data", None),
    "incidents": (
        "id, key, status, is_open, priority, service, assignee, title, sla_due, created_at,"
        " resolved_at, updated_at, version, data, search",
        "incidents_id_seq",
    ),
    "timeline": ("id, incident_id, version, at, actor, kind, entry", "timeline_id_seq"),
    "changes": ("seq, at, kind, entity, entity_id, version", "changes_seq"),
    "integrations": ("id, service, kind, name, secret_sha256, created_at, revoked_at", None),
    "alerts": (
        "id, incident_id, integration_id, alert_key, group_key, status, last_seen, data",
        "alerts_id_seq",
    ),
    "deliveries": (
        "id, created_at, updated_at, target, url, event, incident_key, status, attempts,"
        " response_code, error, idem_key, body",
        "deliveries_id_seq",
    ),
    "notifier_cursor": ("id, seq", None),
    "tokens": (
        '"user", id, role, name, secret_sha256, created_at, last_used_at, revoked_at',
        None,
    ),
    "problems": ("id, key, state, created_at, data", "problems_id_seq"),
    "change_events": ("id, service, at, data", "change_events_id_seq"),
}
_BATCH = 5000


async def copy_store(source: SqliteBackend, target: PostgresBackend) -> dict[str, int]:
    """Copy every table of ``source`` into the empty ``target``; rows copied per table."""
    if await target.last_seq() or await target.fetch("SELECT 1 FROM incidents LIMIT 1"):
        raise InvalidAction(
            f"{target.description} already holds incidents or changes; migrate into a new, "
            "empty database"
        )
    counts: dict[str, int] = {}
    async with target.transaction() as tx:
        for table, (columns, sequence) in TABLES.items():
            names = [c.strip() for c in columns.split(",")]
            marks = ", ".join(f"${n}" for n in range(1, len(names) + 1))
            read = columns.replace('"user"', "user")
            rows = await source.fetchall(f"SELECT {read} FROM {table} ORDER BY 1")
            for start in range(0, len(rows), _BATCH):
                await tx.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                    [tuple(row) for row in rows[start : start + _BATCH]],
                )
            counts[table] = len(rows)
            if sequence is not None and rows:
                key = "seq" if table == "changes" else "id"
                await tx.execute(f"SELECT setval('{sequence}', (SELECT max({key}) FROM {table}))")
        # Intake's unique claim of each group with an open incident (see postgres/intake.py).
        await tx.execute(
            "INSERT INTO alert_groups (integration_id, group_key, incident_id)"
            " SELECT a.integration_id, a.group_key, max(a.incident_id) FROM alerts a"
            " JOIN incidents i ON i.id = a.incident_id AND i.is_open = 1"
            " GROUP BY a.integration_id, a.group_key"
        )
        await tx.execute(f"UPDATE incidents SET escalator_due = {due.STALE} WHERE is_open = 1")
    await target.refresh_due()
    return counts


async def count_rows(target: PostgresBackend) -> dict[str, int]:
    """Rows per copied table in ``target`` (to check a migration against its source)."""
    counts = {}
    for table in TABLES:
        rows = await target.fetch(f"SELECT count(*) AS n FROM {table}")
        counts[table] = int(rows[0]["n"])
    return counts
