"""Durable commits and the group commit of ``SqliteBackend.write``.

A 2xx means on disk: every connection runs ``synchronous=FULL``. Concurrent ``write()``
calls share one transaction and one fsync, yet each succeeds or fails alone: a caller whose
work raises stores nothing, and the others still commit.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from backends.base import InvalidAction, Unavailable
from backends.sqlite.store import SqliteBackend

FULL = 2  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA


async def test_every_connection_commits_durably(tmp_path: Path) -> None:
    async with SqliteBackend(tmp_path / "incidents.db") as store:
        assert store._db is not None and store._reader is not None
        for conn in (store._db, store._reader):
            rows = list(await conn.execute_fetchall("PRAGMA synchronous"))
            assert rows[0][0] == FULL
        assert await store.write(lambda db: db.execute("PRAGMA synchronous").fetchone()[0]) == FULL


def _insert(marker: str, fail: bool = False) -> Callable[[sqlite3.Connection], str]:
    def work(db: sqlite3.Connection) -> str:
        db.execute(
            "INSERT INTO changes (at, kind, entity, entity_id) VALUES (0, 'test', 'test', ?)",
            [marker],
        )
        if fail:
            raise InvalidAction(f"{marker} refused after writing")
        return marker

    return work


async def test_a_failing_writer_in_a_group_stores_nothing_and_the_others_commit(
    tmp_path: Path,
) -> None:
    async with SqliteBackend(tmp_path / "incidents.db") as store:
        statements: list[str] = []
        assert store._writer is not None
        store._writer.set_trace_callback(statements.append)
        # Queued together before the group commit task first runs: one transaction.
        results = await asyncio.gather(
            store.write(_insert("a")),
            store.write(_insert("b", fail=True)),
            store.write(_insert("c")),
            return_exceptions=True,
        )
        store._writer.set_trace_callback(None)
        assert results[0] == "a" and results[2] == "c"
        assert isinstance(results[1], InvalidAction)
        assert sum(s.startswith("BEGIN") for s in statements) == 1
        assert sum(s == "COMMIT" for s in statements) == 1
        rows = await store.fetchall("SELECT entity_id FROM changes WHERE kind = 'test'")
        assert sorted(row[0] for row in rows) == ["a", "c"]


async def test_write_on_a_closed_store_is_refused(tmp_path: Path) -> None:
    store = SqliteBackend(tmp_path / "incidents.db")
    await store.open()
    await store.close()
    with pytest.raises(Unavailable):
        await store.write(_insert("late"))
