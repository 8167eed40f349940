"""``apply_directory``: a planned directory change in one transaction, on every backend."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from backends.base import Backend, InvalidAction, NotFound
from console.cli.directory import current_directory
from console.domain.clock import SystemClock
from console.domain.directory import Directory, DirectoryChanges, NewOverride, parse, plan, render
from console.domain.models import Change, NewIncident, Override

FILE = """
[[teams]]
id = "ops"
name = "Operations"

[[people]]
handle = "alice"
name = "Alice Archer"
team = "ops"
email = "alice@example.com"

[[people]]
handle = "dave"
name = "Dave Diaz"
team = "ops"
email = "dave@example.com"

[[schedules]]
id = "primary"
name = "Primary on-call"
timezone = "UTC"

[[schedules.layers]]
name = "daily"
people = ["alice", "dave"]
start = 2020-01-01
handoff = "00:00"
length = "1d"

[[policies]]
id = "web-oncall"
name = "Web on-call"

[[policies.levels]]
targets = ["schedule:primary"]
wait = "5m"

[[services]]
id = "web"
name = "Web shop"
team = "ops"
policy = "web-oncall"
"""


async def _feed(backend: Backend, since: int, count: int) -> list[Change]:
    taken: list[Change] = []
    async with asyncio.timeout(10):
        async for change in backend.watch(since):
            taken.append(change)
            if len(taken) == count:
                return taken
    return taken


async def test_apply_is_one_change_then_nothing(backend: Backend) -> None:
    now = SystemClock().now()
    desired = parse(FILE)
    first = plan(await current_directory(backend), desired, now)
    assert not first.empty
    removed = {(r.kind, r.id) for r in first.changes.removed}
    assert removed == {("user", "bob"), ("user", "carol"), ("service", "db")}
    since = await backend.last_seq()
    await backend.apply_directory(first.changes)
    expected = {
        (s.kind, s.id, "removed" if s.action == "remove" else "updated") for s in first.steps
    }
    changes = await _feed(backend, since, len(expected))
    assert {(c.entity, c.entity_id, c.kind.split(".")[1]) for c in changes} == expected
    stored = await current_directory(backend)
    assert stored == desired.sorted()
    assert plan(stored, desired, now).empty
    assert render(stored) == render(desired)


async def test_removing_what_open_incidents_use_is_refused(backend: Backend) -> None:
    incident = await backend.create_incident(
        NewIncident(title="db slow", service="db", assignee="bob"), "alice"
    )
    before = await current_directory(backend)
    found = plan(before, parse(FILE), SystemClock().now())
    with pytest.raises(InvalidAction) as refused:
        await backend.apply_directory(found.changes)
    assert incident.key in str(refused.value)
    assert "service 'db'" in str(refused.value) and "person 'bob'" in str(refused.value)
    assert await current_directory(backend) == before  # nothing of the plan was written


async def test_an_empty_change_writes_nothing(backend: Backend) -> None:
    since = await backend.last_seq()
    current = await current_directory(backend)
    await backend.apply_directory(plan(current, current, SystemClock().now()).changes)
    assert await backend.last_seq() == since
    assert isinstance(current, Directory)


async def test_overrides_are_added_inside_the_transaction(backend: Backend) -> None:
    start = datetime(2030, 1, 1, 9, tzinfo=UTC)
    first = Override(user="carol", start=start, end=start + timedelta(hours=2), by="carol")
    second = Override(user="bob", start=start + timedelta(hours=1), end=start + timedelta(hours=3))
    since = await backend.last_seq()
    for override in (first, second):
        await backend.apply_directory(
            DirectoryChanges(overrides=(NewOverride(schedule="primary", override=override),))
        )
    (schedule,) = await backend.schedules()
    assert schedule.overrides[-2:] == (first, second)
    assert [c.kind for c in await backend.changes(since)] == ["schedule.updated"] * 2
    with pytest.raises(NotFound):
        await backend.apply_directory(
            DirectoryChanges(overrides=(NewOverride(schedule="nope", override=first),))
        )
    nobody = first.model_copy(update={"user": "zed"})
    with pytest.raises(InvalidAction):
        await backend.apply_directory(
            DirectoryChanges(overrides=(NewOverride(schedule="primary", override=nobody),))
        )
    assert await backend.last_seq() == since + 2
