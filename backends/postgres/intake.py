"""Alert intake on the PostgreSQL store: integrations, alert batches, race-free across replicas.

A batch is one transaction, like on SQLite: alert rows, the incidents it opens, the
lifecycle actions and the change-feed rows commit together. What is new here is that
several servers take alerts in at once, so two rules keep them from racing:

- **One writer per alert group at a time.** The transaction first takes a
  transaction-level advisory lock per (integration, group key) in the batch, in sorted
  order (no deadlocks), then reads the state the plan needs. A second replica with the same
  group waits, then reads what the first committed, so it joins the incident instead of
  opening another and counts its arrivals on top of the first one's (no lost updates).
- **A unique key, not luck.** ``alert_groups`` has one row per (integration, group key)
  naming its incident; opening an incident claims the row, replacing only a claim whose
  incident is no longer open. Were two transactions ever to open the same group at once
  (a writer that skipped the lock), the second fails on the key (``WriteRace``) and the
  batch is retried from the start, when it finds the first one's incident.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from backends.base import InvalidAction, NotFound
from backends.common.incidents import build_incident
from backends.common.intake import (
    INTEGRATION_COLUMNS,
    KeyRevoked,
    apply_actions,
    check_key,
    digest,
    insert_row,
    integration_from_row,
    new_key,
    split_key,
    updated_alert,
)
from backends.postgres.tx import (
    UPDATE_INCIDENT,
    UPDATE_INCIDENT_ANY_VERSION,
    Tx,
    WriteRace,
    directory,
)
from console.domain import lifecycle
from console.domain.intake import (
    Alert,
    IngestResult,
    IngestState,
    Integration,
    IntegrationKind,
    KnownAlert,
    NewRef,
    Signal,
    plan,
)
from console.domain.models import EscalationPolicy, Incident, Service, User

if TYPE_CHECKING:
    from backends.postgres.store import PostgresBackend

RETRIES = 5


# --- integrations ----------------------------------------------------------------------------


async def create_integration(
    store: PostgresBackend, service: str, kind: IntegrationKind, name: str = ""
) -> tuple[Integration, str]:
    """A new integration for ``service`` and its key (returned once, never stored)."""
    integration_id, secret = await new_key(store, service)
    now = store.clock.now()
    async with store.transaction() as tx:
        await tx.execute(
            "INSERT INTO integrations (id, service, kind, name, secret_sha256, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            integration_id,
            service,
            kind,
            name,
            digest(secret),
            now.timestamp(),
        )
        tx.record_change("integration.updated", "integration", integration_id)
    integration = Integration(
        id=integration_id, service=service, kind=kind, name=name, created_at=now
    )
    return integration, integration_id + secret


async def integrations(store: PostgresBackend) -> list[Integration]:
    rows = await store.fetch(
        f"SELECT {INTEGRATION_COLUMNS} FROM integrations ORDER BY created_at, id"
    )
    return [integration_from_row(tuple(row)) for row in rows]


async def revoke_integration(store: PostgresBackend, integration_id: str) -> Integration:
    """Revoke an integration: its key stops working at once. Revoking twice is harmless."""
    async with store.transaction() as tx:
        rows = await tx.fetch(
            f"SELECT {INTEGRATION_COLUMNS} FROM integrations WHERE id = $1 FOR UPDATE",
            integration_id,
        )
        if not rows:
            raise NotFound(f"there is no integration {integration_id!r} (see: integration list)")
        if rows[0]["revoked_at"] is None:
            await tx.execute(
                "UPDATE integrations SET revoked_at = $1 WHERE id = $2",
                store.clock.now().timestamp(),
                integration_id,
            )
            tx.record_change("integration.updated", "integration", integration_id)
    found = await store.fetch(
        f"SELECT {INTEGRATION_COLUMNS} FROM integrations WHERE id = $1", integration_id
    )
    return integration_from_row(tuple(found[0]))


async def integration_for_key(store: PostgresBackend, key: str) -> Integration | None:
    """The active integration whose key this is, or ``None`` (unknown, wrong or revoked)."""
    parts = split_key(key)
    if parts is None:
        return None
    integration_id, secret = parts
    rows = await store.fetch(
        f"SELECT {INTEGRATION_COLUMNS}, secret_sha256 FROM integrations WHERE id = $1",
        integration_id,
    )
    return check_key(secret, tuple(rows[0]) if rows else None)


# --- alerts ----------------------------------------------------------------------------------


async def _load_state(tx: Tx, integration: Integration, signals: Sequence[Signal]) -> IngestState:
    keys = sorted({s.alert_key for s in signals})
    groups = sorted({s.group_key for s in signals})
    state = IngestState()
    for row in await tx.fetch(
        "SELECT DISTINCT ON (alert_key) id, alert_key, incident_id, status, data FROM alerts"
        " WHERE integration_id = $1 AND alert_key = ANY($2::text[])"
        " ORDER BY alert_key, id DESC",
        integration.id,
        keys,
    ):
        count = Alert.model_validate_json(row["data"]).count
        state.alerts[row["alert_key"]] = KnownAlert(
            id=row["id"], incident=row["incident_id"], status=row["status"], count=count
        )
    rows = await tx.fetch(
        "SELECT a.group_key, max(a.incident_id) AS incident_id FROM alerts a"
        " JOIN incidents i ON i.id = a.incident_id"
        " WHERE a.integration_id = $1 AND a.group_key = ANY($2::text[]) AND i.is_open = 1"
        " GROUP BY a.group_key",
        integration.id,
        groups,
    )
    state.groups = {row["group_key"]: row["incident_id"] for row in rows}
    ids = sorted(
        {k.incident for k in state.alerts.values() if isinstance(k.incident, int)}
        | set(state.groups.values())
    )
    rows = await tx.fetch("SELECT id, data FROM incidents WHERE id = ANY($1::bigint[])", ids)
    state.incidents = {row["id"]: Incident.model_validate_json(row["data"]) for row in rows}
    open_ids = [i for i, incident in state.incidents.items() if incident.is_open]
    for row in await tx.fetch(
        "SELECT incident_id, alert_key FROM alerts"
        " WHERE incident_id = ANY($1::bigint[]) AND status != 'resolved'",
        open_ids,
    ):
        state.open_alerts.setdefault(row["incident_id"], set()).add(row["alert_key"])
    return state


async def ingest(
    store: PostgresBackend, integration: Integration, signals: Sequence[Signal]
) -> IngestResult:
    """Take in one batch of signals from one integration, in one transaction (retried from
    the start if another replica won a race for the same group)."""
    if not signals:
        return IngestResult(outcomes=())
    for attempt in range(RETRIES):
        try:
            return await _ingest(store, integration, signals)
        except WriteRace:
            if attempt == RETRIES - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


async def _ingest(
    store: PostgresBackend, integration: Integration, signals: Sequence[Signal]
) -> IngestResult:
    now = store.clock.now()
    stamp = now.timestamp()
    actor = integration.actor
    async with store.transaction() as tx:
        # The key was checked before the transaction (perhaps from a cache): refuse here if
        # it was revoked since, by any process, so nothing is stored after a revoke.
        active = await tx.fetch(
            "SELECT 1 FROM integrations WHERE id = $1 AND revoked_at IS NULL", integration.id
        )
        if not active:
            raise KeyRevoked(f"integration {integration.id} was revoked; nothing was stored")
        for group in sorted({s.group_key for s in signals}):
            await tx.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                f"{integration.id}\x1f{group}",
            )
        services = {s.id: s for s in await directory(tx, Service)}
        service = services.get(integration.service)
        if service is None:
            raise InvalidAction(
                f"the service {integration.service!r} of integration {integration.id} no longer "
                "exists; create it again or revoke the integration"
            )
        state = await _load_state(tx, integration, signals)
        decided = plan(signals, state, service=service.id, auto_resolve=service.auto_resolve)

        created: list[Incident] = []
        if decided.new_incidents:
            users: set[str] = set()
            policies: set[str] = set()
            if any(item.new.assignee or item.new.policy for item in decided.new_incidents):
                users = {u.id for u in await directory(tx, User)}
                policies = {p.id for p in await directory(tx, EscalationPolicy)}
            ids = await tx.ids("incidents_id_seq", len(decided.new_incidents))
            entry_ids = await tx.ids("timeline_id_seq", len(decided.new_incidents))
            entries = []
            for incident_id_, entry_id, item in zip(
                ids, entry_ids, decided.new_incidents, strict=True
            ):
                incident = build_incident(
                    incident_id_,
                    item.new,
                    now,
                    services,
                    users,
                    policies,
                    alert_count=item.alert_count,
                )
                created.append(incident)
                entries.append(lifecycle.created_entry(incident, actor, entry_id))
            await store.insert_incidents(tx, created, entries, now)

        def incident_id(ref: int | NewRef) -> int:
            return created[ref.index].id if isinstance(ref, NewRef) else ref

        alert_ids = await tx.ids("alerts_id_seq", len(decided.inserts))
        insert_rows = [
            insert_row(insert, alert_id, incident_id, integration, now)
            for alert_id, insert in zip(alert_ids, decided.inserts, strict=True)
        ]
        await tx.executemany(
            "INSERT INTO alerts (id, incident_id, integration_id, alert_key, group_key, status,"
            " last_seen, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            insert_rows,
        )
        # Claim each group an incident was opened for (the unique key of alert_groups).
        opened = {i.id for i in created}
        claims = sorted({(row[4], row[1]) for row in insert_rows if row[1] in opened})
        for group_key, claimed in claims:
            won = await tx.fetch(
                "INSERT INTO alert_groups (integration_id, group_key, incident_id)"
                " VALUES ($1, $2, $3)"
                " ON CONFLICT (integration_id, group_key) DO UPDATE"
                " SET incident_id = excluded.incident_id"
                " WHERE NOT EXISTS (SELECT 1 FROM incidents i"
                "   WHERE i.id = alert_groups.incident_id AND i.is_open = 1)"
                " RETURNING incident_id",
                integration.id,
                group_key,
                claimed,
            )
            if not won:
                raise WriteRace(
                    f"group {group_key!r} of integration {integration.id} already has an "
                    "open incident opened by another writer; retrying"
                )
        if decided.updates:
            rows = await tx.fetch(
                "SELECT id, data FROM alerts WHERE id = ANY($1::bigint[])",
                sorted(decided.updates),
            )
            update_rows = []
            for row in rows:
                new = updated_alert(
                    Alert.model_validate_json(row["data"]), decided.updates[row["id"]], now
                )
                update_rows.append((new.status, stamp, new.model_dump_json(), row["id"]))
            await tx.executemany(
                "UPDATE alerts SET status = $1, last_seen = $2, data = $3 WHERE id = $4",
                update_rows,
            )

        applied = apply_actions(decided, created, state.incidents, actor, now)
        written = {t: i for t, i in applied.touched.items() if t in applied.before}
        stored = await store.policies_of(tx, written.values())
        for target, incident in written.items():
            row = store.incident_row(incident, now, stored)
            if target in opened:
                await tx.execute(UPDATE_INCIDENT_ANY_VERSION, *row[2:], target)
            else:
                status = await tx.execute(
                    UPDATE_INCIDENT, *row[2:], target, applied.before[target].version
                )
                if status != "UPDATE 1":
                    raise WriteRace(f"INC-{target} changed while the alert batch was applied")
        if applied.entries:
            await store.insert_entries(tx, applied.entries)
        for target, version in applied.changed:
            tx.record_change("incident.updated", "incident", str(target), version)
    updated_keys = sorted(applied.touched[i].key for i in applied.before if i not in opened)
    return IngestResult(
        outcomes=tuple(decided.outcomes),
        created=tuple(i.key for i in created),
        updated=tuple(updated_keys),
    )
