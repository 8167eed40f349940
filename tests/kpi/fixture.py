"""A small incident history whose KPIs are computed by hand in ``test_kpis.py``.

The history is a script of (time, incident, actor, action) events, so the same story can be
replayed through ``console.domain.lifecycle.apply`` (pure) and through a real backend (whose
frozen clock is moved to each event's time), and both must give the same numbers.

NOW is Tuesday 2026-03-10 12:00 UTC; the 7-day window starts 2026-03-03 12:00 UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from backends.postgres.store import PostgresBackend
from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.lifecycle import (
    Acknowledge,
    Action,
    Assign,
    Cancel,
    Escalate,
    Hold,
    Reopen,
    Resolve,
    Resume,
    apply,
    created_entry,
)
from console.domain.models import (
    HoldReason,
    Incident,
    NewIncident,
    Service,
    Team,
    TimelineEntry,
    User,
    priority_for,
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


TEAMS = [Team(id="platform", name="Platform"), Team(id="data", name="Data")]
SERVICES = [
    Service(id="api", name="Public API", team="platform"),
    Service(id="db", name="Databases", team="data"),
    Service(id="web", name="Website", team="platform"),
]
USERS = [
    User(id=name, name=name.title(), team="platform" if name < "d" else "data")
    for name in ("alice", "bob", "carol", "dave", "erin", "frank", "gina", "hank")
]


@dataclass(frozen=True)
class Spec:
    label: str
    service: str
    impact: int
    urgency: int
    created: datetime
    assignee: str | None = None


# Priorities from the ITIL matrix: (1,1) P1, (1,2) P2, (2,2) P3, (2,3) P4.
SPECS = [
    Spec("A", "api", 1, 1, at(3, 9, 10)),  # P1
    Spec("B", "api", 1, 2, at(3, 8, 8), assignee="bob"),  # P2
    Spec("C", "db", 2, 2, at(3, 5, 0)),  # P3
    Spec("D", "db", 1, 1, at(3, 7, 12), assignee="erin"),  # P1
    Spec("E", "web", 1, 2, at(3, 9, 20)),  # P2, still open at NOW
    Spec("F", "web", 2, 3, at(2, 20, 0)),  # P4, created before the window
    Spec("G", "web", 2, 2, at(3, 1, 0)),  # P3, entirely before the window
    Spec("H", "api", 2, 2, at(3, 6, 10)),  # P3, cancelled
]

EVENTS: list[tuple[datetime, str, str, Action]] = [
    # F: acknowledged by gina an hour in, resolved 12 days later (breaches P4's 10 days)
    (at(2, 20, 1), "F", "gina", Acknowledge()),
    (at(3, 1, 0), "G", "hank", Acknowledge()),
    (at(3, 2, 0), "G", "hank", Resolve()),
    (at(3, 4, 0), "F", "gina", Resolve()),
    # C: acknowledged by carol after 1h, resolved at 03:00, reopened by dave at 05:00
    # (2h resolved = a pause), resolved by dave at 09:00
    (at(3, 5, 1), "C", "carol", Acknowledge()),
    (at(3, 5, 3), "C", "carol", Resolve()),
    (at(3, 5, 5), "C", "dave", Reopen(reason="error rate back up")),
    (at(3, 5, 9), "C", "dave", Resolve()),
    # H: cancelled after 10 minutes, never acknowledged
    (at(3, 6, 10, 10), "H", "alice", Cancel(reason="duplicate page")),
    # D: owned by erin, escalated automatically at 12:20, frank acknowledges at 12:30,
    # takes it over at 12:31 and resolves at 17:00
    (at(3, 7, 12, 20), "D", "escalator", Escalate(automatic=True, paged=("frank",))),
    (at(3, 7, 12, 30), "D", "frank", Acknowledge()),
    (at(3, 7, 12, 31), "D", "frank", Assign(assignee="frank")),
    (at(3, 7, 17), "D", "frank", Resolve()),
    # B: owned by bob, acknowledged at 08:20, on hold 09:00-13:00 (vendor), resolved 14:00
    (at(3, 8, 8, 20), "B", "bob", Acknowledge()),
    (at(3, 8, 9), "B", "bob", Hold(reason=HoldReason.AWAITING_VENDOR)),
    (at(3, 8, 13), "B", "bob", Resume()),
    (at(3, 8, 14), "B", "bob", Resolve()),
    # A: alice acknowledges after 5 minutes and resolves after an hour
    (at(3, 9, 10, 5), "A", "alice", Acknowledge()),
    (at(3, 9, 11), "A", "alice", Resolve()),
]


def new_incident(spec: Spec) -> NewIncident:
    return NewIncident(
        title=f"incident {spec.label} on {spec.service}",
        service=spec.service,
        impact=spec.impact,
        urgency=spec.urgency,
        assignee=spec.assignee,
        created_at=spec.created,
    )


def build() -> tuple[list[Incident], dict[int, list[TimelineEntry]]]:
    """Replay the script through the pure lifecycle: incidents (ids 1..8 in SPECS order)."""
    incidents: dict[str, Incident] = {}
    timelines: dict[int, list[TimelineEntry]] = {}
    for number, spec in enumerate(SPECS, start=1):
        incident = Incident(
            id=number,
            key=f"INC-{number}",
            title=f"incident {spec.label} on {spec.service}",
            service=spec.service,
            impact=spec.impact,
            urgency=spec.urgency,
            priority=priority_for(spec.impact, spec.urgency),
            assignee=spec.assignee,
            created_at=spec.created,
            updated_at=spec.created,
        )
        incidents[spec.label] = incident
        timelines[number] = [created_entry(incident, "fixture")]
    for when, label, actor, action in EVENTS:
        incident, entries = apply(incidents[label], action, actor, when)
        incidents[label] = incident
        timelines[incident.id].extend(entries)
    return list(incidents.values()), timelines


def by_label(incidents: list[Incident]) -> dict[str, Incident]:
    return {spec.label: incident for spec, incident in zip(SPECS, incidents, strict=True)}


async def replay(
    path: Path, shift: timedelta = timedelta(0), kind: str = "sqlite"
) -> SqliteBackend | PostgresBackend:
    """Play the script into a real store (SQLite at ``path``, or ``kind="postgres"`` on the
    test cluster), every time moved by ``shift``; its frozen clock is left at ``NOW + shift``."""
    clock = FrozenClock(SPECS[0].created + shift)
    backend: SqliteBackend | PostgresBackend
    if kind == "postgres":
        from tests.postgres import fresh_dsn

        backend = PostgresBackend(await fresh_dsn(), clock=clock)
    else:
        backend = SqliteBackend(path, clock=clock)
    await backend.open()
    for team in TEAMS:
        await backend.put_team(team)
    for service in SERVICES:
        await backend.put_service(service)
    for user in USERS:
        await backend.put_user(user)
    ids: dict[str, int] = {}
    for spec in SPECS:
        clock.set(spec.created + shift)
        new = new_incident(spec).model_copy(update={"created_at": spec.created + shift})
        ids[spec.label] = (await backend.create_incident(new, "fixture")).id
    for when, label, actor, action in EVENTS:
        clock.set(when + shift)
        incident = await backend.get_incident(ids[label])
        await backend.act(incident.id, action, actor, incident.version)
    clock.set(NOW + shift)
    return backend
