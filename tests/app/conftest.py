"""Fixed queue data on a real SQLite file with a frozen clock, for Pilot and snapshot tests.

``seed_queue`` writes a small, deliberately varied queue: a breached incident, one in the
warning band, one on hold, hostile and wide titles, one recently resolved. Every time is
relative to ``T0`` so countdowns on screen are the same on every run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.command import CommandList, CommandPalette

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.config import Settings
from console.domain.lifecycle import Acknowledge, Hold, Resolve
from console.domain.models import HoldReason, NewIncident, Service, Team, User
from tests.waiting import wait_until

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""A Monday morning: the frozen 'now' of every queue test."""

EVIL_TITLE = "[bold]x[/bold] [/etc] \x1b]0;owned\x07 disk \x1b[2J full"
WIDE_TITLE = (
    "支付失败 💳 مرحبا بالعالم checkout wide-character title that runs on and on past the column"
)


@dataclass(frozen=True)
class Row:
    title: str
    service: str
    impact: int
    urgency: int
    minutes_ago: int
    assignee: str | None = None
    then: str = ""
    """``ack`` / ``hold`` / ``resolve`` (done by bob 1 minute after creation)."""
    labels: tuple[tuple[str, str], ...] = ()


QUEUE = (
    Row(
        "Checkout returns 502 for EU customers",
        "checkout",
        1,
        1,
        5,
        labels=(("env", "prod"), ("region", "eu-west-1")),
    ),  # INC-1 P1 running
    Row("Payment webhooks delayed", "payments", 1, 2, 40),  # INC-2 P2 response breached
    Row("Search latency above 2s", "search", 2, 2, 120, "bob", "ack"),  # INC-3 P3 ack
    Row("Card declines for Visa debit", "payments", 1, 2, 25),  # INC-4 P2 warning
    Row("Disk 91% on db-7", "search", 2, 3, 300, "carol", "hold"),  # INC-5 P4 on hold
    Row(EVIL_TITLE, "search", 3, 3, 60),  # INC-6 P5 hostile title
    Row(WIDE_TITLE, "checkout", 2, 2, 90, "alice", "ack"),  # INC-7 P3 mine
    Row("Login page slow", "checkout", 2, 2, 200, "alice", "resolve"),  # INC-8 resolved
)


async def seed_directory(backend: SqliteBackend) -> None:
    await backend.put_team(Team(id="sre", name="Site reliability"))
    for user_id, name in (("alice", "Alice Adams"), ("bob", "Bob Brown"), ("carol", "Carol Chen")):
        await backend.put_user(User(id=user_id, name=name, team="sre"))
    for service_id, name in (
        ("checkout", "Checkout"),
        ("payments", "Payments"),
        ("search", "Search"),
    ):
        await backend.put_service(Service(id=service_id, name=name, team="sre"))


async def seed_queue(
    path: Path, clock: FrozenClock, rows: tuple[Row, ...] = QUEUE, at: datetime = T0
) -> None:
    """Write the directory and ``rows`` (times before ``at``) into ``path``; leaves ``clock``
    at ``at``."""
    backend = await SqliteBackend(path, clock=clock).open()
    try:
        await seed_directory(backend)
        for row in rows:
            created = at - timedelta(minutes=row.minutes_ago)
            clock.set(created)
            incident = await backend.create_incident(
                NewIncident(
                    title=row.title,
                    service=row.service,
                    impact=row.impact,
                    urgency=row.urgency,
                    assignee=row.assignee,
                    labels=dict(row.labels),
                    created_at=created,
                ),
                "erin",
            )
            if row.then:
                clock.set(created + timedelta(minutes=1))
                incident = await backend.act(incident.id, Acknowledge(), "bob", incident.version)
            if row.then == "hold":
                incident = await backend.act(
                    incident.id, Hold(reason=HoldReason.AWAITING_VENDOR), "bob", incident.version
                )
            if row.then == "resolve":
                clock.set(created + timedelta(minutes=30))
                await backend.act(incident.id, Resolve(), "alice", incident.version)
    finally:
        await backend.close()
        clock.set(at)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
async def db(tmp_path: Path, clock: FrozenClock) -> Path:
    path = tmp_path / "queue.db"
    await seed_queue(path, clock)
    return path


@pytest.fixture
async def backend(db: Path, clock: FrozenClock) -> AsyncIterator[SqliteBackend]:
    opened = await SqliteBackend(db, clock=clock, poll_interval=0.05).open()
    yield opened
    await opened.close()


@pytest.fixture
async def other(db: Path, clock: FrozenClock) -> AsyncIterator[SqliteBackend]:
    """A second store on the same file: another console, another process's writes."""
    opened = await SqliteBackend(db, clock=clock).open()
    yield opened
    await opened.close()


async def run_command(pilot: Any, text: str, *, key: str = "ctrl+p") -> None:
    """Open the command palette with ``key``, type ``text`` and run the best match once the
    palette's search has put a command containing ``text`` at the top."""
    await pilot.press(key)
    await wait_until(lambda: CommandPalette.is_open(pilot.app), pilot=pilot, what="the palette")
    palette = pilot.app.screen
    await pilot.press(*text)

    def best_match() -> bool:
        commands = palette.query_one(CommandList)
        if commands.highlighted != 0 or not commands.option_count:
            return False
        prompt = commands.get_option_at_index(0).prompt
        return text.casefold() in getattr(prompt, "plain", str(prompt)).casefold()

    await wait_until(best_match, pilot=pilot, what=f"{text!r} at the top of the palette")
    await pilot.press("enter")


async def loaded(pilot: Any) -> Any:
    """Wait for the first load; return the queue screen."""
    await wait_until(lambda: getattr(pilot.app.screen, "loaded", False), pilot=pilot)
    await pilot.pause()
    return pilot.app.screen


def type_ahead(app: Any, keys: list[str]) -> None:
    """Keys that arrive together (typed ahead, a slow link, a loaded machine): all in the
    App's queue before it takes the first, as the driver posts them, no pause between."""
    chars = {"slash": "/", "colon": ":", "space": " ", "enter": "\r", "escape": "\x1b"}
    for key in keys:
        app.post_message(events.Key(key, chars.get(key, key)))


def keys_shown(screen: Any) -> list[str]:
    """Incident keys in the order the queue shows them."""
    return [screen.model.incidents[i].key for i in screen.model.ids()]


def settings_with(**updates: Any) -> Settings:
    return Settings().model_copy(update=updates)


AsyncFn = Callable[[], Awaitable[None]]
