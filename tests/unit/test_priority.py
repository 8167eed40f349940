"""The ITIL priority matrix and per-incident priority overrides."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from console.domain.lifecycle import InvalidTransition, SetPriority, apply
from console.domain.models import Incident, Priority, PriorityChoice, choose_priority, priority_for

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

MATRIX = {
    (1, 1): Priority.P1,
    (1, 2): Priority.P2,
    (1, 3): Priority.P3,
    (2, 1): Priority.P2,
    (2, 2): Priority.P3,
    (2, 3): Priority.P4,
    (3, 1): Priority.P3,
    (3, 2): Priority.P4,
    (3, 3): Priority.P5,
}


def incident(**changes: object) -> Incident:
    base = Incident(id=1, key="INC-1", title="t", service="web", created_at=T0, updated_at=T0)
    return base.model_copy(update=changes)


@pytest.mark.parametrize(("impact", "urgency"), sorted(MATRIX))
def test_every_cell_of_the_matrix(impact: int, urgency: int) -> None:
    assert priority_for(impact, urgency) == MATRIX[(impact, urgency)]


@pytest.mark.parametrize(
    ("impact", "urgency"), [(0, 1), (4, 1), (1, 0), (1, 4), (-1, 2), (True, 1), (1.0, 1)]
)
def test_invalid_impact_or_urgency_is_refused(impact: object, urgency: object) -> None:
    with pytest.raises(ValueError, match="impact and urgency must be 1, 2 or 3"):
        priority_for(impact, urgency)  # type: ignore[arg-type]


def test_priority_rank_round_trip_and_clamping() -> None:
    assert [p.rank for p in Priority] == [1, 2, 3, 4, 5]
    assert Priority.from_rank(0) == Priority.P1
    assert Priority.from_rank(9) == Priority.P5


def test_set_priority_follows_the_matrix() -> None:
    new, entries = apply(incident(), SetPriority(impact=1, urgency=1), "ana", T0)
    assert (new.impact, new.urgency, new.priority) == (1, 1, Priority.P1)
    assert new.priority_override is False
    assert entries[0].data == {"from": "P3", "to": "P1", "impact": 1, "urgency": 1}
    assert "P3 -> P1" in entries[0].message
    assert "overridden" not in entries[0].message


def test_explicit_priority_overrides_the_matrix() -> None:
    new, entries = apply(
        incident(), SetPriority(impact=3, urgency=3, priority=Priority.P1), "ana", T0
    )
    assert new.priority == Priority.P1
    assert (new.impact, new.urgency) == (3, 3)
    assert new.priority_override is True
    assert "overridden" in entries[0].message


def test_explicit_priority_equal_to_the_matrix_is_not_an_override() -> None:
    new, _ = apply(incident(), SetPriority(impact=1, urgency=2, priority=Priority.P2), "ana", T0)
    assert new.priority == Priority.P2
    assert new.priority_override is False


def test_matrix_change_clears_an_earlier_override() -> None:
    overridden = incident(priority=Priority.P1, priority_override=True, impact=3, urgency=3)
    new, _ = apply(overridden, SetPriority(impact=2, urgency=2), "ana", T0)
    assert new.priority == Priority.P3
    assert new.priority_override is False


@pytest.mark.parametrize("field", ["impact", "urgency"])
@pytest.mark.parametrize("value", [0, 4])
def test_set_priority_validates_its_levels(field: str, value: int) -> None:
    data = {"impact": 2, "urgency": 2, field: value}
    with pytest.raises(ValidationError):
        SetPriority(**data)  # type: ignore[arg-type]


def test_set_priority_is_refused_once_resolved() -> None:
    from console.domain.models import Status

    with pytest.raises(InvalidTransition, match="allowed now: close, reopen, note, link"):
        apply(incident(status=Status.RESOLVED), SetPriority(impact=1, urgency=1), "ana", T0)


def test_an_override_wins_over_the_matrix_and_one_equal_to_it_is_none() -> None:
    assert choose_priority(2, 2) == PriorityChoice(Priority.P3, Priority.P3)
    assert not choose_priority(2, 2).overridden
    chosen = choose_priority(3, 3, Priority.P1)
    assert (chosen.priority, chosen.matrix, chosen.overridden) == (Priority.P1, Priority.P5, True)
    assert not choose_priority(1, 1, Priority.P1).overridden
