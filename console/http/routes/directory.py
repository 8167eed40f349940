"""The directory: ``GET /v1/<kind>`` (viewer) and ``PUT /v1/<kind>/{id}`` (admin) for
services, users, teams, escalation policies and on-call schedules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, TypeAdapter

from backends.base import Backend
from console.domain.directory import DirectoryChanges
from console.domain.models import EscalationPolicy, Schedule, Service, Team, User
from console.domain.text import clean
from console.http.deps import AsAdmin, AsResponder, AsViewer, StoreDep
from console.http.errors import ApiError
from console.http.responses import json_response, model_json

router = APIRouter(prefix="/v1", tags=["directory"])


def _kind(
    name: str,
    model: type[BaseModel],
    read_all: Callable[[Backend], Awaitable[Sequence[Any]]],
    put: Callable[[Backend, Any], Awaitable[BaseModel]],
) -> None:
    adapter = TypeAdapter(list[model])  # type: ignore[valid-type]

    async def read(who: AsViewer, store: StoreDep) -> Response:
        return json_response(adapter.dump_json(list(await read_all(store))))

    async def write(item_id: str, body: Any, who: AsAdmin, store: StoreDep) -> Response:
        if body.id != clean(item_id):  # the body's id is cleaned as it is read
            raise ApiError(
                422,
                "invalid_body",
                f"the body's id {body.id!r} differs from the path's {item_id!r}",
                fields=[{"field": "body.id", "message": "must equal the id in the path"}],
            )
        return model_json(await put(store, body))

    # ``from __future__ import annotations`` makes annotations strings that FastAPI would
    # resolve in this module's globals, where ``model`` is not: give it the real types.
    read.__annotations__ = {"who": AsViewer, "store": StoreDep, "return": Response}
    write.__annotations__ = {
        "item_id": str,
        "body": model,
        "who": AsAdmin,
        "store": StoreDep,
        "return": Response,
    }
    router.add_api_route(
        f"/{name}",
        read,
        methods=["GET"],
        response_model=list[model],  # type: ignore[valid-type]
        name=f"list_{name}",
    )
    router.add_api_route(
        f"/{name}/{{item_id}}",
        write,
        methods=["PUT"],
        response_model=model,
        name=f"put_{name}",
    )


_kind("services", Service, lambda s: s.services(), lambda s, item: s.put_service(item))
_kind("users", User, lambda s: s.users(), lambda s, item: s.put_user(item))
_kind("teams", Team, lambda s: s.teams(), lambda s, item: s.put_team(item))
_kind("policies", EscalationPolicy, lambda s: s.policies(), lambda s, item: s.put_policy(item))
_kind("schedules", Schedule, lambda s: s.schedules(), lambda s, item: s.put_schedule(item))


@router.post("/directory", status_code=204, name="apply_directory")
async def apply_directory(body: DirectoryChanges, who: AsResponder, store: StoreDep) -> Response:
    """A planned directory change (``incidents directory apply``, admins), in one
    transaction. Responders may only add on-call overrides, recorded as theirs."""
    if not who.can("admin"):
        if not body.only_overrides:
            raise ApiError(
                403,
                "forbidden",
                f"{who.user} is a {who.role}; changing the directory needs the admin role "
                "(a responder may only add on-call overrides)",
                role=who.role,
                needed="admin",
            )
        body = body.model_copy(
            update={
                "overrides": tuple(
                    o.model_copy(
                        update={"override": o.override.model_copy(update={"by": who.user})}
                    )
                    for o in body.overrides
                )
            }
        )
    await store.apply_directory(body)
    return Response(status_code=204)
