"""The public status page over the SQLite store: public incidents and their public entries.

Two queries whatever the store's size: the public incidents open now or ended inside the
history window (through the partial index of migration 5, so the thousands of internal
incidents are never read), then only their ``published`` and ``public_update`` entries. The
page itself is built by ``console.domain.status_page.build_status_page``, the one rule.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING

from console.domain.models import Incident, TimelineEntry, utc
from console.domain.status_page import (
    PUBLIC_ENTRY_KINDS,
    StatusPage,
    build_status_page,
    history_start,
)

if TYPE_CHECKING:
    from backends.sqlite.store import SqliteBackend

PUBLIC_INDEX = "json_extract(data, '$.public') = 1"
"""The condition the partial index ``incidents_public`` is built on (queries repeat it
verbatim so SQLite can use the index)."""


async def sqlite_status_page(backend: SqliteBackend, now: datetime | None = None) -> StatusPage:
    at = utc(now) if now is not None else utc(backend.clock.now())
    start = history_start(at).timestamp()
    rows = await backend.fetchall(
        f"SELECT data FROM incidents WHERE {PUBLIC_INDEX}"
        " AND (is_open = 1 OR updated_at >= ?) ORDER BY id",
        [start],
    )
    incidents = [Incident.model_validate_json(row[0]) for row in rows]
    entries: dict[int, list[TimelineEntry]] = defaultdict(list)
    if incidents:
        for (entry,) in await backend.fetchall(
            "SELECT entry FROM timeline"
            " WHERE incident_id IN (SELECT value FROM json_each(?))"
            " AND kind IN (SELECT value FROM json_each(?)) ORDER BY id",
            [
                json.dumps([incident.id for incident in incidents]),
                json.dumps(sorted(kind.value for kind in PUBLIC_ENTRY_KINDS)),
            ],
        ):
            parsed = TimelineEntry.model_validate_json(entry)
            entries[parsed.incident_id].append(parsed)
    return build_status_page(await backend.services(), incidents, entries, at)
