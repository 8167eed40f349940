"""Fixed data and helpers for the triage, incident-screen and modal tests.

Everything runs against a real ``SqliteBackend`` on a temporary file with a ``FrozenClock``, so
the tests assert on what the store holds, not on what a screen claims.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import Screen

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.config import Settings
from console.domain.lifecycle import Acknowledge, AddNote
from console.domain.models import (
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    Incident,
    Link,
    LinkKind,
    NewIncident,
    Rotation,
    Schedule,
    Service,
    TargetKind,
    Team,
    TimelineEntry,
    User,
)
from console.tui.app import IncidentApp, make_app
from screens.incident import IncidentScreen
from tests.waiting import TIMEOUT, wait_until

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""A Monday morning: the frozen 'now' of every test."""

USERS = [
    User(id="alice", name="Alice Adams", team="sre"),
    User(id="bob", name="Bob Brown", team="sre"),
    User(id="carol", name="Carol Chen", team="dba"),
    User(id="dave", name="Dave Diaz", team="dba"),
    User(id="erin", name="Erin Evans", team="support"),
]
TEAMS = [Team(id="sre", name="Site reliability"), Team(id="dba", name="Databases")]
SCHEDULES = [
    Schedule(
        id="sre-primary",
        name="SRE primary",
        rotations=(Rotation(users=("alice", "bob"), start=T0 - timedelta(days=3)),),
    )
]
POLICIES = [
    EscalationPolicy(
        id="sre",
        name="SRE escalation",
        levels=(
            EscalationLevel(
                targets=(EscalationTarget(kind=TargetKind.SCHEDULE, id="sre-primary"),),
                wait=timedelta(minutes=15),
            ),
            EscalationLevel(
                targets=(
                    EscalationTarget(kind=TargetKind.USER, id="carol"),
                    EscalationTarget(kind=TargetKind.USER, id="dave"),
                ),
                wait=timedelta(minutes=30),
            ),
        ),
    )
]
SERVICES = [
    Service(id="checkout", name="Checkout API", team="sre", policy="sre"),
    Service(id="payments", name="Payments", team="sre", policy="sre"),
    Service(id="search", name="Search", team="dba", policy="sre"),
]

# (title, service, impact, urgency, assignee, minutes before T0)
INCIDENTS = [
    ("Checkout returns 502 for EU customers", "checkout", 1, 1, None, 10),
    ("Payment webhooks delayed", "payments", 2, 2, "bob", 120),
    ("Search latency above 2s", "search", 1, 2, None, 20),
    ("[bold]x[/bold] [/etc] \x1b]0;owned\x07 disk \x1b[2J full", "search", 3, 3, None, 300),
]


async def seed(path: Path, clock: FrozenClock, settings: Settings | None = None) -> None:
    """Write the fixed directory, four incidents and a little history into ``path``."""
    clock.set(T0 - timedelta(hours=6))
    backend = await SqliteBackend(path, settings=settings, clock=clock).open()
    try:
        for team in TEAMS:
            await backend.put_team(team)
        for user in USERS:
            await backend.put_user(user)
        for schedule in SCHEDULES:
            await backend.put_schedule(schedule)
        for policy in POLICIES:
            await backend.put_policy(policy)
        for service in SERVICES:
            await backend.put_service(service)
        for title, service_id, impact, urgency, assignee, minutes in INCIDENTS:
            await backend.create_incident(
                NewIncident(
                    title=title,
                    service=service_id,
                    impact=impact,
                    urgency=urgency,
                    assignee=assignee,
                    source="alertmanager" if service_id == "checkout" else "manual",
                    dedup_key="checkout-5xx" if service_id == "checkout" else None,
                    labels={"env": "prod", "region": "eu-west-1"}
                    if service_id == "checkout"
                    else {},
                    links=(
                        (Link(kind=LinkKind.PROBLEM, ref="PRB-7", title="Flaky LB"),)
                        if service_id == "checkout"
                        else ()
                    ),
                    created_at=T0 - timedelta(minutes=minutes),
                ),
                "alertmanager" if service_id == "checkout" else "erin",
            )
        clock.set(T0 - timedelta(minutes=100))
        payments = await backend.get_incident("INC-2")
        payments = await backend.act(payments.id, Acknowledge(), "bob", payments.version)
        clock.set(T0 - timedelta(minutes=90))
        await backend.act(
            payments.id,
            AddNote(text="Provider status page shows degraded webhooks.\nWaiting on them."),
            "bob",
            payments.version,
        )
    finally:
        await backend.close()
        clock.set(T0)


async def open_store(path: Path, clock: FrozenClock) -> SqliteBackend:
    """A second connection to the same file: 'another console' in the tests."""
    return await SqliteBackend(path, clock=clock, poll_interval=0.05).open()


async def state(path: Path, clock: FrozenClock, ref: str) -> tuple[Incident, list[TimelineEntry]]:
    """What the store holds for ``ref`` now, read through a fresh connection."""
    backend = await SqliteBackend(path, clock=clock).open()
    try:
        incident = await backend.get_incident(ref)
        return incident, await backend.timeline(incident.id)
    finally:
        await backend.close()


async def wait_for_screen(
    pilot: Pilot[Any], kind: type[Screen[Any]], timeout: float = TIMEOUT
) -> Any:
    """Let the app run until a screen of ``kind`` is on top; return it."""
    await wait_until(
        lambda: isinstance(pilot.app.screen, kind),
        pilot=pilot,
        timeout=timeout,
        what=f"{kind.__name__} to open",
        detail=lambda: f"the top screen is {pilot.app.screen!r}",
    )
    await pilot.pause()
    return pilot.app.screen


# fixtures: import them into a test module to use them --------------------------------------
@pytest.fixture
def tclock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
async def store(tmp_path: Path, tclock: FrozenClock) -> Path:
    """The seeded database file."""
    path = tmp_path / "triage.db"
    await seed(path, tclock)
    return path


@pytest.fixture
async def live(store: Path, tclock: FrozenClock) -> AsyncIterator[SqliteBackend]:
    """The console's own store. It polls for other writers only once a minute, so a change
    made through ``elsewhere`` stays unseen: the screen keeps the version the user saw."""
    opened = await SqliteBackend(store, clock=tclock, poll_interval=60).open()
    yield opened
    await opened.close()


@pytest.fixture
async def elsewhere(store: Path, tclock: FrozenClock) -> AsyncIterator[SqliteBackend]:
    """Another console on the same file."""
    opened = await SqliteBackend(store, clock=tclock).open()
    yield opened
    await opened.close()


def console(backend: SqliteBackend, clock: FrozenClock, **kwargs: Any) -> IncidentApp:
    return make_app(backend, clock=clock, user=kwargs.pop("user", "alice"), **kwargs)


async def started(pilot: Pilot[Any]) -> None:
    """Wait until the console has loaded the queue."""
    await wait_until(lambda: getattr(pilot.app, "loaded", False), pilot=pilot)
    await wait_until(lambda: getattr(pilot.app.screen, "loaded", False), pilot=pilot)
    await pilot.pause()


async def open_incident(pilot: Pilot[Any], key: str) -> IncidentScreen:
    """Open the incident screen for ``key`` from the queue, loaded with its timeline."""
    await started(pilot)
    app: Any = pilot.app
    incident = await app.backend.get_incident(key)  # open or not, as the queue's views allow
    screen = IncidentScreen(incident.id)
    await app.push_screen(screen)
    await wait_until(lambda: screen.incident is not None and bool(screen.entries), pilot=pilot)
    await pilot.pause()
    return screen


async def status_is(pilot: Pilot[Any], fragment: str) -> str:
    """Wait until the status line contains ``fragment``; return the whole text."""
    app: Any = pilot.app
    await wait_until(lambda: fragment in app.status_text, pilot=pilot)
    return str(app.status_text)


def plain(widget: Any) -> str:
    """What a Static shows, as plain text (tables and Text rendered without colour)."""
    import io

    from rich.console import Console

    out = Console(width=200, no_color=True, record=True, file=io.StringIO())
    out.print(widget.content)
    return out.export_text()


def shown_on(screen: IncidentScreen) -> Incident:
    """The incident an incident screen shows (it has loaded by the time tests ask)."""
    assert screen.incident is not None, "the incident screen has not loaded its incident"
    return screen.incident
