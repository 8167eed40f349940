"""The domain models: validation, normalisation to UTC, durations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter, ValidationError

from console.domain.models import (
    DONE_STATUSES,
    OPEN_STATUSES,
    Duration,
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    Incident,
    IncidentQuery,
    NewIncident,
    Override,
    Pause,
    Rotation,
    Schedule,
    Status,
    TargetKind,
    TimelineEntry,
    parse_duration,
    utc,
)

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
PLUS2 = timezone(timedelta(hours=2))


def incident(**changes: object) -> Incident:
    data: dict[str, object] = {
        "id": 1,
        "key": "INC-1",
        "title": "t",
        "service": "web",
        "created_at": T0,
        "updated_at": T0,
    }
    data.update(changes)
    return Incident.model_validate(data)


def test_utc_treats_naive_as_utc_and_converts_aware() -> None:
    assert utc(datetime(2026, 1, 1, 12)) == datetime(2026, 1, 1, 12, tzinfo=UTC)
    converted = utc(datetime(2026, 1, 1, 12, tzinfo=PLUS2))
    assert converted.tzinfo == UTC and converted.hour == 10


def test_incident_times_are_normalised_to_utc() -> None:
    item = incident(
        created_at=datetime(2026, 1, 1, 12, tzinfo=PLUS2),
        acknowledged_at=datetime(2026, 1, 1, 12, 5),
    )
    assert item.created_at == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert item.created_at.tzinfo == UTC
    assert item.acknowledged_at == datetime(2026, 1, 1, 12, 5, tzinfo=UTC)


def test_models_are_frozen_and_refuse_unknown_fields() -> None:
    item = incident()
    with pytest.raises(ValidationError):
        item.status = Status.CLOSED  # type: ignore[misc]
    with pytest.raises(ValidationError, match="extra"):
        incident(colour="red")


@pytest.mark.parametrize("value", [0, 4])
def test_impact_and_urgency_levels_are_1_to_3(value: int) -> None:
    with pytest.raises(ValidationError):
        incident(impact=value)
    with pytest.raises(ValidationError):
        incident(urgency=value)


def test_status_sets_and_labels() -> None:
    assert OPEN_STATUSES | DONE_STATUSES == set(Status)
    assert not OPEN_STATUSES & DONE_STATUSES
    assert Status.ON_HOLD.is_open and not Status.RESOLVED.is_open
    assert Status.ACKNOWLEDGED.label == "ack"
    assert Status.ON_HOLD.label == "on hold"


def test_on_hold_since_is_the_open_pause() -> None:
    assert incident().on_hold_since is None
    closed = Pause(start=T0, end=T0 + timedelta(minutes=5))
    assert incident(pauses=(closed,)).on_hold_since is None
    opened = Pause(start=T0 + timedelta(minutes=9))
    assert incident(pauses=(closed, opened)).on_hold_since == T0 + timedelta(minutes=9)


def test_pause_times_are_normalised() -> None:
    pause = Pause(start=datetime(2026, 1, 1, 12, tzinfo=PLUS2), end=datetime(2026, 1, 1, 13))
    assert pause.start == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert pause.end == datetime(2026, 1, 1, 13, tzinfo=UTC)


def test_timeline_entry_time_is_aware() -> None:
    entry = TimelineEntry(
        incident_id=1,
        version=1,
        at=datetime(2026, 1, 1),
        actor="ana",
        kind="note",  # type: ignore[arg-type]
        message="m",
    )
    assert entry.at.tzinfo == UTC


def test_new_incident_limits() -> None:
    with pytest.raises(ValidationError):
        NewIncident(title="", service="web")
    with pytest.raises(ValidationError):
        NewIncident(title="x" * 501, service="web")
    with pytest.raises(ValidationError):
        NewIncident(title="x", service="")
    assert NewIncident(title="x", service="web").priority is None


def test_query_defaults_to_open_incidents_most_urgent_first() -> None:
    query = IncidentQuery()
    assert set(query.statuses) == OPEN_STATUSES
    assert query.sort == "urgency"
    with pytest.raises(ValidationError):
        IncidentQuery(limit=0)
    with pytest.raises(ValidationError):
        IncidentQuery(sort="colour")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", timedelta(minutes=15)),
        ("4h", timedelta(hours=4)),
        ("1h30m", timedelta(minutes=90)),
        ("1h 30m", timedelta(minutes=90)),
        ("3d", timedelta(days=3)),
        ("2w", timedelta(days=14)),
        ("90s", timedelta(seconds=90)),
        ("1.5h", timedelta(minutes=90)),
        ("PT15M", timedelta(minutes=15)),
        ("P3D", timedelta(days=3)),
        ("P1DT2H", timedelta(hours=26)),
        ("00:15:00", timedelta(minutes=15)),
        (900, timedelta(minutes=15)),
        (900.5, timedelta(seconds=900.5)),
    ],
)
def test_durations_accept_config_friendly_forms(text: object, expected: timedelta) -> None:
    assert TypeAdapter(Duration).validate_python(text) == expected


@pytest.mark.parametrize("text", ["15x", "m", "fifteen minutes", "15m garbage"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Duration).validate_python(text)


def test_parse_duration_passes_other_values_through() -> None:
    assert parse_duration(42) == 42
    assert parse_duration("PT1M") == "PT1M"


def test_escalation_models() -> None:
    level = EscalationLevel(
        targets=(EscalationTarget(kind=TargetKind.USER, id="ana"),),
        wait="5m",  # type: ignore[arg-type]
    )
    assert level.wait == timedelta(minutes=5)
    with pytest.raises(ValidationError):
        EscalationLevel(targets=())
    with pytest.raises(ValidationError):
        EscalationPolicy(id="p", name="p", levels=())
    with pytest.raises(ValidationError):
        EscalationPolicy(id="p", name="p", levels=(level,), repeat=10)


def test_rotation_validation() -> None:
    rotation = Rotation(users=("a",), start=datetime(2026, 1, 5, 9, tzinfo=PLUS2), shift="1d")  # type: ignore[arg-type]
    assert rotation.start == datetime(2026, 1, 5, 7, tzinfo=UTC)
    assert rotation.shift == timedelta(days=1)
    with pytest.raises(ValidationError, match="shift must be longer than zero"):
        Rotation(users=("a",), start=T0, shift=timedelta(0))
    with pytest.raises(ValidationError, match="hours of the day"):
        Rotation(users=("a",), start=T0, active_hours=(9, 25))
    with pytest.raises(ValidationError):
        Rotation(users=(), start=T0)
    assert Rotation(users=("a",), start=T0, active_hours=(22, 6)).active_hours == (22, 6)


def test_override_must_end_after_it_starts() -> None:
    with pytest.raises(ValidationError, match="end after it starts"):
        Override(user="a", start=T0, end=T0)
    override = Override(user="a", start=datetime(2026, 1, 1), end=datetime(2026, 1, 2))
    assert override.start.tzinfo == UTC


def test_schedule_needs_a_rotation() -> None:
    with pytest.raises(ValidationError):
        Schedule(id="s", name="s", rotations=())


def test_frozen_clock_moves_only_when_told() -> None:
    from console.domain.clock import FrozenClock, SystemClock

    clock = FrozenClock(datetime(2026, 1, 1, 12))
    assert clock.now() == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert clock.now() == clock.now()
    assert clock.advance(90) == datetime(2026, 1, 1, 12, 1, 30, tzinfo=UTC)
    assert clock.advance(timedelta(hours=1)) == datetime(2026, 1, 1, 13, 1, 30, tzinfo=UTC)
    clock.set(datetime(2026, 1, 1, 12, tzinfo=PLUS2))
    assert clock.now() == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert SystemClock().now().tzinfo == UTC
