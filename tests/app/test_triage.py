"""Triage actions through the App, a real SqliteBackend on a temporary file and a frozen clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.sqlite import SqliteBackend
from console.clock import FrozenClock
from console.models import EntryKind, Status
from tests.app.triage_helpers import T0, harness_app, seed, state, wait_until


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
async def db(tmp_path: Path, clock: FrozenClock) -> Path:
    path = tmp_path / "incidents.db"
    await seed(path, clock)
    return path


async def test_acknowledge_single(db: Path, clock: FrozenClock) -> None:
    backend = await SqliteBackend(db, clock=clock).open()
    app = harness_app(backend, clock)
    async with app.run_test() as pilot:
        await pilot.pause()
        target = await backend.get_incident("INC-1")
        app.run_triage("acknowledge", [target])
        await wait_until(pilot, lambda: app.status[0] != "")
        assert app.status == ("INC-1 acknowledged", False)
    await backend.close()
    incident, timeline = await state(db, clock, "INC-1")
    assert incident.status == Status.ACKNOWLEDGED
    assert incident.assignee == "alice"
    assert timeline[-1].kind == EntryKind.ACKNOWLEDGED
    assert timeline[-1].actor == "alice"
