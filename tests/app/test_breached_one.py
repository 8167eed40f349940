"""One definition of "breached" (``console.domain.sla.is_breached``): the queue header, the
``breached`` filter, the wall, a real server's ``/metrics`` and the KPI report count the
same incidents of one real SQLite file, and a response acknowledged late stays breached.

The server runs on the wall clock, so the fixture is written relative to the real now, and
every SLA due instant is at least ten minutes away from it: the few seconds between the
console's frozen clock and the server's cannot move an incident across the line.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.kpis import render_table
from console.domain.lifecycle import Acknowledge, Hold, Resolve
from console.domain.models import HoldReason, NewIncident, Service, User
from console.domain.sla import SlaPolicy, is_breached
from console.tui.app import make_app
from screens.wall import WallScreen
from tests.app.conftest import keys_shown, loaded
from tests.remote.server import make_tokens, shared_zygote
from tests.waiting import wait_until
from widgets.queue_header import QueueHeader
from widgets.wall_tile import WallTile

M = timedelta(minutes=1)

# (title, impact, urgency, minutes ago, acknowledged after N minutes, then, breached?)
FIXTURE = (
    ("P1 never acknowledged", 1, 1, 30, None, "", True),  # response 15m: breached
    ("P1 acknowledged late", 1, 1, 30, 20, "", True),  # acked at 20 of 15 min: stays
    ("P1 acknowledged in time", 1, 1, 30, 5, "", False),
    ("P2 young", 1, 2, 10, None, "", False),  # 10 of 30 min
    ("P2 acknowledged late, held", 1, 2, 60, 40, "hold", True),  # held, response was late
    ("P2 held in time", 1, 2, 60, 5, "hold", False),
    ("P2 resolution running out", 1, 2, 9 * 60, 5, "", True),  # 9h of 8h
    ("P1 acknowledged late, resolved", 1, 1, 60, 20, "resolve", False),  # not open
)
BREACHED = {f"INC-{n}" for n, row in enumerate(FIXTURE, start=1) if row[-1]}


async def seed(path: Path, now: datetime) -> None:
    clock = FrozenClock(now)
    async with SqliteBackend(path, clock=clock) as store:
        await store.put_user(User(id="bob", name="Bob"))
        await store.put_service(Service(id="web", name="Web shop"))
        for title, impact, urgency, ago, acked, then, _ in FIXTURE:
            created = now - ago * M
            clock.set(created)
            incident = await store.create_incident(
                NewIncident(
                    title=title, service="web", impact=impact, urgency=urgency, created_at=created
                ),
                "erin",
            )
            if acked is not None:
                clock.set(created + acked * M)
                incident = await store.act(incident.id, Acknowledge(), "bob", incident.version)
            if then == "hold":
                incident = await store.act(
                    incident.id, Hold(reason=HoldReason.AWAITING_VENDOR), "bob", incident.version
                )
            elif then == "resolve":
                clock.set(created + (acked or 0) * M + M)
                await store.act(incident.id, Resolve(), "bob", incident.version)


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
async def db(tmp_path: Path, now: datetime) -> Path:
    path = tmp_path / "breached.db"
    await seed(path, now)
    return path


async def test_every_count_of_breached_is_the_same(db: Path, now: datetime) -> None:
    clock = FrozenClock(now)
    async with SqliteBackend(db, clock=clock) as store:
        every = await store.get_incidents(list(range(1, len(FIXTURE) + 1)))
    assert {i.key for i in every if is_breached(i, now, SlaPolicy())} == BREACHED
    expected = len(BREACHED)

    # the queue: the header count and the breached filter (asked of the store, then checked)
    async with SqliteBackend(db, clock=clock, poll_interval=0.05) as backend:
        app = make_app(backend, clock=clock, user="alice")
        async with app.run_test(size=(140, 40)) as pilot:
            screen = await loaded(pilot)
            header = str(screen.query_one(QueueHeader).render())
            assert f"breached {expected}" in header, header
            await pilot.press("slash", *"breached", "enter")
            await wait_until(lambda: set(keys_shown(screen)) == BREACHED, pilot=pilot)

        # the wall
        wall = make_app(backend, clock=clock, wall=True, user="noc")
        async with wall.run_test(size=(160, 48)) as pilot:
            await wait_until(
                lambda: isinstance(wall.screen, WallScreen) and wall.loaded, pilot=pilot
            )
            tile = wall.screen.query_one("#tile-breached", WallTile)
            await wait_until(lambda: tile._value == str(expected), pilot=pilot)

        # the local report (the Reports screen and `incidents report` render these KPIs)
        kpis = await backend.stats(timedelta(days=7), now=now)
        assert kpis.open_breached == expected
        assert f"breached now {expected}" in render_table(kpis)

    # a real server over the same file: /metrics and the remote report
    tokens = await make_tokens(db, {"vic": "viewer"})
    server = shared_zygote().fork(db)
    try:
        url = await server.ready()
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            metrics = (await client.get("/metrics")).text
            stats = await client.get(
                "/v1/stats",
                params={"since": "7d"},
                headers={"Authorization": f"Bearer {tokens['vic']}"},
            )
    finally:
        server.stop()
    gauge = [line for line in metrics.splitlines() if line.startswith("incidents_open_breached{")]
    assert sum(int(line.rsplit(" ", 1)[1]) for line in gauge) == expected, gauge
    assert stats.status_code == 200, stats.text
    assert stats.json()["open_breached"] == expected
