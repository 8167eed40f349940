"""The SLA engine: targets, clock states, pauses, re-targeting and the remaining-time text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from console.domain.lifecycle import (
    Acknowledge,
    Cancel,
    Hold,
    Reopen,
    Resolve,
    Resume,
    SetPriority,
    apply,
)
from console.domain.models import HoldReason, Incident, Pause, Priority, Status
from console.domain.sla import (
    DEFAULT_TARGETS,
    SlaClock,
    SlaPolicy,
    SlaState,
    Target,
    active_clock,
    active_kind,
    counted,
    due_time,
    format_remaining,
    sla_clock,
    sort_due,
)

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
POLICY = SlaPolicy()
M = timedelta(minutes=1)


def incident(priority: Priority = Priority.P1, **changes: Any) -> Incident:
    base = Incident(id=1, key="INC-1", title="t", service="web", created_at=T0, updated_at=T0)
    return base.model_copy(update={"priority": priority, **changes})


@pytest.mark.parametrize(
    ("priority", "response", "resolution"),
    [
        (Priority.P1, timedelta(minutes=15), timedelta(hours=4)),
        (Priority.P2, timedelta(minutes=30), timedelta(hours=8)),
        (Priority.P3, timedelta(hours=4), timedelta(days=3)),
        (Priority.P4, timedelta(days=1), timedelta(days=10)),
        (Priority.P5, timedelta(days=3), timedelta(days=30)),
    ],
)
def test_default_targets(priority: Priority, response: timedelta, resolution: timedelta) -> None:
    assert POLICY.target(priority, "response") == response
    assert POLICY.target(priority, "resolution") == resolution
    assert DEFAULT_TARGETS[priority] == Target(response=response, resolution=resolution)


def test_targets_are_configurable_and_missing_priorities_keep_defaults() -> None:
    policy = SlaPolicy(targets={Priority.P1: Target(response=5 * M, resolution=60 * M)})
    assert policy.target(Priority.P1, "response") == 5 * M
    assert policy.target(Priority.P2, "response") == 30 * M
    clock = sla_clock(incident(), T0 + 6 * M, policy, "response")
    assert clock.state == SlaState.BREACHED


def test_a_partial_target_keeps_the_other_default() -> None:
    policy = SlaPolicy.model_validate({"targets": {"P2": {"resolution": "12h"}}})
    assert policy.target(Priority.P2, "response") == 30 * M
    assert policy.target(Priority.P2, "resolution") == timedelta(hours=12)


@pytest.mark.parametrize("bad", [0, -300, "PT0S"])
def test_targets_must_be_positive(bad: object) -> None:
    with pytest.raises(ValidationError, match="longer than zero"):
        Target(response=bad, resolution="1h")  # type: ignore[arg-type]


@pytest.mark.parametrize("warning", [0, 1, 1.5, -0.1])
def test_warning_threshold_is_a_share(warning: float) -> None:
    with pytest.raises(ValidationError):
        SlaPolicy(warning=warning)


@pytest.mark.parametrize(
    ("minutes", "state"),
    [
        (0, SlaState.RUNNING),
        (11, SlaState.RUNNING),
        (11.25, SlaState.WARNING),  # exactly 75 % of 15 minutes
        (14, SlaState.WARNING),
        (15, SlaState.BREACHED),
        (40, SlaState.BREACHED),
    ],
)
def test_running_warning_breached(minutes: float, state: SlaState) -> None:
    clock = sla_clock(incident(), T0 + minutes * M, POLICY, "response")
    assert clock.state == state
    assert clock.used == minutes * M
    assert clock.remaining == (15 - minutes) * M
    assert clock.due == T0 + 15 * M
    assert clock.target == 15 * M
    assert clock.fraction == pytest.approx(minutes / 15)


def test_warning_threshold_follows_the_policy() -> None:
    policy = SlaPolicy(warning=0.5)
    assert sla_clock(incident(), T0 + 8 * M, policy, "response").state == SlaState.WARNING
    assert sla_clock(incident(), T0 + 7 * M, policy, "response").state == SlaState.RUNNING


def test_met_when_stopped_in_time_and_breached_when_late() -> None:
    acked, _ = apply(incident(), Acknowledge(), "ana", T0 + 10 * M)
    clock = sla_clock(acked, T0 + 3 * 60 * M, POLICY, "response")
    assert clock.state == SlaState.MET
    assert clock.used == 10 * M
    assert clock.due is None
    late, _ = apply(incident(), Acknowledge(), "ana", T0 + 20 * M)
    clock = sla_clock(late, T0 + 3 * 60 * M, POLICY, "response")
    assert clock.state == SlaState.BREACHED
    assert clock.used == 20 * M
    assert clock.remaining == -5 * M


def test_the_resolution_clock_keeps_running_after_acknowledgement() -> None:
    acked, _ = apply(incident(), Acknowledge(), "ana", T0 + 10 * M)
    clock = sla_clock(acked, T0 + 200 * M, POLICY, "resolution")
    assert clock.state == SlaState.WARNING  # 200 of 240 minutes
    assert clock.due == T0 + 240 * M
    resolved, _ = apply(acked, Resolve(), "ana", T0 + 230 * M)
    clock = sla_clock(resolved, T0 + 999 * M, POLICY, "resolution")
    assert clock.state == SlaState.MET
    assert clock.used == 230 * M


def test_time_on_hold_never_counts() -> None:
    acked, _ = apply(incident(), Acknowledge(), "ana", T0 + 5 * M)
    held, _ = apply(acked, Hold(reason=HoldReason.AWAITING_VENDOR), "ana", T0 + 60 * M)
    paused = sla_clock(held, T0 + 600 * M, POLICY, "resolution")
    assert paused.state == SlaState.PAUSED
    assert paused.used == 60 * M
    assert paused.due is None
    resumed, _ = apply(held, Resume(), "ana", T0 + 600 * M)
    clock = sla_clock(resumed, T0 + 630 * M, POLICY, "resolution")
    assert clock.state == SlaState.RUNNING
    assert clock.used == 90 * M
    assert clock.due == T0 + 600 * M + 180 * M


def test_a_clock_breached_before_the_hold_stays_breached() -> None:
    late = incident(status=Status.ON_HOLD, pauses=(Pause(start=T0 + 20 * M),))
    assert sla_clock(late, T0 + 60 * M, POLICY, "response").state == SlaState.BREACHED


def test_paused_response_clock_of_an_unacknowledged_incident() -> None:
    held, _ = apply(incident(), Hold(reason=HoldReason.AWAITING_CALLER), "ana", T0 + 5 * M)
    clock = active_clock(held, T0 + 300 * M, POLICY)
    assert clock.kind == "response"
    assert clock.state == SlaState.PAUSED
    assert clock.used == 5 * M


def test_priority_change_retargets_and_keeps_the_start() -> None:
    """A P3 raised to P1 after 20 minutes has already missed P1's 15-minute response."""
    p3 = incident(Priority.P3, impact=2, urgency=2)
    assert sla_clock(p3, T0 + 20 * M, POLICY, "response").state == SlaState.RUNNING
    p1, _ = apply(p3, SetPriority(impact=1, urgency=1), "ana", T0 + 20 * M)
    clock = sla_clock(p1, T0 + 20 * M, POLICY, "response")
    assert clock.state == SlaState.BREACHED
    assert clock.used == 20 * M
    assert clock.target == 15 * M
    assert clock.due == T0 + 15 * M
    lowered, _ = apply(p1, SetPriority(impact=3, urgency=3), "ana", T0 + 21 * M)
    clock = sla_clock(lowered, T0 + 21 * M, POLICY, "response")
    assert clock.state == SlaState.RUNNING
    assert clock.due == T0 + timedelta(days=3)


def test_reopen_does_not_count_the_time_spent_resolved() -> None:
    acked, _ = apply(incident(), Acknowledge(), "ana", T0 + 5 * M)
    resolved, _ = apply(acked, Resolve(), "ana", T0 + 60 * M)
    reopened, _ = apply(resolved, Reopen(), "ana", T0 + 24 * 60 * M)
    clock = sla_clock(reopened, T0 + 24 * 60 * M + 30 * M, POLICY, "resolution")
    assert clock.used == 90 * M
    assert clock.state == SlaState.RUNNING


def test_a_cancelled_incident_stops_its_clocks() -> None:
    cancelled, _ = apply(incident(), Cancel(), "ana", T0 + 10 * M)
    clock = sla_clock(cancelled, T0 + 900 * M, POLICY, "response")
    assert clock.state == SlaState.MET
    assert clock.used == 10 * M


def test_active_kind_switches_at_acknowledgement() -> None:
    fresh = incident()
    assert active_kind(fresh) == "response"
    acked, _ = apply(fresh, Acknowledge(), "ana", T0 + M)
    assert active_kind(acked) == "resolution"
    assert active_clock(acked, T0 + 2 * M, POLICY).kind == "resolution"


def test_sort_due() -> None:
    assert sort_due(incident(), POLICY, T0) == T0 + 15 * M
    acked, _ = apply(incident(), Acknowledge(), "ana", T0 + M)
    assert sort_due(acked, POLICY, T0 + 2 * M) == T0 + 240 * M
    held, _ = apply(acked, Hold(reason=HoldReason.AWAITING_CALLER), "ana", T0 + 3 * M)
    assert sort_due(held, POLICY, T0 + 4 * M) is None
    resumed, _ = apply(held, Resume(), "ana", T0 + 63 * M)
    assert sort_due(resumed, POLICY, T0 + 64 * M) == T0 + 300 * M
    resolved, _ = apply(resumed, Resolve(), "ana", T0 + 70 * M)
    assert sort_due(resolved, POLICY, T0 + 71 * M) is None


def test_counted_and_due_time_skip_pauses() -> None:
    pauses = (Pause(start=T0 + 10 * M, end=T0 + 20 * M), Pause(start=T0 + 15 * M, end=T0 + 30 * M))
    assert counted(T0, T0 + 60 * M, pauses) == 40 * M
    assert due_time(T0, 15 * M, pauses) == T0 + 35 * M
    assert counted(T0, due_time(T0, 15 * M, pauses), pauses) == 15 * M
    assert counted(T0, T0 - M) == timedelta(0)
    assert due_time(T0, timedelta(0)) == T0


def test_an_open_pause_ends_at_now_for_due_time() -> None:
    pauses = (Pause(start=T0 + 5 * M),)
    assert counted(T0, T0 + 60 * M, pauses) == 5 * M
    assert due_time(T0, 15 * M, pauses, now=T0 + 60 * M) == T0 + 70 * M


def _clock(state: SlaState, remaining: timedelta) -> SlaClock:
    target = timedelta(days=30)
    return SlaClock("resolution", state, target, target - remaining, None)


@pytest.mark.parametrize(
    ("remaining", "text"),
    [
        (timedelta(minutes=12, seconds=34), "12:34"),
        (timedelta(seconds=5), "00:05"),
        (timedelta(0), "00:00"),
        (timedelta(minutes=59, seconds=59), "59:59"),
        (timedelta(hours=1), "1h00m"),
        (timedelta(hours=3, minutes=5, seconds=59), "3h05m"),
        (timedelta(days=2, hours=4, minutes=30), "2d04h"),
        (timedelta(days=12, hours=13), "12d13h"),
        (-timedelta(minutes=5), "-05:00"),
        (-timedelta(hours=2, minutes=1), "-2h01m"),
        (-timedelta(days=1, hours=1), "-1d01h"),
    ],
)
def test_format_remaining(remaining: timedelta, text: str) -> None:
    assert format_remaining(_clock(SlaState.RUNNING, remaining)) == text


def test_format_remaining_of_met_and_paused_clocks() -> None:
    assert format_remaining(_clock(SlaState.MET, timedelta(hours=1))) == "met"
    assert format_remaining(_clock(SlaState.PAUSED, timedelta(hours=1))) == "paused"


def test_format_remaining_of_a_real_breached_clock() -> None:
    clock = sla_clock(incident(), T0 + 20 * M, POLICY, "response")
    assert format_remaining(clock) == "-05:00"
