"""Who may call a route, and what a route is handed: typed dependencies.

Authentication is ``Authorization: Bearer <token>`` on every ``/v1`` route (see
``console.domain.tokens``). Each ``/v1`` route declares the least role it needs through one
of ``AsViewer`` / ``AsResponder`` / ``AsAdmin`` (a ``RoleGuard`` dependency), which the auth
test enumerates, so a new route without a guard fails that test. Every mutation's actor is
the token's user; an actor a client claims is never read.

Routes get the app's parts through ``StoreDep`` (the store wrapped so mutations wake the
change hub), ``RawStoreDep`` (the store itself), ``HubDep``, ``TokensDep``, ``SettingsDep``
and ``ClockDep``; ``console.http.app`` puts them on ``app.state``. Routes import this
module, never the app.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, BeforeValidator

from backends.base import Backend
from backends.capabilities import TokenStore
from console.domain.clock import Clock
from console.domain.config import Settings
from console.domain.limits import EARLIEST, LATEST, MAX_INT, in_range, parse_id
from console.domain.models import utc
from console.domain.tokens import ROLES, Principal
from console.http.change_stream import ChangeHub
from console.http.errors import ApiError, invalid

OPEN_PATHS = frozenset(
    {"/healthz", "/readyz", "/metrics", "/openapi.json", "/status", "/status.json"}
)
"""Routes that need no token: for load balancers and scrapers (they reveal only counts) and
the public status page (only what ``console.domain.status_page`` whitelists)."""

KEY_AUTH_PREFIX = "/v1/integrations/"
"""Routes under here take alerts and authenticate with integration keys, not user tokens
(``console.http.intake``)."""

_bearer = HTTPBearer(auto_error=False, description="a token from `incidents token create`")

_ROLE_DOES = {
    "viewer": "reading",
    "responder": "triage: acting on and creating incidents",
    "admin": "managing services, people, teams, policies, schedules and tokens",
}


class RoleGuard:
    """A dependency that authenticates the bearer token and requires at least ``role``."""

    def __init__(self, role: str) -> None:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        self.role = role

    def __repr__(self) -> str:
        return f"RoleGuard({self.role!r})"

    async def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        challenge = {"WWW-Authenticate": "Bearer"}
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise ApiError(
                401,
                "unauthorized",
                "no bearer token: send 'Authorization: Bearer <token>' "
                "(an admin creates one with `incidents token create`)",
                headers=challenge,
            )
        tokens: TokenStore = request.app.state.tokens
        principal = await tokens.verify(credentials.credentials)
        if principal is None:
            raise ApiError(
                401,
                "unauthorized",
                "the token is not valid (unknown, revoked or mistyped): ask an admin for a new one",
                headers=challenge,
            )
        if not principal.can(self.role):
            raise ApiError(
                403,
                "forbidden",
                f"{principal.user} is a {principal.role}; this needs the {self.role} role "
                f"({_ROLE_DOES[self.role]})",
                role=principal.role,
                needed=self.role,
            )
        request.state.principal = principal
        return principal


BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
"""The bearer credentials as sent, if any: for a route that checks a token only when its
setting says so (``/metrics``), by calling a guard itself."""

VIEWER = RoleGuard("viewer")
RESPONDER = RoleGuard("responder")
ADMIN = RoleGuard("admin")
AsViewer = Annotated[Principal, Depends(VIEWER)]
AsResponder = Annotated[Principal, Depends(RESPONDER)]
AsAdmin = Annotated[Principal, Depends(ADMIN)]


def _app_state(name: str) -> Callable[[Request], Any]:
    """A dependency that hands a route ``request.app.state.<name>``."""

    def get(request: Request) -> Any:
        return getattr(request.app.state, name)

    get.__name__ = f"app_state_{name}"
    return get


StoreDep = Annotated[Backend, Depends(_app_state("backend"))]
"""The store, wrapped so every mutation made through the server wakes the change hub."""
RawStoreDep = Annotated[Backend, Depends(_app_state("store"))]
"""The store itself (reads that must not go through the wrapper: the stream, probes)."""
HubDep = Annotated[ChangeHub, Depends(_app_state("hub"))]
TokensDep = Annotated[TokenStore, Depends(_app_state("tokens"))]
SettingsDep = Annotated[Settings, Depends(_app_state("settings"))]
ClockDep = Annotated[Clock, Depends(_app_state("clock"))]


# bounded inputs -------------------------------------------------------------------------------

IdPath = Annotated[int, Path(ge=0, le=MAX_INT, description="a numeric id")]
"""A numeric id in a path: anything past a 64-bit column is a 422, not a store crash."""
SeqQuery = Annotated[int, Query(ge=0, le=MAX_INT)]
"""A change seq or an offset in a query string."""

_ISO = re.compile(r"^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_only(value: Any) -> Any:
    # Pydantic would read "0.5" as a Unix timestamp; the spec says an ISO 8601 date-time.
    if isinstance(value, str) and not _ISO.match(value):
        raise ValueError("must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z")
    return value


def _bounded(value: datetime) -> datetime:
    value = utc(value) if value.tzinfo is None else value
    if not in_range(value):
        raise ValueError(
            f"must lie between {EARLIEST.date().isoformat()} and {LATEST.date().isoformat()}"
        )
    return utc(value)


Instant = Annotated[datetime, BeforeValidator(_iso_only), AfterValidator(_bounded)]
"""A date-time in a query string: ISO 8601 only, within ``limits.EARLIEST .. LATEST``."""


def incident_ref(ref: str, field: str = "path.ref") -> int | str:
    """``/incidents/{ref}``: an id (ASCII digits that fit a 64-bit column) or a key."""
    if ref.isascii() and ref.isdigit():
        number = parse_id(ref)
        if number is None:
            raise invalid(field, f"an incident id is at most {MAX_INT}")
        return number
    return ref


def required_role(route: Any) -> str | None:
    """The role a route's ``RoleGuard`` requires, ``None`` when it has none (open routes)."""
    dependant = getattr(route, "dependant", None)
    stack = list(dependant.dependencies) if dependant is not None else []
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, RoleGuard):
            return dep.call.role
        stack.extend(dep.dependencies)
    return None


def route_table(app: FastAPI) -> list[tuple[str, frozenset[str], Any]]:
    """``(path, methods, route)`` for every route, through included routers.

    The auth test walks this, so every route the app serves is checked.
    """
    try:
        from fastapi.routing import iter_route_contexts  # type: ignore[attr-defined]
    except ImportError:  # FastAPI before included-router contexts: routes are flat
        return [
            (route.path, frozenset(getattr(route, "methods", None) or ()), route)
            for route in app.routes
            if hasattr(route, "path")
        ]
    return [
        (str(ctx.path), frozenset(ctx.methods or ()), ctx.original_route)
        for ctx in iter_route_contexts(app.routes)
    ]
