"""The demo data, pure: deterministic, complete, and consistent with the domain rules."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from console.demo import seed as demo
from console.domain.escalation import on_call
from console.domain.models import DONE_STATUSES, EntryKind, HoldReason, Priority, Status, TargetKind
from console.domain.sla import SlaPolicy, SlaState, active_kind, sla_clock

NOW = datetime(2026, 11, 27, 7, 30, 12, tzinfo=UTC)
POLICY = SlaPolicy()


@pytest.fixture(scope="module")
def data() -> demo.DemoData:
    return demo.build(now=NOW, seed=42, user="root")


def _state(incident, now=NOW):
    return sla_clock(incident, now, POLICY, active_kind(incident)).state


def test_same_seed_same_data_other_seed_other_data() -> None:
    one = demo.build(now=NOW, seed=5, history=150, open_count=20, user="root")
    two = demo.build(now=NOW, seed=5, history=150, open_count=20, user="root")
    three = demo.build(now=NOW, seed=6, history=150, open_count=20, user="root")

    def dump(d: demo.DemoData) -> list[object]:
        return [(i.model_dump(), [e.model_dump() for e in es]) for i, es in d.records]

    assert dump(one) == dump(two)
    assert one.directory == two.directory
    assert dump(one) != dump(three)


def test_without_a_seed_a_seed_is_chosen_and_reported() -> None:
    first = demo.build(now=NOW, history=5, open_count=3)
    again = demo.build(now=NOW, seed=first.seed, history=5, open_count=3)
    assert [i.title for i, _ in first.records] == [i.title for i, _ in again.records]


def test_directory_counts_and_references(data: demo.DemoData) -> None:
    d = data.directory
    assert len(d.services) == 12
    assert {s.id for s in d.services} >= {"checkout", "payments", "kafka", "postgres-main"}
    assert len(d.teams) == 3
    assert len([u for u in d.users if u.id != "root"]) == 10
    users = {u.id for u in d.users}
    teams = {t.id for t in d.teams}
    policies = {p.id: p for p in d.policies}
    schedules = {s.id for s in d.schedules}
    assert len(policies) == 3 and len(schedules) == 3
    assert all(u.team in teams for u in d.users)
    for service in d.services:
        assert service.team in teams and service.policy in policies
    for policy in d.policies:
        assert 2 <= len(policy.levels) <= 3
        for level in policy.levels:
            assert timedelta(minutes=5) <= level.wait <= timedelta(minutes=30)
            for target in level.targets:
                known = users if target.kind == TargetKind.USER else schedules
                assert target.id in known
    assert any(p.repeat for p in d.policies)
    for schedule in d.schedules:
        for rotation in schedule.rotations:
            assert set(rotation.users) <= users
    assert any(r.active_hours for s in d.schedules for r in s.rotations)
    assert any(s.overrides for s in d.schedules)


def test_the_user_is_on_a_team_and_on_call_now(data: demo.DemoData) -> None:
    me = next(u for u in data.directory.users if u.id == "root")
    assert me.team is not None
    on_call_now = {on_call(s, NOW) for s in data.directory.schedules}
    assert "root" in on_call_now
    # An existing demo person may be the user too: no one is added then.
    as_lena = demo.directory(NOW, "lena")
    assert len(as_lena.users) == 10
    assert "lena" in {on_call(s, NOW) for s in as_lena.schedules}


def test_history_counts_and_window(data: demo.DemoData) -> None:
    assert len(data.history) == 2000
    statuses = Counter(i.status for i, _ in data.history)
    assert set(statuses) <= DONE_STATUSES
    assert statuses[Status.RESOLVED] > 200
    assert statuses[Status.CLOSED] > 200
    assert 10 < statuses[Status.CANCELLED] < 200
    oldest = min(i.created_at for i, _ in data.history)
    assert NOW - timedelta(days=91) < oldest < NOW - timedelta(days=80)
    assert max(e.at for _, es in data.history for e in es) < NOW
    assert {i.source for i, _ in data.history} == {"alertmanager", "events", "manual"}
    assert Counter(i.priority for i, _ in data.history).keys() == set(Priority)
    assert all(i.labels for i, _ in data.history)


def test_history_has_the_whole_range_of_events(data: demo.DemoData) -> None:
    kinds = Counter(e.kind for _, es in data.history for e in es)
    for kind in (
        EntryKind.NOTE,
        EntryKind.ESCALATED,
        EntryKind.REASSIGNED,
        EntryKind.ON_HOLD,
        EntryKind.RESUMED,
        EntryKind.REOPENED,
        EntryKind.CLOSED,
        EntryKind.CANCELLED,
        EntryKind.SLA_BREACHED,
        EntryKind.ALERT_REPEATED,
        EntryKind.PRIORITY_CHANGED,
        EntryKind.LINKED,
    ):
        assert kinds[kind] > 0, kind
    escalations = [e for _, es in data.history for e in es if e.kind == EntryKind.ESCALATED]
    assert any(e.actor == demo.ESCALATOR and e.data["automatic"] for e in escalations)
    assert any(not e.data["automatic"] for e in escalations)
    assert all(e.data["paged"] for e in escalations)


def test_history_mtta_and_mttr_spread_by_priority(data: demo.DemoData) -> None:
    def minutes(priority: Priority, field: str) -> list[float]:
        return [
            (getattr(i, field) - i.created_at).total_seconds() / 60
            for i, _ in data.history
            if i.priority == priority and i.resolved_at is not None
        ]

    mtta = {p: statistics.median(minutes(p, "acknowledged_at")) for p in Priority}
    mttr = {p: statistics.median(minutes(p, "resolved_at")) for p in Priority}
    assert mtta[Priority.P1] < 15 and mttr[Priority.P1] < 6 * 60
    assert mtta[Priority.P1] < mtta[Priority.P3] < mtta[Priority.P5]
    assert mttr[Priority.P1] < mttr[Priority.P3] < mttr[Priority.P5]
    assert mttr[Priority.P5] > 2 * 24 * 60
    p3 = sorted(minutes(Priority.P3, "resolved_at"))
    assert p3[len(p3) * 9 // 10] > 4 * p3[len(p3) // 10], "resolution times have a spread"


def test_every_timeline_is_genuine(data: demo.DemoData) -> None:
    for incident, entries in data.records:
        assert entries[0].kind == EntryKind.CREATED and entries[0].version == 1
        assert entries[0].at == incident.created_at
        assert all(e.incident_id == incident.id for e in entries)
        versions = sorted({e.version for e in entries})
        # Every version was produced by exactly one action, in order, never skipped.
        assert versions == list(range(1, incident.version + 1)), incident.key
        assert [e.version for e in entries] == sorted(e.version for e in entries)
        assert [e.at for e in entries] == sorted(e.at for e in entries)
        assert entries[-1].at == incident.updated_at
    ids = [i.id for i, _ in data.records]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_breach_flags_agree_with_the_sla_engine(data: demo.DemoData) -> None:
    """Whatever the SLA engine calls breached was marked on the timeline when it happened."""
    for incident, entries in data.records:
        for kind in ("response", "resolution"):
            clock = sla_clock(incident, NOW, POLICY, kind)
            if clock.state == SlaState.BREACHED:
                assert clock.due is not None  # a breached clock has a due time
                assert getattr(incident, f"{kind}_breached"), (incident.key, kind)
                marks = [
                    e
                    for e in entries
                    if e.kind == EntryKind.SLA_BREACHED and e.data["clock"] == kind
                ]
                assert len(marks) == 1
                assert marks[0].at >= clock.due - timedelta(seconds=1) or incident.reopen_count


def test_open_incidents_cover_every_situation(data: demo.DemoData) -> None:
    opened = [i for i, _ in data.open]
    assert len(opened) == 40
    assert all(i.is_open for i in opened)
    states = Counter(_state(i) for i in opened)
    for state in (SlaState.RUNNING, SlaState.WARNING, SlaState.BREACHED, SlaState.PAUSED):
        assert states[state] >= 2, (state, states)
    breached = {
        kind
        for i in opened
        for kind in ("response", "resolution")
        if sla_clock(i, NOW, POLICY, kind).state == SlaState.BREACHED
    }
    assert breached == {"response", "resolution"}
    assert {i.status for i in opened} == {Status.TRIGGERED, Status.ACKNOWLEDGED, Status.ON_HOLD}
    assert {i.hold_reason for i in opened if i.hold_reason} == set(HoldReason)
    assert {i.escalation_level for i in opened} >= {1, 2, 3}
    fresh = [
        i
        for i in opened
        if i.status == Status.TRIGGERED
        and i.priority in (Priority.P1, Priority.P2)
        and NOW - i.created_at < timedelta(minutes=10)
    ]
    assert len(fresh) >= 2
    assert any(i.assignee is None for i in opened)
    mine = [i for i in opened if i.assignee == "root"]
    assert len(mine) >= 4
    assert {i.status for i in mine} == {Status.TRIGGERED, Status.ACKNOWLEDGED, Status.ON_HOLD}
    titles = [i.title for i in opened]
    assert any("[bold" in t for t in titles)
    assert any(len(t) > 200 for t in titles)
    assert all("\x1b" not in i.description for i in opened), "stored text is cleaned"


def test_the_escalator_has_nothing_overdue_at_now(data: demo.DemoData) -> None:
    """The seeded state is what the escalator would have left: no level wait has run out."""
    from console.domain.escalation import next_escalation_at

    policies = {p.id: p for p in data.directory.policies}
    for incident, _ in data.open:
        due = next_escalation_at(incident, policies.get(incident.policy or ""))
        assert due is None or due > NOW, incident.key


def test_fewer_open_incidents_still_cover_every_kind() -> None:
    small = demo.build(now=NOW, seed=1, history=0, open_count=len(demo.CASES))
    assert small.history == ()
    assert len(small.open) == len(demo.CASES)
    states = {_state(i) for i, _ in small.open}
    assert states >= {SlaState.RUNNING, SlaState.WARNING, SlaState.BREACHED, SlaState.PAUSED}
    assert demo.build(now=NOW, seed=1, history=0, open_count=0).open == ()
    assert len(demo.build(now=NOW, seed=1, history=0, open_count=55).open) == 55


def test_open_incidents_follow_the_configured_sla() -> None:
    """With other targets and warning threshold, the situations still hold on those clocks."""
    from console.domain.sla import Target

    policy = SlaPolicy(
        targets={
            Priority.P2: Target(response=timedelta(minutes=10), resolution=timedelta(hours=2))
        },
        warning=0.5,
    )
    built = demo.build(now=NOW, seed=3, history=0, user="root", sla=policy)
    states = Counter(sla_clock(i, NOW, policy, active_kind(i)).state for i, _ in built.open)
    assert states[SlaState.WARNING] >= 2 and states[SlaState.BREACHED] >= 2
    assert states[SlaState.PAUSED] >= 2 and states[SlaState.RUNNING] >= 2


def test_alerts_are_plausible() -> None:
    import random

    rng = random.Random(0)
    for service, *_ in demo.SERVICES:
        for rank in range(1, 6):
            alert = demo.make_alert(rng, service, rank, "alertmanager")
            assert alert.title and "{" not in alert.title
            assert alert.labels["alertname"] and alert.dedup_key
        manual = demo.make_alert(rng, service, 3, "manual")
        assert manual.dedup_key is None and manual.source == "manual"


def test_demo_does_not_import_textual() -> None:
    import subprocess
    import sys

    code = "import sys, console.demo.seed\nprint(any(m.split('.')[0] == 'textual' for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_without_a_user_a_demo_person_plays_the_part() -> None:
    built = demo.build(now=NOW, seed=9, history=0)
    assert built.user == "priya"
    assert len(built.directory.users) == 10
    assert "priya" in {on_call(s, NOW) for s in built.directory.schedules}
    assert any(i.assignee == "priya" for i, _ in built.open)
