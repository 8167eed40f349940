"""Listing and counting incidents: every filter and every sort, against real time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backends.base import Backend
from console.domain.lifecycle import Acknowledge, Hold, Resolve
from console.domain.models import HoldReason, Incident, IncidentQuery, NewIncident, Priority, Status


def _ago(**kwargs: float) -> datetime:
    return datetime.now(UTC) - timedelta(**kwargs)


@pytest.fixture
async def board(backend: Backend) -> dict[str, Incident]:
    """A small board with one of each situation, created at distinct times in the past."""

    async def new(name: str, minutes_ago: float, **fields: object) -> Incident:
        return await backend.create_incident(
            NewIncident(title=name, created_at=_ago(minutes=minutes_ago), **fields),  # type: ignore[arg-type]
            "alice",
        )

    incidents = {
        # P4 opened two days ago: its one-day response target has passed.
        "old-p4": await new("Old printer queue", 2 * 24 * 60, service="db", impact=3, urgency=2),
        "p1": await new("Checkout DOWN", 5, service="web", impact=1, urgency=1),
        "p1-held": await new("Checkout 100% slow", 4, service="web", impact=1, urgency=1),
        "p2-early": await new("Search degraded", 10, service="web", impact=1, urgency=2),
        "p2-late": await new("Login errors", 3, service="db", impact=2, urgency=1, assignee="bob"),
        "p3": await new("Disk at 80%", 2, service="db"),
        "resolved": await new("Cache misses", 30, service="web"),
    }
    held = incidents["p1-held"]
    held = await backend.act(held.id, Acknowledge(), "alice", held.version)
    incidents["p1-held"] = await backend.act(
        held.id, Hold(reason=HoldReason.AWAITING_VENDOR), "alice", held.version
    )
    done = incidents["resolved"]
    incidents["resolved"] = await backend.act(done.id, Resolve(), "carol", done.version)
    return incidents


def _names(board: dict[str, Incident], found: list[Incident]) -> list[str]:
    by_id = {incident.id: name for name, incident in board.items()}
    return [by_id[incident.id] for incident in found]


async def _query(backend: Backend, board: dict[str, Incident], **fields: object) -> list[str]:
    query = IncidentQuery(**fields)  # type: ignore[arg-type]
    found = await backend.list_incidents(query)
    assert await backend.count_incidents(query) == len(found) or "limit" in fields
    return _names(board, found)


async def test_default_query_is_open_most_urgent_first(
    backend: Backend, board: dict[str, Incident]
) -> None:
    # Breached first, then priority, then the nearest SLA; a paused clock after running ones.
    assert await _query(backend, board) == [
        "old-p4",
        "p1",
        "p1-held",
        "p2-early",
        "p2-late",
        "p3",
    ]


async def test_sorts(backend: Backend, board: dict[str, Incident]) -> None:
    assert await _query(backend, board, sort="priority") == [
        "p1",
        "p1-held",
        "p2-early",
        "p2-late",
        "p3",
        "old-p4",
    ]
    assert await _query(backend, board, sort="age") == [
        "old-p4",
        "p2-early",
        "p1",
        "p1-held",
        "p2-late",
        "p3",
    ]
    assert (await _query(backend, board, sort="updated"))[0] == "p1-held"  # acted on last
    assert await _query(backend, board, sort="sla") == [
        "old-p4",
        "p1",
        "p2-early",
        "p2-late",
        "p3",
        "p1-held",  # paused: no due time, last
    ]


async def test_status_filters(backend: Backend, board: dict[str, Incident]) -> None:
    assert await _query(backend, board, statuses=(Status.ON_HOLD,)) == ["p1-held"]
    assert await _query(backend, board, statuses=(Status.RESOLVED,)) == ["resolved"]
    everything = await _query(backend, board, statuses=tuple(Status))
    assert sorted(everything) == sorted(board)
    both = await _query(backend, board, statuses=(Status.RESOLVED, Status.ON_HOLD), sort="age")
    assert both == ["resolved", "p1-held"]


async def test_priority_service_and_assignee_filters(
    backend: Backend, board: dict[str, Incident]
) -> None:
    assert await _query(backend, board, priorities=(Priority.P2,)) == ["p2-early", "p2-late"]
    assert await _query(backend, board, services=("db",)) == ["old-p4", "p2-late", "p3"]
    assert await _query(backend, board, assignees=("bob",)) == ["p2-late"]
    # p1-held was acknowledged by alice, which assigned it to her.
    assert await _query(backend, board, assignees=("alice",)) == ["p1-held"]
    unassigned = await _query(backend, board, assignees=(None,))
    assert unassigned == ["old-p4", "p1", "p2-early", "p3"]
    assert await _query(backend, board, assignees=(None, "bob"), priorities=(Priority.P2,)) == [
        "p2-early",
        "p2-late",
    ]


async def test_text_filter_is_case_insensitive_and_literal(
    backend: Backend, board: dict[str, Incident]
) -> None:
    assert await _query(backend, board, text="checkout") == ["p1", "p1-held"]
    assert await _query(backend, board, text="CHECKOUT down") == ["p1"]
    assert await _query(backend, board, text="100%") == ["p1-held"]  # % is not a wildcard
    assert await _query(backend, board, text="80_") == []
    assert await _query(backend, board, text="nothing like it") == []


async def test_breached_and_resolved_since(backend: Backend, board: dict[str, Incident]) -> None:
    assert await _query(backend, board, breached=True) == ["old-p4"]
    assert "old-p4" not in await _query(backend, board, breached=False)
    assert await _query(
        backend, board, statuses=(Status.RESOLVED,), resolved_since=_ago(minutes=5)
    ) == ["resolved"]
    assert (
        await _query(
            backend,
            board,
            statuses=(Status.RESOLVED,),
            resolved_since=datetime.now(UTC) + timedelta(hours=1),
        )
        == []
    )


async def test_limit_and_offset(backend: Backend, board: dict[str, Incident]) -> None:
    full = await _query(backend, board)
    assert await _query(backend, board, limit=2) == full[:2]
    assert await _query(backend, board, limit=2, offset=2) == full[2:4]
    assert await backend.count_incidents(IncidentQuery(limit=2)) == len(full)
