"""``SqliteBackend.write()``: group commit, durable before anyone is answered, with the
fsync outside the write lock.

A work is plain synchronous code on the store's own ``sqlite3.Connection`` (no round trip
per statement). How the works of many callers become few commits and fewer fsyncs:

- **The fsync is not COMMIT's.** The connection runs ``synchronous=NORMAL``: COMMIT
  writes its frames to the write-ahead log and returns. Its callers are answered only
  after ``fdatasync`` of the log file, begun after that COMMIT, has returned. That is
  ``synchronous=FULL``'s durability (the log holds every frame up to the commit, on disk,
  before anyone hears of it; recovery replays the log up to its last whole commit), but
  neither the write lock nor the event loop waits for the disk. The fsync runs on a thread
  of its own (the GIL is free during the system call), or right on the loop's thread when
  the loop has nothing else to run and this disk's fsyncs are short (``_LogSync``); one
  fsync covers every commit made before it began.
- **Works run at once into an open transaction, which commits when the loop has nothing
  else to run** (requests on their way to ``write()`` join it first; at most
  ``_MOST_TURNS`` turns, ``INLINE_WEIGHT`` alerts), **or the moment the fsync in flight
  ends**. The loop never waits for the disk to run a work, and a commit holds what arrived
  meanwhile: a 1-alert webhook writes about 19.7 log frames alone, 7.1 in a group of 4 and
  4.6 in a group of 8 (16 b-trees, most of whose last pages every webhook changes). With 8
  senders, committing as soon as the fsync was free made groups of about 2.8 (8.3 frames,
  35 KB of log per webhook); waiting for the loop to run dry makes them about 6 (5.6
  frames, 23 KB) and took 1-alert webhooks from 1,100 to 1,450 a second.
- **Optimistic, without savepoints.** A savepoint journals every page its work changes
  first (46 us more per 1-alert webhook in groups of 4), and nearly every work succeeds.
  When one fails and works of other callers are in the transaction, all of it is rolled
  back and run again on the writer thread with a SAVEPOINT per work, so that the failing
  one rolls back alone and the others still commit. A work may therefore run twice: it
  must touch nothing but the connection it is given.
- **Light works run on the event loop's thread**, heavy groups (more than
  ``INLINE_WEIGHT`` alerts or rows) on the writer thread so they never stall the loop. On
  the writer thread every statement gives up the GIL and must win it back from the busy
  loop, which made a one-alert webhook wait for the loop a dozen times. A group also goes
  to the writer thread when another process holds the file's write lock (it waits there,
  up to ``busy_timeout``, instead of on the loop).
- **Checkpoints on the writer thread, between transactions** (``_checkpoint``, every
  ``CHECKPOINT_EVERY`` commits), not inside a COMMIT on the loop's thread.

An open transaction takes ``lock`` (the store's write lock) and lets go of it at COMMIT,
so the store's other writers (``transaction()``) queue behind at most one fsync.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backends.base import Unavailable

log = logging.getLogger("incidents.store")

INLINE_WEIGHT = 64
"""The heaviest group of works (in alerts or rows) that runs on the event loop's thread;
also the most an open transaction takes in before it commits without waiting."""

CHECKPOINT_EVERY = 32
"""Commits of ``write()`` between two checkpoints (``_checkpoint``; a 1-alert webhook adds
5-20 frames to the log, and SQLite's own default is a checkpoint at 1,000)."""

_MOST_TURNS = 16
"""The most turns of the event loop an open transaction waits, without new works, for the
loop to run out of other callbacks before it commits anyway."""


def _busy() -> bool:
    """Whether the running event loop has callbacks ready to run (other than the caller).

    asyncio has no public "about to wait" hook; CPython's loops keep their ready callbacks
    in ``_ready``. On a loop without it (uvloop) this says ``False``: commits then go
    ahead at once, in smaller groups."""
    return bool(getattr(asyncio.get_running_loop(), "_ready", None))


Work = Callable[[sqlite3.Connection], Any]
Outcome = tuple[bool, Any]
"""``(True, what the work returned)`` or ``(False, the exception to raise)``."""


@dataclass
class _Call:
    work: Work
    future: asyncio.Future[Any]
    weight: int
    value: Any = None


class GroupCommit:
    """The write path of one store: its connection, writer thread and write-ahead log."""

    def __init__(
        self,
        path: Path,
        conn: sqlite3.Connection,
        executor: concurrent.futures.ThreadPoolExecutor,
        lock: asyncio.Lock,
        *,
        busy_timeout: float,
        unavailable: Callable[[BaseException], Unavailable],
        synced: Callable[[Unavailable | None], None],
    ) -> None:
        """``conn`` must have read the file (so its log exists); ``unavailable`` maps an
        SQLite error to the store's ``Unavailable``; ``synced`` hears every fsync's outcome
        and every refusal of SQLite itself (``None``: the commits so far are on disk)."""
        self._conn = conn
        self._executor = executor
        self._lock = lock
        self._busy_timeout = busy_timeout
        self._unavailable = unavailable
        self._synced = synced
        # The loop's thread never waits for a lock: see ``_begin_at_once``, ``_commit_group``.
        conn.execute("PRAGMA busy_timeout = 0")
        # Nor for a checkpoint inside COMMIT: ``_checkpoint`` runs them on the writer thread.
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        self._log = _LogSync(Path(f"{path}-wal"), self._fsynced)
        self._commits_since_checkpoint = 0
        self._pending: list[_Call] = []
        self._open: list[_Call] | None = None
        self._open_weight = 0
        self._flusher: asyncio.Task[None] | None = None
        self._nudge: asyncio.Future[None] | None = None

    async def write(self, work: Work, weight: int) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append(_Call(work, future, weight))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush(), name="store-group-commit")
        else:
            self._wake()
        # A caller cancelled meanwhile cancels only its future: its work still runs and
        # commits with the group (every answer below checks ``done()`` first).
        return await future

    async def close(self) -> None:
        """Commit and fsync what is under way, then let go of the log file."""
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        await self._log.close()

    # the one task that runs works -------------------------------------------------------
    async def _flush(self) -> None:
        try:
            waited = 0
            while True:
                if self._pending:
                    batch, self._pending = self._pending, []
                    await self._take(batch)
                    waited = 0
                    continue
                if self._open is not None and not self._log.busy:
                    if waited < _MOST_TURNS and self._open_weight < INLINE_WEIGHT and _busy():
                        # The loop has more to run (requests on their way to write()):
                        # let it, and commit when it would otherwise wait.
                        waited += 1
                        await asyncio.sleep(0)
                        continue
                    self._commit_open(idle=not _busy())
                if self._open is None:
                    return
                # Open while an fsync is in flight: more works, or that fsync's end (which
                # commits the transaction, ``_fsynced``), wake this task.
                self._nudge = asyncio.get_running_loop().create_future()
                try:
                    await self._nudge
                finally:
                    self._nudge = None
        except BaseException:
            # Cancelled (the loop is going away): nobody is told a write is stored.
            calls = (self._open or []) + self._pending
            self._pending = []
            if self._open is not None:
                self._open = None
                self._roll_back()
                self._lock.release()
            for call in calls:
                call.future.cancel()
            raise
        finally:
            self._flusher = None

    def _wake(self) -> None:
        if self._nudge is not None and not self._nudge.done():
            self._nudge.set_result(None)

    async def _take(self, batch: list[_Call]) -> None:
        if self._open is None and self._commits_since_checkpoint >= CHECKPOINT_EVERY:
            await self._checkpoint()
        weight = sum(call.weight for call in batch)
        if self._open is not None and self._open_weight + weight > INLINE_WEIGHT:
            self._commit_open()
        if weight > INLINE_WEIGHT:
            await self._on_thread(batch)
            return
        if self._open is None:
            await self._lock.acquire()
            try:
                began = self._begin_at_once()
            except sqlite3.Error as exc:
                self._lock.release()
                self._settle(batch, [(False, self._unavailable(exc))] * len(batch))
                return
            except BaseException:
                self._lock.release()
                raise
            if not began:
                self._lock.release()
                await self._on_thread(batch)
                return
            self._open, self._open_weight = [], 0
        await self._run_open(batch)

    async def _checkpoint(self) -> None:
        """Copy the log back into the database file: on the writer thread, holding the write
        lock between two transactions (so the checkpoint reaches the end of the log and the
        next transaction starts it over), while the loop goes on reading requests.

        SQLite's automatic checkpoint did this inside a COMMIT, on the loop's thread: in
        10 s of 1-alert intake 90 of 2,413 commits took 2-5 ms (about 1,000 pages copied,
        two fsyncs), 3 % of the loop. A checkpoint from another connection, without the
        lock, never caught up with the commits: the log grew to 46 MB in 20 s."""
        self._commits_since_checkpoint = 0
        loop = asyncio.get_running_loop()
        try:
            async with self._lock:
                await loop.run_in_executor(self._executor, self._run_checkpoint)
        except sqlite3.Error as exc:
            log.warning("checkpoint of the write-ahead log failed: %s", exc)

    def _run_checkpoint(self) -> None:
        self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()

    def _begin_at_once(self) -> bool:
        """``BEGIN IMMEDIATE`` without waiting (on the loop's thread): ``False`` when another
        process holds the write lock (the group then waits for it on the writer thread)."""
        try:
            self._conn.execute("BEGIN IMMEDIATE")  # the connection's busy_timeout is 0
            return True
        except sqlite3.OperationalError:
            return False

    async def _run_open(self, batch: list[_Call]) -> None:
        """Each work of ``batch`` in turn in the open transaction."""
        assert self._open is not None
        for index, call in enumerate(batch):
            try:
                call.value = call.work(self._conn)
            except Exception as exc:
                others, self._open = self._open, None
                self._roll_back()
                self._lock.release()
                if others:
                    # Works of other callers were in the transaction: all of it again, a
                    # SAVEPOINT each, so that this one rolls back alone.
                    await self._on_thread(others + batch[index:], savepoints=True)
                    return
                error = self._unavailable(exc) if isinstance(exc, sqlite3.Error) else exc
                self._settle([call], [(False, error)])
                self._pending[:0] = batch[index + 1 :]
                return
            self._open.append(call)
            self._open_weight += call.weight

    def _commit_open(self, *, idle: bool = False) -> None:
        calls, self._open = self._open or [], None
        try:
            self._conn.execute("COMMIT")
            outcomes: list[Outcome] = [(True, call.value) for call in calls]
        except sqlite3.Error as exc:
            self._roll_back()
            outcomes = [(False, self._unavailable(exc))] * len(calls)
        finally:
            self._lock.release()
        self._settle(calls, outcomes, idle=idle)

    async def _on_thread(self, calls: list[_Call], *, savepoints: bool = False) -> None:
        works = [call.work for call in calls]
        loop = asyncio.get_running_loop()
        try:
            async with self._lock:
                outcomes = await loop.run_in_executor(
                    self._executor, self._commit_group, works, savepoints
                )
        except Exception as exc:
            outcomes = [(False, exc)] * len(calls)
        self._settle(calls, outcomes)

    def _settle(
        self, calls: Sequence[_Call], outcomes: Sequence[Outcome], *, idle: bool = False
    ) -> None:
        """Answer the works that stored nothing now, the others after the next fsync
        (``idle``: the loop has nothing else to run, see ``_LogSync.after_commit``)."""
        refused = next((v for ok, v in outcomes if isinstance(v, Unavailable)), None)
        if refused is not None:
            self._synced(refused)
        committed: list[tuple[asyncio.Future[Any], Any]] = []
        for call, (ok, value) in zip(calls, outcomes, strict=True):
            if ok:
                committed.append((call.future, value))
            elif not call.future.done():
                call.future.set_exception(value)
        if committed:
            self._log.after_commit(committed, idle=idle)
            self._commits_since_checkpoint += 1

    def _fsynced(self, error: Unavailable | None) -> None:
        """The log's fsync ended: commit the open transaction (the next fsync takes it)."""
        self._synced(error)
        if self._open is not None:
            self._commit_open()
        self._wake()

    # on the writer thread -------------------------------------------------------------------
    def _commit_group(self, works: Sequence[Work], savepoints: bool) -> list[Outcome]:
        """One transaction, one COMMIT: the works without savepoints, and again with a
        SAVEPOINT each if one of them failed (or ``savepoints`` says a first try did)."""
        conn = self._conn
        try:
            self._begin_waiting()
            outcomes = None if savepoints else self._run_works(works)
            if outcomes is None:
                if not conn.in_transaction:
                    self._begin_waiting()
                outcomes = self._run_saved(works)
            if conn.in_transaction:
                conn.execute("COMMIT")
        except BaseException as exc:
            self._roll_back()
            if not isinstance(exc, sqlite3.Error):
                raise
            return [(False, self._unavailable(exc))] * len(works)
        return outcomes

    def _begin_waiting(self) -> None:
        """``BEGIN IMMEDIATE``, waiting up to ``busy_timeout`` for another process's write
        lock (here, on the writer thread, and nowhere else)."""
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
        try:
            conn.execute("BEGIN IMMEDIATE")
        finally:
            conn.execute("PRAGMA busy_timeout = 0")

    def _run_works(self, works: Sequence[Work]) -> list[Outcome] | None:
        """Every work in turn on the bare transaction; the first that raises rolls all of
        it back: a lone work's outcome is its error, a group's is ``None`` (run it again
        with ``_run_saved``)."""
        outcomes: list[Outcome] = []
        for work in works:
            try:
                outcomes.append((True, work(self._conn)))
            except Exception as exc:
                self._roll_back()
                if len(works) > 1:
                    return None
                error = self._unavailable(exc) if isinstance(exc, sqlite3.Error) else exc
                return [(False, error)]
        return outcomes

    def _run_saved(self, works: Sequence[Work]) -> list[Outcome]:
        """Each work in its own SAVEPOINT: one that fails rolls back alone."""
        conn = self._conn
        outcomes: list[Outcome] = []
        for work in works:
            conn.execute("SAVEPOINT work")
            try:
                outcomes.append((True, work(conn)))
            except Exception as exc:
                conn.execute("ROLLBACK TO work")
                error = self._unavailable(exc) if isinstance(exc, sqlite3.Error) else exc
                outcomes.append((False, error))
            conn.execute("RELEASE work")
        return outcomes

    def _roll_back(self) -> None:
        if self._conn.in_transaction:
            try:
                self._conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # SQLite rolls back a transaction it could not finish itself


INLINE_FSYNC_LIMIT = 0.002
"""The longest typical fdatasync (seconds) run on the event loop's thread when it is idle;
a slower disk always gets the fsync thread, so the loop never stalls behind it."""


def _timed_fdatasync(fd: int) -> float:
    started = time.perf_counter()
    os.fdatasync(fd)
    return time.perf_counter() - started


class _LogSync:
    """The write-ahead log file, fsynced after commits, one fsync at a time."""

    def __init__(self, log: Path, ended: Callable[[Unavailable | None], None]) -> None:
        self._path = log
        self._fd = os.open(log, os.O_RDONLY | os.O_CLOEXEC)
        self._ended = ended
        self._executor = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix="incidents-fsync"
        )
        self._waiting: list[tuple[asyncio.Future[Any], Any]] = []
        self._flight: asyncio.Future[float] | None = None
        self._typical = INLINE_FSYNC_LIMIT
        """How long this disk's fdatasync takes (seconds, a moving average): the first one
        runs on the thread and is measured there."""

    @property
    def busy(self) -> bool:
        return self._flight is not None

    def after_commit(
        self, waiting: list[tuple[asyncio.Future[Any], Any]], *, idle: bool = False
    ) -> None:
        """Answer ``waiting`` once an fsync begun after this commit has returned.

        ``idle``: the event loop has nothing else to run, so the fsync runs right here
        (while this disk's fsyncs stay short): handing it to the thread and back cost
        about 0.3 ms on top of a 0.4 ms fdatasync (two thread wake-ups, the GIL twice, the
        loop's self-pipe), and with every sender waiting for this group the loop would
        only have waited for it."""
        self._waiting.extend(waiting)
        if self._flight is not None:
            return
        if idle and self._typical < INLINE_FSYNC_LIMIT:
            waiting, self._waiting = self._waiting, []
            error: BaseException | None = None
            try:
                self._took(_timed_fdatasync(self._fd))
            except OSError as exc:
                error = exc
            self._finish(waiting, error)
        else:
            self._start()

    def _took(self, seconds: float) -> None:
        self._typical += (seconds - self._typical) / 8

    def _start(self) -> None:
        waiting, self._waiting = self._waiting, []
        loop = asyncio.get_running_loop()
        flight = loop.run_in_executor(self._executor, _timed_fdatasync, self._fd)
        self._flight = flight
        flight.add_done_callback(lambda done: self._done(done, waiting))

    def _done(
        self, flight: asyncio.Future[float], waiting: list[tuple[asyncio.Future[Any], Any]]
    ) -> None:
        self._flight = None
        if flight.cancelled():
            for future, _ in waiting:
                future.cancel()  # nobody is told a write is durable
            return
        error = flight.exception()
        if error is None:
            self._took(flight.result())
        self._finish(waiting, error)

    def _finish(
        self, waiting: list[tuple[asyncio.Future[Any], Any]], exc: BaseException | None
    ) -> None:
        error: Unavailable | None = None
        if exc is not None:
            # In the log but not known to be on disk: say so (a sender that retries finds
            # its alert deduplicated, a responder the action already taken).
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            error = Unavailable(
                f"could not flush {self._path} to disk ({reason}): the last writes may be "
                "lost if the machine stops now"
            )
        # First whatever waits for the next fsync (the open transaction commits), then the
        # answers: the disk starts on the next group before the loop sends them.
        self._ended(error)
        if self._waiting and self._flight is None:
            self._start()
        for future, value in waiting:
            if future.done():
                continue
            if error is None:
                future.set_result(value)
            else:
                future.set_exception(error)

    async def close(self) -> None:
        """Wait for the fsyncs under way, then close the log file."""
        while self._flight is not None:
            await asyncio.wait([self._flight])
        self._executor.shutdown(wait=True)
        os.close(self._fd)
