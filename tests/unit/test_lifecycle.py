"""The lifecycle: every action from every status, and the bookkeeping each one does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

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
    InvalidTransition,
    MarkBreached,
    Merge,
    PublicUpdate,
    Publish,
    Reopen,
    Resolve,
    Resume,
    SetPriority,
    allowed_actions,
    apply,
    created_entry,
    parse_action,
)
from console.domain.models import (
    EntryKind,
    HoldReason,
    Incident,
    Link,
    LinkKind,
    Pause,
    Priority,
    ResolutionCode,
    Status,
)

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)
OPEN = (Status.TRIGGERED, Status.ACKNOWLEDGED, Status.ON_HOLD)
PUBLISHABLE = (*OPEN, Status.RESOLVED, Status.CLOSED)


def incident(**changes: Any) -> Incident:
    base = Incident(
        id=7,
        key="INC-7",
        title="Checkout fails",
        service="web",
        created_at=T0,
        updated_at=T0,
        version=3,
    )
    return base.model_copy(update=changes)


def in_status(status: Status) -> Incident:
    """A consistent incident in ``status`` (the fields that status implies are set)."""
    ack = T0 + timedelta(minutes=5)
    if status == Status.TRIGGERED:
        return incident()
    if status == Status.ACKNOWLEDGED:
        return incident(status=status, acknowledged_at=ack, assignee="ana")
    if status == Status.ON_HOLD:
        hold = Pause(start=T0 + timedelta(minutes=10), reason="awaiting_vendor")
        return incident(
            status=status,
            acknowledged_at=ack,
            assignee="ana",
            hold_reason=HoldReason.AWAITING_VENDOR,
            pauses=(hold,),
        )
    resolved = T0 + timedelta(minutes=30)
    if status == Status.RESOLVED:
        return incident(status=status, acknowledged_at=ack, resolved_at=resolved, assignee="ana")
    if status == Status.CLOSED:
        return incident(
            status=status,
            acknowledged_at=ack,
            resolved_at=resolved,
            closed_at=resolved + timedelta(minutes=5),
        )
    return incident(status=status, closed_at=resolved)


LINK = Link(kind=LinkKind.PROBLEM, ref="PRB-12", title="Cache stampede")

# action -> (statuses it is allowed from, the status it leads to (None: unchanged), entry kind)
TABLE: dict[str, tuple[Action, tuple[Status, ...], Status | None, EntryKind]] = {
    "acknowledge": (
        Acknowledge(),
        (Status.TRIGGERED,),
        Status.ACKNOWLEDGED,
        EntryKind.ACKNOWLEDGED,
    ),
    "resolve": (Resolve(note="restarted the pool"), OPEN, Status.RESOLVED, EntryKind.RESOLVED),
    "close": (Close(), (Status.RESOLVED,), Status.CLOSED, EntryKind.CLOSED),
    "reopen": (
        Reopen(reason="back again"),
        (Status.RESOLVED,),
        Status.ACKNOWLEDGED,
        EntryKind.REOPENED,
    ),
    "cancel": (Cancel(reason="test alert"), OPEN, Status.CANCELLED, EntryKind.CANCELLED),
    "hold": (
        Hold(reason=HoldReason.AWAITING_CALLER, note="asked for logs"),
        (Status.TRIGGERED, Status.ACKNOWLEDGED),
        Status.ON_HOLD,
        EntryKind.ON_HOLD,
    ),
    "resume": (
        Resume(note="logs arrived"),
        (Status.ON_HOLD,),
        Status.ACKNOWLEDGED,
        EntryKind.RESUMED,
    ),
    "escalate": (
        Escalate(paged=("bo",)),
        (Status.TRIGGERED, Status.ACKNOWLEDGED),
        Status.TRIGGERED,
        EntryKind.ESCALATED,
    ),
    "priority": (SetPriority(impact=1, urgency=1), OPEN, None, EntryKind.PRIORITY_CHANGED),
    "assign": (Assign(assignee="cy"), OPEN, None, EntryKind.REASSIGNED),
    "note": (AddNote(text="looking at the pool"), tuple(Status), None, EntryKind.NOTE),
    "link": (AddLink(link=LINK), tuple(Status), None, EntryKind.LINKED),
    "alert_repeated": (AlertRepeated(count=2, summary="5xx"), OPEN, None, EntryKind.ALERT_REPEATED),
    "breach": (MarkBreached(clock="resolution"), OPEN, None, EntryKind.SLA_BREACHED),
    "merge": (Merge(into="INC-3"), OPEN, Status.RESOLVED, EntryKind.MERGED),
    "publish": (
        Publish(title="Checkout is slow", message="We are looking into it."),
        PUBLISHABLE,
        None,
        EntryKind.PUBLISHED,
    ),
    "public_update": (
        PublicUpdate(message="A fix is rolling out."),
        PUBLISHABLE,
        None,
        EntryKind.PUBLIC_UPDATE,
    ),
}

CASES = [(name, status) for name in TABLE for status in Status]


def test_the_table_covers_every_action_kind() -> None:
    from console.domain.lifecycle import _HANDLERS

    assert set(TABLE) == set(_HANDLERS)


@pytest.mark.parametrize(("name", "status"), CASES, ids=[f"{n}-from-{s}" for n, s in CASES])
def test_every_action_from_every_status(name: str, status: Status) -> None:
    action, allowed, leads_to, kind = TABLE[name]
    before = in_status(status)
    if name == "public_update":  # only a published incident takes public updates
        before = before.model_copy(update={"public": True, "public_title": "Checkout is slow"})
    if status not in allowed:
        with pytest.raises(InvalidTransition) as caught:
            apply(before, action, "ana", NOW)
        error = caught.value
        message = str(error)
        assert f"cannot {name} INC-7" in message
        assert f"it is {status.label}" in message
        assert "allowed now: " + ", ".join(allowed_actions(before)) in message
        assert name not in error.allowed
        assert error.key == "INC-7" and error.status == status and error.action == name
        return
    after, entries = apply(before, action, "ana", NOW)
    assert after.status == (leads_to or status)
    assert after.version == before.version + 1
    assert after.updated_at == NOW
    assert [e.kind for e in entries] == [kind]
    entry = entries[0]
    assert entry.actor == "ana"
    assert entry.at == NOW
    assert entry.incident_id == before.id
    assert entry.version == after.version
    assert entry.message
    assert isinstance(entry.data, dict)
    assert before.version == 3, "apply must not change its input"


@pytest.mark.parametrize("status", list(Status))
def test_allowed_actions_are_exactly_the_table(status: Status) -> None:
    expected = {name for name, (_, allowed, _, _) in TABLE.items() if status in allowed}
    assert set(allowed_actions(in_status(status))) == expected


def test_invalid_transition_says_why() -> None:
    with pytest.raises(InvalidTransition, match="already acknowledged"):
        apply(in_status(Status.ACKNOWLEDGED), Acknowledge(), "ana", NOW)
    with pytest.raises(InvalidTransition, match="not on hold"):
        apply(in_status(Status.TRIGGERED), Resume(), "ana", NOW)
    with pytest.raises(InvalidTransition, match="only a resolved incident can be reopened"):
        apply(in_status(Status.CLOSED), Reopen(), "ana", NOW)
    with pytest.raises(InvalidTransition, match="resume it first"):
        apply(in_status(Status.ON_HOLD), Acknowledge(), "ana", NOW)
    with pytest.raises(InvalidTransition, match=r"allowed now: note, link\)"):
        apply(in_status(Status.CANCELLED), Resolve(), "ana", NOW)


def test_acknowledge_assigns_the_actor_when_unassigned() -> None:
    after, entries = apply(incident(), Acknowledge(), "ana", NOW)
    assert after.assignee == "ana"
    assert after.acknowledged_at == NOW
    assert entries[0].message == "acknowledged by ana"


def test_acknowledge_keeps_an_existing_assignee() -> None:
    after, _ = apply(incident(assignee="bo"), Acknowledge(), "ana", NOW)
    assert after.assignee == "bo"


def test_acknowledge_after_escalation_keeps_the_first_acknowledgement() -> None:
    first = T0 + timedelta(minutes=2)
    escalated = incident(status=Status.TRIGGERED, acknowledged_at=first, assignee="ana")
    after, _ = apply(escalated, Acknowledge(), "bo", NOW)
    assert after.acknowledged_at == first
    assert after.status == Status.ACKNOWLEDGED


def test_resolve_of_an_unacknowledged_incident_sets_acknowledged_at() -> None:
    after, entries = apply(incident(), Resolve(code=ResolutionCode.WORKAROUND), "ana", NOW)
    assert after.acknowledged_at == NOW
    assert after.resolved_at == NOW
    assert after.resolution_code == ResolutionCode.WORKAROUND
    assert entries[0].data == {"code": "workaround", "note": ""}
    assert entries[0].message == "resolved by ana (workaround)"


def test_resolve_keeps_an_earlier_acknowledgement_and_cleans_the_note() -> None:
    before = in_status(Status.ACKNOWLEDGED)
    after, entries = apply(before, Resolve(note="done\x1b[2J\nreally"), "ana", NOW)
    assert after.acknowledged_at == before.acknowledged_at
    assert after.resolution_note == "done\nreally"
    assert entries[0].data["note"] == "done\nreally"


def test_resolve_while_on_hold_ends_the_pause() -> None:
    after, _ = apply(in_status(Status.ON_HOLD), Resolve(), "ana", NOW)
    assert after.pauses[-1].end == NOW
    assert after.hold_reason is None
    assert after.on_hold_since is None


def test_hold_and_resume_bookkeeping() -> None:
    before = in_status(Status.ACKNOWLEDGED)
    held_at = T0 + timedelta(minutes=20)
    held, entries = apply(before, Hold(reason=HoldReason.AWAITING_VENDOR), "ana", held_at)
    assert held.status == Status.ON_HOLD
    assert held.hold_reason == HoldReason.AWAITING_VENDOR
    assert held.on_hold_since == held_at
    assert held.pauses[-1] == Pause(
        start=held_at, reason="awaiting_vendor", was=Status.ACKNOWLEDGED
    )
    assert entries[0].data == {"reason": "awaiting_vendor", "note": "", "was": "acknowledged"}
    assert "awaiting vendor" in entries[0].message

    resumed_at = held_at + timedelta(minutes=90)
    resumed, entries = apply(held, Resume(note="vendor patched"), "bo", resumed_at)
    assert resumed.status == Status.ACKNOWLEDGED
    assert resumed.hold_reason is None
    assert resumed.on_hold_since is None
    assert resumed.pauses == (
        Pause(start=held_at, end=resumed_at, reason="awaiting_vendor", was=Status.ACKNOWLEDGED),
    )
    assert entries[0].data == {"held_seconds": 5400.0, "note": "vendor patched"}
    assert entries[0].message == "resumed by bo after 1h30m on hold: vendor patched"


def test_resume_returns_to_triggered_when_held_unacknowledged() -> None:
    held, _ = apply(incident(), Hold(reason=HoldReason.AWAITING_CALLER), "ana", NOW)
    resumed, _ = apply(held, Resume(), "ana", NOW + timedelta(minutes=1))
    assert resumed.status == Status.TRIGGERED
    assert resumed.acknowledged_at is None


def test_resume_returns_an_escalated_incident_to_triggered() -> None:
    """Escalated after an acknowledgement, the new level has not acknowledged yet."""
    acked, _ = apply(incident(), Acknowledge(), "ana", T0 + timedelta(minutes=1))
    escalated, _ = apply(acked, Escalate(paged=("bo",)), "ana", T0 + timedelta(minutes=2))
    held, _ = apply(escalated, Hold(reason=HoldReason.AWAITING_CHANGE), "bo", NOW)
    resumed, _ = apply(held, Resume(), "bo", NOW + timedelta(minutes=5))
    assert resumed.status == Status.TRIGGERED


def test_resume_of_a_pause_without_was_falls_back_to_the_acknowledgement() -> None:
    old = in_status(Status.ON_HOLD)
    assert old.pauses[-1].was is None
    assert apply(old, Resume(), "ana", NOW)[0].status == Status.ACKNOWLEDGED


def test_several_holds_accumulate_pauses() -> None:
    item = in_status(Status.ACKNOWLEDGED)
    at = T0 + timedelta(minutes=10)
    for _ in range(3):
        item, _ = apply(item, Hold(reason=HoldReason.AWAITING_CALLER), "ana", at)
        item, _ = apply(item, Resume(), "ana", at + timedelta(minutes=10))
        at += timedelta(minutes=30)
    assert len(item.pauses) == 3
    assert all(p.end is not None and p.end - p.start == timedelta(minutes=10) for p in item.pauses)


def test_reopen_turns_the_resolved_interval_into_a_pause() -> None:
    before = in_status(Status.RESOLVED)
    assert before.resolved_at is not None
    after, entries = apply(before, Reopen(reason="it is back\x07"), "ana", NOW)
    assert after.status == Status.ACKNOWLEDGED
    assert after.resolved_at is None
    assert after.resolution_code is None and after.resolution_note == ""
    assert after.reopen_count == 1
    assert after.pauses[-1] == Pause(start=before.resolved_at, end=NOW, reason="resolved")
    assert after.on_hold_since is None
    assert entries[0].message == "reopened by ana: it is back"
    assert entries[0].data == {"reason": "it is back"}


def test_close_and_cancel_record_when() -> None:
    closed, _ = apply(in_status(Status.RESOLVED), Close(), "ana", NOW)
    assert closed.closed_at == NOW
    cancelled, entries = apply(in_status(Status.ON_HOLD), Cancel(reason="dup"), "ana", NOW)
    assert cancelled.closed_at == NOW
    assert cancelled.pauses[-1].end == NOW
    assert cancelled.hold_reason is None
    assert entries[0].message == "cancelled by ana: dup"


def test_escalate_moves_one_level_up_by_default() -> None:
    before = in_status(Status.ACKNOWLEDGED)
    after, entries = apply(before, Escalate(paged=("bo", "cy")), "ana", NOW)
    assert (after.escalation_level, after.escalation_loop) == (2, 0)
    assert after.escalated_at == NOW
    assert after.status == Status.TRIGGERED
    assert after.acknowledged_at == before.acknowledged_at
    assert entries[0].message == "escalated by ana to level 2, paging bo, cy"
    assert entries[0].data == {
        "from_level": 1,
        "level": 2,
        "loop": 0,
        "paged": ["bo", "cy"],
        "automatic": False,
    }


def test_escalate_to_a_planned_level_and_loop() -> None:
    before = incident(escalation_level=3)
    action = Escalate(level=1, loop=1, paged=("ana",), automatic=True, note="no answer")
    after, entries = apply(before, action, "escalator", NOW)
    assert (after.escalation_level, after.escalation_loop) == (1, 1)
    assert entries[0].message == (
        "automatically escalated to level 1 (loop 2), paging ana: no answer"
    )
    assert entries[0].data["automatic"] is True
    assert entries[0].data["from_level"] == 3


def test_escalate_without_anybody_to_page_says_so() -> None:
    _, entries = apply(incident(), Escalate(), "ana", NOW)
    assert "paging nobody (no policy)" in entries[0].message
    _, entries = apply(incident(policy="web"), Escalate(), "ana", NOW)
    assert "paging nobody (nobody on call)" in entries[0].message


def test_assign_reassign_unassign_and_no_op() -> None:
    assigned, entries = apply(incident(), Assign(assignee="ana"), "lead", NOW)
    assert assigned.assignee == "ana"
    assert entries[0].message == "assigned to ana by lead"
    moved, entries = apply(assigned, Assign(assignee="bo"), "lead", NOW)
    assert entries[0].message == "reassigned from ana to bo by lead"
    assert entries[0].data == {"from": "ana", "to": "bo"}
    cleared, entries = apply(moved, Assign(assignee=None), "lead", NOW)
    assert cleared.assignee is None
    assert entries[0].data == {"from": "bo", "to": None}
    with pytest.raises(InvalidTransition, match="already assigned to bo"):
        apply(moved, Assign(assignee="bo"), "lead", NOW)


def test_notes_are_cleaned_of_control_characters() -> None:
    text = "step 1\x1b]0;owned\x07 done\x1b[31m\u202e!\nnext\x00 line"
    after, entries = apply(incident(), AddNote(text=text), "ana", NOW)
    assert entries[0].message == "step 1 done!\nnext line"
    assert entries[0].kind == EntryKind.NOTE
    assert after.version == 4


def test_a_note_of_only_control_characters_is_refused() -> None:
    with pytest.raises(InvalidTransition, match="the note is empty"):
        apply(incident(), AddNote(text="\x1b[2J\x07  "), "ana", NOW)
    with pytest.raises(ValidationError):
        AddNote(text="")


def test_links_are_de_duplicated() -> None:
    after, entries = apply(incident(), AddLink(link=LINK), "ana", NOW)
    assert after.links == (LINK,)
    assert entries[0].message == "linked to problem PRB-12 (Cache stampede)"
    assert entries[0].data["ref"] == "PRB-12"
    with pytest.raises(InvalidTransition, match="already linked to PRB-12"):
        apply(after, AddLink(link=LINK), "ana", NOW)
    disguised = Link(kind=LinkKind.PROBLEM, ref="PRB-12\x1b[0m ", title="again")
    with pytest.raises(InvalidTransition, match="already linked"):
        apply(after, AddLink(link=disguised), "ana", NOW)
    change = Link(kind=LinkKind.CHANGE, ref="PRB-12")
    both, _ = apply(after, AddLink(link=change), "ana", NOW)
    assert len(both.links) == 2


def test_links_are_stored_cleaned() -> None:
    dirty = Link(kind=LinkKind.URL, ref="https://x.test/\x1b]8;;evil\x07", title="[b]t\x9b2J")
    after, entries = apply(incident(), AddLink(link=dirty), "ana", NOW)
    assert after.links[0].ref == "https://x.test/"
    assert after.links[0].title == "[b]t"
    assert "\x1b" not in entries[0].message
    with pytest.raises(InvalidTransition, match="no reference"):
        apply(incident(), AddLink(link=Link(kind=LinkKind.URL, ref="\x07")), "ana", NOW)


def test_alert_repeated_counts() -> None:
    after, entries = apply(incident(alert_count=1), AlertRepeated(count=2), "alerts", NOW)
    assert after.alert_count == 3
    assert entries[0].data == {"count": 3}
    _, entries = apply(after, AlertRepeated(summary="disk \x1b[5mfull"), "alerts", NOW)
    assert entries[0].message == "alert repeated (4 in all): disk full"


@pytest.mark.parametrize("clock", ["response", "resolution"])
def test_breach_is_written_once_per_clock(clock: str) -> None:
    after, entries = apply(incident(), MarkBreached(clock=clock), "sla", NOW)  # type: ignore[arg-type]
    assert getattr(after, f"{clock}_breached") is True
    assert entries[0].data == {"clock": clock}
    with pytest.raises(InvalidTransition, match=f"the {clock} SLA is already breached"):
        apply(after, MarkBreached(clock=clock), "sla", NOW)  # type: ignore[arg-type]
    other = "resolution" if clock == "response" else "response"
    both, _ = apply(after, MarkBreached(clock=other), "sla", NOW)  # type: ignore[arg-type]
    assert both.response_breached and both.resolution_breached


def test_merge_resolves_as_duplicate() -> None:
    after, entries = apply(in_status(Status.ON_HOLD), Merge(into="INC-3"), "ana", NOW)
    assert after.status == Status.RESOLVED
    assert after.resolution_code == ResolutionCode.DUPLICATE
    assert after.resolution_note == "merged into INC-3"
    assert after.pauses[-1].end == NOW
    assert [e.kind for e in entries] == [EntryKind.MERGED]
    assert entries[0].data == {"into": "INC-3"}
    with pytest.raises(InvalidTransition, match="into itself"):
        apply(incident(), Merge(into="INC-7"), "ana", NOW)


def test_full_life_of_an_incident() -> None:
    item = incident(version=1)
    entries = [created_entry(item, "alerts")]
    steps: list[Action] = [
        SetPriority(impact=1, urgency=2),
        Acknowledge(),
        Hold(reason=HoldReason.AWAITING_VENDOR),
        Resume(),
        Resolve(),
        Reopen(),
        Resolve(),
        Close(),
    ]
    at = T0
    for step in steps:
        at += timedelta(minutes=7)
        item, new = apply(item, step, "ana", at)
        entries += new
    assert item.status == Status.CLOSED
    assert item.version == 1 + len(steps)
    assert [e.version for e in entries] == list(range(1, len(steps) + 2))
    assert entries[0].kind == EntryKind.CREATED
    assert entries[0].message == "created P3 on web: Checkout fails"


def test_created_entry_cleans_the_title() -> None:
    entry = created_entry(incident(title="a\x1b[2Jb\nc", priority=Priority.P1), "alerts")
    assert entry.message == "created P1 on web: ab c"
    assert entry.data["priority"] == "P1"
    assert entry.at == T0


def test_apply_normalises_now_to_utc() -> None:
    after, entries = apply(incident(), AddNote(text="x"), "ana", datetime(2026, 3, 2, 12))
    assert after.updated_at.tzinfo == UTC
    assert entries[0].at == datetime(2026, 3, 2, 12, tzinfo=UTC)


def test_parse_action_from_json() -> None:
    action = parse_action({"kind": "hold", "reason": "awaiting_caller"})
    assert isinstance(action, Hold)
    assert isinstance(parse_action({"kind": "priority", "impact": 1, "urgency": 1}), SetPriority)
    with pytest.raises(ValidationError):
        parse_action({"kind": "explode"})
    with pytest.raises(ValidationError):
        parse_action({"kind": "hold", "reason": "lunch"})


def test_publish_puts_the_incident_on_the_status_page_with_a_clean_title() -> None:
    after, entries = apply(
        incident(), Publish(title="Checkout\x1b[31m slow\n", message="Looking\x07 into it"), "ana", NOW
    )
    assert after.public and after.public_title == "Checkout slow"
    assert entries[0].kind == EntryKind.PUBLISHED and entries[0].message == "Looking into it"
    with pytest.raises(InvalidTransition, match="already on the status page"):
        apply(after, Publish(title="again", message="again"), "ana", NOW)


def test_a_public_update_needs_a_published_incident_and_some_text() -> None:
    with pytest.raises(InvalidTransition, match="publish it first"):
        apply(incident(), PublicUpdate(message="fixed"), "ana", NOW)
    published = incident(public=True, public_title="Checkout is slow")
    with pytest.raises(InvalidTransition, match="the update is empty"):
        apply(published, PublicUpdate(message="\x1b[0m "), "ana", NOW)
    after, entries = apply(published, PublicUpdate(message="Fixed."), "ana", NOW)
    assert after.public and entries[0].kind == EntryKind.PUBLIC_UPDATE
