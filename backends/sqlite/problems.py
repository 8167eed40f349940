"""Problem records in the SQLite store (table ``problems``, migration 4).

Written through ``SqliteBackend.transaction()`` so each change is on the change feed
(``problem.created`` / ``problem.resolved``); the incident a problem is created from gets
its link through the lifecycle (``AddLink``), so the link is in its audit trail too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from backends.base import NotFound
from backends.common.incidents import link_problem
from backends.common.problems import new_problem, problem_title, resolved, waiting_for
from console.domain.models import Incident
from console.domain.problems import Problem, ProblemState

if TYPE_CHECKING:
    from backends.sqlite.store import SqliteBackend


async def create_problem(
    backend: SqliteBackend, from_incident_id: int, title: str, actor: str
) -> Problem:
    incident = await backend.get_incident(from_incident_id)
    title = problem_title(title)
    now = backend.clock.now()
    async with backend.transaction() as db:
        rows = list(await db.execute_fetchall("SELECT coalesce(max(id), 0) + 1 FROM problems"))
        problem = new_problem(int(rows[0][0]), title, incident, actor, now)
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
    done = resolved(await get_problem(backend, problem_id), actor, backend.clock.now())
    async with backend.transaction() as db:
        await db.execute(
            "UPDATE problems SET state = ?, data = ? WHERE id = ?",
            [done.state.value, done.model_dump_json(), done.id],
        )
        await backend.record_change(db, "problem.resolved", "problem", str(done.id))
    return done


async def waiting_for_problem(backend: SqliteBackend, problem_id: int) -> list[Incident]:
    return await waiting_for(backend, await get_problem(backend, problem_id))
