"""Fixtures for the intake tests: a real store (SQLite, and PostgreSQL on a throw-away cluster)
with a frozen clock, a service with an escalation policy, and one integration of each kind."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from backends.postgres.store import PostgresBackend
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


Store = SqliteBackend | PostgresBackend


@dataclass
class Intake:
    store: Store
    clock: FrozenClock
    am: Integration
    am_key: str
    events: Integration
    events_key: str
    other_events: Integration
    other_events_key: str


async def seed(store: Store) -> None:
    for user in ("alice", "bob"):
        await store.put_user(User(id=user, name=user.title()))
    await store.put_policy(POLICY)
    await store.put_service(Service(id="checkout", name="Checkout", policy="checkout-oncall"))
    await store.put_service(Service(id="search", name="Search", auto_resolve=False))


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


async def open_store(kind: str, tmp_path: Path, clock: FrozenClock) -> Store:
    """An empty store of ``kind`` (``sqlite`` or ``postgres``) on ``clock``."""
    if kind == "postgres":
        from tests.postgres import fresh_dsn

        dsn = await fresh_dsn()
        return await PostgresBackend(
            dsn, settings=Settings(database_url=dsn), clock=clock, poll_interval=0.05
        ).open()
    settings = Settings(db=tmp_path / "incidents.db")
    return await SqliteBackend(tmp_path / "incidents.db", settings=settings, clock=clock).open()


async def second_store(intake: Intake) -> Store:
    """Another store object on the same database, as a second process would open it."""
    store = intake.store
    if isinstance(store, PostgresBackend):
        return await PostgresBackend(store.dsn, settings=store.settings, clock=intake.clock).open()
    return await SqliteBackend(store.path, settings=store.settings, clock=intake.clock).open()


async def column_values(store: Store, sql: str) -> list[Any]:
    """The first column of a read-only query (both stores name their tables alike)."""
    if isinstance(store, PostgresBackend):
        return [row[0] for row in await store.fetch(sql)]
    return [row[0] for row in await store.fetchall(sql)]


async def count_rows(store: Store, table: str) -> int:
    """Rows in one of the store's tables."""
    return int((await column_values(store, f"SELECT count(*) FROM {table}"))[0])


@pytest.fixture(params=["sqlite", "postgres"])
async def intake(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FrozenClock
) -> AsyncIterator[Intake]:
    store = await open_store(request.param, tmp_path, clock)
    try:
        await seed(store)
        am, am_key = await store.create_integration("checkout", "alertmanager")
        ev, ev_key = await store.create_integration("checkout", "events", "pd")
        other, other_key = await store.create_integration("search", "events")
        yield Intake(store, clock, am, am_key, ev, ev_key, other, other_key)
    finally:
        await store.close()


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

    from console.http.app import create_app

    tokens = intake.store.capabilities.tokens
    assert tokens is not None
    _, admin = await tokens.create("root", "admin")
    _, viewer = await tokens.create("val", "viewer")
    app = create_app(intake.store, intake.store.settings, clock=intake.clock, tokens=tokens)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake.test") as client:
        yield Api(intake, client, admin, viewer)
