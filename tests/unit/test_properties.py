"""Property tests of the domain's invariants (hypothesis).

- Any sequence of valid actions keeps the version strictly increasing and the timeline
  append-only, and leaves the incident in a consistent state.
- Time on hold never counts against an SLA, with and without a business calendar.
- Remaining time never increases while a clock runs, across holds and resumes.
- ``counted`` and ``due_time`` agree: counting up to the due time gives the target.
- A clock's reading and state stay as they are for as long as ``steady_for`` says, and
  (running at full speed) change right after.
- ``clean`` leaves no control character behind, is idempotent, and keeps ordinary text.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

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
    Reopen,
    Resolve,
    Resume,
    SetPriority,
    apply,
    created_entry,
)
from console.domain.models import (
    HoldReason,
    Incident,
    Link,
    LinkKind,
    Pause,
    Priority,
    ResolutionCode,
    Status,
    TimelineEntry,
)
from console.domain.sla import (
    BusinessCalendar,
    SlaPolicy,
    SlaState,
    counted,
    due_time,
    format_remaining,
    sla_clock,
    steady_for,
)
from console.domain.text import clean

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CALENDARS = [
    None,
    BusinessCalendar(),
    BusinessCalendar(
        timezone="Europe/Berlin",
        start=time(8, 30),
        end=time(17, 45),
        holidays=(date(2026, 3, 6), date(2026, 3, 30)),
    ),
    BusinessCalendar(timezone="America/New_York", weekdays=(0, 2, 4, 5)),
]
calendars = st.sampled_from(CALENDARS)

text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=20
)
actions: st.SearchStrategy[Action] = st.one_of(
    st.just(Acknowledge()),
    st.builds(Resolve, code=st.sampled_from(ResolutionCode), note=text),
    st.just(Close()),
    st.builds(Reopen, reason=text),
    st.builds(Cancel, reason=text),
    st.builds(Hold, reason=st.sampled_from(HoldReason), note=text),
    st.builds(Resume, note=text),
    st.builds(Escalate, paged=st.lists(st.sampled_from(["ana", "bo"]), max_size=2).map(tuple)),
    st.builds(
        SetPriority,
        impact=st.integers(1, 3),
        urgency=st.integers(1, 3),
        priority=st.none() | st.sampled_from(Priority),
    ),
    st.builds(Assign, assignee=st.none() | st.sampled_from(["ana", "bo", "cy"])),
    st.builds(AddNote, text=text),
    st.builds(
        AddLink,
        link=st.builds(Link, kind=st.sampled_from(LinkKind), ref=st.sampled_from(["A-1", "B-2"])),
    ),
    st.builds(AlertRepeated, count=st.integers(1, 5)),
    st.builds(MarkBreached, clock=st.sampled_from(["response", "resolution"])),
    st.builds(Merge, into=st.sampled_from(["INC-1", "INC-2"])),
)
steps = st.lists(
    st.tuples(actions, st.integers(min_value=0, max_value=3 * 3600)), min_size=1, max_size=40
)


def fresh(created: datetime = T0) -> Incident:
    return Incident(
        id=1, key="INC-1", title="t", service="web", created_at=created, updated_at=created
    )


def check_consistent(item: Incident) -> None:
    if item.status in (Status.ACKNOWLEDGED, Status.RESOLVED, Status.CLOSED):
        assert item.acknowledged_at is not None
    if item.status in (Status.RESOLVED, Status.CLOSED):
        assert item.resolved_at is not None
    if item.status in (Status.CLOSED, Status.CANCELLED):
        assert item.closed_at is not None
    if item.status == Status.ON_HOLD:
        assert item.on_hold_since is not None and item.hold_reason is not None
    else:
        assert item.on_hold_since is None and item.hold_reason is None
    assert all(p.end is not None for p in item.pauses[:-1])
    assert all(p.end is None or p.start <= p.end for p in item.pauses)
    assert len({(link.kind, link.ref) for link in item.links}) == len(item.links)


@PROFILE
@given(steps)
def test_valid_actions_keep_version_increasing_and_timeline_append_only(
    sequence: list[tuple[Action, int]],
) -> None:
    item = fresh()
    timeline: list[TimelineEntry] = [created_entry(item, "alerts")]
    snapshots = [entry.model_dump() for entry in timeline]
    at = T0
    applied = 0
    for action, seconds in sequence:
        at += timedelta(seconds=seconds)
        before = item.model_dump()
        try:
            new, entries = apply(item, action, "ana", at)
        except InvalidTransition as error:
            assert item.model_dump() == before
            assert "allowed now: " in str(error)
            continue
        applied += 1
        assert item.model_dump() == before, "apply changed its input"
        assert new.version == item.version + 1
        assert new.updated_at == at >= item.updated_at
        assert entries, f"{action.kind} left no trace in the timeline"
        assert all(e.version == new.version and e.at == at for e in entries)
        assert all(e.version > timeline[-1].version for e in entries)
        timeline += entries
        snapshots += [entry.model_dump() for entry in entries]
        item = new
        check_consistent(item)
    assert item.version == 1 + applied
    # Append-only: every entry ever produced is still there, unchanged, in order.
    assert [entry.model_dump() for entry in timeline] == snapshots
    versions = [entry.version for entry in timeline]
    assert versions == sorted(versions)


holds = st.lists(
    st.tuples(st.integers(0, 3 * 86400), st.integers(1, 2 * 86400)), min_size=1, max_size=3
)


def with_holds(
    item: Incident, gaps: list[tuple[int, int]], until: datetime
) -> tuple[Incident, list[tuple[datetime, datetime]]]:
    """Put ``item`` on hold and resume it per ``gaps`` (gap before, length), up to ``until``.

    Returns the incident as it stands at ``until`` and the hold intervals clipped to it.
    """
    at = item.updated_at
    intervals = []
    for gap, length in gaps:
        start = at + timedelta(seconds=gap)
        if start >= until:
            break
        item, _ = apply(item, Hold(reason=HoldReason.AWAITING_VENDOR), "ana", start)
        end = start + timedelta(seconds=length)
        if end > until:
            intervals.append((start, until))
            break
        item, _ = apply(item, Resume(), "ana", end)
        intervals.append((start, end))
        at = end
    return item, intervals


@PROFILE
@given(
    calendar=calendars,
    acked=st.booleans(),
    gaps=holds,
    elapsed=st.integers(60, 10 * 86400),
    kind=st.sampled_from(["response", "resolution"]),
)
def test_time_on_hold_never_counts(
    calendar: BusinessCalendar | None,
    acked: bool,
    gaps: list[tuple[int, int]],
    elapsed: int,
    kind: str,
) -> None:
    policy = SlaPolicy(calendar=calendar)
    now = T0 + timedelta(seconds=elapsed)
    plain = fresh()
    if acked:
        # Acknowledged late enough that the response clock is still running under holds.
        plain, _ = apply(plain, Acknowledge(), "ana", T0 + timedelta(seconds=1))
    held, intervals = with_holds(plain, gaps, now)
    without = sla_clock(plain, now, policy, kind)  # type: ignore[arg-type]
    with_ = sla_clock(held, now, policy, kind)  # type: ignore[arg-type]
    start, stop = T0, (plain.acknowledged_at if kind == "response" else None)
    end = stop or now
    overlap = sum(
        (counted(max(a, start), min(b, end), calendar=calendar) for a, b in intervals),
        timedelta(0),
    )
    assert without.used - with_.used == overlap
    assert with_.used <= without.used
    if held.status == Status.ON_HOLD and stop is None:
        assert with_.state in (SlaState.PAUSED, SlaState.BREACHED)


@PROFILE
@given(
    calendar=calendars,
    gaps=holds,
    priority=st.sampled_from(Priority),
    probes=st.lists(st.integers(0, 12 * 86400), min_size=2, max_size=12),
    kind=st.sampled_from(["response", "resolution"]),
)
def test_remaining_never_increases_while_a_clock_runs(
    calendar: BusinessCalendar | None,
    gaps: list[tuple[int, int]],
    priority: Priority,
    probes: list[int],
    kind: str,
) -> None:
    """Sample the clock at increasing times of one incident's life, holds included."""
    policy = SlaPolicy(calendar=calendar)
    base = fresh().model_copy(update={"priority": priority})
    horizon = T0 + timedelta(days=13)
    _, intervals = with_holds(base, gaps, horizon)
    previous: timedelta | None = None
    for offset in sorted(probes):
        now = T0 + timedelta(seconds=offset)
        # The incident as it stood at ``now``: only the holds that had begun by then.
        started = [(a, b) for a, b in intervals if a <= now]
        item = base
        for a, b in started:
            item, _ = apply(item, Hold(reason=HoldReason.AWAITING_CALLER), "ana", a)
            if b <= now:
                item, _ = apply(item, Resume(), "ana", b)
        clock = sla_clock(item, now, policy, kind)  # type: ignore[arg-type]
        assert clock.state != SlaState.MET
        if previous is not None:
            assert clock.remaining <= previous
        previous = clock.remaining


pauses = st.lists(st.tuples(st.integers(0, 20 * 86400), st.integers(0, 3 * 86400)), max_size=4).map(
    lambda spans: tuple(
        Pause(start=T0 + timedelta(seconds=a), end=T0 + timedelta(seconds=a + n)) for a, n in spans
    )
)


@PROFILE
@given(
    calendar=calendars,
    start=st.integers(0, 14 * 86400),
    target=st.integers(0, 30 * 86400),
    spans=pauses,
)
def test_counted_and_due_time_agree(
    calendar: BusinessCalendar | None, start: int, target: int, spans: tuple[Pause, ...]
) -> None:
    begin = T0 + timedelta(seconds=start)
    goal = timedelta(seconds=target)
    due = due_time(begin, goal, spans, calendar)
    assert due >= begin
    assert counted(begin, due, spans, calendar) == goal
    if goal:
        # ...and it is the first such instant.
        assert counted(begin, due - timedelta(microseconds=1), spans, calendar) < goal


@PROFILE
@given(calendar=calendars, a=st.integers(0, 20 * 86400), b=st.integers(0, 20 * 86400), spans=pauses)
def test_counted_is_additive_and_bounded(
    calendar: BusinessCalendar | None, a: int, b: int, spans: tuple[Pause, ...]
) -> None:
    lo, hi = sorted((T0 + timedelta(seconds=a), T0 + timedelta(seconds=b)))
    mid = lo + (hi - lo) / 2
    whole = counted(lo, hi, spans, calendar)
    assert whole == counted(lo, mid, spans, calendar) + counted(mid, hi, spans, calendar)
    assert timedelta(0) <= whole <= hi - lo
    assert whole <= counted(lo, hi, (), calendar)


BIDI_AND_ANNOTATIONS = (
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufff9\ufffa\ufffb"
)


@PROFILE
@given(
    raw=st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=200),
    multiline=st.booleans(),
    limit=st.none() | st.integers(0, 80),
)
def test_clean_leaves_no_control_characters_and_is_idempotent(
    raw: str, multiline: bool, limit: int | None
) -> None:
    from unicodedata import category

    out = clean(raw, multiline=multiline, limit=limit)
    allowed = {"\n"} if multiline else set()
    assert all(category(ch) != "Cc" or ch in allowed for ch in out)
    assert not set(out) & set(BIDI_AND_ANNOTATIONS + "\u2028\u2029")
    assert clean(out, multiline=multiline, limit=limit) == out
    if limit is not None:
        assert len(out) <= limit


INVISIBLE_LETTERS = "\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0" + "".join(
    map(chr, [*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)])
)
"""Fillers, the grapheme joiner and variation selectors: letters or marks by category that
show nothing, which clean() removes (selectors: all but one after a character)."""


@PROFILE
@given(
    st.text(
        alphabet=st.characters(
            # Format characters (Cf: zero-width, joiners, tags, soft hyphen) and the other
            # invisible ones are not ordinary text: clean() removes them, or keeps them only
            # in context (test_text.py checks those contexts).
            exclude_categories=["Cc", "Cs", "Zl", "Zp", "Cf"],
            exclude_characters=BIDI_AND_ANNOTATIONS + INVISIBLE_LETTERS,
        ),
        max_size=200,
    )
)
def test_clean_keeps_ordinary_text_exactly(text: str) -> None:
    """Letters of every script, emoji, brackets: nothing harmless is lost."""
    assert clean(text) == text
    assert clean(text, multiline=True) == text


@PROFILE
@given(
    calendar=calendars,
    gaps=holds,
    priority=st.sampled_from(Priority),
    seconds=st.integers(0, 12 * 86400),
    micros=st.integers(0, 999_999),
    later=st.floats(0, 1, exclude_max=True),
    acked=st.booleans(),
    kind=st.sampled_from(["response", "resolution"]),
)
@example(  # a product of ``lasts`` and a fraction that rounds up to ``lasts`` itself
    calendar=None,
    gaps=[(0, 1)],
    priority=Priority.P1,
    seconds=900,
    micros=1,
    later=0.9999999999999998,
    acked=False,
    kind="response",
)
def test_a_reading_stays_while_steady_for_says_so(
    calendar: BusinessCalendar | None,
    gaps: list[tuple[int, int]],
    priority: Priority,
    seconds: int,
    micros: int,
    later: float,
    acked: bool,
    kind: str,
) -> None:
    """The queue repaints a row's SLA cell only when ``steady_for`` runs out: the reading
    must not change before (however the calendar and holds slow the clock), and without a
    calendar or holds it changes right at the end (the cell is never late)."""
    policy = SlaPolicy(calendar=calendar)
    base = fresh().model_copy(update={"priority": priority})
    if acked:
        base, _ = apply(base, Acknowledge(), "ana", T0 + timedelta(minutes=7))
    now = T0 + timedelta(seconds=seconds, microseconds=micros)
    _, intervals = with_holds(base, gaps, T0 + timedelta(days=13))
    item = base
    for a, b in intervals:
        if a > now or a < item.updated_at:
            break
        item, _ = apply(item, Hold(reason=HoldReason.AWAITING_CALLER), "ana", a)
        if b <= now:
            item, _ = apply(item, Resume(), "ana", b)
    clock = sla_clock(item, now, policy, kind)  # type: ignore[arg-type]
    lasts = steady_for(clock, policy)
    tick = timedelta(microseconds=1)
    if lasts is None:
        probes = [now + timedelta(hours=5)]
    else:  # any instant before ``now + lasts``, down to the last microsecond
        probes = [now + min(lasts * later, lasts - tick), now + lasts - tick] if lasts else []
    for probe in probes:
        again = sla_clock(item, probe, policy, kind)  # type: ignore[arg-type]
        assert (again.state, format_remaining(again)) == (clock.state, format_remaining(clock))
    if lasts is not None and calendar is None and item.on_hold_since is None:
        stopped = kind == "response" and item.acknowledged_at is not None
        if not stopped:
            after = sla_clock(item, now + lasts + tick, policy, kind)  # type: ignore[arg-type]
            assert (after.state, format_remaining(after)) != (
                clock.state,
                format_remaining(clock),
            )
