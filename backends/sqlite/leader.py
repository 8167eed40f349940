"""The escalator/notifier leader among servers on one SQLite file: a lease in the database.

SQLite has no session lock that dies with its holder, so leadership is a row of the
``leases`` table: who holds it (``holder``: host, pid and a random part), its ``term`` (one
more at each change of holder) and until when (``expires_at``, wall-clock seconds: every
process on one SQLite file shares the host's clock). Each step is one short write
transaction through the store's own writer (``SqliteBackend.write``), so it serialises with
every other write:

- **acquire**: take the row when it is free, expired, or already ours; else try again every
  ``retry`` seconds.
- **renew**: every ``renew`` seconds (a third of ``ttl``) the holder moves ``expires_at`` to
  now + ``ttl``, only while the row still names it. When the row names someone else, or no
  renewal has succeeded for ``ttl - renew`` seconds (a locked or failing database), the
  holder steps down, before its lease can have run out.
- **release**: a holder that stops cleanly expires its row at once, so the next candidate takes over
  at its next try; one that dies (kill -9) holds the row until it expires, so takeover
  takes at most ``ttl + retry`` seconds.

This maps onto PostgreSQL's advisory lock (``backends.postgres.leader``): acquire is a
try-lock, holding is renewing, release is unlock; only the bound on takeover differs (a
dead session's lock goes at once, a dead holder's lease at expiry). While two believe they
lead for a moment nothing doubles: every escalation carries the version it read (one
wins), and the notifier's cursor moves with its delivery rows in one transaction.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sqlite3
import time
import uuid
from typing import TYPE_CHECKING

from backends.base import BackendError

if TYPE_CHECKING:
    from backends.sqlite.store import SqliteBackend

log = logging.getLogger("incidents.server")

SCHEMA = (
    """
    CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        term INTEGER NOT NULL,
        expires_at REAL NOT NULL
    )
    """,
)

LEADER = "automation"
"""The lease of the escalator and the notifier."""


def candidate_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeaseLeadership:
    """``backends.capabilities.Leadership`` on a lease row (see the module docstring)."""

    def __init__(
        self,
        store: SqliteBackend,
        *,
        ttl: float = 10.0,
        retry: float | None = None,
        name: str = LEADER,
    ) -> None:
        self.store = store
        self.ttl = ttl
        self.renew = ttl / 3
        self.retry = self.renew if retry is None else retry
        self.name = name
        self.holder = candidate_id()
        self.term = 0
        self._now = time.time

    def _take(self, conn: sqlite3.Connection) -> int | None:
        now = self._now()
        row = conn.execute(
            "SELECT holder, term, expires_at FROM leases WHERE name = ?", (self.name,)
        ).fetchone()
        if row is not None and row[0] != self.holder and row[2] > now:
            return None  # held by a live holder
        term = (row[1] if row is not None else 0) + (0 if row and row[0] == self.holder else 1)
        conn.execute(
            "INSERT INTO leases (name, holder, term, expires_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
            " term = excluded.term, expires_at = excluded.expires_at",
            (self.name, self.holder, term, now + self.ttl),
        )
        return int(term)

    def _extend(self, conn: sqlite3.Connection) -> bool:
        cursor = conn.execute(
            "UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ? AND term = ?",
            (self._now() + self.ttl, self.name, self.holder, self.term),
        )
        return cursor.rowcount == 1

    def _drop(self, conn: sqlite3.Connection) -> None:
        # Expired, not deleted: the next holder's term still counts on from this one.
        conn.execute(
            "UPDATE leases SET expires_at = 0 WHERE name = ? AND holder = ?",
            (self.name, self.holder),
        )

    async def acquire(self) -> None:
        while True:
            try:
                term = await self.store.write(self._take)
            except BackendError as exc:
                log.warning("leader lease: could not try for it (will retry): %s", exc)
                term = None
            if term is not None:
                self.term = term
                return
            await asyncio.sleep(self.retry)

    async def wait_lost(self) -> None:
        renewed = time.monotonic()
        while True:
            await asyncio.sleep(self.renew)
            try:
                if not await self.store.write(self._extend):
                    log.warning("leader lease: another server holds it now")
                    return
                renewed = time.monotonic()
            except BackendError as exc:
                # Step down before the lease can run out under us.
                if time.monotonic() - renewed >= self.ttl - self.renew:
                    log.warning("leader lease: could not renew it in time: %s", exc)
                    return

    async def release(self) -> None:
        try:
            await self.store.write(self._drop)
        except BackendError:
            pass  # it expires by itself


class LeaseElector:
    """``backends.capabilities.Elector`` of the SQLite store."""

    def __init__(self, store: SqliteBackend, *, ttl: float = 10.0) -> None:
        self.store = store
        self.ttl = ttl

    def leadership(self) -> LeaseLeadership:
        return LeaseLeadership(self.store, ttl=self.ttl)
