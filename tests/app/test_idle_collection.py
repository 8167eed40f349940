"""Back on the queue, the garbage a closed screen left is collected once the responder pauses.

A full collection walks every cached line of the queue (15-20 ms at 100,000 open); started on
a fixed timer or by the collector itself it landed on the next open. It must run once no key
came for ``IDLE_BEFORE_COLLECTING`` seconds, never while keys keep coming, and it must run.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator

import pytest

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.tui.app import FULL_COLLECTION_AFTER, IDLE_BEFORE_COLLECTING, make_app
from screens.incident import IncidentScreen
from screens.queue import QueueScreen
from tests.app.conftest import loaded
from tests.waiting import wait_until


@pytest.fixture
def full_collections() -> Iterator[list[float]]:
    """``time.monotonic()`` of every full collection that starts during the test."""
    started: list[float] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 2:
            started.append(time.monotonic())

    threshold = gc.get_threshold()
    gc.callbacks.append(note)
    yield started
    gc.callbacks.remove(note)
    gc.set_threshold(*threshold)


async def test_a_full_collection_waits_for_a_pause_in_the_keys(
    backend: SqliteBackend, clock: FrozenClock, full_collections: list[float]
) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        assert gc.get_threshold()[2] == FULL_COLLECTION_AFTER
        for _ in range(3):  # open, back, down: a burst of triage keys
            await pilot.press("enter")
            await wait_until(lambda: isinstance(app.screen, IncidentScreen), pilot=pilot)
            await pilot.press("escape")
            await wait_until(lambda: isinstance(app.screen, QueueScreen), pilot=pilot)
            await pilot.press("j")
        await pilot.pause()
        last_input = app.input_at
        assert last_input > 0
        collected = await wait_until(
            lambda: [at for at in full_collections if at > last_input], pilot=pilot
        )
        # Timers fire late on a busy machine, never early: only a lower bound is checked.
        assert collected[0] - last_input >= IDLE_BEFORE_COLLECTING
        assert app.input_at == last_input  # no key came meanwhile to make it wait longer
        await pilot.pause()
        assert len([at for at in full_collections if at > last_input]) == 1
