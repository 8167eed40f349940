"""The keystroke table of issue 10 point 9, measured on the demo data over a real SQLite file.

Each test presses exactly the sequence the table lists (``KEYS`` below: one entry per key
press; typed text counts one per character) and asserts what the store says afterwards, so
the counts are proven, not estimated. ``test_the_table`` prints the table.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from backends.sqlite.store import SqliteBackend
from console.demo import seed as demo
from console.domain.clock import FrozenClock
from console.domain.models import EntryKind, IncidentQuery, Priority, Status
from console.domain.sla import SlaPolicy, is_breached
from console.tui.app import make_app
from screens.bulk import BulkPreviewScreen
from tests.app.conftest import keys_shown, loaded
from tests.waiting import wait_until

NOW = datetime(2026, 11, 27, 7, 30, tzinfo=UTC)
ESCALATE = "INC-2035"
NAMED = ("INC-2036", "INC-2037", "INC-2038")
NOTE = "restarted"


def typed(text: str) -> list[str]:
    return [{" ": "space", "/": "slash", ":": "colon"}.get(c, c) for c in text]


KEYS: dict[str, list[str]] = {
    "acknowledge the most urgent triggered incident": ["6", "a"],
    f"escalate {ESCALATE} from the queue": [
        "slash",
        *typed(ESCALATE.removeprefix("INC-")),
        "enter",
        "e",
        "enter",
    ],
    "assign three named incidents to one person": [
        "slash",
        *typed(" ".join(k.removeprefix("INC-") for k in NAMED)),
        "enter",
        "ctrl+a",
        "o",
        *typed("ines"),
        "enter",
        "enter",
    ],
    "resolve with a note": ["r", *typed(NOTE), "ctrl+s"],
    "list breached P1/P2 incidents": ["7", "slash", *typed("p1 p2"), "enter"],
}


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
async def backend(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[SqliteBackend]:
    path = tmp_path / "demo.db"
    async with SqliteBackend(path, clock=clock) as store:
        await demo.seed(store, user="root", seed=11)
    opened = await SqliteBackend(path, clock=clock, poll_interval=0.05).open()
    yield opened
    await opened.close()


def console(backend: SqliteBackend, clock: FrozenClock) -> Any:
    # make_app runs no escalator (the CLI adds one): nothing moves but the keys
    return make_app(backend, clock=clock, user="root")


async def press(pilot: Any, keys: list[str]) -> None:
    for key in keys:
        await pilot.press(key)
        await pilot.pause()


async def test_acknowledge_the_most_urgent_triggered(
    backend: SqliteBackend, clock: FrozenClock
) -> None:
    triggered = await backend.list_incidents(
        IncidentQuery(statuses=(Status.TRIGGERED,), sort="urgency", limit=1)
    )
    target = triggered[0]
    async with console(backend, clock).run_test(size=(140, 40)) as pilot:
        await loaded(pilot)
        await press(pilot, KEYS["acknowledge the most urgent triggered incident"])
        await wait_until(
            lambda: pilot.app.incidents[target.id].status == Status.ACKNOWLEDGED, pilot=pilot
        )
    assert (await backend.get_incident(target.id)).status == Status.ACKNOWLEDGED


async def test_escalate_by_key_from_the_queue(backend: SqliteBackend, clock: FrozenClock) -> None:
    before = await backend.get_incident(ESCALATE)
    assert before.is_open and before.policy
    async with console(backend, clock).run_test(size=(140, 40)) as pilot:
        await loaded(pilot)
        await press(pilot, KEYS[f"escalate {ESCALATE} from the queue"])
        await wait_until(
            lambda: pilot.app.incidents[before.id].version > before.version, pilot=pilot
        )
    timeline = await backend.timeline(before.id)
    assert timeline[-1].kind == EntryKind.ESCALATED and timeline[-1].actor == "root"


async def test_assign_three_named_incidents(backend: SqliteBackend, clock: FrozenClock) -> None:
    async with console(backend, clock).run_test(size=(140, 40)) as pilot:
        screen = await loaded(pilot)
        keys = KEYS["assign three named incidents to one person"]
        await press(pilot, keys[: keys.index("enter") + 1])
        assert sorted(keys_shown(screen)) == sorted(NAMED)
        await press(pilot, keys[keys.index("enter") + 1 : -1])
        assert isinstance(pilot.app.screen, BulkPreviewScreen)  # names the three first
        await press(pilot, keys[-1:])

        def done() -> bool:
            return all(i.assignee == "ines" for i in pilot.app.incidents.values() if i.key in NAMED)

        await wait_until(done, pilot=pilot)
    for key in NAMED:
        assert (await backend.get_incident(key)).assignee == "ines"


async def test_resolve_with_a_note(backend: SqliteBackend, clock: FrozenClock) -> None:
    async with console(backend, clock).run_test(size=(140, 40)) as pilot:
        screen = await loaded(pilot)
        target = screen.list.cursor_incident
        await press(pilot, KEYS["resolve with a note"])
        await wait_until(
            lambda: pilot.app.incidents[target.id].status == Status.RESOLVED, pilot=pilot
        )
    resolved = await backend.get_incident(target.id)
    assert resolved.resolution_note == NOTE  # typed straight into the note: nothing lost


async def test_list_breached_p1_p2(backend: SqliteBackend, clock: FrozenClock) -> None:
    opened = await backend.list_incidents(IncidentQuery(limit=1000))
    wanted = {
        i.key
        for i in opened
        if i.priority in (Priority.P1, Priority.P2) and is_breached(i, NOW, SlaPolicy())
    }
    assert wanted, "the demo has breached P1/P2 incidents"
    async with console(backend, clock).run_test(size=(140, 40)) as pilot:
        screen = await loaded(pilot)
        await press(pilot, KEYS["list breached P1/P2 incidents"])
        await wait_until(lambda: set(keys_shown(screen)) == wanted, pilot=pilot)


def test_the_table() -> None:
    rows = {task: len(keys) for task, keys in KEYS.items()}
    assert rows == {
        "acknowledge the most urgent triggered incident": 2,
        f"escalate {ESCALATE} from the queue": 8,
        "assign three named incidents to one person": 24,
        "resolve with a note": 2 + len(NOTE),
        "list breached P1/P2 incidents": 8,
    }
    for task, count in rows.items():
        print(f"{count:>3}  {task}: {' '.join(KEYS[task])}")
