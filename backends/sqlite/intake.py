"""Alert intake on the SQLite store: integrations, alert batches, alerts, the delivery log.

The tables come from the store's migration 2 (``backends/sqlite.py``). Every write goes
through ``SqliteBackend.transaction()`` (one ``BEGIN IMMEDIATE``), so a webhook of 1,000
alerts is one transaction: the alert rows, the incidents it opens, the lifecycle actions it
applies and their change-feed rows commit together or not at all. The decisions themselves
(dedup, grouping, auto-resolve) are ``console.domain.intake.plan``; this module only reads the
state that plan needs and writes what it decided, and every incident change is
``console.domain.lifecycle.apply``.

Integration keys look like ``<id><secret>``: an 8-hex-digit public id and a 32-hex-digit
secret (128 random bits). Only ``sha256(secret)`` is stored; the row is found by the id and
the digest compared with ``hmac.compare_digest`` (see ``console.domain.tokens`` for why a fast hash
is right for random secrets).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from backends.base import InvalidAction, NotFound, Unauthorized
from backends.common.incidents import build_incident
from backends.sqlite.store import INSERT_CHANGE, INSERT_ENTRY
from console.domain import lifecycle
from console.domain.intake import (
    Alert,
    AlertInsert,
    IngestResult,
    IngestState,
    Integration,
    IntegrationKind,
    KnownAlert,
    NewRef,
    Signal,
    plan,
)
from console.domain.lifecycle import Acknowledge, InvalidTransition
from console.domain.models import EscalationPolicy, Incident, Service, TimelineEntry, User

if TYPE_CHECKING:
    from backends.sqlite.store import SqliteBackend

ID_LENGTH = 8
SECRET_LENGTH = 32


class KeyRevoked(Unauthorized):
    """The integration was revoked (or removed) after its key was checked; nothing stored."""


# Keys checked before, per database file: integration id -> (integration, secret digest).
# A hit saves a read per webhook. It can never let a revoked key store anything: ``ingest``
# checks the integration again inside its transaction, and a refusal there drops the entry
# (as does a revoke through this process).
_known: dict[str, dict[str, tuple[Integration, str]]] = {}


def _forget(store: SqliteBackend, integration_id: str) -> None:
    _known.get(str(store.path), {}).pop(integration_id, None)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _json_list(values: Sequence[object]) -> str:
    return json.dumps(list(values))


def _from_ts(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _integration(row: Sequence[Any]) -> Integration:
    id_, service, kind, name, created, revoked = row
    return Integration(
        id=id_,
        service=service,
        kind=kind,
        name=name,
        created_at=datetime.fromtimestamp(created, UTC),
        revoked_at=_from_ts(revoked),
    )


_INTEGRATION_COLUMNS = "id, service, kind, name, created_at, revoked_at"


# --- integrations ----------------------------------------------------------------------------


async def create_integration(
    store: SqliteBackend, service: str, kind: IntegrationKind, name: str = ""
) -> tuple[Integration, str]:
    """A new integration for ``service`` and its key (returned once, never stored)."""
    services = {s.id for s in await store.services()}
    if service not in services:
        known = ", ".join(sorted(services)) or "none yet"
        raise InvalidAction(
            f"unknown service {service!r} (known services: {known}); "
            "add --create-service to create it"
        )
    integration_id = secrets.token_hex(ID_LENGTH // 2)
    secret = secrets.token_hex(SECRET_LENGTH // 2)
    now = store.clock.now()
    async with store.transaction() as db:
        await db.execute(
            "INSERT INTO integrations (id, service, kind, name, secret_sha256, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [integration_id, service, kind, name, _digest(secret), now.timestamp()],
        )
        await store.record_change(db, "integration.updated", "integration", integration_id)
    integration = Integration(
        id=integration_id, service=service, kind=kind, name=name, created_at=now
    )
    return integration, integration_id + secret


async def integrations(store: SqliteBackend) -> list[Integration]:
    rows = await store.fetchall(
        f"SELECT {_INTEGRATION_COLUMNS} FROM integrations ORDER BY created_at, id"
    )
    return [_integration(row) for row in rows]


async def revoke_integration(store: SqliteBackend, integration_id: str) -> Integration:
    """Revoke an integration: its key stops working at once. Revoking twice is harmless."""
    async with store.transaction() as db:
        rows = list(
            await db.execute_fetchall(
                f"SELECT {_INTEGRATION_COLUMNS} FROM integrations WHERE id = ?", [integration_id]
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
        f"SELECT {_INTEGRATION_COLUMNS} FROM integrations WHERE id = ?", [integration_id]
    )
    return _integration(found[0])


async def integration_for_key(store: SqliteBackend, key: str) -> Integration | None:
    """The active integration whose key this is, or ``None`` (unknown, wrong or revoked)."""
    key = key.strip()
    if len(key) != ID_LENGTH + SECRET_LENGTH:
        return None
    integration_id, secret = key[:ID_LENGTH], key[ID_LENGTH:]
    known = _known.setdefault(str(store.path), {})
    cached = known.get(integration_id)
    if cached is not None:
        integration, digest = cached
        return integration if hmac.compare_digest(_digest(secret), digest) else None
    rows = await store.fetchall(
        f"SELECT {_INTEGRATION_COLUMNS}, secret_sha256 FROM integrations WHERE id = ?",
        [integration_id],
    )
    if not rows:
        # Spend the same work as a real comparison, so timing does not tell ids apart.
        hmac.compare_digest(_digest(secret), _digest(""))
        return None
    row = rows[0]
    if not hmac.compare_digest(_digest(secret), row[6]) or row[5] is not None:
        return None
    integration = _integration(row[:6])
    known[integration_id] = (integration, row[6])
    return integration


# --- alerts ----------------------------------------------------------------------------------


def _alert_json(
    signal: Signal,
    *,
    alert_id: int,
    incident_id: int,
    integration: Integration,
    status: str,
    count: int,
    first_seen: datetime,
    last_seen: datetime,
) -> str:
    return Alert(
        id=alert_id,
        incident_id=incident_id,
        integration_id=integration.id,
        source=signal.source,
        alert_key=signal.alert_key,
        group_key=signal.group_key,
        status=status,  # type: ignore[arg-type]
        severity=signal.severity,
        summary=signal.summary,
        labels=dict(signal.labels),
        annotations=dict(signal.annotations),
        links=signal.links,
        details=_jsonable(signal.details),
        count=count,
        starts_at=signal.starts_at,
        ends_at=signal.ends_at,
        first_seen=first_seen,
        last_seen=last_seen,
    ).model_dump_json()


def _jsonable(value: Any) -> dict[str, Any]:
    """Sender-supplied details as plain JSON (anything exotic becomes a string)."""
    return json.loads(json.dumps(dict(value), default=str))


def _load_state(
    db: sqlite3.Connection, integration: Integration, signals: Sequence[Signal]
) -> IngestState:
    keys = sorted({s.alert_key for s in signals})
    groups = sorted({s.group_key for s in signals})
    state = IngestState()
    rows = db.execute(
        "SELECT a.id, a.alert_key, a.incident_id, a.status, a.data FROM alerts a"
        " JOIN (SELECT max(id) AS id FROM alerts WHERE integration_id = ?"
        "       AND alert_key IN (SELECT value FROM json_each(?)) GROUP BY alert_key) latest"
        " ON a.id = latest.id",
        [integration.id, _json_list(keys)],
    ).fetchall()
    for alert_id, key, incident_id, status, data in rows:
        count = json.loads(data).get("count", 1)
        state.alerts[key] = KnownAlert(
            id=alert_id, incident=incident_id, status=status, count=count
        )
    rows = db.execute(
        "SELECT a.group_key, max(a.incident_id) FROM alerts a"
        " JOIN incidents i ON i.id = a.incident_id"
        " WHERE a.integration_id = ? AND a.group_key IN (SELECT value FROM json_each(?))"
        " AND i.is_open = 1 GROUP BY a.group_key",
        [integration.id, _json_list(groups)],
    ).fetchall()
    state.groups = {group: incident_id for group, incident_id in rows}
    ids = sorted(
        {k.incident for k in state.alerts.values() if isinstance(k.incident, int)}
        | set(state.groups.values())
    )
    if ids:
        rows = db.execute(
            "SELECT id, data FROM incidents WHERE id IN (SELECT value FROM json_each(?))",
            [_json_list(ids)],
        ).fetchall()
        state.incidents = {row[0]: Incident.model_validate_json(row[1]) for row in rows}
    open_ids = [i for i, incident in state.incidents.items() if incident.is_open]
    if open_ids:
        rows = db.execute(
            "SELECT incident_id, alert_key FROM alerts"
            " WHERE incident_id IN (SELECT value FROM json_each(?)) AND status != 'resolved'",
            [_json_list(open_ids)],
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
            lambda db: _ingest(store, db, integration, signals, now)
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
    active = db.execute(
        "SELECT 1 FROM integrations WHERE id = ? AND revoked_at IS NULL", [integration.id]
    ).fetchall()
    if not active:
        raise KeyRevoked(f"integration {integration.id} was revoked; nothing was stored")
    services = {s.id: s for s in store.directory_sync(db, Service)}
    service = services.get(integration.service)
    if service is None:
        raise InvalidAction(
            f"the service {integration.service!r} of integration {integration.id} no longer "
            "exists; create it again or revoke the integration"
        )
    state = _load_state(db, integration, signals)
    decided = plan(signals, state, service=service.id, auto_resolve=service.auto_resolve)

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
        first = store.next_id_sync(db, "incidents")
        entry_id = store.next_id_sync(db, "timeline")
        entries: list[TimelineEntry] = []
        for n, item in enumerate(decided.new_incidents):
            incident = build_incident(first + n, item.new, now, services, users, policies)
            incident = incident.model_copy(update={"alert_count": item.alert_count})
            created.append(incident)
            entries.append(
                lifecycle.created_entry(incident, actor).model_copy(update={"id": entry_id + n})
            )
        for sql, rows in store.insert_rows(created, entries, now):
            db.executemany(sql, rows)

    def incident_id(ref: int | NewRef) -> int:
        return created[ref.index].id if isinstance(ref, NewRef) else ref

    # Alert rows: new occurrences, then updates of known ones.
    alert_id = store.next_id_sync(db, "alerts")
    insert_rows = []
    for n, insert in enumerate(decided.inserts):
        insert_rows.append(_insert_row(insert, alert_id + n, incident_id, integration, now))
    db.executemany(
        "INSERT INTO alerts (id, incident_id, integration_id, alert_key, group_key, status,"
        " last_seen, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        insert_rows,
    )
    if decided.updates:
        rows = db.execute(
            "SELECT id, data FROM alerts WHERE id IN (SELECT value FROM json_each(?))",
            [_json_list(sorted(decided.updates))],
        ).fetchall()
        update_rows = []
        for alert_id_, data in rows:
            update = decided.updates[alert_id_]
            alert = Alert.model_validate_json(data)
            changes: dict[str, Any] = {
                "status": update.status,
                "count": alert.count + update.repeats,
                "last_seen": now,
            }
            if update.signal is not None:
                changes["ends_at"] = update.signal.ends_at
                if update.signal.action == "trigger":
                    changes["summary"] = update.signal.summary or alert.summary
                    changes["labels"] = dict(update.signal.labels) or alert.labels
            new = alert.model_copy(update=changes)
            update_rows.append((new.status, stamp, new.model_dump_json(), alert_id_))
        db.executemany(
            "UPDATE alerts SET status = ?, last_seen = ?, data = ? WHERE id = ?", update_rows
        )

    # Lifecycle actions, each through ``lifecycle.apply``; one row write per incident.
    touched: dict[int, Incident] = {i.id: i for i in created}
    touched_entries: list[TimelineEntry] = []
    changes_rows: list[tuple[Any, ...]] = []
    before: dict[int, Incident] = {}
    for ref, action in decided.actions:
        target = incident_id(ref)
        found = touched.get(target) or state.incidents.get(target)
        if found is None:
            continue
        incident = found
        before.setdefault(target, incident)
        try:
            updated, entries = lifecycle.apply(incident, action, actor, now)
        except InvalidTransition:
            # The plan only acts on open incidents; a refusal here means the action is
            # moot (e.g. already acknowledged) and the rest of the batch stands.
            continue
        if isinstance(action, Acknowledge):
            # A monitoring tool acknowledging does not make itself the owner.
            updated = updated.model_copy(update={"assignee": incident.assignee})
        touched[target] = updated
        touched_entries.extend(entries)
        changes_rows.append((stamp, "incident.updated", "incident", str(target), updated.version))
    created_ids = {i.id for i in created}
    for target, incident in touched.items():
        if target not in before:
            continue
        row = store.incident_row(incident, now)
        if target in created_ids:
            db.execute(
                "UPDATE incidents SET status = ?, is_open = ?, priority = ?, service = ?,"
                " assignee = ?, title = ?, sla_due = ?, created_at = ?, resolved_at = ?,"
                " updated_at = ?, version = ?, data = ? WHERE id = ?",
                [*row[2:], target],
            )
        else:
            db.execute(
                "UPDATE incidents SET status = ?, is_open = ?, priority = ?, service = ?,"
                " assignee = ?, title = ?, sla_due = ?, created_at = ?, resolved_at = ?,"
                " updated_at = ?, version = ?, data = ? WHERE id = ? AND version = ?",
                [*row[2:], target, before[target].version],
            )
    if touched_entries:
        entry_id = store.next_id_sync(db, "timeline")
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


def _insert_row(
    insert: AlertInsert,
    alert_id: int,
    incident_id: Any,
    integration: Integration,
    now: datetime,
) -> tuple[Any, ...]:
    target = incident_id(insert.incident)
    signal = insert.signal
    data = _alert_json(
        signal,
        alert_id=alert_id,
        incident_id=target,
        integration=integration,
        status=insert.status,
        count=insert.count,
        first_seen=now,
        last_seen=now,
    )
    return (
        alert_id,
        target,
        integration.id,
        signal.alert_key,
        signal.group_key,
        insert.status,
        now.timestamp(),
        data,
    )


async def alerts(store: SqliteBackend, incident_id: int) -> list[Alert]:
    """The alerts of an incident, oldest first (``NotFound`` for an unknown incident)."""
    rows = await store.fetchall(
        "SELECT data FROM alerts WHERE incident_id = ? ORDER BY id", [incident_id]
    )
    if not rows:
        await store.get_incident(incident_id)
    return [Alert.model_validate_json(row[0]) for row in rows]
