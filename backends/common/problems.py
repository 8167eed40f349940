"""What every store does the same way with problem records: the title rule, building a new
problem from the incident it comes from, the resolve rule, and which incidents wait for it.

A store only numbers the problem, writes the row and records ``problem.created`` /
``problem.resolved`` on its change feed, inside its own write transaction.
"""

from __future__ import annotations

from datetime import datetime

from backends.base import Backend, InvalidAction
from console.domain.models import Incident, IncidentQuery, Status
from console.domain.problems import Problem, ProblemState, problem_key, waiting_on
from console.domain.text import clean


def problem_title(title: str) -> str:
    """The title as stored (cleaned, at most 500 characters); refused when nothing is left."""
    title = clean(title, limit=500).strip()
    if not title:
        raise InvalidAction("a problem needs a title; say what the underlying cause is")
    return title


def new_problem(
    problem_id: int, title: str, incident: Incident, actor: str, now: datetime
) -> Problem:
    """Problem ``problem_id`` (``title`` already checked by ``problem_title``), created from
    ``incident``."""
    return Problem(
        id=problem_id,
        key=problem_key(problem_id),
        title=title,
        created_at=now,
        created_by=actor,
        from_incident=incident.key,
    )


def resolved(problem: Problem, actor: str, now: datetime) -> Problem:
    """``problem`` resolved by ``actor``; a problem already resolved is refused."""
    if problem.state == ProblemState.RESOLVED:
        raise InvalidAction(f"{problem.key} is already resolved")
    return problem.model_copy(
        update={"state": ProblemState.RESOLVED, "resolved_at": now, "resolved_by": actor}
    )


async def waiting_for(backend: Backend, problem: Problem) -> list[Incident]:
    """The incidents on hold for ``problem`` and linked to it, oldest first."""
    held = await backend.list_incidents(
        IncidentQuery(statuses=(Status.ON_HOLD,), sort="age", limit=100_000)
    )
    return waiting_on(problem.key, held)
