"""Escalation: who is paged at each level, when the next level fires, and repeat loops."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from console.domain.models import (
    EscalationPolicy,
    Incident,
    Schedule,
    Status,
    TargetKind,
    utc,
)
from console.domain.sla import due_time


def on_call(schedule: Schedule, at: datetime) -> str | None:
    """Who is on call for ``schedule`` at ``at``: an override wins, then the last layer that
    covers ``at`` (later layers sit on top of earlier ones)."""
    at = utc(at)
    for override in reversed(schedule.overrides):
        if utc(override.start) <= at < utc(override.end):
            return override.user
    zone = ZoneInfo(schedule.timezone)
    for rotation in reversed(schedule.rotations):
        start = utc(rotation.start)
        if at < start:
            continue
        if rotation.active_hours is not None:
            first, last = rotation.active_hours
            hour = at.astimezone(zone).hour
            inside = first <= hour < last if first < last else (hour >= first or hour < last)
            if not inside:
                continue
        return rotation.users[_turn(start, at, rotation.shift, zone) % len(rotation.users)]
    return None


def _turn(start: datetime, at: datetime, shift: timedelta, zone: ZoneInfo) -> int:
    """How many handoffs happened between ``start`` and ``at``.

    Counted on the schedule's local wall clock, so a weekly handoff at Monday 09:00 stays at
    09:00 local across a daylight-saving change instead of drifting by an hour.
    """
    seconds = shift.total_seconds()
    if seconds <= 0:
        return 0
    local_start = start.astimezone(zone).replace(tzinfo=None)
    local_at = at.astimezone(zone).replace(tzinfo=None)
    return max(0, int((local_at - local_start).total_seconds() // seconds))


def paged_at(
    policy: EscalationPolicy,
    level: int,
    at: datetime,
    schedules: Mapping[str, Schedule],
) -> list[str]:
    """The users a level (1-based) pages at ``at``, schedules resolved, without repeats."""
    if not 1 <= level <= len(policy.levels):
        return []
    paged: list[str] = []
    for target in policy.levels[level - 1].targets:
        if target.kind == TargetKind.USER:
            user: str | None = target.id
        else:
            schedule = schedules.get(target.id)
            user = on_call(schedule, at) if schedule else None
        if user and user not in paged:
            paged.append(user)
    return paged


@dataclass(frozen=True, slots=True)
class Step:
    """Where an escalation goes next: a level (1-based) in a loop (0 = first pass)."""

    level: int
    loop: int


def next_step(policy: EscalationPolicy, level: int, loop: int) -> Step | None:
    """The level after ``level``; past the last level, back to level 1 while repeats remain."""
    if level < len(policy.levels):
        return Step(level + 1, loop)
    if loop < policy.repeat:
        return Step(1, loop + 1)
    return None


def next_escalation_at(incident: Incident, policy: EscalationPolicy | None) -> datetime | None:
    """When the automatic escalator moves ``incident`` on, or ``None`` if it never will.

    Only an unacknowledged (triggered) incident escalates by itself; the wait of the current
    level counts from when that level was reached (or from creation for level 1), and time on
    hold in between does not count (a resumed incident is not escalated the same second).
    """
    if policy is None or incident.status != Status.TRIGGERED:
        return None
    if next_step(policy, incident.escalation_level, incident.escalation_loop) is None:
        return None
    level = min(max(incident.escalation_level, 1), len(policy.levels))
    since = utc(incident.escalated_at or incident.created_at)
    return due_time(since, policy.levels[level - 1].wait, incident.pauses, None, since)


def plan_manual(
    incident: Incident,
    policy: EscalationPolicy | None,
    schedules: Mapping[str, Schedule],
    at: datetime,
) -> tuple[Step, list[str]]:
    """The step a person's "escalate" takes and who it pages.

    A manual escalation past the last level with no repeats left stays on the last level and
    pages it again (a responder may always re-page), never fails silently.
    """
    if policy is None:
        return Step(incident.escalation_level + 1, incident.escalation_loop), []
    step = next_step(policy, incident.escalation_level, incident.escalation_loop)
    if step is None:
        step = Step(len(policy.levels), incident.escalation_loop)
    return step, paged_at(policy, step.level, at, schedules)


def plan_automatic(
    incident: Incident,
    policy: EscalationPolicy | None,
    schedules: Mapping[str, Schedule],
    at: datetime,
) -> tuple[Step, list[str]] | None:
    """The step the automatic escalator takes at ``at``, or ``None`` if nothing is due."""
    due = next_escalation_at(incident, policy)
    if policy is None or due is None or utc(at) < due:
        return None
    step = next_step(policy, incident.escalation_level, incident.escalation_loop)
    if step is None:
        return None
    return step, paged_at(policy, step.level, at, schedules)


def time_to_next(
    incident: Incident, policy: EscalationPolicy | None, at: datetime
) -> timedelta | None:
    due = next_escalation_at(incident, policy)
    return None if due is None else due - utc(at)
