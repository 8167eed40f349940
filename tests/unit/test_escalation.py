"""Escalation: on-call resolution, who is paged, the next step, and when it fires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from console.domain.escalation import (
    Step,
    next_escalation_at,
    next_step,
    on_call,
    paged_at,
    plan_automatic,
    plan_manual,
    time_to_next,
)
from console.domain.lifecycle import Acknowledge, Escalate, Hold, Resume, apply
from console.domain.models import (
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    HoldReason,
    Incident,
    Override,
    Rotation,
    Schedule,
    Status,
    TargetKind,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
H = timedelta(hours=1)
M = timedelta(minutes=1)
BERLIN = ZoneInfo("Europe/Berlin")


def user(name: str) -> EscalationTarget:
    return EscalationTarget(kind=TargetKind.USER, id=name)


def schedule_target(name: str) -> EscalationTarget:
    return EscalationTarget(kind=TargetKind.SCHEDULE, id=name)


WEEKLY = Schedule(
    id="ops",
    name="Ops",
    rotations=(Rotation(users=("ana", "bo", "cy"), start=T0),),
)
POLICY = EscalationPolicy(
    id="web",
    name="Web",
    levels=(
        EscalationLevel(targets=(schedule_target("ops"),), wait=10 * M),
        EscalationLevel(targets=(user("lead"), schedule_target("ops"), user("lead")), wait=20 * M),
        EscalationLevel(targets=(user("cto"),), wait=30 * M),
    ),
    repeat=1,
)
SCHEDULES = {"ops": WEEKLY}


def incident(**changes: Any) -> Incident:
    base = Incident(
        id=1, key="INC-1", title="t", service="web", policy="web", created_at=T0, updated_at=T0
    )
    return base.model_copy(update=changes)


@pytest.mark.parametrize(
    ("offset", "who"),
    [
        (-H, None),  # before the rotation starts
        (timedelta(0), "ana"),
        (timedelta(days=6, hours=23), "ana"),
        (timedelta(days=7), "bo"),  # handoff exactly at the shift boundary
        (timedelta(days=14), "cy"),
        (timedelta(days=21), "ana"),  # round and round
    ],
)
def test_rotation_shift_handoffs(offset: timedelta, who: str | None) -> None:
    assert on_call(WEEKLY, T0 + offset) == who


def test_handoff_keeps_local_time_across_daylight_saving() -> None:
    """A Monday 09:00 handoff in Berlin stays at 09:00 local after clocks go forward."""
    schedule = Schedule(
        id="s",
        name="s",
        timezone="Europe/Berlin",
        rotations=(Rotation(users=("ana", "bo"), start=datetime(2026, 3, 23, 9, tzinfo=BERLIN)),),
    )
    assert on_call(schedule, datetime(2026, 3, 30, 8, 59, tzinfo=BERLIN)) == "ana"
    assert on_call(schedule, datetime(2026, 3, 30, 9, 0, tzinfo=BERLIN)) == "bo"


def test_later_layers_win_where_they_cover() -> None:
    schedule = Schedule(
        id="s",
        name="s",
        rotations=(
            Rotation(name="base", users=("ana", "bo"), start=T0, shift=timedelta(days=1)),
            Rotation(name="later", users=("zed",), start=T0 + timedelta(days=3)),
        ),
    )
    assert on_call(schedule, T0 + timedelta(days=1)) == "bo"
    assert on_call(schedule, T0 + timedelta(days=3)) == "zed"
    assert on_call(schedule, T0 + timedelta(days=30)) == "zed"


def test_active_hours_restrict_a_layer() -> None:
    schedule = Schedule(
        id="s",
        name="s",
        timezone="Europe/Berlin",
        rotations=(
            Rotation(name="nights", users=("night",), start=T0),
            Rotation(name="office", users=("day",), start=T0, active_hours=(9, 17)),
        ),
    )
    # 08:00 UTC is 09:00 in Berlin (winter): the office layer covers it.
    assert on_call(schedule, datetime(2026, 3, 3, 8, 0, tzinfo=UTC)) == "day"
    assert on_call(schedule, datetime(2026, 3, 3, 7, 59, tzinfo=UTC)) == "night"
    assert on_call(schedule, datetime(2026, 3, 3, 15, 59, tzinfo=UTC)) == "day"
    assert on_call(schedule, datetime(2026, 3, 3, 16, 0, tzinfo=UTC)) == "night"


def test_active_hours_across_midnight() -> None:
    schedule = Schedule(
        id="s",
        name="s",
        rotations=(Rotation(users=("owl",), start=T0 - timedelta(days=1), active_hours=(22, 6)),),
    )
    assert on_call(schedule, datetime(2026, 3, 3, 23, tzinfo=UTC)) == "owl"
    assert on_call(schedule, datetime(2026, 3, 3, 5, tzinfo=UTC)) == "owl"
    assert on_call(schedule, datetime(2026, 3, 3, 12, tzinfo=UTC)) is None


def test_overrides_win_and_the_later_override_wins() -> None:
    schedule = WEEKLY.model_copy(
        update={
            "overrides": (
                Override(user="dee", start=T0 + H, end=T0 + 5 * H),
                Override(user="eve", start=T0 + 2 * H, end=T0 + 3 * H),
            )
        }
    )
    assert on_call(schedule, T0) == "ana"
    assert on_call(schedule, T0 + H) == "dee"
    assert on_call(schedule, T0 + 2 * H) == "eve"
    assert on_call(schedule, T0 + 3 * H) == "dee"
    assert on_call(schedule, T0 + 5 * H) == "ana"


def test_paged_at_resolves_schedules_without_duplicates() -> None:
    assert paged_at(POLICY, 1, T0, SCHEDULES) == ["ana"]
    assert paged_at(POLICY, 2, T0, SCHEDULES) == ["lead", "ana"]
    assert paged_at(POLICY, 2, T0 + timedelta(days=7), SCHEDULES) == ["lead", "bo"]
    assert paged_at(POLICY, 3, T0, SCHEDULES) == ["cto"]


def test_paged_at_with_an_unknown_schedule_or_level() -> None:
    assert paged_at(POLICY, 1, T0, {}) == []
    assert paged_at(POLICY, 2, T0, {}) == ["lead"]
    assert paged_at(POLICY, 0, T0, SCHEDULES) == []
    assert paged_at(POLICY, 4, T0, SCHEDULES) == []


def test_paged_at_when_nobody_covers_the_schedule() -> None:
    assert paged_at(POLICY, 1, T0 - H, SCHEDULES) == []


def test_next_step_through_levels_and_repeat_loops() -> None:
    assert next_step(POLICY, 1, 0) == Step(2, 0)
    assert next_step(POLICY, 2, 0) == Step(3, 0)
    assert next_step(POLICY, 3, 0) == Step(1, 1)
    assert next_step(POLICY, 3, 1) is None
    no_repeat = POLICY.model_copy(update={"repeat": 0})
    assert next_step(no_repeat, 3, 0) is None
    assert next_step(POLICY.model_copy(update={"repeat": 3}), 3, 2) == Step(1, 3)


def test_next_escalation_at_for_triggered_incidents_only() -> None:
    fresh = incident()
    assert next_escalation_at(fresh, POLICY) == T0 + 10 * M
    assert time_to_next(fresh, POLICY, T0 + 4 * M) == 6 * M
    assert next_escalation_at(fresh, None) is None
    for status in (Status.ACKNOWLEDGED, Status.ON_HOLD, Status.RESOLVED, Status.CLOSED):
        assert next_escalation_at(incident(status=status), POLICY) is None
    assert time_to_next(incident(status=Status.ACKNOWLEDGED), POLICY, T0) is None


def test_the_wait_counts_from_the_last_escalation() -> None:
    escalated, _ = apply(incident(), Escalate(level=2, paged=("lead",)), "ana", T0 + 12 * M)
    assert next_escalation_at(escalated, POLICY) == T0 + 12 * M + 20 * M


def test_the_last_step_never_fires_again() -> None:
    last = incident(escalation_level=3, escalation_loop=1)
    assert next_escalation_at(last, POLICY) is None
    assert plan_automatic(last, POLICY, SCHEDULES, T0 + timedelta(days=1)) is None


def test_time_on_hold_does_not_count_towards_the_wait() -> None:
    held, _ = apply(incident(), Hold(reason=HoldReason.AWAITING_CALLER), "ana", T0 + 4 * M)
    resumed, _ = apply(held, Resume(), "ana", T0 + 4 * M + 2 * H)
    assert resumed.status == Status.TRIGGERED
    assert next_escalation_at(resumed, POLICY) == T0 + 2 * H + 10 * M
    assert plan_automatic(resumed, POLICY, SCHEDULES, T0 + 2 * H + 5 * M) is None


def test_plan_automatic_only_when_due() -> None:
    fresh = incident()
    assert plan_automatic(fresh, POLICY, SCHEDULES, T0 + 9 * M) is None
    assert plan_automatic(fresh, POLICY, SCHEDULES, T0 + 10 * M) == (Step(2, 0), ["lead", "ana"])
    assert plan_automatic(fresh, None, SCHEDULES, T0 + timedelta(days=1)) is None
    acked, _ = apply(fresh, Acknowledge(), "ana", T0 + M)
    assert plan_automatic(acked, POLICY, SCHEDULES, T0 + timedelta(days=1)) is None


def test_automatic_escalation_runs_the_loops() -> None:
    """Follow the escalator from level 1 through a repeat loop to the end."""
    item, at = incident(), T0
    seen: list[tuple[int, int, list[str]]] = []
    while (due := next_escalation_at(item, POLICY)) is not None:
        at = due
        plan = plan_automatic(item, POLICY, SCHEDULES, at)
        assert plan is not None
        step, paged = plan
        item, _ = apply(
            item,
            Escalate(level=step.level, loop=step.loop, paged=tuple(paged), automatic=True),
            "escalator",
            at,
        )
        seen.append((step.level, step.loop, paged))
    assert seen == [
        (2, 0, ["lead", "ana"]),
        (3, 0, ["cto"]),
        (1, 1, ["ana"]),
        (2, 1, ["lead", "ana"]),
        (3, 1, ["cto"]),
    ]
    assert at == T0 + (10 + 20 + 30 + 10 + 20) * M


def test_plan_manual() -> None:
    assert plan_manual(incident(), POLICY, SCHEDULES, T0) == (Step(2, 0), ["lead", "ana"])
    assert plan_manual(incident(escalation_level=3), POLICY, SCHEDULES, T0) == (
        Step(1, 1),
        ["ana"],
    )
    # Past the last level with no repeats left: stay there and page it again.
    last = incident(escalation_level=3, escalation_loop=1)
    assert plan_manual(last, POLICY, SCHEDULES, T0) == (Step(3, 1), ["cto"])
    # Without a policy a manual escalation still goes up a level, paging nobody.
    assert plan_manual(incident(escalation_level=2), None, SCHEDULES, T0) == (Step(3, 0), [])


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Sydney"])
def test_weekly_handoffs_stay_at_local_nine_all_year(zone: str) -> None:
    tz = ZoneInfo(zone)
    users = ("ana", "bo", "cy")
    start = datetime(2026, 1, 5, 9, 0, tzinfo=tz)  # a Monday
    schedule = Schedule(
        id="s", name="s", timezone=zone, rotations=(Rotation(users=users, start=start),)
    )
    for week in range(1, 53):
        monday = (start + timedelta(days=7 * week)).replace(tzinfo=tz)
        handoff = datetime(monday.year, monday.month, monday.day, 9, 0, tzinfo=tz)
        assert on_call(schedule, handoff - timedelta(minutes=1)) == users[(week - 1) % 3]
        assert on_call(schedule, handoff) == users[week % 3]
