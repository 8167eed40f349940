"""Problem records in the SQLite store (table ``problems``, migration 4).

Written through ``SqliteBackend.transaction()`` so each change is on the change feed
(``problem.created`` / ``problem.resolved``); the incident a problem is created from gets
its link through the lifecycle (``AddLink``), so the link is in its audit trail too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from backends.base import InvalidAction, NotFound
from backends.common.incidents import link_problem
from console.domain.models import Incident, IncidentQuery, Status
from console.domain.problems import Problem, ProblemState, problem_key, waiting_on
from console.domain.text import clean

if TYPE_CHECKING:
    from backends.sqlite.store import SqliteBackend


async def create_problem(
    backend: SqliteBackend, from_incident_id: int, title: str, actor: str
) -> Problem:
    incident = await backend.get_incident(from_incident_id)
    title = clean(title, limit=500).strip()
    if not title:
        raise InvalidAction("a problem needs a title; say what the underlying cause is")
    now = backend.clock.now()
    async with backend.transaction() as db:
        rows = list(await db.execute_fetchall("SELECT coalesce(max(id), 0) + 1 FROM problems"))
        problem_id = int(rows[0][0])
        problem = Problem(
            id=problem_id,
            key=problem_key(problem_id),
            title=title,
            created_at=now,
            created_by=actor,
            from_incident=incident.key,
        )
        await db.execute(
            "INSERT INTO problems (id, key, state, created_at, data) VALUES (?, ?, ?, ?, ?)",
            [
                problem.id,
                problem.key,
                problem.state.value,
                now.timestamp(),
                problem.model_dump_json(),
            ],
        )
        await backend.record_change(db, "problem.created", "problem", str(problem.id))
    await link_problem(backend, incident, problem, actor)
    return problem


async def problems(backend: SqliteBackend, state: ProblemState | None = None) -> list[Problem]:
    if state is None:
        rows = await backend.fetchall("SELECT data FROM problems ORDER BY id")
    else:
        rows = await backend.fetchall(
            "SELECT data FROM problems WHERE state = ? ORDER BY id", [state.value]
        )
    return [Problem.model_validate_json(row[0]) for row in rows]


async def get_problem(backend: SqliteBackend, ref: int | str) -> Problem:
    text = str(ref).strip().upper()
    column, value = ("id", int(text)) if text.isdigit() else ("key", text)
    rows = await backend.fetchall(f"SELECT data FROM problems WHERE {column} = ?", [value])
    if not rows:
        raise NotFound(f"there is no problem {ref}")
    return Problem.model_validate_json(rows[0][0])


async def resolve_problem(backend: SqliteBackend, problem_id: int, actor: str) -> Problem:
    problem = await get_problem(backend, problem_id)
    if problem.state == ProblemState.RESOLVED:
        raise InvalidAction(f"{problem.key} is already resolved")
    resolved = problem.model_copy(
        update={
            "state": ProblemState.RESOLVED,
            "resolved_at": backend.clock.now(),
            "resolved_by": actor,
        }
    )
    async with backend.transaction() as db:
        await db.execute(
            "UPDATE problems SET state = ?, data = ? WHERE id = ?",
            [resolved.state.value, resolved.model_dump_json(), resolved.id],
        )
        await backend.record_change(db, "problem.resolved", "problem", str(resolved.id))
    return resolved


async def waiting_for_problem(backend: SqliteBackend, problem_id: int) -> list[Incident]:
    problem = await get_problem(backend, problem_id)
    held = await backend.list_incidents(
        IncidentQuery(statuses=(Status.ON_HOLD,), sort="age", limit=100_000)
    )
    return waiting_on(problem.key, held)
