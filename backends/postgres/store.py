"""The team store: every incident in one PostgreSQL database that many processes share.

Several ``incidents serve`` replicas and consoles open the same database; nothing is kept
in one process that another needs. Why it is built this way:

- **Every mutation is one transaction** that also appends its rows to the ``changes``
  table, so the change feed can never disagree with the data. Each incident row is locked
  (``SELECT ... FOR UPDATE``) while it is changed, and every write checks the version it
  read, so two replicas acting on one incident give one winner and one ``Conflict``.
- **The change feed never skips.** A reader asks for ``seq > last`` and must never see
  seq N+1 before seq N commits, or it would move past N for good. Sequence values are not
  enough on their own: transaction A may take seq 5, transaction B seq 6, and B commit
  first. So change rows are not written as the work goes; ``Tx.record_change`` collects
  them, and just before COMMIT the transaction takes ``pg_advisory_xact_lock(CHANGES_LOCK)``,
  draws its seqs from ``changes_seq``, inserts the rows and commits. The lock is released
  only after the commit is visible, and the next writer can draw a seq only after taking
  the lock; hence seq order is commit order, and whoever has seen seq N has seen every
  change before it. Only that final insert is serialised (the rest of each transaction
  runs concurrently).
- **Watchers** (``watch()``) LISTEN on channel ``incident_console_changes``; each writer
  sends ``pg_notify`` in its transaction (delivered on commit), which wakes every watcher
  on every replica at once. The notification only wakes; the watcher then reads
  ``changes`` from its last seq, so a notification lost with a dropped connection loses
  nothing: the watcher reconnects with backoff, and polls every ``poll_interval`` anyway.
- **Ids come from sequences** (several servers insert at once); the incident key is
  ``INC-<id>``.
- **Rows are encoded like the SQLite store's** (``backends.common.rows``: epoch-second
  times, the model as JSON beside the queue's columns, a partial index over open incidents)
  and the queue's WHERE and ORDER BY are the same text (``backends.common.sql``), with the
  marks numbered for asyncpg.
- Migrations: ``backends.postgres.schema``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
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
from backends.common.directory import apply_directory
from backends.common.incidents import (
    build_incident,
    complete_action,
    conflict,
    paged_now,
    parse_ref,
)
from backends.common.rows import (
    CHANGE_COLUMNS,
    change_from_row,
    entry_row,
    incident_row,
)
from backends.common.sql import OPEN_COUNTS, next_cursor, numbered, order_by
from backends.common.sql import page as sql_page
from backends.common.sql import where as sql_where
from backends.postgres.schema import CHANGES_LOCK, MIGRATION_LOCK, MIGRATIONS
from backends.postgres.tx import (
    DB_ERRORS,
    INSERT_ENTRY,
    INSERT_INCIDENT,
    TABLES,
    UPDATE_INCIDENT,
    WATCH_ERRORS,
    QmarkWriter,
    Tx,
    WriteRace,
    directory,
    directory_get,
    table_of,
)
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
from console.domain.problems import Problem, ProblemState
from console.domain.status_page import (
    PUBLIC_ENTRY_KINDS,
    StatusPage,
    build_status_page,
    history_start,
)

CHANNEL = "incident_console_changes"
_WATCH_PAGE = 500
_M = TypeVar("_M", bound=BaseModel)


def redact(dsn: str) -> str:
    """The URL without its password, for status lines and messages."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    netloc = parts.netloc.rpartition("@")
    user = netloc[0].partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[2]}"))


class SchemaTooNew(Unavailable):
    """The database was written by a newer release; it is left untouched."""

    code = "schema_too_new"

    def __init__(self, where: str, found: int, known: int) -> None:
        super().__init__(
            f"{where} has schema version {found}, but this incident-console only knows up to "
            f"{known}: it was written by a newer release. Upgrade incident-console to open "
            "it (the database was not changed)."
        )
        self.found = found
        self.known = known


class _ActionContext:
    """``backends.common.incidents.ActionContext`` inside one write transaction."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    async def policy(self, policy_id: str | None) -> EscalationPolicy | None:
        return await directory_get(self.tx, EscalationPolicy, policy_id)

    async def schedules(self) -> list[Schedule]:
        return await directory(self.tx, Schedule)

    async def user_ids(self) -> set[str]:
        return {u.id for u in await directory(self.tx, User)}

    async def incident_key(self, ref: int | str) -> str | None:
        column, value = parse_ref(ref)
        rows = await self.tx.fetch(f"SELECT key FROM incidents WHERE {column} = $1", value)
        return str(rows[0]["key"]) if rows else None


class PostgresBackend:
    """The ``Backend`` contract on a PostgreSQL database (see the module docstring)."""

    def __init__(
        self,
        dsn: str,
        *,
        settings: Settings | None = None,
        clock: Clock | None = None,
        poll_interval: float = 1.0,
        pool_size: int = 8,
        connect_timeout: float = 10.0,
        leader_retry: float = 1.0,
    ) -> None:
        self._dsn = dsn
        self._settings = settings or Settings()
        self._clock: Clock = clock or SystemClock()
        self._poll_interval = poll_interval
        self._pool_size = pool_size
        self._connect_timeout = connect_timeout
        self._leader_retry = leader_retry
        self._pool: asyncpg.Pool | None = None
        self._wakeups: set[asyncio.Event] = set()
        self._watch_connections: set[asyncpg.Connection] = set()
        self._closed = False
        self._capabilities: Capabilities | None = None
        self._last_write: WriteOutcome | None = None
        self._policy_cache = due.PolicyCache()

    # lifecycle of the store ----------------------------------------------------------------
    @property
    def dsn(self) -> str:
        return self._dsn

    @property
    def description(self) -> str:
        return redact(self._dsn)

    @property
    def connection(self) -> ConnectionState:
        return ConnectionState()

    @property
    def role(self) -> str:
        # Whoever holds the database credentials may do everything; roles matter on a server.
        return "admin"

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def capabilities(self) -> Capabilities:
        """A ``Store`` and an ``Importer`` that keeps intake, tokens and the delivery log, and
        elects the automation leader among replicas (``backends.postgres.leader``)."""
        if self._capabilities is None:
            from backends.postgres.deliveries import PostgresDeliveryLog
            from backends.postgres.leader import AdvisoryElector
            from backends.postgres.tokens import PostgresTokenStore

            self._capabilities = Capabilities(
                store=self,
                importer=self,
                intake=self,
                tokens=PostgresTokenStore(self),
                deliveries=PostgresDeliveryLog(self),
                elector=AdvisoryElector(self, retry=self._leader_retry),
                changes=self,
                tally=self,
                write_health=self,
            )
        return self._capabilities

    async def __aenter__(self) -> PostgresBackend:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def connect(self) -> asyncpg.Connection:
        """A connection of its own (watchers, the leader lock), outside the pool."""
        try:
            return await asyncpg.connect(self._dsn, timeout=self._connect_timeout)
        except DB_ERRORS as exc:
            raise self._unavailable(exc) from exc

    async def open(self) -> PostgresBackend:
        """Connect, refuse a too-new schema and run pending migrations."""
        if self._pool is not None:
            return self
        self._closed = False
        try:
            pool = await asyncpg.create_pool(
                self._dsn,
                min_size=1,
                max_size=self._pool_size,
                timeout=self._connect_timeout,
                command_timeout=60,
            )
        except DB_ERRORS as exc:
            raise self._unavailable(exc) from exc
        except ValueError as exc:  # a malformed URL
            raise Unavailable(f"{self.description} is not a valid PostgreSQL URL: {exc}") from exc
        try:
            async with pool.acquire() as conn:
                await self._migrate(conn)
        except BaseException as exc:
            await pool.close()
            if isinstance(exc, DB_ERRORS):
                raise self._unavailable(exc) from exc
            raise
        self._pool = pool
        await self.refresh_due()
        return self

    async def refresh_due(self) -> None:
        """Recompute the due columns where they are ``due.STALE`` (rows older than them, or
        all open ones when the SLA settings differ from the ones they were computed on), in
        transactions of ``due.BATCH`` rows; a row still stale is due meanwhile (never
        missed). One or two index probes when nothing is stale."""
        sla, now = self._settings.sla, self._now()
        basis = await self.fetch("SELECT sla FROM due_basis WHERE id = 1")
        if not basis or basis[0]["sla"] != due.sla_basis(sla):
            async with self.transaction() as tx:
                await due.mark_if_basis_changed(QmarkWriter(tx), sla)
        elif not await self.fetch(
            "SELECT 1 FROM incidents WHERE escalator_due = $1 LIMIT 1", due.STALE
        ):
            return
        last = -1
        while last:
            async with self.transaction() as tx:
                last = await due.refresh_stale(QmarkWriter(tx), sla, now, max(last, 0))

    async def close(self) -> None:
        """Stop every watch and close every connection."""
        self._closed = True
        for wake in list(self._wakeups):
            wake.set()
        await asyncio.sleep(0)
        for conn in list(self._watch_connections):
            self._watch_connections.discard(conn)
            with contextlib.suppress(*DB_ERRORS):
                await conn.close(timeout=2)
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                async with asyncio.timeout(10):
                    await pool.close()
            except DB_ERRORS:
                pool.terminate()

    @staticmethod
    async def schema_version(conn: asyncpg.Connection) -> int:
        exists = await conn.fetchval("SELECT to_regclass('incident_console_schema') IS NOT NULL")
        if not exists:
            return 0
        return int(await conn.fetchval("SELECT version FROM incident_console_schema") or 0)

    async def _migrate(self, conn: asyncpg.Connection) -> None:
        # Read before anything writes: a newer schema must stay untouched.
        version = await self.schema_version(conn)
        if version > len(MIGRATIONS):
            raise SchemaTooNew(self.description, version, len(MIGRATIONS))
        if version == 0:
            foreign = await conn.fetchval(
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
            )
            if foreign:
                raise Unavailable(
                    f"{self.description} holds tables of some other program (and no "
                    "incident-console schema); give an empty database"
                )
        if version == len(MIGRATIONS):
            return
        async with conn.transaction():
            # One migrator at a time: replicas starting together wait here, then see the
            # version the first one wrote and do nothing.
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS incident_console_schema (version integer NOT NULL)"
            )
            current = await self.schema_version(conn)
            if current > len(MIGRATIONS):
                raise SchemaTooNew(self.description, current, len(MIGRATIONS))
            if current == 0:
                await conn.execute("INSERT INTO incident_console_schema (version) VALUES (0)")
            for target, migration in enumerate(MIGRATIONS, start=1):
                if current >= target:
                    continue
                for step in migration.steps:
                    await conn.execute(step)
                await conn.execute("UPDATE incident_console_schema SET version = $1", target)

    async def _write_changes(self, tx: Tx) -> None:
        """The change rows of ``tx``, under the change-feed lock, and one wake-up."""
        if not tx.changes:
            return
        await tx.execute("SELECT pg_advisory_xact_lock($1)", CHANGES_LOCK)
        seqs = await tx.ids("changes_seq", len(tx.changes))
        stamp = self._now().timestamp()
        await tx.executemany(
            f"INSERT INTO changes ({CHANGE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)",
            [
                (seq, stamp, kind, entity, entity_id, version)
                for seq, (kind, entity, entity_id, version) in zip(seqs, tx.changes, strict=True)
            ],
        )
        await tx.execute("SELECT pg_notify($1, $2)", CHANNEL, str(seqs[-1]))

    def _unavailable(self, exc: BaseException) -> Unavailable:
        if isinstance(exc, asyncpg.InvalidCatalogNameError | asyncpg.InvalidPasswordError):
            return Unavailable(f"cannot open {self.description}: {exc}")
        if isinstance(exc, OSError | asyncio.TimeoutError):
            return Unavailable(
                f"cannot reach PostgreSQL at {self.description} ({exc or 'timed out'}); "
                "nothing was changed, try again in a moment"
            )
        return Unavailable(f"the database {self.description} failed ({exc}); nothing was changed")

    def _record_write(self, error: Unavailable | None) -> None:
        """Keep the outcome of the latest write transaction for ``last_write`` (readiness)."""
        self._last_write = WriteOutcome(
            ok=error is None, at=time.monotonic(), error="" if error is None else str(error)
        )

    def _failed(self, error: Unavailable) -> Unavailable:
        self._record_write(error)
        return error

    async def probe_write(self) -> None:
        """``backends.capabilities.WriteHealth``: one real, durable write (the schema row
        rewritten as it is: a new row version and a commit record through the WAL), so it
        fails as writes do (a server in recovery or read-only, a full disk, a lost
        connection) and needs no table of its own. A transaction id alone is not enough:
        a read-only transaction may take one."""
        async with self.transaction() as tx:
            await tx.execute("UPDATE incident_console_schema SET version = version")

    def last_write(self) -> WriteOutcome | None:
        return self._last_write

    def _require(self) -> asyncpg.Pool:
        if self._pool is None or self._closed:
            raise Unavailable(f"the store {self.description} is not open")
        return self._pool

    # building blocks for this module and for modules with their own tables ------------------
    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """One write transaction: all of it commits, or none of it.

        The change rows it recorded are written last, under the change-feed lock (see the
        module docstring), with one ``pg_notify`` that wakes every watcher on commit.
        """
        pool = self._require()
        try:
            conn = await pool.acquire()
        except DB_ERRORS as exc:
            raise self._failed(self._unavailable(exc)) from exc
        try:
            transaction = conn.transaction()
            await transaction.start()
            tx = Tx(conn)
            try:
                yield tx
                await self._write_changes(tx)
                await transaction.commit()
            except BaseException:
                with contextlib.suppress(*DB_ERRORS):
                    await transaction.rollback()
                raise
        except (asyncpg.UniqueViolationError, asyncpg.SerializationError) as exc:
            raise WriteRace(
                f"another writer changed the same rows of {self.description} at the same "
                "moment; nothing was changed, try again"
            ) from exc
        except DB_ERRORS as exc:
            raise self._failed(self._unavailable(exc)) from exc
        finally:
            with contextlib.suppress(*DB_ERRORS):
                await pool.release(conn)
        self._record_write(None)
        for wake in list(self._wakeups):
            wake.set()

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """Run a read-only query on a pooled connection."""
        pool = self._require()
        try:
            return list(await pool.fetch(sql, *args))
        except DB_ERRORS as exc:
            raise self._unavailable(exc) from exc

    def _now(self) -> datetime:
        return utc(self._clock.now())

    def incident_row(
        self, incident: Incident, now: datetime, policies: Mapping[str, EscalationPolicy]
    ) -> tuple[Any, ...]:
        """The ``incidents`` row of ``incident``; ``policies`` holds its escalation policy as
        stored now (``policies_of``)."""
        policy = policies.get(incident.policy) if incident.policy else None
        return incident_row(incident, self._settings.sla, now, policy)

    async def policies_of(
        self, tx: Tx, incidents: Iterable[Incident]
    ) -> dict[str, EscalationPolicy]:
        """The stored escalation policies that rows of ``incidents`` depend on (inside the
        caller's transaction; ``backends.common.due.wanted``)."""
        ids = due.wanted(incidents)
        if not ids:
            return {}
        rows = await tx.fetch("SELECT id, data FROM policies WHERE id = ANY($1::text[])", ids)
        return self._policy_cache.from_rows((row["id"], row["data"]) for row in rows)

    async def insert_incidents(
        self,
        tx: Tx,
        incidents: Sequence[Incident],
        entries: Sequence[TimelineEntry],
        now: datetime,
    ) -> None:
        policies = await self.policies_of(tx, incidents)
        await tx.executemany(
            INSERT_INCIDENT, [self.incident_row(i, now, policies) for i in incidents]
        )
        await tx.executemany(INSERT_ENTRY, [entry_row(entry) for entry in entries])
        for incident in incidents:
            tx.record_change("incident.created", "incident", str(incident.id), incident.version)

    async def insert_entries(self, tx: Tx, entries: Sequence[TimelineEntry]) -> None:
        """Append timeline entries, each with a fresh id."""
        ids = await tx.ids("timeline_id_seq", len(entries))
        await tx.executemany(
            INSERT_ENTRY,
            [
                entry_row(entry.model_copy(update={"id": entry_id}))
                for entry_id, entry in zip(ids, entries, strict=True)
            ],
        )

    # incidents: reads ----------------------------------------------------------------------
    async def list_incidents(self, query: IncidentQuery) -> list[Incident]:
        now = self._now().timestamp()
        where, params = sql_where(query, now)
        order = order_by(query.sort)
        if "?" in order:
            params.append(now)
        rows = await self.fetch(
            numbered(f"SELECT id FROM incidents{where} ORDER BY {order} LIMIT ? OFFSET ?"),
            *params,
            query.limit,
            query.offset,
        )
        ids = [row["id"] for row in rows]
        found = await self._load(ids)
        return [found[i] for i in ids if i in found]

    async def _load(self, ids: Sequence[int]) -> dict[int, Incident]:
        if not ids:
            return {}
        rows = await self.fetch(
            "SELECT id, data FROM incidents WHERE id = ANY($1::bigint[])", [int(i) for i in ids]
        )
        return {row["id"]: Incident.model_validate_json(row["data"]) for row in rows}

    async def open_counts(self, now: datetime) -> list[OpenCount]:
        """``backends.capabilities.Tally`` (``backends.common.sql.OPEN_COUNTS``)."""
        rows = await self.fetch(numbered(OPEN_COUNTS), utc(now).timestamp())
        return [
            OpenCount(Priority.from_rank(int(r[0])), Status(r[1]), int(r[2]), int(r[3] or 0))
            for r in rows
        ]

    async def page_incidents(
        self, query: IncidentQuery, after: str | None = None, order: HistoryOrder = "newest"
    ) -> IncidentPage:
        try:
            sql, params = sql_page(query, after, order, self._now().timestamp())
        except ValueError as exc:
            raise InvalidAction(str(exc)) from None
        rows = await self.fetch(numbered(sql), *params)
        ids, cursor = next_cursor([row["id"] for row in rows], query.limit)
        found = await self._load(ids)
        return IncidentPage(incidents=[found[i] for i in ids if i in found], next=cursor)

    async def count_incidents(self, query: IncidentQuery) -> int:
        where, params = sql_where(query, self._now().timestamp())
        rows = await self.fetch(numbered(f"SELECT count(*) AS n FROM incidents{where}"), *params)
        return int(rows[0]["n"])

    async def get_incident(self, ref: int | str) -> Incident:
        column, value = parse_ref(ref)
        rows = await self.fetch(f"SELECT data FROM incidents WHERE {column} = $1", value)
        if not rows:
            raise NotFound(f"there is no incident {ref}")
        return Incident.model_validate_json(rows[0]["data"])

    async def get_incidents(self, ids: Sequence[int]) -> list[Incident]:
        return list((await self._load(ids)).values())

    async def timeline(self, incident_id: int) -> list[TimelineEntry]:
        rows = await self.fetch(
            "SELECT entry FROM timeline WHERE incident_id = $1 ORDER BY id", incident_id
        )
        if not rows:
            await self.get_incident(incident_id)  # NotFound for an unknown incident
        return [TimelineEntry.model_validate_json(row["entry"]) for row in rows]

    # incidents: writes ---------------------------------------------------------------------
    async def create_incident(self, new: NewIncident, actor: str) -> Incident:
        return (await self.create_incidents([new], actor))[0]

    async def create_incidents(self, batch: Sequence[NewIncident], actor: str) -> list[Incident]:
        if not batch:
            return []
        now = self._now()
        async with self.transaction() as tx:
            services = {s.id: s for s in await directory(tx, Service)}
            users = {u.id for u in await directory(tx, User)}
            policies = {p.id for p in await directory(tx, EscalationPolicy)}
            ids = await tx.ids("incidents_id_seq", len(batch))
            entry_ids = await tx.ids("timeline_id_seq", len(batch))
            incidents = [
                build_incident(incident_id, new, now, services, users, policies)
                for incident_id, new in zip(ids, batch, strict=True)
            ]
            entries = [
                lifecycle.created_entry(incident, actor).model_copy(update={"id": entry_id})
                for entry_id, incident in zip(entry_ids, incidents, strict=True)
            ]
            await self.insert_incidents(tx, incidents, entries, now)
        return incidents

    async def import_records(
        self, records: Sequence[tuple[Incident, Sequence[TimelineEntry]]]
    ) -> list[Incident]:
        """Bulk-insert pre-built incidents with their timelines in one transaction (see
        ``backends.capabilities.Importer``)."""
        if not records:
            return []
        now = self._now()
        async with self.transaction() as tx:
            ids = await tx.ids("incidents_id_seq", len(records))
            entry_ids = iter(
                await tx.ids("timeline_id_seq", sum(len(timeline) for _, timeline in records))
            )
            incidents: list[Incident] = []
            entries: list[TimelineEntry] = []
            for new_id, (incident, timeline) in zip(ids, records, strict=True):
                incidents.append(incident.model_copy(update={"id": new_id, "key": f"INC-{new_id}"}))
                for entry in timeline:
                    entries.append(
                        entry.model_copy(update={"id": next(entry_ids), "incident_id": new_id})
                    )
            await self.insert_incidents(tx, incidents, entries, now)
        return incidents

    async def act(
        self, incident_id: int, action: Action, actor: str, expected_version: int
    ) -> Incident:
        now = self._now()
        async with self.transaction() as tx:
            rows = await tx.fetch(
                "SELECT data FROM incidents WHERE id = $1 FOR UPDATE", int(incident_id)
            )
            if not rows:
                raise NotFound(f"there is no incident with id {incident_id}")
            incident = Incident.model_validate_json(rows[0]["data"])
            if incident.version != expected_version:
                raise await self._conflict(tx, incident, expected_version)
            action = await complete_action(incident, action, now, _ActionContext(tx))
            try:
                updated, entries = lifecycle.apply(incident, action, actor, now)
            except InvalidTransition as exc:
                raise InvalidAction(str(exc)) from exc
            status = await tx.execute(
                UPDATE_INCIDENT,
                *self.incident_row(updated, now, await self.policies_of(tx, [updated]))[2:],
                incident.id,
                incident.version,
            )
            if status != "UPDATE 1":  # pragma: no cover - the row lock makes this impossible
                raise Conflict(
                    f"{incident.key} changed while it was being updated; reload and try again",
                    key=incident.key,
                    expected_version=expected_version,
                )
            await self.insert_entries(tx, entries)
            tx.record_change("incident.updated", "incident", str(updated.id), updated.version)
        return updated

    async def _conflict(self, tx: Tx, incident: Incident, expected: int) -> Conflict:
        if expected > incident.version:
            return conflict(incident, expected)
        rows = await tx.fetch(
            "SELECT actor, kind FROM timeline WHERE incident_id = $1 AND version > $2 ORDER BY id",
            incident.id,
            expected,
        )
        return conflict(incident, expected, [(row["actor"], row["kind"]) for row in rows])

    # directory -----------------------------------------------------------------------------
    async def _list(self, model: type[_M]) -> list[_M]:
        rows = await self.fetch(f"SELECT data FROM {table_of(model)} ORDER BY id")
        return [model.model_validate_json(row["data"]) for row in rows]

    async def _put(self, entity: str, item: _M) -> _M:
        table = TABLES[entity]
        item_id = str(getattr(item, "id"))  # noqa: B009 - every directory model has an id
        async with self.transaction() as tx:
            await tx.execute(
                f"INSERT INTO {table} (id, data) VALUES ($1, $2)"
                " ON CONFLICT (id) DO UPDATE SET data = excluded.data",
                item_id,
                item.model_dump_json(),
            )
            tx.record_change(f"{entity}.updated", entity, item_id)
            if entity == "policy":
                await due.refresh(
                    QmarkWriter(tx), self._settings.sla, self._now(), policy_ids=[item_id]
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
        """Write a planned directory change in one transaction (see the contract)."""
        async with self.transaction() as tx:
            await apply_directory(QmarkWriter(tx), changes, self._settings.sla, self._now())

    # the public status page ----------------------------------------------------------------
    async def status_page(self, now: datetime | None = None) -> StatusPage:
        """Public incidents open now or ended inside the history window, and only their
        public entries; built by ``console.domain.status_page.build_status_page``."""
        at = utc(now) if now is not None else self._now()
        rows = await self.fetch(
            "SELECT data FROM incidents WHERE data::jsonb @> '{\"public\": true}'"
            " AND (is_open = 1 OR updated_at >= $1) ORDER BY id",
            history_start(at).timestamp(),
        )
        incidents = [Incident.model_validate_json(row["data"]) for row in rows]
        entries: dict[int, list[TimelineEntry]] = defaultdict(list)
        if incidents:
            for row in await self.fetch(
                "SELECT entry FROM timeline WHERE incident_id = ANY($1::bigint[])"
                " AND kind = ANY($2::text[]) ORDER BY id",
                [incident.id for incident in incidents],
                sorted(kind.value for kind in PUBLIC_ENTRY_KINDS),
            ):
                entry = TimelineEntry.model_validate_json(row["entry"])
                entries[entry.incident_id].append(entry)
        return build_status_page(await self.services(), incidents, entries, at)

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
        from backends.postgres.stats import postgres_stats

        return await postgres_stats(self, since, service=service, team=team, now=now)

    # problems ------------------------------------------------------------------------------
    async def create_problem(self, from_incident_id: int, title: str, actor: str) -> Problem:
        from backends.postgres import problems

        return await problems.create_problem(self, from_incident_id, title, actor)

    async def problems(self, state: ProblemState | None = None) -> list[Problem]:
        from backends.postgres import problems

        return await problems.problems(self, state)

    async def resolve_problem(self, problem_id: int, actor: str) -> Problem:
        from backends.postgres import problems

        return await problems.resolve_problem(self, problem_id, actor)

    async def waiting_for_problem(self, problem_id: int) -> list[Incident]:
        from backends.postgres import problems

        return await problems.waiting_for_problem(self, problem_id)

    # change feed ---------------------------------------------------------------------------
    async def last_seq(self) -> int:
        rows = await self.fetch("SELECT coalesce(max(seq), 0) AS seq FROM changes")
        return int(rows[0]["seq"])

    async def changes(self, since_seq: int, limit: int = 1000) -> list[Change]:
        rows = await self.fetch(
            f"SELECT {CHANGE_COLUMNS} FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2",
            since_seq,
            limit,
        )
        return [change_from_row(tuple(row)) for row in rows]

    async def watch(self, since_seq: int | None = None) -> AsyncIterator[Change]:
        """Yield changes as they commit (on any replica), in order, each exactly once.

        LISTEN wakes it at once; it also reads every ``poll_interval`` seconds, and after a
        lost connection it reconnects with backoff and resumes after the last change it
        yielded. ``since_seq=None`` starts from the newest change; the iterator ends when
        the store is closed.
        """
        self._require()
        wake = asyncio.Event()
        self._wakeups.add(wake)
        conn: asyncpg.Connection | None = None
        last = since_seq
        failures = 0

        def notified(*_: Any) -> None:
            wake.set()

        try:
            while not self._closed:
                try:
                    if conn is None or conn.is_closed():
                        conn = await self.connect()
                        self._watch_connections.add(conn)
                        await conn.add_listener(CHANNEL, notified)
                    if last is None:
                        last = int(await conn.fetchval("SELECT coalesce(max(seq), 0) FROM changes"))
                    wake.clear()
                    rows = await conn.fetch(
                        f"SELECT {CHANGE_COLUMNS} FROM changes WHERE seq > $1"
                        " ORDER BY seq LIMIT $2",
                        last,
                        _WATCH_PAGE,
                    )
                    failures = 0
                    for row in rows:
                        change = change_from_row(tuple(row))
                        last = change.seq
                        yield change
                        if self._closed:
                            return
                    if len(rows) == _WATCH_PAGE:
                        continue
                except WATCH_ERRORS:
                    failures += 1
                    if conn is not None:
                        self._watch_connections.discard(conn)
                        conn.terminate()
                        conn = None
                    if self._closed:
                        return
                    await asyncio.sleep(min(2.0, 0.05 * 2**failures))
                    continue
                try:
                    async with asyncio.timeout(self._poll_interval):
                        await wake.wait()
                except TimeoutError:
                    pass
        finally:
            self._wakeups.discard(wake)
            if conn is not None and conn in self._watch_connections:
                self._watch_connections.discard(conn)
                with contextlib.suppress(*DB_ERRORS):
                    await conn.close(timeout=2)

    # change events (backends/postgres/change_events.py) --------------------------------------
    async def record_change_event(self, change: NewChange, actor: str) -> ChangeEvent:
        from backends.postgres import change_events

        return await change_events.record_change_event(self, change, actor)

    async def change_events(
        self,
        *,
        services: Sequence[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 500,
    ) -> list[ChangeEvent]:
        from backends.postgres import change_events

        return await change_events.change_events(
            self, services=services, since=since, until=until, limit=limit
        )

    # alert intake (backends/postgres/intake.py) --------------------------------------------
    async def ingest(self, integration: Integration, signals: Sequence[Signal]) -> IngestResult:
        from backends.postgres import intake

        return await intake.ingest(self, integration, signals)

    async def alerts(self, incident_id: int) -> list[Alert]:
        rows = await self.fetch(
            "SELECT data FROM alerts WHERE incident_id = $1 ORDER BY id", incident_id
        )
        if not rows:
            await self.get_incident(incident_id)
        return [Alert.model_validate_json(row["data"]) for row in rows]

    async def create_integration(
        self, service: str, kind: IntegrationKind, name: str = ""
    ) -> tuple[Integration, str]:
        from backends.postgres import intake

        return await intake.create_integration(self, service, kind, name)

    async def integrations(self) -> list[Integration]:
        from backends.postgres import intake

        return await intake.integrations(self)

    async def revoke_integration(self, integration_id: str) -> Integration:
        from backends.postgres import intake

        return await intake.revoke_integration(self, integration_id)

    async def integration_for_key(self, key: str) -> Integration | None:
        from backends.postgres import intake

        return await intake.integration_for_key(self, key)


__all__ = ["PostgresBackend", "SchemaTooNew", "Tx", "WriteRace", "redact"]
