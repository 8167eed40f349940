"""Problem records (ITIL problem management), kept modest: pure models and rules, no I/O.

A problem is the underlying cause behind one or more incidents. It is created from an
incident (which gets linked to it), and resolving it is the moment to resolve the incidents
that were put on hold waiting for it (``HoldReason.AWAITING_PROBLEM`` and linked to the
problem): the backend lists them with ``waiting_for_problem`` and the UI asks before
resolving any.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, field_validator

from console.domain.limits import MAX_INT
from console.domain.models import HoldReason, Incident, Link, LinkKind, Model, Status, utc
from console.domain.text import Line


class ProblemState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Problem(Model):
    id: int
    key: str
    """``PRB-7``: what incidents link to."""
    title: str = Field(min_length=1, max_length=500)
    state: ProblemState = ProblemState.OPEN
    created_at: datetime
    created_by: str
    from_incident: str | None = None
    """The key of the incident it was created from."""
    resolved_at: datetime | None = None
    resolved_by: str | None = None

    @field_validator("created_at", "resolved_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return None if value is None else utc(value)


class NewProblem(Model):
    """What a person supplies to create a problem from an incident."""

    from_incident_id: int = Field(ge=0, le=MAX_INT)
    title: Annotated[Line, Field(min_length=1, max_length=500)]


def problem_key(problem_id: int) -> str:
    return f"PRB-{problem_id}"


def link_for(problem: Problem) -> Link:
    """The link an incident carries to ``problem``."""
    return Link(kind=LinkKind.PROBLEM, ref=problem.key, title=problem.title, state=problem.state)


def link_state(link: Link, problems: Mapping[str, Problem]) -> str:
    """What a link shows as its state: a problem's state now when the problem is known (a
    link keeps the state it was made with, and the problem moves on), else the stored one."""
    if link.kind == LinkKind.PROBLEM and link.ref in problems:
        return problems[link.ref].state.value
    return link.state


def links_to(incident: Incident, key: str) -> bool:
    return any(link.kind == LinkKind.PROBLEM and link.ref == key for link in incident.links)


def waiting_on(problem_key: str, incidents: Iterable[Incident]) -> list[Incident]:
    """Incidents on hold for a problem and linked to this one, oldest first."""
    return sorted(
        (
            incident
            for incident in incidents
            if incident.status == Status.ON_HOLD
            and incident.hold_reason == HoldReason.AWAITING_PROBLEM
            and links_to(incident, problem_key)
        ),
        key=lambda incident: (incident.created_at, incident.id),
    )
