"""Fixtures for the intake tests: a real SQLite store with a frozen clock, a service with an
escalation policy, and one integration of each kind."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from backends.sqlite import intake as sqlite_intake
from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.config import Settings
from console.domain.intake import Integration
from console.domain.models import (
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    Service,
    TargetKind,
    User,
)

# Copies of shared/fixtures/alertmanager: bodies a real Alertmanager 0.25.0 posted.
FIXTURES = Path(__file__).resolve().parent / "fixtures"

T0 = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)

POLICY = EscalationPolicy(
    id="checkout-oncall",
    name="Checkout on-call",
    levels=(
        EscalationLevel(
            targets=(EscalationTarget(kind=TargetKind.USER, id="alice"),),
            wait=timedelta(minutes=5),
        ),
        EscalationLevel(
            targets=(EscalationTarget(kind=TargetKind.USER, id="bob"),),
            wait=timedelta(minutes=10),
        ),
    ),
    repeat=1,
)


def fixture_body(name: str) -> dict[str, Any]:
    """A real Alertmanager 0.25.0 webhook body from shared/fixtures."""
    return json.loads((FIXTURES / name).read_text())


def am_body(
    alerts: list[dict[str, Any]],
    *,
    group_key: str = '{}:{alertname="HighErrorRate"}',
    status: str | None = None,
) -> dict[str, Any]:
    """An Alertmanager v4 body around ``alerts`` (each a partial alert dict)."""
    full = []
    for n, alert in enumerate(alerts):
        labels = alert.get("labels", {"alertname": "HighErrorRate", "instance": f"web-{n}"})
        full.append(
            {
                "status": alert.get("status", "firing"),
                "labels": labels,
                "annotations": alert.get("annotations", {"summary": f"errors on web-{n}"}),
                "startsAt": "2026-11-27T06:55:50.145014539Z",
                "endsAt": alert.get("endsAt", "0001-01-01T00:00:00Z"),
                "generatorURL": "http://prometheus.example/graph",
                "fingerprint": alert.get("fingerprint", f"fp{n:04d}"),
            }
        )
    if status is None:
        status = "firing" if any(a["status"] == "firing" for a in full) else "resolved"
    return {
        "receiver": "console",
        "status": status,
        "alerts": full,
        "groupLabels": {"alertname": "HighErrorRate"},
        "commonLabels": {"alertname": "HighErrorRate"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
    }


@dataclass
class Intake:
    store: SqliteBackend
    clock: FrozenClock
    am: Integration
    am_key: str
    events: Integration
    events_key: str
    other_events: Integration
    other_events_key: str


async def seed(store: SqliteBackend) -> None:
    for user in ("alice", "bob"):
        await store.put_user(User(id=user, name=user.title()))
    await store.put_policy(POLICY)
    await store.put_service(Service(id="checkout", name="Checkout", policy="checkout-oncall"))
    await store.put_service(Service(id="search", name="Search", auto_resolve=False))


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
async def intake(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[Intake]:
    settings = Settings(db=tmp_path / "incidents.db")
    async with SqliteBackend(tmp_path / "incidents.db", settings=settings, clock=clock) as store:
        await seed(store)
        am, am_key = await sqlite_intake.create_integration(store, "checkout", "alertmanager")
        ev, ev_key = await sqlite_intake.create_integration(store, "checkout", "events", "pd")
        other, other_key = await sqlite_intake.create_integration(store, "search", "events")
        yield Intake(store, clock, am, am_key, ev, ev_key, other, other_key)


@dataclass
class Api:
    intake: Intake
    client: Any
    admin: str
    viewer: str


@pytest.fixture
async def api(intake: Intake) -> AsyncIterator[Api]:
    """The real FastAPI app of ``incidents serve`` in-process (httpx ASGI transport)."""
    import httpx

    from backends.sqlite.tokens import SqliteTokenStore
    from console.http.app import create_app

    tokens = SqliteTokenStore(intake.store, clock=intake.clock)
    _, admin = await tokens.create("root", "admin")
    _, viewer = await tokens.create("val", "viewer")
    app = create_app(intake.store, intake.store.settings, clock=intake.clock, tokens=tokens)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake.test") as client:
        yield Api(intake, client, admin, viewer)
