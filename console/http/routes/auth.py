"""``/v1/whoami`` and ``/v1/tokens``: who a token is, and managing tokens (admin)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import Field

from console.domain.text import Line
from console.http.deps import AsAdmin, AsViewer, TokensDep
from console.http.responses import Body

router = APIRouter(prefix="/v1", tags=["auth"])


class TokenCreate(Body):
    user: Annotated[Line, Field(min_length=1, max_length=64)]
    role: Literal["viewer", "responder", "admin"]
    name: Annotated[Line, Field(max_length=200)] = ""


class WhoAmI(Body):
    user: str
    role: str
    token_id: str


@router.get("/whoami", response_model=WhoAmI)
async def whoami(who: AsViewer) -> WhoAmI:
    return WhoAmI(user=who.user, role=who.role, token_id=who.token_id)


@router.get("/tokens")
async def list_tokens(who: AsAdmin, tokens: TokensDep) -> list[dict[str, object]]:
    return [info.as_json() for info in await tokens.list()]


@router.post("/tokens", status_code=201)
async def create_token(body: TokenCreate, who: AsAdmin, tokens: TokensDep) -> dict[str, object]:
    info, token = await tokens.create(body.user, body.role, body.name)
    return {**info.as_json(), "token": token}


@router.delete("/tokens/{token_id}")
async def revoke_token(token_id: str, who: AsAdmin, tokens: TokensDep) -> dict[str, object]:
    return (await tokens.revoke(token_id)).as_json()
