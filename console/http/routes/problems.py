"""``/v1/problems``: list, create from an incident, resolve, the incidents waiting for one."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from console.domain.models import Incident
from console.domain.problems import NewProblem, Problem, ProblemState
from console.http.deps import AsResponder, AsViewer, IdPath, StoreDep
from console.http.responses import incidents_json, model_json

router = APIRouter(prefix="/v1/problems", tags=["problems"])


@router.get("", response_model=list[Problem])
async def problems(
    who: AsViewer, store: StoreDep, state: ProblemState | None = None
) -> list[Problem]:
    return await store.problems(state)


@router.post("", response_model=Problem, status_code=201)
async def create_problem(body: NewProblem, who: AsResponder, store: StoreDep) -> Response:
    problem = await store.create_problem(body.from_incident_id, body.title, who.user)
    return model_json(problem, 201)


@router.post("/{problem_id}/resolve", response_model=Problem)
async def resolve_problem(problem_id: IdPath, who: AsResponder, store: StoreDep) -> Problem:
    return await store.resolve_problem(problem_id, who.user)


@router.get("/{problem_id}/waiting", response_model=list[Incident])
async def waiting_for_problem(problem_id: IdPath, who: AsViewer, store: StoreDep) -> Response:
    return incidents_json(await store.waiting_for_problem(problem_id))
