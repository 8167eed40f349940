"""Change events in the SQLite store (table ``change_events``) and presence (``presence``).

Change events are append-only facts (a deploy happened), recorded with an entry on the
change feed (``change_event.recorded``) so open consoles refresh the incident they show.
Presence rows are the opposite: ephemeral, one per console, overwritten on each renewal and
never on the change feed or a timeline; consoles on the same file see each other's rows by
reading the small table (``PRAGMA data_version`` tells them when to).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncGenerator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from backends.base import Unavailable
from backends.common.change_events import INSERT, LIMIT, check_service, recorded, row, select
from console.domain.changes import ChangeEvent, NewChange
from console.domain.presence import Presence, live

if TYPE_CHECKING:
    from backends.sqlite.store import SqliteBackend

SCHEMA = (
    """
    CREATE TABLE change_events (
        id INTEGER PRIMARY KEY,
        service TEXT NOT NULL,
        at REAL NOT NULL,
        data TEXT NOT NULL
    )
    """,
    "CREATE INDEX change_events_service_at ON change_events (service, at)",
    """
    CREATE TABLE presence (
        console TEXT PRIMARY KEY,
        expires_at REAL NOT NULL,
        data TEXT NOT NULL
    )
    """,
)


async def record_change_event(store: SqliteBackend, change: NewChange, actor: str) -> ChangeEvent:
    check_service(change, (s.id for s in await store.services()))
    now = store.clock.now()
    async with store.transaction() as db:
        rows = list(await db.execute_fetchall("SELECT coalesce(max(id), 0) + 1 FROM change_events"))
        event = recorded(change, int(rows[0][0]), actor, now)
        await db.execute(INSERT, row(event))
        await store.record_change(db, "change_event.recorded", "change_event", str(event.id))
    return event


async def change_events(
    store: SqliteBackend,
    *,
    services: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = LIMIT,
) -> list[ChangeEvent]:
    """Change events newest first (``backends.common.change_events.select``)."""
    query = select(services, since, until, limit)
    if query is None:
        return []
    rows = await store.fetchall(*query)
    return [ChangeEvent.model_validate_json(found[0]) for found in rows]


def _presence_write(path: Path, statements: Sequence[tuple[str, Sequence[object]]]) -> None:
    """On a worker thread: one short transaction on a connection of its own.

    Presence never goes through the store's writer (its lock, its group commit, its
    durability): an announcement is ephemeral, renewed every few seconds, and must neither
    wait behind intake nor hold the store's writer when a console goes away.
    """
    conn = sqlite3.connect(path, timeout=2.0, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN IMMEDIATE")
        for sql, params in statements:
            conn.execute(sql, params)
        conn.execute("COMMIT")
    finally:
        conn.close()


async def _presence(store: SqliteBackend, *statements: tuple[str, Sequence[object]]) -> None:
    # A one-shot thread, ended before this returns: no executor thread outlives the call
    # (a console that quits leaves no thread behind; see tests/app/test_quit.py).
    loop = asyncio.get_running_loop()
    executor = ThreadPoolExecutor(1, thread_name_prefix="presence")
    try:
        await loop.run_in_executor(executor, _presence_write, store.path, statements)
    except sqlite3.Error as exc:
        raise Unavailable(f"presence not written to {store.path}: {exc}") from exc
    finally:
        executor.shutdown(wait=True)


async def announce(store: SqliteBackend, presence: Presence) -> None:
    """Upsert this console's row (and drop rows long expired, so the table stays small)."""
    now = store.clock.now().timestamp()
    await _presence(
        store,
        (
            "INSERT INTO presence (console, expires_at, data) VALUES (?, ?, ?) "
            "ON CONFLICT (console) DO UPDATE SET expires_at = excluded.expires_at,"
            " data = excluded.data",
            (presence.console, presence.expires_at.timestamp(), presence.model_dump_json()),
        ),
        ("DELETE FROM presence WHERE expires_at < ?", (now - 60,)),
    )


async def leave(store: SqliteBackend, console: str) -> None:
    await _presence(store, ("DELETE FROM presence WHERE console = ?", (console,)))


async def present(store: SqliteBackend) -> list[Presence]:
    """Every console's live announcement."""
    now = store.clock.now()
    rows = await store.fetchall(
        "SELECT data FROM presence WHERE expires_at > ?", [now.astimezone(UTC).timestamp()]
    )
    return live((Presence.model_validate_json(row[0]) for row in rows), now)


POLL_SECONDS = 0.4
"""How often a console re-reads the presence table (a few rows on the reader connection)."""


async def watch_presence(store: SqliteBackend) -> AsyncGenerator[list[Presence], None]:
    """The live announcements now, then again each time they change (expiry included)."""
    last: list[Presence] | None = None
    while True:
        now = await present(store)
        if now != last:
            last = now
            yield now
        await asyncio.sleep(POLL_SECONDS)
