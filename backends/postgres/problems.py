"""Problem records in the PostgreSQL store (table ``problems``), written like the SQLite
store's: each change on the change feed, the incident linked through the lifecycle."""

from __future__ import annotations

from typing import TYPE_CHECKING

from backends.base import NotFound
from backends.common.incidents import link_problem
from backends.common.problems import new_problem, problem_title, resolved, waiting_for
from console.domain.models import Incident
from console.domain.problems import Problem, ProblemState

if TYPE_CHECKING:
    from backends.postgres.store import PostgresBackend


async def create_problem(
    backend: PostgresBackend, from_incident_id: int, title: str, actor: str
) -> Problem:
    incident = await backend.get_incident(from_incident_id)
    title = problem_title(title)
    now = backend.clock.now()
    async with backend.transaction() as tx:
        [problem_id] = await tx.ids("problems_id_seq", 1)
        problem = new_problem(problem_id, title, incident, actor, now)
        await tx.execute(
            "INSERT INTO problems (id, key, state, created_at, data) VALUES ($1, $2, $3, $4, $5)",
            problem.id,
            problem.key,
            problem.state.value,
            now.timestamp(),
            problem.model_dump_json(),
        )
        tx.record_change("problem.created", "problem", str(problem.id))
    await link_problem(backend, incident, problem, actor)
    return problem


async def problems(backend: PostgresBackend, state: ProblemState | None = None) -> list[Problem]:
    if state is None:
        rows = await backend.fetch("SELECT data FROM problems ORDER BY id")
    else:
        rows = await backend.fetch(
            "SELECT data FROM problems WHERE state = $1 ORDER BY id", state.value
        )
    return [Problem.model_validate_json(row["data"]) for row in rows]


async def get_problem(backend: PostgresBackend, ref: int | str) -> Problem:
    text = str(ref).strip().upper()
    if text.isdigit():
        rows = await backend.fetch("SELECT data FROM problems WHERE id = $1", int(text))
    else:
        rows = await backend.fetch("SELECT data FROM problems WHERE key = $1", text)
    if not rows:
        raise NotFound(f"there is no problem {ref}")
    return Problem.model_validate_json(rows[0]["data"])


async def resolve_problem(backend: PostgresBackend, problem_id: int, actor: str) -> Problem:
    async with backend.transaction() as tx:
        rows = await tx.fetch("SELECT data FROM problems WHERE id = $1 FOR UPDATE", problem_id)
        if not rows:
            raise NotFound(f"there is no problem {problem_id}")
        problem = Problem.model_validate_json(rows[0]["data"])
        done = resolved(problem, actor, backend.clock.now())
        await tx.execute(
            "UPDATE problems SET state = $1, data = $2 WHERE id = $3",
            done.state.value,
            done.model_dump_json(),
            done.id,
        )
        tx.record_change("problem.resolved", "problem", str(done.id))
    return done


async def waiting_for_problem(backend: PostgresBackend, problem_id: int) -> list[Incident]:
    return await waiting_for(backend, await get_problem(backend, problem_id))
