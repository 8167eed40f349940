"""Alert intake on the SQLite store: integrations, alert batches, alerts, the delivery log.

The tables come from the store's migration 2 (``backends/sqlite.py``). Every write goes
through ``SqliteBackend.transaction()`` (one ``BEGIN IMMEDIATE``), so a webhook of 1,000
alerts is one transaction: the alert rows, the incidents it opens, the lifecycle actions it
applies and their change-feed rows commit together or not at all. The decisions themselves
(dedup, grouping, auto-resolve) are ``console.domain.intake.plan``; this module only reads the
state that plan needs and writes what it decided, and every incident change is
``console.domain.lifecycle.apply``.

What is the same on every SQL store (integration keys, alert JSON, the lifecycle pass over
the plan) is ``backends.common.intake``.
"""

from __future__ import annotations

import hmac
import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
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
from backends.common.rows import INCIDENT_UPDATE
from backends.sqlite.statements import INSERT_CHANGE, INSERT_ENTRY
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
from console.domain.models import EscalationPolicy, Incident, Service, TimelineEntry, User

if TYPE_CHECKING:
    from backends.sqlite.store import SqliteBackend

# Keys checked before, per database file: integration id -> (integration, secret digest).
# A hit saves a read per webhook. It can never let a revoked key store anything: ``ingest``
# checks the integration again inside its transaction, and a refusal there drops the entry
# (as does a revoke through this process).
_known: dict[str, dict[str, tuple[Integration, str]]] = {}


def _forget(store: SqliteBackend, integration_id: str) -> None:
    _known.get(str(store.path), {}).pop(integration_id, None)


# Parsed services by their row's JSON: a webhook reads its service's row (inside its
# transaction, so a change by any process is seen) but parses it only when it changed.
_parsed_services: dict[str, Service] = {}


def _parsed_service(data: str) -> Service:
    service = _parsed_services.get(data)
    if service is None:
        if len(_parsed_services) >= 256:
            _parsed_services.clear()
        service = _parsed_services[data] = Service.model_validate_json(data)
    return service


# One statement for what ``_ingest`` reads first: no row if the integration was revoked
# (or removed), NULL data if its service is gone; and the next free ids of the three tables
# a webhook adds to (the write lock is held, so nobody else takes them).
_ACTIVE_SERVICE = (
    "SELECT s.data,"
    " (SELECT coalesce(max(id), 0) + 1 FROM incidents),"
    " (SELECT coalesce(max(id), 0) + 1 FROM timeline),"
    " (SELECT coalesce(max(id), 0) + 1 FROM alerts)"
    " FROM integrations i LEFT JOIN services s ON s.id = ?"
    " WHERE i.id = ? AND i.revoked_at IS NULL"
)


def _json_list(values: Sequence[object]) -> str:
    return json.dumps(list(values))


def _one_of(column: str, values: Sequence[object]) -> tuple[str, object]:
    """SQL for "``column`` is one of ``values``" and its parameter: ``= ?`` for one value
    (most webhooks carry one alert: no ``json_each`` table to set up), else ``json_each``."""
    if len(values) == 1:
        return f"{column} = ?", values[0]
    return f"{column} IN (SELECT value FROM json_each(?))", _json_list(values)


# --- integrations ----------------------------------------------------------------------------


async def create_integration(
    store: SqliteBackend, service: str, kind: IntegrationKind, name: str = ""
) -> tuple[Integration, str]:
    """A new integration for ``service`` and its key (returned once, never stored)."""
    integration_id, secret = await new_key(store, service)
    now = store.clock.now()
    async with store.transaction() as db:
        await db.execute(
            "INSERT INTO integrations (id, service, kind, name, secret_sha256, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [integration_id, service, kind, name, digest(secret), now.timestamp()],
        )
        await store.record_change(db, "integration.updated", "integration", integration_id)
    integration = Integration(
        id=integration_id, service=service, kind=kind, name=name, created_at=now
    )
    return integration, integration_id + secret


async def integrations(store: SqliteBackend) -> list[Integration]:
    rows = await store.fetchall(
        f"SELECT {INTEGRATION_COLUMNS} FROM integrations ORDER BY created_at, id"
    )
    return [integration_from_row(row) for row in rows]


async def revoke_integration(store: SqliteBackend, integration_id: str) -> Integration:
    """Revoke an integration: its key stops working at once. Revoking twice is harmless."""
    async with store.transaction() as db:
        rows = list(
            await db.execute_fetchall(
                f"SELECT {INTEGRATION_COLUMNS} FROM integrations WHERE id = ?", [integration_id]
            )
        )
        if not rows:
            raise NotFound(f"there is no integration {integration_id!r} (see: integration list)")
        if rows[0][5] is None:
            await db.execute(
                "UPDATE integrations SET revoked_at = ? WHERE id = ?",
                [store.clock.now().timestamp(), integration_id],
            )
            await store.record_change(db, "integration.updated", "integration", integration_id)
    _forget(store, integration_id)
    found = await store.fetchall(
        f"SELECT {INTEGRATION_COLUMNS} FROM integrations WHERE id = ?", [integration_id]
    )
    return integration_from_row(found[0])


async def integration_for_key(store: SqliteBackend, key: str) -> Integration | None:
    """The active integration whose key this is, or ``None`` (unknown, wrong or revoked)."""
    parts = split_key(key)
    if parts is None:
        return None
    integration_id, secret = parts
    known = _known.setdefault(str(store.path), {})
    cached = known.get(integration_id)
    if cached is not None:
        integration, stored = cached
        return integration if hmac.compare_digest(digest(secret), stored) else None
    rows = await store.fetchall(
        f"SELECT {INTEGRATION_COLUMNS}, secret_sha256 FROM integrations WHERE id = ?",
        [integration_id],
    )
    found = check_key(secret, rows[0] if rows else None)
    if found is not None:
        known[integration_id] = (found, rows[0][6])
    return found


# --- alerts ----------------------------------------------------------------------------------


def _load_state(
    db: sqlite3.Connection, integration: Integration, signals: Sequence[Signal]
) -> IngestState:
    keys = sorted({s.alert_key for s in signals})
    groups = sorted({s.group_key for s in signals})
    state = IngestState()
    named, param = _one_of("alert_key", keys)
    rows = db.execute(
        "SELECT a.id, a.alert_key, a.incident_id, a.status, a.data FROM alerts a"
        f" JOIN (SELECT max(id) AS id FROM alerts WHERE integration_id = ? AND {named}"
        " GROUP BY alert_key) latest ON a.id = latest.id",
        [integration.id, param],
    ).fetchall()
    for alert_id, key, incident_id, status, data in rows:
        count = json.loads(data).get("count", 1)
        state.alerts[key] = KnownAlert(
            id=alert_id, incident=incident_id, status=status, count=count
        )
    named, param = _one_of("a.group_key", groups)
    rows = db.execute(
        "SELECT a.group_key, max(a.incident_id) FROM alerts a"
        " JOIN incidents i ON i.id = a.incident_id"
        f" WHERE a.integration_id = ? AND {named} AND i.is_open = 1 GROUP BY a.group_key",
        [integration.id, param],
    ).fetchall()
    state.groups = {group: incident_id for group, incident_id in rows}
    ids = sorted(
        {k.incident for k in state.alerts.values() if isinstance(k.incident, int)}
        | set(state.groups.values())
    )
    if ids:
        named, param = _one_of("id", ids)
        rows = db.execute(f"SELECT id, data FROM incidents WHERE {named}", [param]).fetchall()
        state.incidents = {row[0]: Incident.model_validate_json(row[1]) for row in rows}
    open_ids = [i for i, incident in state.incidents.items() if incident.is_open]
    if open_ids:
        named, param = _one_of("incident_id", open_ids)
        rows = db.execute(
            f"SELECT incident_id, alert_key FROM alerts WHERE {named} AND status != 'resolved'",
            [param],
        ).fetchall()
        for incident_id, key in rows:
            state.open_alerts.setdefault(incident_id, set()).add(key)
    return state


async def ingest(
    store: SqliteBackend, integration: Integration, signals: Sequence[Signal]
) -> IngestResult:
    """Take in one batch of signals from one integration, in one transaction.

    The whole batch is one function on the store's writer thread (``SqliteBackend.write``:
    no round trip per statement, committed with concurrent webhooks in one fsync). It
    raises ``KeyRevoked`` and stores nothing if the integration was revoked meanwhile (by
    any process: the check is inside the transaction).
    """
    if not signals:
        return IngestResult(outcomes=())
    now = store.clock.now()
    try:
        result: IngestResult = await store.write(
            lambda db: _ingest(store, db, integration, signals, now), weight=len(signals)
        )
    except KeyRevoked:
        _forget(store, integration.id)
        raise
    return result


def _ingest(
    store: SqliteBackend,
    db: sqlite3.Connection,
    integration: Integration,
    signals: Sequence[Signal],
    now: datetime,
) -> IngestResult:
    stamp = now.timestamp()
    actor = integration.actor
    found = db.execute(_ACTIVE_SERVICE, [integration.service, integration.id]).fetchone()
    if found is None:
        raise KeyRevoked(f"integration {integration.id} was revoked; nothing was stored")
    if found[0] is None:
        raise InvalidAction(
            f"the service {integration.service!r} of integration {integration.id} no longer "
            "exists; create it again or revoke the integration"
        )
    service = _parsed_service(found[0])
    services = {service.id: service}
    state = _load_state(db, integration, signals)
    decided = plan(signals, state, service=service.id, auto_resolve=service.auto_resolve)
    # Counted on locally as rows are added.
    next_incident, next_entry, next_alert = found[1:]

    # Incidents the batch opens: built like any other new incident, one insert.
    created: list[Incident] = []
    if decided.new_incidents:
        # Alerts never name an assignee or a policy (the service's policy applies), so
        # the directory is read only if one ever does: two queries fewer per webhook.
        users: set[str] = set()
        policies: set[str] = set()
        if any(item.new.assignee or item.new.policy for item in decided.new_incidents):
            users = {u.id for u in store.directory_sync(db, User)}
            policies = {p.id for p in store.directory_sync(db, EscalationPolicy)}
        first, entry_id = next_incident, next_entry
        next_entry += len(decided.new_incidents)
        entries: list[TimelineEntry] = []
        for n, item in enumerate(decided.new_incidents):
            incident = build_incident(
                first + n, item.new, now, services, users, policies, alert_count=item.alert_count
            )
            created.append(incident)
            entries.append(lifecycle.created_entry(incident, actor, entry_id + n))
        for sql, rows in store.insert_rows(created, entries, now, store.policies_sync(db, created)):
            db.executemany(sql, rows)

    def incident_id(ref: int | NewRef) -> int:
        return created[ref.index].id if isinstance(ref, NewRef) else ref

    # Alert rows: new occurrences, then updates of known ones.
    alert_id = next_alert
    insert_rows = []
    for n, insert in enumerate(decided.inserts):
        insert_rows.append(insert_row(insert, alert_id + n, incident_id, integration, now))
    if insert_rows:
        db.executemany(
            "INSERT INTO alerts (id, incident_id, integration_id, alert_key, group_key,"
            " status, last_seen, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            insert_rows,
        )
    if decided.updates:
        named, param = _one_of("id", sorted(decided.updates))
        rows = db.execute(f"SELECT id, data FROM alerts WHERE {named}", [param]).fetchall()
        update_rows = []
        for alert_id_, data in rows:
            new = updated_alert(Alert.model_validate_json(data), decided.updates[alert_id_], now)
            update_rows.append((new.status, stamp, new.model_dump_json(), alert_id_))
        db.executemany(
            "UPDATE alerts SET status = ?, last_seen = ?, data = ? WHERE id = ?", update_rows
        )

    # Lifecycle actions, each through ``lifecycle.apply``; one row write per incident.
    applied = apply_actions(decided, created, state.incidents, actor, now)
    touched, before, touched_entries = applied.touched, applied.before, applied.entries
    changes_rows = [
        (stamp, "incident.updated", "incident", str(target), version)
        for target, version in applied.changed
    ]
    created_ids = {i.id for i in created}
    written = [incident for target, incident in touched.items() if target in before]
    stored = store.policies_sync(db, written)
    for incident in written:
        target = incident.id
        row = store.incident_row(incident, now, stored)
        if target in created_ids:
            db.execute(f"UPDATE incidents SET {INCIDENT_UPDATE} WHERE id = ?", [*row[2:], target])
        else:
            db.execute(
                f"UPDATE incidents SET {INCIDENT_UPDATE} WHERE id = ? AND version = ?",
                [*row[2:], target, before[target].version],
            )
    if touched_entries:
        entry_id = next_entry
        db.executemany(
            INSERT_ENTRY,
            [
                store.entry_row(entry.model_copy(update={"id": entry_id + n}))
                for n, entry in enumerate(touched_entries)
            ],
        )
    if changes_rows:
        db.executemany(INSERT_CHANGE, changes_rows)
    updated_keys = sorted(touched[i].key for i in before if i not in created_ids)
    return IngestResult(
        outcomes=tuple(decided.outcomes),
        created=tuple(i.key for i in created),
        updated=tuple(updated_keys),
    )


async def alerts(store: SqliteBackend, incident_id: int) -> list[Alert]:
    """The alerts of an incident, oldest first (``NotFound`` for an unknown incident)."""
    rows = await store.fetchall(
        "SELECT data FROM alerts WHERE incident_id = ? ORDER BY id", [incident_id]
    )
    if not rows:
        await store.get_incident(incident_id)
    return [Alert.model_validate_json(row[0]) for row in rows]
