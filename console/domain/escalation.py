"""Escalation: who is paged at each level, when the next level fires, and repeat loops."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from console.domain.models import (
    EscalationPolicy,
    Incident,
    Rotation,
    Schedule,
    Status,
    TargetKind,
    utc,
)
from console.domain.sla import (
    CLOCK_KINDS,
    ClockKind,
    SlaPolicy,
    SlaState,
    clock_bounds,
    due_time,
    running_breach,
    sla_clock,
)


@dataclass(frozen=True, slots=True)
class OnCall:
    """Who is on call and why: ``layer`` is the index of the covering rotation, or ``None``
    when an override covers the moment."""

    user: str
    layer: int | None


def on_call_detail(schedule: Schedule, at: datetime) -> OnCall | None:
    """Who is on call for ``schedule`` at ``at``: an override wins, then the last layer that
    covers ``at`` (later layers sit on top of earlier ones)."""
    at = utc(at)
    for override in reversed(schedule.overrides):
        if utc(override.start) <= at < utc(override.end):
            return OnCall(override.user, None)
    zone = ZoneInfo(schedule.timezone)
    for index in range(len(schedule.rotations) - 1, -1, -1):
        user = layer_on_call(schedule.rotations[index], zone, at)
        if user is not None:
            return OnCall(user, index)
    return None


def on_call(schedule: Schedule, at: datetime) -> str | None:
    """Who is on call for ``schedule`` at ``at`` (see ``on_call_detail``)."""
    found = on_call_detail(schedule, at)
    return None if found is None else found.user


def layer_on_call(rotation: Rotation, zone: ZoneInfo, at: datetime) -> str | None:
    """Whose turn it is in one layer at ``at``, or ``None`` if the layer does not cover it
    (not started yet, or outside its active hours)."""
    at = utc(at)
    start = utc(rotation.start)
    if at < start:
        return None
    if rotation.active_hours is not None:
        first, last = rotation.active_hours
        hour = at.astimezone(zone).hour
        inside = first <= hour < last if first < last else (hour >= first or hour < last)
        if not inside:
            return None
    return rotation.users[_turn(start, at, rotation.shift, zone) % len(rotation.users)]


MAX_HANDOFFS = 5000
"""Hand-offs of one layer looked at per call: bounds the work for absurdly short shifts."""


def _aware(local: datetime, zone: ZoneInfo) -> datetime:
    return utc(local.replace(tzinfo=zone))


def handoffs(schedule: Schedule, start: datetime, end: datetime) -> list[datetime]:
    """Every instant in ``[start, end)`` at which who is on call may change, ``start`` first:
    layer starts and hand-offs (on the schedule's wall clock), active-hour edges, override
    starts and ends. Between two of them the on-call person is constant."""
    start, end = utc(start), utc(end)
    zone = ZoneInfo(schedule.timezone)
    points = {start}
    local_from = start.astimezone(zone).replace(tzinfo=None)
    local_to = end.astimezone(zone).replace(tzinfo=None)
    for rotation in schedule.rotations:
        first = utc(rotation.start)
        local_first = first.astimezone(zone).replace(tzinfo=None)
        seconds = rotation.shift.total_seconds()
        turn = max(0, int((local_from - local_first).total_seconds() // seconds))
        for _ in range(MAX_HANDOFFS):
            at = _aware(local_first + turn * rotation.shift, zone)
            if at >= end:
                break
            points.add(at)
            turn += 1
        if rotation.active_hours is not None:
            day = local_from.date() - timedelta(days=1)
            while day <= local_to.date():
                midnight = datetime(day.year, day.month, day.day)
                for hour in rotation.active_hours:
                    points.add(_aware(midnight + timedelta(hours=hour), zone))
                day += timedelta(days=1)
    for override in schedule.overrides:
        points.update((utc(override.start), utc(override.end)))
    return sorted(p for p in points if start <= p < end)


@dataclass(frozen=True, slots=True)
class Shift:
    """``user`` is on call from ``start`` until ``end`` (``None``: nobody, a gap)."""

    start: datetime
    end: datetime
    user: str | None
    layer: int | None = None
    """The covering layer's index; ``None`` for an override or a gap."""


def shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """Who is on call over ``[start, end)``, as consecutive shifts; a shift that runs past
    ``end`` is cut there. Adjacent moments with the same person and layer are one shift."""
    points = handoffs(schedule, start, end)
    found: list[Shift] = []
    for index, at in enumerate(points):
        until = points[index + 1] if index + 1 < len(points) else utc(end)
        who = on_call_detail(schedule, at)
        user, layer = (None, None) if who is None else (who.user, who.layer)
        if found and found[-1].user == user:
            found[-1] = Shift(found[-1].start, until, user, found[-1].layer)
        else:
            found.append(Shift(at, until, user, layer))
    return found


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


@dataclass(frozen=True, slots=True)
class EscalationClock:
    """What the next automatic escalation of a triggered incident depends on besides its
    policy: the level and loop it is on, when that level's wait started counting
    (``since``: when the level was reached, or creation for level 1), and whether time on
    hold after ``since`` shifts the due instant (``linear`` is ``False`` then; when it is
    ``True`` the level is due exactly its wait after ``since``). Stores keep these as
    columns so a policy change recomputes the due instant of every incident in one
    statement (``backends.common.due``)."""

    level: int
    loop: int
    since: datetime
    linear: bool


def escalation_clock(incident: Incident) -> EscalationClock | None:
    """The ``EscalationClock`` of ``incident``, or ``None`` unless it is triggered (only an
    unacknowledged incident escalates by itself)."""
    if incident.status != Status.TRIGGERED:
        return None
    since = utc(incident.escalated_at or incident.created_at)
    # A pause matters only where it ends after ``since`` (an open one ends at ``since``).
    linear = all(p.end is None or utc(p.end) <= since for p in incident.pauses)
    return EscalationClock(incident.escalation_level, incident.escalation_loop, since, linear)


def level_wait(policy: EscalationPolicy, level: int, loop: int) -> timedelta | None:
    """The wait of the level an incident on ``level`` (1-based) of ``loop`` waits on before
    the escalator moves it on, or ``None`` when nothing comes after it (last level, no
    repeat left). A level out of range counts as the nearest one."""
    if next_step(policy, level, loop) is None:
        return None
    return policy.levels[min(max(level, 1), len(policy.levels)) - 1].wait


def next_escalation_at(incident: Incident, policy: EscalationPolicy | None) -> datetime | None:
    """When the automatic escalator moves ``incident`` on, or ``None`` if it never will.

    Only an unacknowledged (triggered) incident escalates by itself; the wait of the current
    level counts from when that level was reached (or from creation for level 1), and time on
    hold in between does not count (a resumed incident is not escalated the same second).
    """
    if policy is None:
        return None
    clock = escalation_clock(incident)
    if clock is None:
        return None
    wait = level_wait(policy, clock.level, clock.loop)
    if wait is None:
        return None
    if clock.linear:
        return clock.since + wait
    return due_time(clock.since, wait, incident.pauses, None, clock.since)


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


def breach_to_mark(incident: Incident, now: datetime, sla: SlaPolicy, kind: ClockKind) -> bool:
    """Whether the escalator writes a "breached" entry for clock ``kind`` at ``now``: once
    per clock (not already marked), while the clock runs (a clock that stopped, acknowledged
    or resolved, is met or missed for good: a late acknowledgement is not a new breach to
    announce) and is past its target."""
    if not incident.is_open or getattr(incident, f"{kind}_breached"):
        return False
    if clock_bounds(incident, kind)[1] is not None:
        return False
    return sla_clock(incident, now, sla, kind).state == SlaState.BREACHED


def next_breach_mark(
    incident: Incident,
    sla: SlaPolicy,
    now: datetime,
    running: Mapping[ClockKind, datetime | None] | None = None,
) -> datetime | None:
    """The first instant at which ``breach_to_mark`` holds for a clock of ``incident``
    (possibly in the past), or ``None`` if time alone never makes it hold (finished, both
    clocks stopped or marked, or on hold inside target). It depends only on the incident and
    the SLA policy (``now`` ends an open hold, whose counted time no longer grows).
    ``running``: ``sla.running_breaches`` of ``incident``, when the caller has them."""
    if not incident.is_open:
        return None
    instants = []
    for kind in CLOCK_KINDS:
        if clock_bounds(incident, kind)[1] is not None or getattr(incident, f"{kind}_breached"):
            continue
        at = running[kind] if running is not None else running_breach(incident, sla, kind, now)
        if at is not None:
            instants.append(at)
    return min(instants, default=None)


def escalator_due(
    incident: Incident, policy: EscalationPolicy | None, sla: SlaPolicy, now: datetime
) -> datetime | None:
    """When the automatic escalator may next have something to do with ``incident``: the
    earlier of its next automatic escalation (``next_escalation_at``) and its next SLA breach
    to mark (``next_breach_mark``); ``None`` if never by time alone. Stores keep it as a
    column, recomputed on every write of the incident and for every incident of a policy
    when the policy changes, so one escalator pass reads only ``escalator_due <= now``."""
    return escalator_due_from(incident, policy, next_breach_mark(incident, sla, now))


def escalator_due_from(
    incident: Incident, policy: EscalationPolicy | None, mark: datetime | None
) -> datetime | None:
    """``escalator_due`` from the incident's ``next_breach_mark`` (``mark``), for a caller
    that needs both (a store's row holds each)."""
    instants = [at for at in (next_escalation_at(incident, policy), mark) if at is not None]
    return min(instants, default=None)


def time_to_next(
    incident: Incident, policy: EscalationPolicy | None, at: datetime
) -> timedelta | None:
    due = next_escalation_at(incident, policy)
    return None if due is None else due - utc(at)


WINDOW = timedelta(days=62)
"""How far ahead ``window`` looks for the next hand-off."""


@dataclass(frozen=True, slots=True)
class Window:
    """Who is on call at a moment, until when, and who comes next.

    ``until`` is ``None`` when nobody takes over within ``WINDOW`` (one person, no hand-off);
    ``override`` says the current person is there by an override."""

    user: str | None
    until: datetime | None
    next_user: str | None
    override: bool = False


def window(schedule: Schedule, at: datetime, horizon: timedelta = WINDOW) -> Window:
    """The on-call ``Window`` of a schedule at ``at`` (overrides included)."""
    found = shifts(schedule, at, utc(at) + horizon)
    now = found[0]
    later = found[1] if len(found) > 1 else None
    override = now.user is not None and now.layer is None
    if later is None:
        return Window(now.user, None, None, override)
    return Window(now.user, later.start, later.user, override)


def layer_window(
    schedule: Schedule, index: int, at: datetime, horizon: timedelta = WINDOW
) -> Window:
    """The ``Window`` of one layer alone (its own rotation, no other layer, no override)."""
    alone = schedule.model_copy(update={"rotations": (schedule.rotations[index],), "overrides": ()})
    return window(alone, at, horizon)


@dataclass(frozen=True, slots=True)
class LevelWindow:
    """Who a policy level pages now, until when that holds, and who it pages after."""

    users: tuple[str, ...]
    until: datetime | None
    next_users: tuple[str, ...]


def level_window(
    policy: EscalationPolicy, level: int, at: datetime, schedules: Mapping[str, Schedule]
) -> LevelWindow:
    """The ``LevelWindow`` of level ``level`` (1-based): the earliest hand-off among the
    level's schedules ends it (people named directly never hand off)."""
    at = utc(at)
    ends = []
    for target in policy.levels[level - 1].targets:
        schedule = schedules.get(target.id) if target.kind == TargetKind.SCHEDULE else None
        if schedule is not None:
            until = window(schedule, at).until
            if until is not None:
                ends.append(until)
    now = tuple(paged_at(policy, level, at, schedules))
    if not ends:
        return LevelWindow(now, None, ())
    until = min(ends)
    return LevelWindow(now, until, tuple(paged_at(policy, level, until, schedules)))
