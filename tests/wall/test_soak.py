"""Soak: a simulated day through the wall at an accelerated frozen clock.

A seeded simulator creates, acknowledges and resolves incidents through the real SQLite
store (the App follows them through its change feed, as it would in production) while the
clock jumps forward ``STEP`` seconds at a time for 24 hours. After warm-up, the traced
memory and the number of widgets on the wall must stay within a small bound: nothing on the
wall's data path may grow with the number of incidents seen or the time run.
"""

from __future__ import annotations

import gc
import random
import tracemalloc
from datetime import timedelta
from pathlib import Path

import pytest

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.lifecycle import Acknowledge, Resolve
from console.domain.models import IncidentQuery, NewIncident, Status
from console.tui.app import make_app
from screens.wall import WallScreen
from tests.wall.data import T0, seed_directory

STEP = 240
"""Simulated seconds per step: 360 steps make a day."""
DAY = 86_400
WARM_UP = 8 * 3_600
"""Long enough for the App's bounded history of finished incidents to fill up."""
SAMPLE = 2 * 3_600
MEMORY_BOUND = 1_000_000
"""Bytes the traced heap may grow from the first samples after warm-up to the last. The day
brings ~700 incidents, ~470 of them after warm-up: were each kept (~3.5 KB apiece, as
measured), that alone would be ~1.6 MB."""


class Simulator:
    """A steady incident flow: about one new incident every two minutes; each is
    acknowledged within half an hour and resolved within a few hours."""

    def __init__(self, backend: SqliteBackend, clock: FrozenClock, seed: int = 7) -> None:
        self.backend = backend
        self.clock = clock
        self.rng = random.Random(seed)
        self.created = 0

    async def step(self) -> None:
        rng = self.rng
        for _ in range(rng.choice((1, 2, 3))):
            await self.backend.create_incident(
                NewIncident(
                    title=f"simulated incident {self.created}",
                    service=rng.choice(("checkout", "payments", "edge", "orders")),
                    impact=rng.choice((1, 2, 2, 3)),
                    urgency=rng.choice((1, 2, 3)),
                ),
                "simulator",
            )
            self.created += 1
        now = self.clock.now()
        for incident in await self.backend.list_incidents(IncidentQuery(limit=10_000)):
            age = (now - incident.created_at).total_seconds()
            if incident.status == Status.TRIGGERED and age > rng.uniform(300, 1800):
                await self.backend.act(incident.id, Acknowledge(), "bob", incident.version)
            elif incident.status == Status.ACKNOWLEDGED and age > rng.uniform(1800, 4 * 3600):
                await self.backend.act(incident.id, Resolve(), "bob", incident.version)


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_a_simulated_day_keeps_memory_and_widgets_flat(tmp_path: Path) -> None:
    # The whole Python heap is traced from the start, so what is measured is the heap's size
    # at each sample (objects that replace older ones do not count as growth).
    tracemalloc.start()
    clock = FrozenClock(T0)
    backend = await SqliteBackend(tmp_path / "soak.db", clock=clock, poll_interval=0.01).open()
    await seed_directory(backend)
    simulator = Simulator(backend, clock)
    app = make_app(backend, clock=clock, wall=True, user="noc")
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            while not (isinstance(app.screen, WallScreen) and app.loaded):
                await pilot.pause(0.02)
            wall = app.screen
            widgets: list[int] = []
            heap: list[int] = []
            for elapsed in range(STEP, DAY + 1, STEP):
                clock.advance(timedelta(seconds=STEP))
                await simulator.step()
                await pilot.pause(0.07)  # the App's batch window, then the repaint
                app.tick()
                await pilot.pause()
                if elapsed >= WARM_UP and elapsed % SAMPLE == 0:
                    gc.collect()
                    heap.append(tracemalloc.get_traced_memory()[0])
                    widgets.append(len(list(wall.walk_children())))
            assert simulator.created > 600, "the simulator should have made a busy day"
            assert app.screen is wall
            assert len(set(widgets)) == 1, f"widget counts changed: {widgets}"
            # A sample moves with how many incidents are open and how many toasts are up at
            # that instant (the simulation announces new P1/P2s far faster than real time),
            # so compare the floor of the first three samples with that of the last three.
            growth = min(heap[-3:]) - min(heap[:3])
            assert growth < MEMORY_BOUND, f"heap after warm-up, every 2 h: {heap}"
    finally:
        tracemalloc.stop()
        await backend.close()
