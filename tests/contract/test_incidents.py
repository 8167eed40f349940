"""Creating, reading and acting on incidents: the same behaviour from every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from backends import capabilities
from backends.base import Backend, Conflict, Forbidden, InvalidAction, NotFound
from console.domain.escalation import on_call
from console.domain.lifecycle import (
    Acknowledge,
    Action,
    AddLink,
    AddNote,
    AlertRepeated,
    Assign,
    Cancel,
    Close,
    Escalate,
    Hold,
    MarkBreached,
    Merge,
    Reopen,
    Resolve,
    Resume,
    SetPriority,
)
from console.domain.models import (
    EntryKind,
    HoldReason,
    IncidentQuery,
    Link,
    LinkKind,
    NewIncident,
    Priority,
    Status,
)
from console.http.routes.incidents import SYSTEM_ACTIONS
from tests.contract.conftest import SCHEDULE


async def test_the_caller_is_admin_and_connected(backend: Backend) -> None:
    assert backend.role == "admin"
    assert backend.connection.connected
    assert backend.description


async def test_create_fills_key_priority_policy_and_the_created_entry(backend: Backend) -> None:
    before = await backend.last_seq()
    incident = await backend.create_incident(
        NewIncident(title="Checkout is slow", service="web", impact=1, urgency=2), "alice"
    )
    assert incident.key == f"INC-{incident.id}"
    assert incident.status == Status.TRIGGERED
    assert incident.version == 1
    assert incident.priority == Priority.P2  # impact 1 x urgency 2
    assert not incident.priority_override
    assert incident.policy == "web-oncall"  # the service's policy
    assert incident.escalation_level == 1
    assert abs(datetime.now(UTC) - incident.created_at) < timedelta(minutes=1)

    [entry] = await backend.timeline(incident.id)
    assert entry.kind == EntryKind.CREATED
    assert entry.actor == "alice"
    assert entry.version == 1
    assert "Checkout is slow" in entry.message

    changes = await backend.changes(before)
    assert [(c.kind, c.entity, c.entity_id, c.version) for c in changes] == [
        ("incident.created", "incident", str(incident.id), 1)
    ]


async def test_explicit_priority_assignee_and_untrusted_title(backend: Backend) -> None:
    incident = await backend.create_incident(
        NewIncident(
            title="disk \x1b[31mfull\x1b[0m [bold]now[/bold]",
            service="db",
            impact=3,
            urgency=3,
            priority=Priority.P1,
            assignee="bob",
            labels={"env": "prod"},
        ),
        "alice",
    )
    assert incident.priority == Priority.P1
    assert incident.priority_override
    assert incident.assignee == "bob"
    assert incident.policy is None
    assert "\x1b" not in incident.title
    assert incident.title == "disk full [bold]now[/bold]"  # kept as plain text, not markup
    assert incident.labels == {"env": "prod"}


async def test_get_by_id_and_by_key(backend: Backend) -> None:
    created = await backend.create_incident(NewIncident(title="a", service="web"), "alice")
    assert await backend.get_incident(created.id) == created
    assert await backend.get_incident(created.key) == created
    assert await backend.get_incident(created.key.lower()) == created


async def test_get_incidents_returns_those_that_exist(backend: Backend) -> None:
    a = await backend.create_incident(NewIncident(title="a", service="web"), "alice")
    b = await backend.create_incident(NewIncident(title="b", service="db"), "alice")
    found = await backend.get_incidents([a.id, b.id, 987654])
    assert sorted(i.id for i in found) == [a.id, b.id]
    assert await backend.get_incidents([]) == []


async def test_unknown_service_assignee_or_policy_is_refused(backend: Backend) -> None:
    before = await backend.last_seq()
    with pytest.raises(InvalidAction) as service:
        await backend.create_incident(NewIncident(title="x", service="nope"), "alice")
    assert "nope" in str(service.value)
    assert "db" in str(service.value) and "web" in str(service.value)  # names the known ones
    with pytest.raises(InvalidAction, match="zed"):
        await backend.create_incident(
            NewIncident(title="x", service="web", assignee="zed"), "alice"
        )
    with pytest.raises(InvalidAction, match="no-such-policy"):
        await backend.create_incident(
            NewIncident(title="x", service="web", policy="no-such-policy"), "alice"
        )
    assert await backend.changes(before) == []
    assert await backend.count_incidents(_all()) == 0


async def test_batch_create_is_one_transaction(backend: Backend) -> None:
    batch = [NewIncident(title=f"batch {n}", service="web") for n in range(25)]
    before = await backend.last_seq()
    created = await backend.create_incidents(batch, "alice")
    assert [i.title for i in created] == [f"batch {n}" for n in range(25)]
    assert len({i.id for i in created}) == 25
    assert len({i.key for i in created}) == 25
    changes = await backend.changes(before)
    assert [c.entity_id for c in changes] == [str(i.id) for i in created]
    assert all(c.kind == "incident.created" for c in changes)

    # One bad item and nothing is created.
    bad = [*batch[:3], NewIncident(title="bad", service="nope")]
    with pytest.raises(InvalidAction):
        await backend.create_incidents(bad, "alice")
    assert await backend.count_incidents(_all()) == 25
    assert await backend.last_seq() == changes[-1].seq
    assert await backend.create_incidents([], "alice") == []


# action name -> (setup, action, status after, entry kind, check of the new incident)
OTHER = "__other__"
CASES: dict[str, tuple[list[Any], Any, Status, EntryKind, Any]] = {
    "acknowledge": (
        [],
        Acknowledge(),
        Status.ACKNOWLEDGED,
        EntryKind.ACKNOWLEDGED,
        lambda i: i.acknowledged_at is not None and i.assignee == "bob",
    ),
    "resolve": (
        [],
        Resolve(note="restarted the pool"),
        Status.RESOLVED,
        EntryKind.RESOLVED,
        lambda i: i.resolved_at is not None and i.resolution_note == "restarted the pool",
    ),
    "close": ([Resolve()], Close(), Status.CLOSED, EntryKind.CLOSED, lambda i: i.closed_at),
    "reopen": (
        [Resolve()],
        Reopen(reason="back again"),
        Status.ACKNOWLEDGED,
        EntryKind.REOPENED,
        lambda i: i.reopen_count == 1 and i.resolved_at is None,
    ),
    "cancel": (
        [],
        Cancel(reason="test alert"),
        Status.CANCELLED,
        EntryKind.CANCELLED,
        lambda i: not i.is_open,
    ),
    "hold": (
        [Acknowledge()],
        Hold(reason=HoldReason.AWAITING_VENDOR),
        Status.ON_HOLD,
        EntryKind.ON_HOLD,
        lambda i: i.hold_reason == HoldReason.AWAITING_VENDOR and i.on_hold_since,
    ),
    "resume": (
        [Acknowledge(), Hold(reason=HoldReason.AWAITING_CALLER)],
        Resume(),
        Status.ACKNOWLEDGED,
        EntryKind.RESUMED,
        lambda i: i.on_hold_since is None and i.pauses[-1].end is not None,
    ),
    "escalate": (
        [Acknowledge()],
        Escalate(),
        Status.TRIGGERED,
        EntryKind.ESCALATED,
        lambda i: i.escalation_level == 2 and i.escalated_at is not None,
    ),
    "priority": (
        [],
        SetPriority(impact=1, urgency=1),
        Status.TRIGGERED,
        EntryKind.PRIORITY_CHANGED,
        lambda i: i.priority == Priority.P1,
    ),
    "assign": (
        [],
        Assign(assignee="carol"),
        Status.TRIGGERED,
        EntryKind.REASSIGNED,
        lambda i: i.assignee == "carol",
    ),
    "note": (
        [],
        AddNote(text="looking at the \x1b[2Jlogs"),
        Status.TRIGGERED,
        EntryKind.NOTE,
        lambda i: True,
    ),
    "link": (
        [],
        AddLink(link=Link(kind=LinkKind.PROBLEM, ref="PRB-7")),
        Status.TRIGGERED,
        EntryKind.LINKED,
        lambda i: [link.ref for link in i.links] == ["PRB-7"],
    ),
    "alert_repeated": (
        [],
        AlertRepeated(count=3),
        Status.TRIGGERED,
        EntryKind.ALERT_REPEATED,
        lambda i: i.alert_count == 3,
    ),
    "breach": (
        [],
        MarkBreached(clock="response"),
        Status.TRIGGERED,
        EntryKind.SLA_BREACHED,
        lambda i: i.response_breached,
    ),
    "merge": (
        [],
        Merge(into=OTHER),
        Status.RESOLVED,
        EntryKind.MERGED,
        lambda i: i.resolution_code == "duplicate",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
async def test_every_action(backend: Backend, name: str) -> None:
    setup, action, status, kind, check = CASES[name]
    other = await backend.create_incident(NewIncident(title="other", service="web"), "alice")
    incident = await backend.create_incident(NewIncident(title="subject", service="web"), "alice")
    for step in setup:
        incident = await backend.act(incident.id, step, "alice", incident.version)
    if isinstance(action, Merge):
        action = Merge(into=other.key)
    before_timeline = await backend.timeline(incident.id)
    before_seq = await backend.last_seq()

    if capabilities.identity(backend) is not None and action.kind in SYSTEM_ACTIONS:
        # Over the API only the system takes these (provenance): refused, nothing changes.
        with pytest.raises(Forbidden, match="taken by the system only"):
            await backend.act(incident.id, action, "bob", incident.version)
        assert await backend.get_incident(incident.id) == incident
        assert await backend.changes(before_seq) == []
        return
    updated = await backend.act(incident.id, action, "bob", incident.version)

    assert updated.version == incident.version + 1
    assert updated.status == status
    assert check(updated), updated
    assert await backend.get_incident(incident.id) == updated
    timeline = await backend.timeline(incident.id)
    assert timeline[: len(before_timeline)] == before_timeline  # nothing rewritten
    new_entries = timeline[len(before_timeline) :]
    assert [e.kind for e in new_entries] == [kind]
    assert all(e.version == updated.version and e.actor == "bob" for e in new_entries)
    assert all("\x1b" not in e.message for e in new_entries)
    changes = await backend.changes(before_seq)
    assert [(c.kind, c.entity_id, c.version) for c in changes] == [
        ("incident.updated", str(incident.id), updated.version)
    ]


async def test_escalation_names_who_is_paged(backend: Backend) -> None:
    incident = await backend.create_incident(NewIncident(title="down", service="web"), "alice")
    at = datetime(2026, 3, 4, 12, tzinfo=UTC)
    assert await backend.paged_now(incident.id, at) == [on_call(SCHEDULE, at)]
    now_paged = await backend.paged_now(incident.id)
    assert now_paged and set(now_paged) <= {"alice", "bob"}

    escalated = await backend.act(incident.id, Escalate(), "alice", incident.version)
    assert escalated.escalation_level == 2
    entry = (await backend.timeline(incident.id))[-1]
    assert entry.data["paged"] == ["carol"]
    assert "carol" in entry.message
    assert await backend.paged_now(incident.id) == ["carol"]

    # Past the last level with no repeats left, a person may still re-page the last level.
    again = await backend.act(incident.id, Escalate(), "alice", escalated.version)
    assert again.escalation_level == 2
    assert (await backend.timeline(incident.id))[-1].data["paged"] == ["carol"]


async def test_incident_without_policy_pages_nobody(backend: Backend) -> None:
    incident = await backend.create_incident(NewIncident(title="slow", service="db"), "alice")
    assert await backend.paged_now(incident.id) == []


async def test_not_found(backend: Backend) -> None:
    with pytest.raises(NotFound):
        await backend.get_incident(987654)
    with pytest.raises(NotFound):
        await backend.get_incident("INC-987654")
    with pytest.raises(NotFound):
        await backend.act(987654, Acknowledge(), "alice", 1)
    with pytest.raises(NotFound):
        await backend.timeline(987654)
    with pytest.raises(NotFound):
        await backend.paged_now(987654)


async def test_stale_version_is_a_conflict_naming_what_changed(backend: Backend) -> None:
    incident = await backend.create_incident(NewIncident(title="x", service="web"), "carol")
    seen = incident.version
    incident = await backend.act(incident.id, Acknowledge(), "alice", seen)
    incident = await backend.act(incident.id, AddNote(text="on it"), "bob", incident.version)
    timeline = await backend.timeline(incident.id)
    seq = await backend.last_seq()

    with pytest.raises(Conflict) as caught:
        await backend.act(incident.id, Resolve(), "carol", seen)

    conflict = caught.value
    assert conflict.current_version == incident.version == 3
    assert conflict.expected_version == seen
    assert conflict.key == incident.key
    message = str(conflict)
    assert incident.key in message
    assert "acknowledged by alice" in message
    assert "note by bob" in message
    assert list(conflict.changed) == ["acknowledged by alice", "note by bob"]
    # Nothing was written.
    assert await backend.get_incident(incident.id) == incident
    assert await backend.timeline(incident.id) == timeline
    assert await backend.last_seq() == seq


async def test_invalid_action_says_what_is_allowed_and_writes_nothing(backend: Backend) -> None:
    incident = await backend.create_incident(NewIncident(title="x", service="web"), "alice")
    incident = await backend.act(incident.id, Acknowledge(), "alice", incident.version)
    seq = await backend.last_seq()
    with pytest.raises(InvalidAction) as caught:
        await backend.act(incident.id, Acknowledge(), "bob", incident.version)
    message = str(caught.value)
    assert "already acknowledged" in message
    assert "allowed now" in message and "resolve" in message
    assert await backend.get_incident(incident.id) == incident
    assert await backend.last_seq() == seq


async def test_assign_to_an_unknown_user_is_refused(backend: Backend) -> None:
    incident = await backend.create_incident(NewIncident(title="x", service="web"), "alice")
    with pytest.raises(InvalidAction, match="zed"):
        await backend.act(incident.id, Assign(assignee="zed"), "alice", incident.version)
    unassigned = await backend.act(incident.id, Assign(assignee="bob"), "alice", 1)
    cleared = await backend.act(incident.id, Assign(assignee=None), "alice", unassigned.version)
    assert cleared.assignee is None


async def test_merge_into_a_missing_incident_is_refused(backend: Backend) -> None:
    incident = await backend.create_incident(NewIncident(title="x", service="web"), "alice")
    with pytest.raises(InvalidAction, match="INC-987654"):
        await backend.act(incident.id, Merge(into="INC-987654"), "alice", incident.version)
    with pytest.raises(InvalidAction, match="itself"):
        await backend.act(incident.id, Merge(into=incident.key), "alice", incident.version)


async def test_a_full_life(backend: Backend) -> None:
    """A realistic sequence keeps versions strictly increasing and the timeline growing."""
    incident = await backend.create_incident(NewIncident(title="x", service="web"), "alice")
    steps: list[Action] = [
        Acknowledge(),
        AddNote(text="checking"),
        Hold(reason=HoldReason.AWAITING_CHANGE),
        Resume(),
        SetPriority(impact=1, urgency=1),
        Resolve(),
        Reopen(),
        Resolve(),
        Close(),
    ]
    for step in steps:
        incident = await backend.act(incident.id, step, "alice", incident.version)
    assert incident.status == Status.CLOSED
    assert incident.version == len(steps) + 1
    versions = [e.version for e in await backend.timeline(incident.id)]
    assert versions == list(range(1, len(steps) + 2))


def _all() -> IncidentQuery:
    return IncidentQuery(statuses=tuple(Status))
