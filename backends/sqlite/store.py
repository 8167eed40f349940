"""The embedded store: every incident in one SQLite file that several processes share.

Why it is built this way:

- **WAL + busy_timeout.** Readers never wait for a writer; writers queue for up to
  ``busy_timeout`` seconds, then fail with ``Unavailable`` (nothing half-written: each
  mutation is one transaction that is rolled back on any error).
- **Every mutation is one ``BEGIN IMMEDIATE`` transaction** that also appends to the
  ``changes`` table, so the change feed can never disagree with the data. ``seq`` is
  assigned while the write lock is held, so sequence order is commit order and a reader who
  has seen ``seq`` N has seen everything before it.
- **Incidents are stored twice in one row**: the full model as compact JSON (``data``, parsed
  back with ``Incident.model_validate_json``) and the columns the queue filters and sorts on,
  with a partial covering index over open incidents only (``is_open = 1``), so the queue
  query touches the few thousand open rows and not the million resolved ones.
- **``sla_due``** is ``console.domain.sla.sort_due`` (``breach_due``) as epoch seconds,
  recomputed on every write: it does not move unless the incident changes, so "breached"
  at query time is just ``sla_due <= now``.
- **The timeline is append-only in the schema**: triggers refuse UPDATE and DELETE.
- **A 2xx means on disk.** Every ``aiosqlite`` connection runs ``synchronous=FULL``: a
  commit returns only after the WAL is fsynced, so a power cut cannot lose what a caller
  was told is stored. ``write()``, the path of the many small writers (one alert per
  webhook), runs a whole transaction as one function (no round trip per statement) on the
  store's own connection and commits concurrent callers together; it answers them only
  after an fsync of the log begun after their COMMIT, with the fsync outside the write lock
  (``backends.sqlite.group_commit``).
- **``watch()``** runs on its own connection and polls ``PRAGMA data_version`` (which moves
  when any other connection commits), and is woken at once by this process's own commits.

Schema migrations
-----------------
``MIGRATIONS`` is an ordered list; migration *N* (1-based) moves ``PRAGMA user_version``
from *N-1* to *N* in one transaction. To change the schema, APPEND a ``Migration`` at the
end of the list (never edit, reorder or remove one that has shipped: databases in the field
have already run it). A step is an SQL statement or an ``async`` callable taking the
``aiosqlite.Connection`` (for data rewrites). A database whose ``user_version`` is newer
than ``len(MIGRATIONS)`` was written by a newer release: ``open()`` refuses it with
``SchemaTooNew`` and writes nothing to it.

Other modules that keep their own tables here (tokens, integrations, ...) use
``transaction()`` for writes (it records changes via ``record_change``) and ``fetchall()``
for reads, so they get the same locking, error mapping and change feed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import json
import sqlite3
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import aiosqlite
from pydantic import BaseModel

from backends.base import (
    Conflict,
    ConnectionState,
    InvalidAction,
    NotFound,
    Unavailable,
)
from backends.capabilities import Capabilities, OpenCount, WriteOutcome
from backends.common import due
from backends.common.incidents import (
    build_incident,
    complete_action,
    conflict,
    paged_now,
    parse_ref,
)
from backends.common.rows import (
    INCIDENT_COLUMNS,
    INCIDENT_COUNT,
    INCIDENT_UPDATE,
    change_from_row,
    entry_row,
    incident_row,
)
from backends.common.sql import OPEN_COUNTS, marks, next_cursor
from backends.common.sql import order_by as sql_order_by
from backends.common.sql import page as sql_page
from backends.common.sql import where as sql_where
from backends.sqlite import change_events, deliveries, leader
from backends.sqlite.files import create_folders, create_private
from backends.sqlite.group_commit import GroupCommit
from backends.sqlite.leader import LeaseElector
from backends.sqlite.statements import INSERT_CHANGE, INSERT_ENTRY
from backends.sqlite.writer import SqliteWriter
from console.domain import lifecycle
from console.domain.changes import ChangeEvent, NewChange
from console.domain.clock import Clock, SystemClock
from console.domain.config import Settings
from console.domain.directory import DirectoryChanges
from console.domain.intake import Alert, IngestResult, Integration, IntegrationKind, Signal
from console.domain.kpis import Kpis
from console.domain.lifecycle import Action, InvalidTransition
from console.domain.models import (
    Change,
    EscalationPolicy,
    HistoryOrder,
    Incident,
    IncidentPage,
    IncidentQuery,
    NewIncident,
    Priority,
    Schedule,
    Service,
    Status,
    Team,
    TimelineEntry,
    User,
    utc,
)
from console.domain.presence import Presence
from console.domain.problems import Problem, ProblemState
from console.domain.query import search_text
from console.domain.status_page import StatusPage

Step = str | Callable[[aiosqlite.Connection], Awaitable[None]]


@dataclass(frozen=True)
class Migration:
    """One schema step; see the module docstring for how to add one."""

    description: str
    steps: tuple[Step, ...]


_DIRECTORY_TABLES = ("services", "users", "teams", "policies", "schedules")


async def _fill_search(db: aiosqlite.Connection) -> None:
    """Migration 10's data step: ``search`` for every incident already stored, in batches
    by id (title, service and assignee from their columns, only the labels from the JSON;
    a million incidents take seconds, once)."""
    last = 0
    while True:
        rows = list(
            await db.execute_fetchall(
                "SELECT id, title, service, assignee, json_extract(data, '$.labels')"
                " FROM incidents WHERE id > ? ORDER BY id LIMIT 5000",
                [last],
            )
        )
        if not rows:
            return
        await db.executemany(
            "UPDATE incidents SET search = ? WHERE id = ?",
            [
                (search_text(title, service, assignee, json.loads(labels or "{}")), incident_id)
                for incident_id, title, service, assignee, labels in rows
            ],
        )
        last = rows[-1][0]


MIGRATIONS: list[Migration] = [
    Migration(
        "incidents, append-only timeline, change feed, directory",
        (
            """
            CREATE TABLE incidents (
                id INTEGER PRIMARY KEY,
                key TEXT NOT NULL UNIQUE,
                status TEXT NOT NULL,
                is_open INTEGER NOT NULL,
                priority INTEGER NOT NULL,
                service TEXT NOT NULL,
                assignee TEXT,
                title TEXT NOT NULL,
                sla_due REAL,
                created_at REAL NOT NULL,
                resolved_at REAL,
                updated_at REAL NOT NULL,
                version INTEGER NOT NULL,
                data TEXT NOT NULL
            )
            """,
            # The queue: open incidents only, covering every column the queue filters and
            # sorts on, so ordering 10,000 open rows never reads the table.
            """
            CREATE INDEX incidents_open ON incidents
                (priority, sla_due, status, service, assignee, created_at, updated_at)
                WHERE is_open = 1
            """,
            "CREATE INDEX incidents_status ON incidents (status, updated_at)",
            "CREATE INDEX incidents_resolved ON incidents (resolved_at)"
            " WHERE resolved_at IS NOT NULL",
            """
            CREATE TABLE timeline (
                id INTEGER PRIMARY KEY,
                incident_id INTEGER NOT NULL REFERENCES incidents (id),
                version INTEGER NOT NULL,
                at REAL NOT NULL,
                actor TEXT NOT NULL,
                kind TEXT NOT NULL,
                entry TEXT NOT NULL
            )
            """,
            "CREATE INDEX timeline_incident ON timeline (incident_id, version)",
            """
            CREATE TRIGGER timeline_no_update BEFORE UPDATE ON timeline
            BEGIN
                SELECT RAISE(ABORT, 'the timeline is append-only: entries are never changed');
            END
            """,
            """
            CREATE TRIGGER timeline_no_delete BEFORE DELETE ON timeline
            BEGIN
                SELECT RAISE(ABORT, 'the timeline is append-only: entries are never deleted');
            END
            """,
            """
            CREATE TABLE changes (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                at REAL NOT NULL,
                kind TEXT NOT NULL,
                entity TEXT NOT NULL,
                entity_id TEXT NOT NULL,
                version INTEGER
            )
            """,
            *(
                f"CREATE TABLE {table} (id TEXT PRIMARY KEY, data TEXT NOT NULL)"
                for table in _DIRECTORY_TABLES
            ),
        ),
    ),
    Migration(
        "alert intake: integrations (hashed keys), alerts grouped into incidents, delivery log",
        (
            """
            CREATE TABLE integrations (
                id TEXT PRIMARY KEY,
                service TEXT NOT NULL,
                kind TEXT NOT NULL,
                name TEXT NOT NULL DEFAULT '',
                secret_sha256 TEXT NOT NULL,
                created_at REAL NOT NULL,
                revoked_at REAL
            )
            """,
            """
            CREATE TABLE alerts (
                id INTEGER PRIMARY KEY,
                incident_id INTEGER NOT NULL REFERENCES incidents (id),
                integration_id TEXT NOT NULL,
                alert_key TEXT NOT NULL,
                group_key TEXT NOT NULL,
                status TEXT NOT NULL,
                last_seen REAL NOT NULL,
                data TEXT NOT NULL
            )
            """,
            "CREATE INDEX alerts_key ON alerts (integration_id, alert_key, id)",
            "CREATE INDEX alerts_group ON alerts (integration_id, group_key, incident_id)",
            "CREATE INDEX alerts_incident ON alerts (incident_id, status)",
            """
            CREATE TABLE deliveries (
                id INTEGER PRIMARY KEY,
                created_at REAL NOT NULL,
                updated_at REAL NOT NULL,
                target TEXT NOT NULL,
                url TEXT NOT NULL,
                event TEXT NOT NULL,
                incident_key TEXT NOT NULL,
                status TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                response_code INTEGER,
                error TEXT NOT NULL DEFAULT ''
            )
            """,
            "CREATE INDEX deliveries_recent ON deliveries (updated_at)",
        ),
    ),
    Migration(
        "API tokens for `incidents serve` (hashed secrets; see console/tokens.py)",
        (
            """
            CREATE TABLE tokens (
                id TEXT PRIMARY KEY,
                user TEXT NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('viewer', 'responder', 'admin')),
                name TEXT NOT NULL DEFAULT '',
                secret_sha256 TEXT NOT NULL,
                created_at REAL NOT NULL,
                last_used_at REAL,
                revoked_at REAL
            )
            """,
        ),
    ),
    Migration(
        "problem records (console/problems.py) and an index for KPI windows",
        (
            """
            CREATE TABLE problems (
                id INTEGER PRIMARY KEY,
                key TEXT NOT NULL UNIQUE,
                state TEXT NOT NULL,
                created_at REAL NOT NULL,
                data TEXT NOT NULL
            )
            """,
            "CREATE INDEX incidents_updated ON incidents (updated_at)",
        ),
    ),
    Migration(
        "change events per service (deploys, for correlation) and console presence",
        change_events.SCHEMA,
    ),
    Migration(
        "public incidents for the status page (backends/sqlite/status.py)",
        (
            # The flag lives in the incident's JSON; a partial index on it keeps the status
            # page's query off the thousands of internal incidents.
            "CREATE INDEX incidents_public ON incidents (updated_at)"
            " WHERE json_extract(data, '$.public') = 1",
        ),
    ),
    Migration(
        "the readiness probe's row (``SqliteBackend.probe_write``)",
        ("CREATE TABLE probes (id INTEGER PRIMARY KEY CHECK (id = 1), at REAL NOT NULL)",),
    ),
    Migration(
        "the delivery log is the notifier's outbox (bodies, idempotency keys) and keeps the"
        " notifier's place in the change feed (backends/sqlite/deliveries.py)",
        deliveries.SCHEMA,
    ),
    Migration(
        "the leader lease: one server per file runs the escalator and the notifier"
        " (backends/sqlite/leader.py)",
        leader.SCHEMA,
    ),
    Migration(
        "what free text matches, as a column (title, service, assignee, labels), so the"
        " history view filters a million incidents without parsing their JSON",
        (
            "ALTER TABLE incidents ADD COLUMN search TEXT NOT NULL DEFAULT ''",
            _fill_search,
        ),
    ),
    Migration(
        "the history index: every column the history filters on, in id order",
        (
            # A history page walks incidents by id and stops after a page of matches. Through
            # the table that reads each incident's JSON (2-3 KB a row); this index holds only
            # what the filters read (~100 bytes a row), so a filter that matches little scans
            # a twentieth of the bytes, and one that matches much stops after a few pages.
            """
            CREATE INDEX incidents_history ON incidents
                (id, status, is_open, priority, service, assignee, sla_due, resolved_at, search)
            """,
        ),
    ),
    Migration(
        "when the escalator may next act on an incident (backends/common/due.py), indexed,"
        " so a pass with nothing due reads no incident",
        (
            "ALTER TABLE incidents ADD COLUMN escalator_due REAL",
            # Not computed yet: due at once (never missed); ``open()`` recomputes them.
            f"UPDATE incidents SET escalator_due = {due.STALE} WHERE is_open = 1",
            "CREATE INDEX incidents_escalator ON incidents (escalator_due)"
            " WHERE escalator_due IS NOT NULL",
        ),
    ),
    Migration(
        "what escalator_due is made of (policy, level, loop, when the level's wait started,"
        " the next breach to mark), so a policy written recomputes it in one UPDATE over an"
        " index of the triggered incidents by policy; and the SLA settings it was computed"
        " on, so other settings recompute it (backends/common/due.py)",
        (
            "ALTER TABLE incidents ADD COLUMN policy TEXT",
            "ALTER TABLE incidents ADD COLUMN escalation_level INTEGER",
            "ALTER TABLE incidents ADD COLUMN escalation_loop INTEGER",
            "ALTER TABLE incidents ADD COLUMN escalation_from INTEGER",
            "ALTER TABLE incidents ADD COLUMN breach_mark REAL",
            # Not filled yet: due at once (never missed); ``open()`` recomputes them.
            f"UPDATE incidents SET escalator_due = {due.STALE} WHERE is_open = 1",
            due.POLICY_INDEX,
            due.BASIS_SCHEMA,
        ),
    ),
]


class SchemaTooNew(Unavailable):
    """The database was written by a newer release; it is left untouched."""

    code = "schema_too_new"

    def __init__(self, path: Path, found: int, known: int) -> None:
        super().__init__(
            f"{path} has schema version {found}, but this incident-console only knows up to "
            f"{known}: it was written by a newer release. Upgrade incident-console to open "
            "it (the file was not changed)."
        )
        self.path = path
        self.found = found
        self.known = known


# (table, model) per directory entity; the change kind is "<entity>.updated".
_DIRECTORY: dict[str, tuple[str, type[BaseModel]]] = {
    "service": ("services", Service),
    "user": ("users", User),
    "team": ("teams", Team),
    "policy": ("policies", EscalationPolicy),
    "schedule": ("schedules", Schedule),
}

_WATCH_PAGE = 500
_POLICIES = "SELECT id, data FROM policies WHERE id IN (SELECT value FROM json_each(?))"
_M = TypeVar("_M", bound=BaseModel)
_T = TypeVar("_T")

# The SQL of rows every writer appends; the async and the sync (``write()``) paths share it.
INSERT_INCIDENT = (
    f"INSERT INTO incidents ({INCIDENT_COLUMNS}) VALUES ({marks(range(INCIDENT_COUNT))})"
)


class _ActionContext:
    """``backends.common.incidents.ActionContext`` inside one write transaction."""

    def __init__(self, store: SqliteBackend, db: aiosqlite.Connection) -> None:
        self.store = store
        self.db = db

    async def policy(self, policy_id: str | None) -> EscalationPolicy | None:
        return await self.store.directory_get(self.db, EscalationPolicy, policy_id)

    async def schedules(self) -> list[Schedule]:
        return await self.store.directory(self.db, Schedule)

    async def user_ids(self) -> set[str]:
        return {u.id for u in await self.store.directory(self.db, User)}

    async def incident_key(self, ref: int | str) -> str | None:
        column, value = parse_ref(ref)
        rows = list(
            await self.db.execute_fetchall(f"SELECT key FROM incidents WHERE {column} = ?", [value])
        )
        return str(rows[0][0]) if rows else None


class SqliteBackend:
    """The ``Backend`` contract on a local SQLite file (see the module docstring)."""

    def __init__(
        self,
        path: str | Path,
        *,
        settings: Settings | None = None,
        clock: Clock | None = None,
        poll_interval: float = 0.05,
        busy_timeout: float = 5.0,
    ) -> None:
        self._path = Path(path)
        self._settings = settings or Settings()
        self._clock: Clock = clock or SystemClock()
        self._poll_interval = poll_interval
        self._busy_timeout = busy_timeout
        self._db: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._wakeups: set[asyncio.Event] = set()
        self._watch_connections: set[aiosqlite.Connection] = set()
        self._closing: set[asyncio.Task[None]] = set()
        self._closed = False
        # ``write()``: a plain sqlite3 connection owned by one thread, and the callers
        # waiting for the next group commit.
        self._writer: sqlite3.Connection | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._commits: GroupCommit | None = None
        self._capabilities: Capabilities | None = None
        self._last_write: WriteOutcome | None = None
        self._policy_cache = due.PolicyCache()

    # lifecycle of the store ----------------------------------------------------------------
    @property
    def path(self) -> Path:
        return self._path

    @property
    def description(self) -> str:
        return str(self._path)

    @property
    def connection(self) -> ConnectionState:
        return ConnectionState()

    @property
    def role(self) -> str:
        # A local file grants whoever can open it everything; roles matter on the server.
        return "admin"

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def capabilities(self) -> Capabilities:
        """This store is a ``Store`` and an ``Importer`` and keeps intake, tokens and the
        delivery log (``backends.capabilities``)."""
        if self._capabilities is None:
            from backends.sqlite.deliveries import SqliteDeliveryLog
            from backends.sqlite.tokens import SqliteTokenStore

            self._capabilities = Capabilities(
                store=self,
                importer=self,
                intake=self,
                tokens=SqliteTokenStore(self),
                deliveries=SqliteDeliveryLog(self),
                changes=self,
                presence=self,
                write_health=self,
                tally=self,
                elector=LeaseElector(self, ttl=self._settings.server.leader_lease),
            )
        return self._capabilities

    async def __aenter__(self) -> SqliteBackend:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def open(self) -> SqliteBackend:
        """Connect, refuse a too-new schema, switch to WAL and run pending migrations."""
        if self._db is not None:
            return self
        self._closed = False
        if self._path.is_dir():
            raise Unavailable(
                f"{self._path} is a folder, not a database file: give a file path, "
                f"e.g. --db {self._path / 'incidents.db'}"
            )
        try:
            create_folders(self._path.parent)
        except OSError as exc:
            raise Unavailable(f"cannot create the folder for {self._path}: {exc}") from exc
        try:
            create_private(self._path)
        except OSError as exc:
            raise Unavailable(f"cannot create {self._path}: {exc.strerror or exc}") from exc
        db = await self._connect()
        try:
            # Read before anything writes: a newer schema must stay byte-for-byte untouched.
            version = await self._user_version(db)
            if version > len(MIGRATIONS):
                raise SchemaTooNew(self._path, version, len(MIGRATIONS))
            if version == 0 and await self._has_foreign_tables(db):
                raise Unavailable(
                    f"{self._path} is an SQLite database of some other program (it has tables "
                    "but no incident-console schema); choose another file with --db"
                )
            mode = list(await db.execute_fetchall("PRAGMA journal_mode=WAL"))[0][0]
            if str(mode).lower() != "wal":
                raise Unavailable(f"{self._path} cannot use write-ahead logging (mode {mode})")
            await self._migrate(db)
            await self._refresh_stale(db)
            reader = await self._connect(query_only=True)
        except BaseException as exc:
            await db.close()
            if isinstance(exc, sqlite3.Error):
                raise self._unavailable(exc) from exc
            raise
        try:
            await self._open_writer()
        except BaseException:
            await db.close()
            await reader.close()
            raise
        self._db, self._reader = db, reader
        return self

    async def _open_writer(self) -> None:
        executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="incidents-writer")
        loop = asyncio.get_running_loop()
        connecting = loop.run_in_executor(executor, self._connect_writer)
        try:
            self._writer = await asyncio.shield(connecting)
        except BaseException as exc:
            # Cancelled while connecting: close the connection once it exists.
            connecting.add_done_callback(_close_when_connected)
            executor.shutdown(wait=False)
            if isinstance(exc, sqlite3.Error):
                raise self._unavailable(exc) from exc
            raise
        try:
            self._commits = GroupCommit(
                self._path,
                self._writer,
                executor,
                self._write_lock,
                busy_timeout=self._busy_timeout,
                unavailable=self._unavailable,
                synced=self._synced,
            )
        except OSError as exc:
            await loop.run_in_executor(executor, self._writer.close)
            executor.shutdown(wait=False)
            self._writer = None
            raise Unavailable(
                f"cannot open the log of {self._path}: {exc.strerror or exc}"
            ) from exc
        self._executor = executor

    def _connect_writer(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._path, isolation_level=None, timeout=self._busy_timeout, check_same_thread=False
        )
        try:
            # The fsync of its commits is ``GroupCommit``'s (see ``write``).
            for pragma in self._pragmas(synchronous="NORMAL"):
                conn.execute(pragma)
            # A first read opens the write-ahead log, which ``GroupCommit`` then holds open.
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except BaseException:
            conn.close()
            raise
        return conn

    def _pragmas(self, *, query_only: bool = False, synchronous: str = "FULL") -> list[str]:
        pragmas = [
            f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}",
            "PRAGMA foreign_keys = ON",
            # Durable commits: see the module docstring.
            f"PRAGMA synchronous = {synchronous}",
            # Savepoints (one per group-committed work) journal into temp storage: memory,
            # not a temp file written for every first change of a page.
            "PRAGMA temp_store = MEMORY",
        ]
        if query_only:
            pragmas.append("PRAGMA query_only = ON")
        return pragmas

    async def close(self) -> None:
        """Stop every watch, wait for a write in progress, close every connection."""
        self._closed = True
        for wake in list(self._wakeups):
            wake.set()
        await asyncio.sleep(0)  # let waiting watchers see ``_closed`` and leave
        for conn in list(self._watch_connections):
            self._release(conn)
        if self._closing:
            await asyncio.gather(*list(self._closing), return_exceptions=True)
        commits, self._commits = self._commits, None
        if commits is not None:
            await commits.close()
        async with self._write_lock:
            db, self._db = self._db, None
            reader, self._reader = self._reader, None
            writer, self._writer = self._writer, None
            executor, self._executor = self._executor, None
            if db is not None:
                await db.close()
            if reader is not None:
                await reader.close()
            if executor is not None:
                if writer is not None:
                    await asyncio.get_running_loop().run_in_executor(executor, writer.close)
                executor.shutdown(wait=True)

    async def _connect(self, *, query_only: bool = False) -> aiosqlite.Connection:
        """A new connection with the store's pragmas; on any failure, cancellation
        included, nothing is left open (an unclosed aiosqlite connection keeps a thread
        that stops the interpreter from exiting)."""
        db = aiosqlite.connect(self._path, isolation_level=None, timeout=self._busy_timeout)
        try:
            # (aiosqlite stops its thread itself when the connect is what fails or is cancelled.)
            await db
            for pragma in self._pragmas(query_only=query_only):
                await db.execute(pragma)
        except BaseException as exc:
            await self._close_detached(db)
            if isinstance(exc, sqlite3.Error):
                raise self._unavailable(exc) from exc
            raise
        return db

    async def _close_detached(self, db: aiosqlite.Connection) -> None:
        """Close a connection nobody else knows of, even while being cancelled: the close
        runs as a task that ``close()`` also waits for, and is awaited here shielded."""
        task = asyncio.ensure_future(db.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - closing a half-open connection: nothing to add
            pass

    @staticmethod
    async def _user_version(db: aiosqlite.Connection) -> int:
        rows = await db.execute_fetchall("PRAGMA user_version")
        return int(list(rows)[0][0])

    @staticmethod
    async def _has_foreign_tables(db: aiosqlite.Connection) -> bool:
        rows = await db.execute_fetchall(
            "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        )
        return int(list(rows)[0][0]) > 0

    async def _migrate(self, db: aiosqlite.Connection) -> None:
        for target, migration in enumerate(MIGRATIONS, start=1):
            if await self._user_version(db) >= target:
                continue
            await db.execute("BEGIN IMMEDIATE")
            try:
                # Another process may have migrated while we waited for the write lock.
                current = await self._user_version(db)
                if current > len(MIGRATIONS):
                    raise SchemaTooNew(self._path, current, len(MIGRATIONS))
                if current < target:
                    for step in migration.steps:
                        if isinstance(step, str):
                            await db.execute(step)
                        else:
                            await step(db)
                    await db.execute(f"PRAGMA user_version = {target}")
                await db.execute("COMMIT")
            except BaseException:
                await self._rollback(db)
                raise

    async def _refresh_stale(self, db: aiosqlite.Connection) -> None:
        """Recompute the due columns where they are ``due.STALE`` (rows older than them, or
        all open ones when the SLA settings differ from the ones they were computed on), in
        transactions of ``due.BATCH`` rows: the write lock is let go between two, and a row
        still stale is due meanwhile (never missed). One or two index probes when nothing is
        stale."""
        tx = SqliteWriter(self, db)
        sla, now = self._settings.sla, self._now()
        if await due.basis_changed(tx, sla):
            await self._in_transaction(db, lambda: due.mark_if_basis_changed(tx, sla))
        elif not await db.execute_fetchall(
            "SELECT 1 FROM incidents WHERE escalator_due = ? LIMIT 1", [due.STALE]
        ):
            return
        last = -1
        while last:
            last = await self._in_transaction(
                db, functools.partial(due.refresh_stale, tx, sla, now, max(last, 0))
            )

    async def _in_transaction(
        self, db: aiosqlite.Connection, work: Callable[[], Awaitable[_T]]
    ) -> _T:
        """``work()`` (on ``db``) in one ``BEGIN IMMEDIATE`` transaction, on the connection
        ``open()`` is setting up (before ``transaction()`` is available)."""
        await db.execute("BEGIN IMMEDIATE")
        try:
            done = await work()
            await db.execute("COMMIT")
        except BaseException:
            await self._rollback(db)
            raise
        return done

    def _unavailable(self, exc: BaseException) -> Unavailable:
        text = str(exc)
        if isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
            return Unavailable(
                f"the database {self._path} is locked by another process (waited "
                f"{self._busy_timeout:g}s); nothing was changed, try again in a moment"
            )
        if "not a database" in text:
            return Unavailable(f"{self._path} is not an SQLite database; choose another --db")
        if isinstance(exc, ValueError):
            return Unavailable(f"the store {self._path} is closed")
        return Unavailable(f"the database {self._path} failed ({text}); nothing was changed")

    def _require(self, reader: bool = False) -> aiosqlite.Connection:
        db = self._reader if reader else self._db
        if db is None or self._closed:
            raise Unavailable(f"the store {self._path} is not open")
        return db

    @staticmethod
    async def _rollback(db: aiosqlite.Connection) -> None:
        try:
            if db.in_transaction:
                await db.execute("ROLLBACK")
        except (sqlite3.Error, ValueError):
            pass  # the connection is gone; SQLite rolls the transaction back itself

    # building blocks for this module and for modules with their own tables ------------------
    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``): all of it commits, or none of it.

        SQLite errors become ``Unavailable``; watchers in this process wake on commit.
        """
        async with self._write_lock:
            db = self._require()
            try:
                await db.execute("BEGIN IMMEDIATE")
            except (sqlite3.Error, ValueError) as exc:
                raise self._failed(self._unavailable(exc)) from exc
            try:
                yield db
                await db.execute("COMMIT")
            except BaseException as exc:
                await self._rollback(db)
                if isinstance(exc, sqlite3.Error | ValueError):
                    raise self._failed(self._unavailable(exc)) from exc
                raise
        self._record_write(None)
        self._wake_watchers()

    def _record_write(self, error: Unavailable | None) -> None:
        """Keep the outcome of the latest write for ``last_write`` (readiness)."""
        self._last_write = WriteOutcome(
            ok=error is None, at=time.monotonic(), error="" if error is None else str(error)
        )

    def _failed(self, error: Unavailable) -> Unavailable:
        self._record_write(error)
        return error

    async def probe_write(self) -> None:
        """``backends.capabilities.WriteHealth``: one durable write of the ``probes`` row,
        through the same group commit as every other write (so it waits for the same lock
        and fails for the same reasons)."""

        def probe(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO probes (id, at) VALUES (1, ?)"
                " ON CONFLICT (id) DO UPDATE SET at = excluded.at",
                (time.time(),),
            )

        await self.write(probe)

    def last_write(self) -> WriteOutcome | None:
        return self._last_write

    def _wake_watchers(self) -> None:
        for wake in list(self._wakeups):
            wake.set()

    async def write(self, work: Callable[[sqlite3.Connection], _T], *, weight: int = 1) -> _T:
        """Run ``work(conn)`` in a write transaction; durable on return.

        ``work`` is plain synchronous code on a ``sqlite3.Connection`` (no round trip per
        statement) and must not touch the event loop. Concurrent calls share transactions
        and fsyncs (``backends.sqlite.group_commit``): an exception ``work`` raises undoes
        only its own writes and is raised here; the others still commit. ``work`` may run
        twice (when another work of its group fails), so it must touch nothing but the
        connection it is given. SQLite errors become ``Unavailable``; watchers in this
        process wake once a commit is on disk. ``weight`` is the work's size (alerts,
        rows): heavy groups run on the writer thread, light ones on the loop's.
        """
        self._require()
        commits = self._commits
        if commits is None:
            raise Unavailable(f"the store {self._path} is not open")
        result: _T = await commits.write(work, weight)
        return result

    def _synced(self, error: Unavailable | None) -> None:
        """``GroupCommit``: the commits of ``write()`` so far are on disk (``None``), or an
        fsync or SQLite itself failed."""
        self._record_write(error)
        if error is None:
            self._wake_watchers()

    async def record_change(
        self,
        db: aiosqlite.Connection,
        kind: str,
        entity: str,
        entity_id: str,
        version: int | None = None,
    ) -> None:
        """Append to the change feed inside the caller's ``transaction()``."""
        await db.execute(
            "INSERT INTO changes (at, kind, entity, entity_id, version) VALUES (?, ?, ?, ?, ?)",
            (self._now().timestamp(), kind, entity, entity_id, version),
        )

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read-only query on the reader connection."""
        db = self._require(reader=True)
        try:
            return [tuple(row) for row in await db.execute_fetchall(sql, params)]
        except (sqlite3.Error, ValueError) as exc:
            raise self._unavailable(exc) from exc

    def _now(self) -> datetime:
        return utc(self._clock.now())

    def incident_row(
        self, incident: Incident, now: datetime, policies: Mapping[str, EscalationPolicy]
    ) -> tuple[Any, ...]:
        """The ``incidents`` row of ``incident`` (``backends.common.rows``), due times on
        this store's SLA policy; ``policies`` holds the incident's escalation policy as
        stored now (``policies_sync`` / ``policies_of``: ``backends.common.due.wanted``)."""
        policy = policies.get(incident.policy) if incident.policy else None
        return incident_row(incident, self._settings.sla, now, policy)

    def policies_sync(
        self, conn: sqlite3.Connection, incidents: Iterable[Incident]
    ) -> dict[str, EscalationPolicy]:
        """The stored escalation policies that rows of ``incidents`` depend on (writer
        thread, inside the caller's transaction)."""
        ids = due.wanted(incidents)
        if not ids:
            return {}
        rows = conn.execute(_POLICIES, [json.dumps(ids)]).fetchall()
        return self._policy_cache.from_rows(rows)

    async def policies_of(
        self, db: aiosqlite.Connection, incidents: Iterable[Incident]
    ) -> dict[str, EscalationPolicy]:
        """``policies_sync`` on an ``aiosqlite`` transaction."""
        ids = due.wanted(incidents)
        if not ids:
            return {}
        rows = await db.execute_fetchall(_POLICIES, [json.dumps(ids)])
        return self._policy_cache.from_rows(rows)

    @staticmethod
    def entry_row(entry: TimelineEntry) -> tuple[Any, ...]:
        return entry_row(entry)

    @staticmethod
    async def next_id(db: aiosqlite.Connection, table: str) -> int:
        """The next free id of ``table`` (inside the caller's write transaction)."""
        rows = list(await db.execute_fetchall(f"SELECT coalesce(max(id), 0) + 1 FROM {table}"))
        return int(rows[0][0])

    async def insert_incidents(
        self,
        db: aiosqlite.Connection,
        incidents: Sequence[Incident],
        entries: Sequence[TimelineEntry],
        now: datetime,
    ) -> None:
        policies = await self.policies_of(db, incidents)
        for sql, rows in self.insert_rows(incidents, entries, now, policies):
            await db.executemany(sql, rows)

    def insert_rows(
        self,
        incidents: Sequence[Incident],
        entries: Sequence[TimelineEntry],
        now: datetime,
        policies: Mapping[str, EscalationPolicy],
    ) -> list[tuple[str, list[tuple[Any, ...]]]]:
        """The statements and rows that store new incidents, their entries and changes
        (``policies``: see ``incident_row``)."""
        stamp = now.timestamp()
        rows = [self.incident_row(incident, now, policies) for incident in incidents]
        return [
            (INSERT_INCIDENT, rows),
            (INSERT_ENTRY, [entry_row(entry) for entry in entries]),
            (
                INSERT_CHANGE,
                [
                    (stamp, "incident.created", "incident", str(incident.id), incident.version)
                    for incident in incidents
                ],
            ),
        ]

    # incidents: reads ----------------------------------------------------------------------
    async def list_incidents(self, query: IncidentQuery) -> list[Incident]:
        now = self._now().timestamp()
        where, params = sql_where(query, now)
        order = sql_order_by(query.sort)
        if "?" in order:
            params.append(now)
        # Two steps: order the (index-covered) candidates and keep a page of ids, then read
        # only that page's JSON, instead of dragging every candidate's JSON through the sort.
        ids = [
            row[0]
            for row in await self.fetchall(
                f"SELECT id FROM incidents{where} ORDER BY {order} LIMIT ? OFFSET ?",
                [*params, query.limit, query.offset],
            )
        ]
        found = await self._load(ids)
        return [found[i] for i in ids if i in found]

    async def _load(self, ids: Sequence[int]) -> dict[int, Incident]:
        if not ids:
            return {}
        rows = await self.fetchall(
            "SELECT id, data FROM incidents WHERE id IN (SELECT value FROM json_each(?))",
            ["[" + ",".join(str(int(i)) for i in ids) + "]"],
        )
        return {row[0]: Incident.model_validate_json(row[1]) for row in rows}

    async def open_counts(self, now: datetime) -> list[OpenCount]:
        """``backends.capabilities.Tally`` (``backends.common.sql.OPEN_COUNTS``)."""
        rows = await self.fetchall(OPEN_COUNTS, [utc(now).timestamp()])
        return [
            OpenCount(Priority.from_rank(int(p)), Status(s), int(n), int(b or 0))
            for p, s, n, b in rows
        ]

    async def page_incidents(
        self, query: IncidentQuery, after: str | None = None, order: HistoryOrder = "newest"
    ) -> IncidentPage:
        # Walk the history index in id order (without the hint SQLite may pick a status or
        # priority index and sort every match); a key lookup uses the key's own index.
        hint = "" if query.keys else " INDEXED BY incidents_history"
        if query.escalator_due:  # the few due rows, by their partial index, then sorted
            hint = " INDEXED BY incidents_escalator"
        try:
            sql, params = sql_page(query, after, order, self._now().timestamp(), hint=hint)
        except ValueError as exc:
            raise InvalidAction(str(exc)) from None
        ids, cursor = next_cursor([row[0] for row in await self.fetchall(sql, params)], query.limit)
        found = await self._load(ids)
        return IncidentPage(incidents=[found[i] for i in ids if i in found], next=cursor)

    async def count_incidents(self, query: IncidentQuery) -> int:
        where, params = sql_where(query, self._now().timestamp())
        rows = await self.fetchall(f"SELECT count(*) FROM incidents{where}", params)
        return int(rows[0][0])

    async def get_incident(self, ref: int | str) -> Incident:
        column, value = parse_ref(ref)
        rows = await self.fetchall(f"SELECT data FROM incidents WHERE {column} = ?", [value])
        if not rows:
            raise NotFound(f"there is no incident {ref}")
        return Incident.model_validate_json(rows[0][0])

    async def get_incidents(self, ids: Sequence[int]) -> list[Incident]:
        return list((await self._load(ids)).values())

    async def timeline(self, incident_id: int) -> list[TimelineEntry]:
        rows = await self.fetchall(
            "SELECT entry FROM timeline WHERE incident_id = ? ORDER BY id", [incident_id]
        )
        if not rows:
            await self.get_incident(incident_id)  # NotFound for an unknown incident
        return [TimelineEntry.model_validate_json(row[0]) for row in rows]

    # incidents: writes ---------------------------------------------------------------------
    async def create_incident(self, new: NewIncident, actor: str) -> Incident:
        return (await self.create_incidents([new], actor))[0]

    async def create_incidents(self, batch: Sequence[NewIncident], actor: str) -> list[Incident]:
        if not batch:
            return []
        now = self._now()
        async with self.transaction() as db:
            services = {s.id: s for s in await self.directory(db, Service)}
            users = {u.id for u in await self.directory(db, User)}
            policies = {p.id for p in await self.directory(db, EscalationPolicy)}
            first = await self.next_id(db, "incidents")
            entry_id = await self.next_id(db, "timeline")
            incidents = [
                build_incident(first + n, new, now, services, users, policies)
                for n, new in enumerate(batch)
            ]
            entries = [
                lifecycle.created_entry(incident, actor).model_copy(update={"id": entry_id + n})
                for n, incident in enumerate(incidents)
            ]
            await self.insert_incidents(db, incidents, entries, now)
        return incidents

    async def import_records(
        self, records: Sequence[tuple[Incident, Sequence[TimelineEntry]]]
    ) -> list[Incident]:
        """Bulk-insert pre-built incidents with their timelines in one transaction.

        For backfilling history (the demo, imports): each incident gets a fresh id and key
        and its entries are re-pointed at it; the records are trusted as given (no lifecycle
        replay), but each still appears on the change feed as ``incident.created``.
        """
        if not records:
            return []
        now = self._now()
        async with self.transaction() as db:
            first = await self.next_id(db, "incidents")
            entry_id = await self.next_id(db, "timeline")
            incidents: list[Incident] = []
            entries: list[TimelineEntry] = []
            for n, (incident, timeline) in enumerate(records):
                new_id = first + n
                incidents.append(incident.model_copy(update={"id": new_id, "key": f"INC-{new_id}"}))
                for entry in timeline:
                    entries.append(entry.model_copy(update={"id": entry_id, "incident_id": new_id}))
                    entry_id += 1
            await self.insert_incidents(db, incidents, entries, now)
        return incidents

    async def act(
        self, incident_id: int, action: Action, actor: str, expected_version: int
    ) -> Incident:
        now = self._now()
        async with self.transaction() as db:
            rows = list(
                await db.execute_fetchall("SELECT data FROM incidents WHERE id = ?", [incident_id])
            )
            if not rows:
                raise NotFound(f"there is no incident with id {incident_id}")
            incident = Incident.model_validate_json(rows[0][0])
            if incident.version != expected_version:
                raise await self._conflict(db, incident, expected_version)
            action = await complete_action(incident, action, now, _ActionContext(self, db))
            try:
                updated, entries = lifecycle.apply(incident, action, actor, now)
            except InvalidTransition as exc:
                raise InvalidAction(str(exc)) from exc
            cursor = await db.execute(
                f"UPDATE incidents SET {INCIDENT_UPDATE} WHERE id = ? AND version = ?",
                [
                    *self.incident_row(updated, now, await self.policies_of(db, [updated]))[2:],
                    incident.id,
                    incident.version,
                ],
            )
            if cursor.rowcount != 1:  # pragma: no cover - the write lock makes this impossible
                raise Conflict(
                    f"{incident.key} changed while it was being updated; reload and try again",
                    key=incident.key,
                    expected_version=expected_version,
                )
            entry_id = await self.next_id(db, "timeline")
            await db.executemany(
                "INSERT INTO timeline (id, incident_id, version, at, actor, kind, entry)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    entry_row(entry.model_copy(update={"id": entry_id + n}))
                    for n, entry in enumerate(entries)
                ],
            )
            await self.record_change(
                db, "incident.updated", "incident", str(updated.id), updated.version
            )
        return updated

    async def _conflict(
        self, db: aiosqlite.Connection, incident: Incident, expected: int
    ) -> Conflict:
        if expected > incident.version:
            return conflict(incident, expected)
        rows = await db.execute_fetchall(
            "SELECT actor, kind FROM timeline WHERE incident_id = ? AND version > ? ORDER BY id",
            [incident.id, expected],
        )
        return conflict(incident, expected, [(actor, kind) for actor, kind in rows])

    # directory -----------------------------------------------------------------------------
    @staticmethod
    async def directory(db: aiosqlite.Connection, model: type[_M]) -> list[_M]:
        """Every entry of one directory table, by id (inside the caller's transaction)."""
        table = next(t for t, m in _DIRECTORY.values() if m is model)
        rows = await db.execute_fetchall(f"SELECT data FROM {table} ORDER BY id")
        return [model.model_validate_json(row[0]) for row in rows]

    @staticmethod
    def directory_sync(conn: sqlite3.Connection, model: type[_M]) -> list[_M]:
        """``directory`` for ``write()`` work on the writer thread."""
        table = next(t for t, m in _DIRECTORY.values() if m is model)
        rows = conn.execute(f"SELECT data FROM {table} ORDER BY id").fetchall()
        return [model.model_validate_json(row[0]) for row in rows]

    @staticmethod
    def next_id_sync(conn: sqlite3.Connection, table: str) -> int:
        """``next_id`` for ``write()`` work on the writer thread."""
        rows = conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchall()
        return int(rows[0][0])

    @staticmethod
    async def directory_get(
        db: aiosqlite.Connection, model: type[_M], entity_id: str | None
    ) -> _M | None:
        if entity_id is None:
            return None
        table = next(t for t, m in _DIRECTORY.values() if m is model)
        rows = list(
            await db.execute_fetchall(f"SELECT data FROM {table} WHERE id = ?", [entity_id])
        )
        return model.model_validate_json(rows[0][0]) if rows else None

    async def _list(self, model: type[_M]) -> list[_M]:
        db = self._require(reader=True)
        try:
            return await self.directory(db, model)
        except (sqlite3.Error, ValueError) as exc:
            raise self._unavailable(exc) from exc

    async def _put(self, entity: str, item: _M) -> _M:
        table, _ = _DIRECTORY[entity]
        item_id = str(getattr(item, "id"))  # noqa: B009 - every directory model has an id
        async with self.transaction() as db:
            await db.execute(
                f"INSERT INTO {table} (id, data) VALUES (?, ?)"
                " ON CONFLICT (id) DO UPDATE SET data = excluded.data",
                [item_id, item.model_dump_json()],
            )
            await self.record_change(db, f"{entity}.updated", entity, item_id)
            if entity == "policy":
                await due.refresh(
                    SqliteWriter(self, db), self._settings.sla, self._now(), policy_ids=[item_id]
                )
        return item

    async def services(self) -> list[Service]:
        return await self._list(Service)

    async def users(self) -> list[User]:
        return await self._list(User)

    async def teams(self) -> list[Team]:
        return await self._list(Team)

    async def policies(self) -> list[EscalationPolicy]:
        return await self._list(EscalationPolicy)

    async def schedules(self) -> list[Schedule]:
        return await self._list(Schedule)

    async def put_service(self, service: Service) -> Service:
        return await self._put("service", service)

    async def put_user(self, user: User) -> User:
        return await self._put("user", user)

    async def put_team(self, team: Team) -> Team:
        return await self._put("team", team)

    async def put_policy(self, policy: EscalationPolicy) -> EscalationPolicy:
        return await self._put("policy", policy)

    async def put_schedule(self, schedule: Schedule) -> Schedule:
        return await self._put("schedule", schedule)

    async def apply_directory(self, changes: DirectoryChanges) -> None:
        from backends.sqlite.directory import apply_directory

        await apply_directory(self, changes)

    # escalation ----------------------------------------------------------------------------
    async def paged_now(self, incident_id: int, at: datetime | None = None) -> list[str]:
        return await paged_now(self, incident_id, utc(at) if at is not None else self._now())

    # KPIs ----------------------------------------------------------------------------------
    async def stats(
        self,
        since: timedelta,
        *,
        service: str | None = None,
        team: str | None = None,
        now: datetime | None = None,
    ) -> Kpis:
        from backends.sqlite.stats import sqlite_stats

        return await sqlite_stats(self, since, service=service, team=team, now=now)

    # the public status page (backends/sqlite/status.py) --------------------------------
    async def status_page(self, now: datetime | None = None) -> StatusPage:
        from backends.sqlite.status import sqlite_status_page

        return await sqlite_status_page(self, now)

    # problems (backends/sqlite_problems.py) -----------------------------------------------
    async def create_problem(self, from_incident_id: int, title: str, actor: str) -> Problem:
        from backends.sqlite import problems as sqlite_problems

        return await sqlite_problems.create_problem(self, from_incident_id, title, actor)

    async def problems(self, state: ProblemState | None = None) -> list[Problem]:
        from backends.sqlite import problems as sqlite_problems

        return await sqlite_problems.problems(self, state)

    async def resolve_problem(self, problem_id: int, actor: str) -> Problem:
        from backends.sqlite import problems as sqlite_problems

        return await sqlite_problems.resolve_problem(self, problem_id, actor)

    async def waiting_for_problem(self, problem_id: int) -> list[Incident]:
        from backends.sqlite import problems as sqlite_problems

        return await sqlite_problems.waiting_for_problem(self, problem_id)

    # change events and presence (backends/sqlite/change_events.py) --------------------------
    async def record_change_event(self, change: NewChange, actor: str) -> ChangeEvent:
        return await change_events.record_change_event(self, change, actor)

    async def change_events(
        self,
        *,
        services: Sequence[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = change_events.LIMIT,
    ) -> list[ChangeEvent]:
        return await change_events.change_events(
            self, services=services, since=since, until=until, limit=limit
        )

    async def announce(self, presence: Presence) -> None:
        await change_events.announce(self, presence)

    async def leave(self, console: str) -> None:
        await change_events.leave(self, console)

    async def present(self) -> list[Presence]:
        return await change_events.present(self)

    def watch_presence(self) -> AsyncGenerator[list[Presence], None]:
        return change_events.watch_presence(self)

    # change feed ---------------------------------------------------------------------------
    async def last_seq(self) -> int:
        rows = await self.fetchall("SELECT coalesce(max(seq), 0) FROM changes")
        return int(rows[0][0])

    async def changes(self, since_seq: int, limit: int = 1000) -> list[Change]:
        rows = await self.fetchall(
            "SELECT seq, at, kind, entity, entity_id, version FROM changes"
            " WHERE seq > ? ORDER BY seq LIMIT ?",
            [since_seq, limit],
        )
        return [change_from_row(row) for row in rows]

    async def watch(self, since_seq: int | None = None) -> AsyncIterator[Change]:
        """Yield changes as they commit (from any process), in order, each exactly once.

        ``since_seq=None`` starts from the newest change when iteration begins; pass
        ``await last_seq()`` to not miss what happens between the call and the first
        ``__anext__``. The iterator ends when the store is closed.
        """
        self._require()
        wake = asyncio.Event()
        self._wakeups.add(wake)
        conn: aiosqlite.Connection | None = None
        last = since_seq
        failures = 0
        try:
            seen: object = None
            while not self._closed:
                try:
                    if conn is None:
                        conn = await self._connect(query_only=True)
                        self._watch_connections.add(conn)
                        seen = None
                        if self._closed:  # close() ran while this was connecting
                            return
                    if last is None:
                        rows = list(
                            await conn.execute_fetchall("SELECT coalesce(max(seq), 0) FROM changes")
                        )
                        last = int(rows[0][0])
                    # data_version moves whenever another connection commits; read it
                    # before the query so a commit in between is caught on the next turn.
                    version = list(await conn.execute_fetchall("PRAGMA data_version"))[0][0]
                    full = False
                    if version != seen or wake.is_set():
                        wake.clear()
                        seen = version
                        rows = list(
                            await conn.execute_fetchall(
                                "SELECT seq, at, kind, entity, entity_id, version FROM changes"
                                " WHERE seq > ? ORDER BY seq LIMIT ?",
                                [last, _WATCH_PAGE],
                            )
                        )
                        full = len(rows) == _WATCH_PAGE
                        failures = 0
                        for row in rows:
                            change = change_from_row(row)
                            last = change.seq
                            yield change
                            if self._closed:
                                return
                    if full:
                        continue
                except (sqlite3.Error, Unavailable):
                    # The file is briefly unreadable (locked for recovery, replaced, ...):
                    # reconnect with backoff and resume after the last change yielded.
                    failures += 1
                    if conn is not None:
                        await self._release_and_wait(conn)
                        conn = None
                    if self._closed:
                        return
                    await asyncio.sleep(min(2.0, self._poll_interval * 2**failures))
                    continue
                except ValueError:
                    return  # close() shut this connection: the store is closed
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
                # cancel() that lands as the wait completes, hanging whoever closes us.
                try:
                    async with asyncio.timeout(self._poll_interval):
                        await wake.wait()
                except TimeoutError:
                    pass
        finally:
            self._wakeups.discard(wake)
            if conn is not None:
                await self._release_and_wait(conn)

    def _release(self, conn: aiosqlite.Connection) -> asyncio.Task[None] | None:
        """Close a watch connection exactly once, whoever asks first (the watch or close()).

        aiosqlite hangs when one connection is closed twice concurrently, so the first
        caller takes it out of the set (no await in between) and the close runs as a task
        that ``close()`` waits for.
        """
        if conn not in self._watch_connections:
            return None
        self._watch_connections.discard(conn)
        task = asyncio.ensure_future(conn.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
        return task

    async def _release_and_wait(self, conn: aiosqlite.Connection) -> None:
        task = self._release(conn)
        if task is not None:
            await asyncio.shield(task)

    # alert intake (tables of migration 2; the work is in backends/sqlite_intake.py) ---------
    async def ingest(self, integration: Integration, signals: Sequence[Signal]) -> IngestResult:
        """Take in a batch of alert signals from one integration in ONE transaction: alert
        rows, new incidents, lifecycle actions and change-feed rows commit together."""
        from backends.sqlite import intake as sqlite_intake

        return await sqlite_intake.ingest(self, integration, signals)

    async def alerts(self, incident_id: int) -> list[Alert]:
        """The alerts grouped into an incident, oldest first."""
        from backends.sqlite import intake as sqlite_intake

        return await sqlite_intake.alerts(self, incident_id)

    async def create_integration(
        self, service: str, kind: IntegrationKind, name: str = ""
    ) -> tuple[Integration, str]:
        from backends.sqlite import intake as sqlite_intake

        return await sqlite_intake.create_integration(self, service, kind, name)

    async def integrations(self) -> list[Integration]:
        from backends.sqlite import intake as sqlite_intake

        return await sqlite_intake.integrations(self)

    async def revoke_integration(self, integration_id: str) -> Integration:
        from backends.sqlite import intake as sqlite_intake

        return await sqlite_intake.revoke_integration(self, integration_id)

    async def integration_for_key(self, key: str) -> Integration | None:
        from backends.sqlite import intake as sqlite_intake

        return await sqlite_intake.integration_for_key(self, key)


def _close_when_connected(connecting: asyncio.Future[sqlite3.Connection]) -> None:
    if not connecting.cancelled() and connecting.exception() is None:
        connecting.result().close()


__all__ = ["MIGRATIONS", "Migration", "SchemaTooNew", "SqliteBackend"]
