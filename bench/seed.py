"""Fast, identical seeding of a SQLite and a PostgreSQL store with N incidents (M open), for
the queue benchmarks.

Building every incident as a model (``bench/store.py``'s ``_records`` + ``import_records``)
costs ~0.3 ms each in Python: five minutes per store for 1,000,000 on a busy machine. Here
only the open incidents (the ones the queue reads) and a pool of closed ones are built as
models; each closed row is then a pool member's row with its own id, key, timeline ids and
times shifted (string substitution in the stored JSON, checked to hit exactly once). The
rows go to SQLite with ``executemany`` in 50,000-row transactions and to PostgreSQL with
``COPY`` (``copy_records_to_table``); both get exactly the same rows. The change feed gets
no rows (nobody watches a benchmark's history).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import store as sqlite_bench  # bench/store.py: realistic records

from backends.common.rows import ENTRY_COLUMNS, INCIDENT_COLUMNS, entry_row, incident_row
from backends.postgres.store import PostgresBackend
from backends.sqlite.statements import INSERT_ENTRY
from backends.sqlite.store import INSERT_INCIDENT, SqliteBackend
from console.domain.models import Service, User
from console.domain.sla import SlaPolicy

POOL = 4096
CHUNK = 50_000


@dataclass
class Chunk:
    incidents: list[tuple[Any, ...]]
    entries: list[tuple[Any, ...]]


def _swap(text: str, old: str, new: str) -> str:
    if text.count(old) != 1:
        raise AssertionError(f"{old!r} is not exactly once in a template row")
    return text.replace(old, new, 1)


def chunks(
    count: int, open_count: int, now: datetime, sla: SlaPolicy, seed: int = 7
) -> Iterator[Chunk]:
    """The rows of ``count`` incidents (closed history first, the last ``open_count`` open)
    and their timelines, in chunks; the same for the same arguments."""
    rng = random.Random(seed)
    closed = count - open_count
    pool = [
        (incident_row(i, sla, now, None), [entry_row(e) for e in entries])
        for i, entries in sqlite_bench._records(rng, min(POOL, max(closed, 1)), 0, now)
    ]
    next_id, next_entry = 1, 1
    done = 0
    while done < count:
        size = min(CHUNK, count - done)
        incidents: list[tuple[Any, ...]] = []
        entries: list[tuple[Any, ...]] = []
        closed_here = max(0, min(size, closed - done))
        for _ in range(closed_here):
            row, timeline = pool[rng.randrange(len(pool))]
            key = f"INC-{next_id}"
            data = _swap(row[13], '{"id":0,"key":"INC-0",', f'{{"id":{next_id},"key":"{key}",')
            incidents.append((next_id, key, *row[2:13], data, *row[14:]))
            for entry in timeline:
                text = _swap(
                    entry[-1],
                    '{"id":null,"incident_id":0,',
                    f'{{"id":{next_entry},"incident_id":{next_id},',
                )
                entries.append((next_entry, next_id, *entry[2:-1], text))
                next_entry += 1
            next_id += 1
        open_here = size - closed_here
        if open_here:
            for incident, history in sqlite_bench._records(rng, open_here, open_here, now):
                built = incident.model_copy(update={"id": next_id, "key": f"INC-{next_id}"})
                incidents.append(incident_row(built, sla, now, None))
                for item in history:
                    entries.append(
                        entry_row(
                            item.model_copy(update={"id": next_entry, "incident_id": next_id})
                        )
                    )
                    next_entry += 1
                next_id += 1
        done += size
        yield Chunk(incidents, entries)


async def directory(store: SqliteBackend | PostgresBackend) -> None:
    for user in sqlite_bench.USERS:
        await store.put_user(User(id=user, name=user.title()))
    for service in sqlite_bench.SERVICES:
        await store.put_service(Service(id=service, name=service.title()))


async def seed_sqlite(store: SqliteBackend, count: int, open_count: int, now: datetime) -> None:
    await directory(store)
    done = 0
    for chunk in chunks(count, open_count, now, store.settings.sla):
        async with store.transaction() as db:
            await db.executemany(INSERT_INCIDENT, chunk.incidents)
            await db.executemany(INSERT_ENTRY, chunk.entries)
        done += len(chunk.incidents)
        print(f"\r  sqlite: {done:,} / {count:,}", end="", flush=True)
    print()


async def seed_postgres(store: PostgresBackend, count: int, open_count: int, now: datetime) -> None:
    await directory(store)
    incident_columns = [c.strip() for c in INCIDENT_COLUMNS.split(",")]
    entry_columns = [c.strip() for c in ENTRY_COLUMNS.split(",")]
    done = 0
    for chunk in chunks(count, open_count, now, store.settings.sla):
        async with store.transaction() as tx:
            await tx.conn.copy_records_to_table(
                "incidents", records=chunk.incidents, columns=incident_columns
            )
            await tx.conn.copy_records_to_table(
                "timeline", records=chunk.entries, columns=entry_columns
            )
        done += len(chunk.incidents)
        print(f"\r  postgres: {done:,} / {count:,}", end="", flush=True)
    print()
    async with store.transaction() as tx:
        await tx.execute("SELECT setval('incidents_id_seq', (SELECT max(id) FROM incidents))")
        await tx.execute("SELECT setval('timeline_id_seq', (SELECT max(id) FROM timeline))")
    await store.fetch("ANALYZE")
