"""The PostgreSQL schema, as versioned migrations (the same rules as the SQLite store's).

``MIGRATIONS`` is an ordered list; migration *N* (1-based) moves ``incident_console_schema.
version`` from *N-1* to *N* in one transaction, under a transaction-level advisory lock so
replicas starting together migrate once. APPEND to change the schema; never edit, reorder or
remove a migration that has shipped. A database whose version is newer than
``len(MIGRATIONS)`` was written by a newer release: ``open()`` refuses it and writes nothing.

The tables mirror the SQLite store's (``backends/sqlite/store.py``): times are epoch seconds
(``double precision``), each incident is kept as JSON beside the columns the queue filters
and sorts on (``backends.common.rows``), with a partial index over open incidents only.
Ids come from sequences, since several servers insert at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from backends.common import due

MIGRATION_LOCK = 0x1C0_5C4E  # pg_advisory_xact_lock key: one migrator at a time
CHANGES_LOCK = 0x1C0_C4A6  # pg_advisory_xact_lock key: change-feed writers, see store.py
LEADER_LOCK = 0x1C0_1EAD  # pg_try_advisory_lock key: the escalator/notifier leader

DIRECTORY_TABLES = ("services", "users", "teams", "policies", "schedules")


@dataclass(frozen=True)
class Migration:
    description: str
    steps: tuple[str, ...]


MIGRATIONS: list[Migration] = [
    Migration(
        "incidents, append-only timeline, change feed, directory",
        (
            """
            CREATE TABLE incidents (
                id bigint PRIMARY KEY,
                key text NOT NULL UNIQUE,
                status text NOT NULL,
                is_open integer NOT NULL,
                priority integer NOT NULL,
                service text NOT NULL,
                assignee text,
                title text NOT NULL,
                sla_due double precision,
                created_at double precision NOT NULL,
                resolved_at double precision,
                updated_at double precision NOT NULL,
                version integer NOT NULL,
                data text NOT NULL
            )
            """,
            "CREATE SEQUENCE incidents_id_seq",
            """
            CREATE INDEX incidents_open ON incidents
                (priority, sla_due, status, service, assignee, created_at, updated_at, id)
                WHERE is_open = 1
            """,
            "CREATE INDEX incidents_status ON incidents (status, updated_at)",
            "CREATE INDEX incidents_resolved ON incidents (resolved_at)"
            " WHERE resolved_at IS NOT NULL",
            "CREATE INDEX incidents_updated ON incidents (updated_at)",
            """
            CREATE TABLE timeline (
                id bigint PRIMARY KEY,
                incident_id bigint NOT NULL REFERENCES incidents (id),
                version integer NOT NULL,
                at double precision NOT NULL,
                actor text NOT NULL,
                kind text NOT NULL,
                entry text NOT NULL
            )
            """,
            "CREATE SEQUENCE timeline_id_seq",
            "CREATE INDEX timeline_incident ON timeline (incident_id, version)",
            """
            CREATE FUNCTION timeline_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'UPDATE' THEN
                    RAISE EXCEPTION 'the timeline is append-only: entries are never changed';
                END IF;
                RAISE EXCEPTION 'the timeline is append-only: entries are never deleted';
            END $$
            """,
            """
            CREATE TRIGGER timeline_append_only BEFORE UPDATE OR DELETE ON timeline
                FOR EACH ROW EXECUTE FUNCTION timeline_append_only()
            """,
            """
            CREATE TABLE changes (
                seq bigint PRIMARY KEY,
                at double precision NOT NULL,
                kind text NOT NULL,
                entity text NOT NULL,
                entity_id text NOT NULL,
                version integer
            )
            """,
            "CREATE SEQUENCE changes_seq",
            *(
                f"CREATE TABLE {table} (id text PRIMARY KEY, data text NOT NULL)"
                for table in DIRECTORY_TABLES
            ),
        ),
    ),
    Migration(
        "alert intake: integrations (hashed keys), alerts grouped into incidents, delivery log",
        (
            """
            CREATE TABLE integrations (
                id text PRIMARY KEY,
                service text NOT NULL,
                kind text NOT NULL,
                name text NOT NULL DEFAULT '',
                secret_sha256 text NOT NULL,
                created_at double precision NOT NULL,
                revoked_at double precision
            )
            """,
            """
            CREATE TABLE alerts (
                id bigint PRIMARY KEY,
                incident_id bigint NOT NULL REFERENCES incidents (id),
                integration_id text NOT NULL,
                alert_key text NOT NULL,
                group_key text NOT NULL,
                status text NOT NULL,
                last_seen double precision NOT NULL,
                data text NOT NULL
            )
            """,
            "CREATE SEQUENCE alerts_id_seq",
            "CREATE INDEX alerts_key ON alerts (integration_id, alert_key, id)",
            "CREATE INDEX alerts_group ON alerts (integration_id, group_key, incident_id)",
            "CREATE INDEX alerts_incident ON alerts (incident_id, status)",
            # Race-free intake across replicas: one open incident per (integration, group).
            # Intake claims the group here when it opens an incident; a second replica
            # opening the same group at the same moment fails on the key and retries, then
            # finds the first one's incident. Claims of incidents no longer open are stale
            # and replaced (see backends/postgres/intake.py).
            """
            CREATE TABLE alert_groups (
                integration_id text NOT NULL,
                group_key text NOT NULL,
                incident_id bigint NOT NULL REFERENCES incidents (id),
                PRIMARY KEY (integration_id, group_key)
            )
            """,
            """
            CREATE TABLE deliveries (
                id bigserial PRIMARY KEY,
                created_at double precision NOT NULL,
                updated_at double precision NOT NULL,
                target text NOT NULL,
                url text NOT NULL,
                event text NOT NULL,
                incident_key text NOT NULL,
                status text NOT NULL,
                attempts integer NOT NULL DEFAULT 0,
                response_code integer,
                error text NOT NULL DEFAULT ''
            )
            """,
            "CREATE INDEX deliveries_recent ON deliveries (updated_at)",
        ),
    ),
    Migration(
        "API tokens for `incidents serve` (hashed secrets; see console/domain/tokens.py)",
        (
            """
            CREATE TABLE tokens (
                id text PRIMARY KEY,
                "user" text NOT NULL,
                role text NOT NULL CHECK (role IN ('viewer', 'responder', 'admin')),
                name text NOT NULL DEFAULT '',
                secret_sha256 text NOT NULL,
                created_at double precision NOT NULL,
                last_used_at double precision,
                revoked_at double precision
            )
            """,
        ),
    ),
    Migration(
        "problem records (console/domain/problems.py)",
        (
            """
            CREATE TABLE problems (
                id bigint PRIMARY KEY,
                key text NOT NULL UNIQUE,
                state text NOT NULL,
                created_at double precision NOT NULL,
                data text NOT NULL
            )
            """,
            "CREATE SEQUENCE problems_id_seq",
        ),
    ),
    Migration(
        "the notifier's place in the change feed, so a new leader resumes where the last one"
        " stopped",
        (
            """
            CREATE TABLE notifier_cursor (
                id integer PRIMARY KEY CHECK (id = 1),
                seq bigint NOT NULL
            )
            """,
        ),
    ),
    Migration(
        "change events (console/domain/changes.py), for correlation with incidents",
        (
            """
            CREATE TABLE change_events (
                id bigint PRIMARY KEY,
                service text NOT NULL,
                at double precision NOT NULL,
                data text NOT NULL
            )
            """,
            "CREATE SEQUENCE change_events_id_seq",
            "CREATE INDEX change_events_service_at ON change_events (service, at)",
        ),
    ),
    Migration(
        "the delivery log is the notifier's outbox: each message keeps its body and its"
        " idempotency key until a receiver confirms it (console/domain/deliveries.py)",
        (
            "ALTER TABLE deliveries ADD COLUMN idem_key text",
            "ALTER TABLE deliveries ADD COLUMN body text NOT NULL DEFAULT ''",
            "CREATE UNIQUE INDEX deliveries_key ON deliveries (idem_key)"
            " WHERE idem_key IS NOT NULL",
            "CREATE INDEX deliveries_open ON deliveries (id)"
            " WHERE status IN ('queued', 'retrying')",
        ),
    ),
    Migration(
        "what free text matches, as a column (title, service, assignee, labels: the SQLite"
        " store's migration 10, console.domain.query.searchable), for the history view",
        (
            "ALTER TABLE incidents ADD COLUMN search text NOT NULL DEFAULT ''",
            # the same text searchable() writes: labels as key=value in their stored order
            """
            UPDATE incidents SET search = lower(
                title || E'\n' || service || E'\n' || coalesce(assignee, '') || E'\n'
                || coalesce(
                    (SELECT string_agg(l.key || '=' || l.value, ' ')
                     FROM json_each_text(data::json -> 'labels') AS l),
                    ''
                )
            )
            """,
        ),
    ),
    Migration(
        "when the escalator may next act on an incident (backends/common/due.py), indexed,"
        " so a pass with nothing due reads no incident (the SQLite store's migration 12)",
        (
            "ALTER TABLE incidents ADD COLUMN escalator_due double precision",
            # Not computed yet: due at once (never missed); ``open()`` recomputes them.
            "UPDATE incidents SET escalator_due = 0 WHERE is_open = 1",
            "CREATE INDEX incidents_escalator ON incidents (escalator_due)"
            " WHERE escalator_due IS NOT NULL",
        ),
    ),
    Migration(
        "what escalator_due is made of, so a policy written recomputes it in one UPDATE, and"
        " the SLA settings it was computed on (the SQLite store's migration 13)",
        (
            "ALTER TABLE incidents ADD COLUMN policy text",
            "ALTER TABLE incidents ADD COLUMN escalation_level integer",
            "ALTER TABLE incidents ADD COLUMN escalation_loop integer",
            "ALTER TABLE incidents ADD COLUMN escalation_from bigint",
            "ALTER TABLE incidents ADD COLUMN breach_mark double precision",
            # Not filled yet: due at once (never missed); ``open()`` recomputes them.
            f"UPDATE incidents SET escalator_due = {due.STALE} WHERE is_open = 1",
            due.POLICY_INDEX,
            due.BASIS_SCHEMA,
        ),
    ),
]
