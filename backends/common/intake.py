"""Alert intake code every SQL store shares: integration keys, alert row JSON, how a known
alert row is updated, and the lifecycle pass over what ``console.domain.intake.plan``
decided. A store reads the state the plan needs and writes what it decided; the decisions
themselves are the domain's.

Integration keys look like ``<id><secret>``: an 8-hex-digit public id and a 32-hex-digit
secret (128 random bits). Only ``sha256(secret)`` is stored; the row is found by the id and
the digest compared with ``hmac.compare_digest`` (see ``console.domain.tokens`` for why a
fast hash is right for random secrets).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from backends.base import Backend, InvalidAction, Unauthorized
from console.domain import lifecycle
from console.domain.intake import (
    Alert,
    AlertInsert,
    AlertUpdate,
    IngestPlan,
    Integration,
    NewRef,
    Signal,
)
from console.domain.lifecycle import Acknowledge, InvalidTransition
from console.domain.models import Incident, TimelineEntry

ID_LENGTH = 8
SECRET_LENGTH = 32
INTEGRATION_COLUMNS = "id, service, kind, name, created_at, revoked_at"


class KeyRevoked(Unauthorized):
    """The integration was revoked (or removed) after its key was checked; nothing stored."""


async def new_key(backend: Backend, service: str) -> tuple[str, str]:
    """A fresh ``(integration id, secret)`` for an integration of ``service``, after
    checking the service exists (``InvalidAction`` naming the known ones)."""
    services = {s.id for s in await backend.services()}
    if service not in services:
        known = ", ".join(sorted(services)) or "none yet"
        raise InvalidAction(
            f"unknown service {service!r} (known services: {known}); "
            "add --create-service to create it"
        )
    return secrets.token_hex(ID_LENGTH // 2), secrets.token_hex(SECRET_LENGTH // 2)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _from_ts(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def integration_from_row(row: Sequence[Any]) -> Integration:
    """A row of ``INTEGRATION_COLUMNS`` as an ``Integration``."""
    id_, service, kind, name, created, revoked = row
    return Integration(
        id=id_,
        service=service,
        kind=kind,
        name=name,
        created_at=datetime.fromtimestamp(created, UTC),
        revoked_at=_from_ts(revoked),
    )


def split_key(key: str) -> tuple[str, str] | None:
    """An integration key as ``(id, secret)``; ``None`` when it cannot be one."""
    key = key.strip()
    if len(key) != ID_LENGTH + SECRET_LENGTH:
        return None
    return key[:ID_LENGTH], key[ID_LENGTH:]


def check_key(secret: str, row: Sequence[Any] | None) -> Integration | None:
    """The integration of a row of ``INTEGRATION_COLUMNS, secret_sha256`` if ``secret`` is
    its key's and it is not revoked. With no row, the same work is spent, so timing does
    not tell ids apart."""
    if row is None:
        hmac.compare_digest(digest(secret), digest(""))
        return None
    if not hmac.compare_digest(digest(secret), row[6]) or row[5] is not None:
        return None
    return integration_from_row(row[:6])


def _jsonable(value: Any) -> dict[str, Any]:
    """Sender-supplied details as plain JSON (anything exotic becomes a string)."""
    if all(type(k) is str and (v is None or type(v) is str) for k, v in value.items()):
        return dict(value)  # already plain JSON (an Alertmanager alert's details are)
    return json.loads(json.dumps(dict(value), default=str))


def alert_json(
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


def insert_row(
    insert: AlertInsert,
    alert_id: int,
    incident_id: Callable[[int | NewRef], int],
    integration: Integration,
    now: datetime,
) -> tuple[Any, ...]:
    """``(id, incident_id, integration_id, alert_key, group_key, status, last_seen, data)``
    of a new alert row."""
    target = incident_id(insert.incident)
    signal = insert.signal
    data = alert_json(
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


def updated_alert(alert: Alert, update: AlertUpdate, now: datetime) -> Alert:
    """A known alert row after the plan's update (status, repeats, newest summary/labels)."""
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
    return alert.model_copy(update=changes)


@dataclass(slots=True)
class Applied:
    """What the plan's lifecycle actions did: the incidents as they end, the version each
    touched one had before (created ones excluded), the new entries and changed ids."""

    touched: dict[int, Incident]
    before: dict[int, Incident] = field(default_factory=dict)
    entries: list[TimelineEntry] = field(default_factory=list)
    changed: list[tuple[int, int]] = field(default_factory=list)
    """``(incident id, version)`` per applied action, for the change feed."""


def apply_actions(
    decided: IngestPlan,
    created: Sequence[Incident],
    known: Mapping[int, Incident],
    actor: str,
    now: datetime,
) -> Applied:
    """Each planned action through ``lifecycle.apply``, in order; one result per incident."""

    def incident_id(ref: int | NewRef) -> int:
        return created[ref.index].id if isinstance(ref, NewRef) else ref

    applied = Applied(touched={i.id: i for i in created})
    for ref, action in decided.actions:
        target = incident_id(ref)
        found = applied.touched.get(target) or known.get(target)
        if found is None:
            continue
        incident = found
        applied.before.setdefault(target, incident)
        try:
            updated, entries = lifecycle.apply(incident, action, actor, now)
        except InvalidTransition:
            # The plan only acts on open incidents; a refusal here means the action is
            # moot (e.g. already acknowledged) and the rest of the batch stands.
            continue
        if isinstance(action, Acknowledge):
            # A monitoring tool acknowledging does not make itself the owner.
            updated = updated.model_copy(update={"assignee": incident.assignee})
        applied.touched[target] = updated
        applied.entries.extend(entries)
        applied.changed.append((target, updated.version))
    return applied
