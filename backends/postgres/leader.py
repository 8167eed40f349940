"""The escalator/notifier leader among replicas: a PostgreSQL session advisory lock.

A candidate keeps one connection of its own and tries ``pg_try_advisory_lock(LEADER_LOCK)``
every ``retry`` seconds; the one that gets it leads for as long as that connection lives.
A leader that dies (kill -9, a crash, a lost host) loses the connection, and PostgreSQL
drops the lock with it at once; another candidate takes it at its next try, so failover
takes at most ``retry`` seconds plus its start-up. A leader checks its connection every
``check`` seconds and steps down when it breaks (the database may already have given the
lock to someone else). While two believe they lead for a moment, nothing doubles: every
escalation carries the version it read (one wins), and the notifier's cursor moves with the
delivery rows in one transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import asyncpg

from backends.postgres.schema import LEADER_LOCK
from backends.postgres.tx import DB_ERRORS, WATCH_ERRORS

if TYPE_CHECKING:
    from backends.postgres.store import PostgresBackend


class AdvisoryLeadership:
    """``backends.capabilities.Leadership`` on a session advisory lock."""

    def __init__(
        self,
        store: PostgresBackend,
        *,
        key: int = LEADER_LOCK,
        retry: float = 1.0,
        check: float = 1.0,
    ) -> None:
        self.store = store
        self.key = key
        self.retry = retry
        self.check = check
        self._conn: asyncpg.Connection | None = None

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()

    async def acquire(self) -> None:
        while True:
            try:
                if self._conn is None or self._conn.is_closed():
                    self._conn = await self.store.connect()
                if await self._conn.fetchval("SELECT pg_try_advisory_lock($1)", self.key):
                    return
            except WATCH_ERRORS:
                await self._drop()
            await asyncio.sleep(self.retry)

    async def wait_lost(self) -> None:
        while True:
            await asyncio.sleep(self.check)
            conn = self._conn
            try:
                if conn is None or conn.is_closed():
                    raise OSError("the leader connection is closed")
                async with asyncio.timeout(max(self.check, 1.0) * 3):
                    await conn.fetchval("SELECT 1")
            except DB_ERRORS:
                await self._drop()
                return

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(*DB_ERRORS):
                await conn.execute("SELECT pg_advisory_unlock_all()")
                await conn.close(timeout=2)
            if not conn.is_closed():
                conn.terminate()


class AdvisoryElector:
    """``backends.capabilities.Elector`` of the PostgreSQL store."""

    def __init__(self, store: PostgresBackend, *, retry: float = 1.0) -> None:
        self.store = store
        self.retry = retry

    def leadership(self) -> AdvisoryLeadership:
        return AdvisoryLeadership(self.store, retry=self.retry, check=self.retry)
