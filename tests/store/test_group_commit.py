"""Durable commits and the group commit of ``SqliteBackend.write``.

A 2xx means on disk: the ``aiosqlite`` connections run ``synchronous=FULL``; ``write()``
commits with ``synchronous=NORMAL`` and answers only after an fsync of the write-ahead log
begun after its COMMIT. Concurrent ``write()`` calls share transactions and fsyncs, yet
each succeeds or fails alone: a caller whose work raises stores nothing, and the others
still commit.
"""

from __future__ import annotations

import asyncio
import errno
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from backends.base import InvalidAction, Unavailable
from backends.sqlite import group_commit
from backends.sqlite.group_commit import INLINE_WEIGHT
from backends.sqlite.store import SqliteBackend

FULL, NORMAL = 2, 1  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA


class HeldFsync:
    """``os.fdatasync`` as the store calls it, held until the test lets it go: what each
    call found committed when it began, and how many have returned."""

    def __init__(self, path: Path, fail: OSError | None = None) -> None:
        self.path = path
        self.fail = fail
        self.real = os.fdatasync
        self.go = threading.Event()
        self.began: list[list[str]] = []
        self.returned = 0

    def __call__(self, fd: int) -> None:
        assert os.readlink(f"/proc/self/fd/{fd}") == f"{self.path}-wal"
        other = sqlite3.connect(self.path)
        try:
            rows = other.execute("SELECT entity_id FROM changes WHERE kind = 'test'").fetchall()
        finally:
            other.close()
        self.began.append([row[0] for row in rows])
        assert self.go.wait(60), "the test never let the fsync go"
        if self.fail is not None:
            raise self.fail
        self.real(fd)
        self.returned += 1


@pytest.fixture
def held(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldFsync]:
    spy = HeldFsync(tmp_path / "incidents.db")
    monkeypatch.setattr(os, "fdatasync", spy)
    # Held, an fsync on the loop's own thread would hold the test too: the fsync thread.
    monkeypatch.setattr(group_commit, "INLINE_FSYNC_LIMIT", 0.0)
    yield spy
    spy.go.set()


async def _turns(count: int = 20) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(6000):  # a real wait (a thread), bounded: 60 s
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never came true")


async def test_every_connection_commits_durably(tmp_path: Path) -> None:
    async with SqliteBackend(tmp_path / "incidents.db") as store:
        assert store._db is not None and store._reader is not None
        for conn in (store._db, store._reader):
            rows = list(await conn.execute_fetchall("PRAGMA synchronous"))
            assert rows[0][0] == FULL
        # write() takes the fsync out of COMMIT (and answers after it: below).
        assert (
            await store.write(lambda db: db.execute("PRAGMA synchronous").fetchone()[0]) == NORMAL
        )


async def test_a_write_is_answered_only_after_an_fsync_of_the_log_begun_after_its_commit(
    tmp_path: Path, held: HeldFsync
) -> None:
    async with SqliteBackend(tmp_path / "incidents.db") as store:
        writing = asyncio.create_task(store.write(_insert("a")))
        await _until(lambda: len(held.began) == 1)
        assert held.began == [["a"]]  # committed before the fsync began
        await _turns()
        assert not writing.done()  # ... and not answered while it runs
        held.go.set()
        assert await writing == "a"
        assert held.returned == 1


async def test_works_that_arrive_during_an_fsync_share_the_next_commit_and_fsync(
    tmp_path: Path, held: HeldFsync
) -> None:
    async with SqliteBackend(tmp_path / "incidents.db") as store:
        statements: list[str] = []
        assert store._writer is not None
        store._writer.set_trace_callback(statements.append)
        first = asyncio.create_task(store.write(_insert("a")))
        await _until(lambda: len(held.began) == 1)
        later = [asyncio.create_task(store.write(_insert(m))) for m in "bc"]
        await _turns()
        # Run at once, in a transaction left open while the fsync is in flight.
        assert sum(s == "COMMIT" for s in statements) == 1
        assert not any(task.done() for task in [first, *later])
        held.go.set()
        assert await first == "a"
        assert await asyncio.gather(*later) == ["b", "c"]
        store._writer.set_trace_callback(None)
        assert held.began == [["a"], ["a", "b", "c"]]
        assert sum(s == "COMMIT" for s in statements) == 2
        assert sum(s.startswith("BEGIN") for s in statements) == 2


async def test_an_fsync_that_fails_is_unavailable(tmp_path: Path, held: HeldFsync) -> None:
    held.fail = OSError(errno.EIO, "Input/output error")
    held.go.set()
    async with SqliteBackend(tmp_path / "incidents.db") as store:
        with pytest.raises(Unavailable, match="could not flush .*Input/output error"):
            await store.write(_insert("a"))
        outcome = store.last_write()
        assert outcome is not None and not outcome.ok
        assert "could not flush" in outcome.error


async def test_close_waits_for_the_fsync_under_way(tmp_path: Path, held: HeldFsync) -> None:
    store = await SqliteBackend(tmp_path / "incidents.db").open()
    writing = asyncio.create_task(store.write(_insert("a")))
    await _until(lambda: len(held.began) == 1)
    closing = asyncio.create_task(store.close())
    await _turns()
    assert not closing.done()
    held.go.set()
    await closing
    assert await writing == "a"


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
        # Tried without savepoints and rolled back, then again with one per work: one
        # COMMIT for the three.
        assert sum(s.startswith("BEGIN") for s in statements) == 2
        assert sum(s == "ROLLBACK" for s in statements) == 1
        assert sum(s == "COMMIT" for s in statements) == 1
        assert sum(s.startswith("SAVEPOINT") for s in statements) == 3
        rows = await store.fetchall("SELECT entity_id FROM changes WHERE kind = 'test'")
        assert sorted(row[0] for row in rows) == ["a", "c"]


@pytest.mark.parametrize("weight", [1, INLINE_WEIGHT])
async def test_a_group_that_succeeds_runs_without_savepoints(tmp_path: Path, weight: int) -> None:
    # A savepoint journals every page its work changes first; a group where nothing fails
    # needs none, on the loop's thread (light) or the writer's (heavy).
    async with SqliteBackend(tmp_path / "incidents.db") as store:
        statements: list[str] = []
        assert store._writer is not None
        store._writer.set_trace_callback(statements.append)
        results = await asyncio.gather(
            *(store.write(_insert(marker), weight=weight) for marker in "abc")
        )
        store._writer.set_trace_callback(None)
        assert results == ["a", "b", "c"]
        assert not any(s.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")) for s in statements)
        assert sum(s.startswith("BEGIN") for s in statements) == 1
        assert sum(s == "COMMIT" for s in statements) == 1
        rows = await store.fetchall("SELECT entity_id FROM changes WHERE kind = 'test'")
        assert sorted(row[0] for row in rows) == ["a", "b", "c"]


async def test_a_failing_writer_in_a_heavy_group_stores_nothing_and_the_others_commit(
    tmp_path: Path,
) -> None:
    async with SqliteBackend(tmp_path / "incidents.db") as store:
        results = await asyncio.gather(
            store.write(_insert("a"), weight=INLINE_WEIGHT),
            store.write(_insert("b", fail=True), weight=INLINE_WEIGHT),
            store.write(_insert("c"), weight=INLINE_WEIGHT),
            return_exceptions=True,
        )
        assert results[0] == "a" and results[2] == "c"
        assert isinstance(results[1], InvalidAction)
        rows = await store.fetchall("SELECT entity_id FROM changes WHERE kind = 'test'")
        assert sorted(row[0] for row in rows) == ["a", "c"]


async def test_write_on_a_closed_store_is_refused(tmp_path: Path) -> None:
    store = SqliteBackend(tmp_path / "incidents.db")
    await store.open()
    await store.close()
    with pytest.raises(Unavailable):
        await store.write(_insert("late"))


def _where(marker: str, threads: dict[str, int]) -> Callable[[sqlite3.Connection], str]:
    def work(db: sqlite3.Connection) -> str:
        threads[marker] = threading.get_ident()
        return _insert(marker)(db)

    return work


async def test_light_groups_run_on_the_loop_thread_and_heavy_ones_on_the_writer(
    tmp_path: Path,
) -> None:
    # On the writer thread every statement hands the GIL back and forth with the loop;
    # a light group runs where the loop is, a heavy one where it cannot stall the loop.
    threads: dict[str, int] = {}
    async with SqliteBackend(tmp_path / "incidents.db") as store:
        assert await store.write(_where("light", threads)) == "light"
        heavy = await store.write(_where("heavy", threads), weight=INLINE_WEIGHT + 1)
        assert heavy == "heavy"
        rows = await store.fetchall("SELECT entity_id FROM changes WHERE kind = 'test'")
        assert sorted(row[0] for row in rows) == ["heavy", "light"]
    assert threads["light"] == threading.get_ident()
    assert threads["heavy"] != threading.get_ident()


async def test_a_light_group_waits_for_another_process_holding_the_write_lock(
    tmp_path: Path,
) -> None:
    path = tmp_path / "incidents.db"
    async with SqliteBackend(path, busy_timeout=30) as store:
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute(
                "INSERT INTO changes (at, kind, entity, entity_id) VALUES (0, 'test', 'test', 'x')"
            )
            writing = asyncio.create_task(store.write(_insert("mine")))
            for _ in range(20):  # let the group try (and fail) to take the lock at once
                await asyncio.sleep(0)
            assert not writing.done()  # nothing raised, nothing committed: it waits
            other.execute("COMMIT")
            assert await writing == "mine"
        finally:
            other.close()
        rows = await store.fetchall("SELECT entity_id FROM changes WHERE kind = 'test'")
        assert [row[0] for row in rows] == ["x", "mine"]


async def test_a_lone_work_needs_no_savepoint_and_one_that_fails_stores_nothing(
    tmp_path: Path,
) -> None:
    async with SqliteBackend(tmp_path / "incidents.db") as store:
        statements: list[str] = []
        assert store._writer is not None
        store._writer.set_trace_callback(statements.append)
        assert await store.write(_insert("alone")) == "alone"
        with pytest.raises(InvalidAction):
            await store.write(_insert("refused", fail=True))
        assert await store.write(_insert("after")) == "after"
        store._writer.set_trace_callback(None)
        assert not any(s.startswith(("SAVEPOINT", "RELEASE")) for s in statements)
        assert sum(s.startswith("BEGIN") for s in statements) == 3
        assert sum(s == "COMMIT" for s in statements) == 2  # the refused one commits nothing
        assert sum(s == "ROLLBACK" for s in statements) == 1
        rows = await store.fetchall("SELECT entity_id FROM changes WHERE kind = 'test'")
        assert [row[0] for row in rows] == ["alone", "after"]


async def test_the_writer_checkpoints_on_its_thread_between_transactions(tmp_path: Path) -> None:
    from backends.sqlite.group_commit import CHECKPOINT_EVERY

    path = tmp_path / "incidents.db"
    async with SqliteBackend(path) as store:
        assert store._writer is not None
        # Never inside a COMMIT on the loop's thread.
        assert store._writer.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        ran: list[tuple[str, int, bool]] = []
        writer = store._writer
        writer.set_trace_callback(
            lambda sql: ran.append((sql, threading.get_ident(), writer.in_transaction))
        )
        for round_ in range(3):
            for n in range(CHECKPOINT_EVERY):
                await store.write(_insert(f"r{round_}-{n}"))
        writer.set_trace_callback(None)
        checkpoints = [(thread, busy) for sql, thread, busy in ran if "wal_checkpoint" in sql]
        assert len(checkpoints) == 2  # after 32 and 64 commits (the 96th waits for a write)
        assert all(thread != threading.get_ident() and not busy for thread, busy in checkpoints)
        # Each one reached the end of the log, so the log starts over instead of growing.
        size = os.path.getsize(f"{path}-wal")
        for n in range(CHECKPOINT_EVERY + 1):
            await store.write(_insert(f"more-{n}"))
        assert os.path.getsize(f"{path}-wal") <= size
        rows = await store.fetchall("SELECT count(*) FROM changes WHERE kind = 'test'")
        assert rows == [(4 * CHECKPOINT_EVERY + 1,)]


async def test_when_the_loop_is_idle_the_fsync_runs_on_its_thread_unless_the_disk_is_slow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.fdatasync
    calls: list[tuple[int, list[str]]] = []
    path = tmp_path / "incidents.db"

    def spy(fd: int) -> None:
        other = sqlite3.connect(path)
        try:
            rows = other.execute("SELECT entity_id FROM changes WHERE kind = 'test'").fetchall()
        finally:
            other.close()
        calls.append((threading.get_ident(), [row[0] for row in rows]))
        real(fd)

    monkeypatch.setattr(os, "fdatasync", spy)
    # Any disk is fast against this limit (the machine may be busy: no timing here).
    monkeypatch.setattr(group_commit, "INLINE_FSYNC_LIMIT", 60.0)
    loop_thread = threading.get_ident()
    async with SqliteBackend(path) as store:
        # The first fsync runs on the fsync thread: how long this disk takes is not known.
        assert await store.write(_insert("a")) == "a"
        assert calls[0][0] != loop_thread and calls[0][1] == ["a"]
        # Then, with nothing else to run, the fsync the loop would wait for anyway runs
        # right there (after the commit, before the answer).
        assert await store.write(_insert("b")) == "b"
        assert calls[1] == (loop_thread, ["a", "b"])
        # A disk whose fsyncs take long gets the fsync thread, so the loop never stalls.
        monkeypatch.setattr(group_commit, "INLINE_FSYNC_LIMIT", 0.0)
        assert await store.write(_insert("c")) == "c"
        assert calls[2][0] != loop_thread and calls[2][1] == ["a", "b", "c"]
