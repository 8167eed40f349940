"""The ``backend`` fixture: every contract test runs once per registered backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backends.base import Backend
from console.domain.models import (
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    Rotation,
    Schedule,
    Service,
    TargetKind,
    Team,
    User,
)
from tests.contract.backends import FACTORIES

# The seeded directory, shared with the tests so they can name what they expect.
TEAM = Team(id="ops", name="Operations")
USERS = (
    User(id="alice", name="Alice Archer", team="ops"),
    User(id="bob", name="Bob Baker", team="ops"),
    User(id="carol", name="Carol Chen", team="ops"),
)
SCHEDULE = Schedule(
    id="primary",
    name="Primary on-call",
    rotations=(
        Rotation(
            name="daily",
            users=("alice", "bob"),
            start=datetime(2020, 1, 1, tzinfo=UTC),
            shift=timedelta(days=1),
        ),
    ),
)
POLICY = EscalationPolicy(
    id="web-oncall",
    name="Web on-call",
    levels=(
        EscalationLevel(
            targets=(EscalationTarget(kind=TargetKind.SCHEDULE, id="primary"),),
            wait=timedelta(minutes=5),
        ),
        EscalationLevel(
            targets=(EscalationTarget(kind=TargetKind.USER, id="carol"),),
            wait=timedelta(minutes=10),
        ),
    ),
)
SERVICES = (
    Service(id="web", name="Web shop", team="ops", policy="web-oncall"),
    Service(id="db", name="Databases", team="ops"),
)


async def seed(backend: Backend) -> None:
    await backend.put_team(TEAM)
    for user in USERS:
        await backend.put_user(user)
    await backend.put_schedule(SCHEDULE)
    await backend.put_policy(POLICY)
    for service in SERVICES:
        await backend.put_service(service)


@pytest.fixture(params=sorted(FACTORIES))
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    async with FACTORIES[request.param](tmp_path) as opened:
        await seed(opened)
        yield opened
