"""Fixed wall data on a real SQLite file, every time relative to ``T0`` (a frozen clock).

Eighteen open incidents (enough to page at every size), among them a P1 created three
minutes ago and not acknowledged (a "new P1"), a P2 whose response clock breached six
minutes ago (a "new breach"), an old breach, one on hold, one in the warning band and a
title full of markup and escape sequences; plus two incidents resolved earlier today, so
the MTTA tile has a number (``MTTA_TODAY_SECONDS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.lifecycle import Acknowledge, Hold, Resolve
from console.domain.models import HoldReason, NewIncident, Service, Team, User

T0 = datetime(2026, 3, 2, 9, 30, 4, tzinfo=UTC)
"""A Monday morning: the frozen 'now' of the wall tests."""

EVIL = "[bold red]pwned[/] \x1b[2J\x1b]0;title\x07 disk full on db-7"


@dataclass(frozen=True)
class Row:
    title: str
    service: str
    impact: int
    urgency: int
    minutes_ago: int
    assignee: str | None = None
    ack_after: int | None = None
    """Acknowledged (by the assignee or bob) this many minutes after creation."""
    hold: bool = False
    resolve_after: int | None = None


ROWS = (
    Row("Checkout returns 502 for EU customers", "checkout", 1, 1, 3),  # new P1
    Row("Payment webhooks delayed", "payments", 1, 2, 36),  # P2, response breached 6m ago
    Row("Primary database failover loop", "database", 1, 1, 95, "carol", 5),  # P1 ack'd
    Row("Card declines for Visa debit", "payments", 1, 2, 25),  # P2 warning (25 of 30m)
    Row("Search latency above 2s", "search", 2, 2, 120, "bob", 10),  # P3
    Row(EVIL, "database", 2, 3, 300, "carol", 20, hold=True),  # P4 on hold, hostile title
    Row("Login page slow for SSO users", "identity", 2, 2, 200, "alice", 15),
    Row("Mobile push notifications late", "notifications", 2, 2, 50),
    Row("CDN cache hit ratio dropped", "edge", 2, 3, 400),
    Row("Nightly export job failed", "database", 3, 3, 600),
    Row("Status page shows stale data", "edge", 3, 2, 45, "dave", 30),
    Row("TLS certificate expires in 7 days", "edge", 3, 3, 1300),
    Row("Invoice PDFs render blank", "payments", 2, 2, 70, "erin", 8),
    Row("Kafka consumer lag on orders", "orders", 1, 2, 140, "bob", 12),  # P2 ack'd
    Row("Orders API p99 above SLO", "orders", 2, 2, 33),
    Row("Slow queries on reporting replica", "database", 3, 2, 510),
    Row("Password reset emails bounce", "identity", 2, 3, 260),
    Row("Rate limiter rejects partner traffic", "edge", 1, 2, 15),  # P2 running
    # resolved earlier today
    Row("Checkout latency spike", "checkout", 2, 2, 240, "alice", 4, resolve_after=50),
    Row("DNS resolution errors", "edge", 1, 1, 180, "bob", 6, resolve_after=40),
)
MTTA_TODAY_SECONDS = 110 * 60 / 9
"""Every acknowledgement since 00:00 UTC: 5 + 10 + 20 + 15 + 30 + 8 + 12 + 4 + 6 = 110
minutes over 9 incidents (the tile shows 12:13, min:sec)."""


async def seed_directory(backend: SqliteBackend) -> None:
    await backend.put_team(Team(id="sre", name="Site reliability"))
    for user_id, name in (
        ("alice", "Alice Adams"),
        ("bob", "Bob Brown"),
        ("carol", "Carol Chen"),
        ("dave", "Dave Diaz"),
        ("erin", "Erin Evans"),
    ):
        await backend.put_user(User(id=user_id, name=name, team="sre"))
    for service_id in (
        "checkout",
        "payments",
        "database",
        "search",
        "identity",
        "notifications",
        "edge",
        "orders",
    ):
        await backend.put_service(Service(id=service_id, name=service_id.title(), team="sre"))


async def seed_wall(path: Path, clock: FrozenClock, rows: tuple[Row, ...] = ROWS) -> None:
    """Write the directory and ``rows`` into ``path``; leaves ``clock`` at ``T0``."""
    backend = await SqliteBackend(path, clock=clock).open()
    try:
        await seed_directory(backend)
        for row in rows:
            created = T0 - timedelta(minutes=row.minutes_ago)
            clock.set(created)
            incident = await backend.create_incident(
                NewIncident(
                    title=row.title,
                    service=row.service,
                    impact=row.impact,
                    urgency=row.urgency,
                    assignee=row.assignee,
                    created_at=created,
                ),
                "alertmanager",
            )
            actor = row.assignee or "bob"
            if row.ack_after is not None:
                clock.set(created + timedelta(minutes=row.ack_after))
                incident = await backend.act(incident.id, Acknowledge(), actor, incident.version)
            if row.hold:
                clock.set(clock.now() + timedelta(minutes=1))
                incident = await backend.act(
                    incident.id, Hold(reason=HoldReason.AWAITING_VENDOR), actor, incident.version
                )
            if row.resolve_after is not None:
                clock.set(created + timedelta(minutes=row.resolve_after))
                await backend.act(incident.id, Resolve(), actor, incident.version)
    finally:
        await backend.close()
        clock.set(T0)
