"""``incidents serve``: the backend contract over HTTP, with a live change stream.

One FastAPI app wraps a store backend (the SQLite store in production) and exposes every
method of ``backends.base.Backend`` under ``/v1``; ``backends/remote.py`` is its client.

Conventions (``docs/interfaces.md`` has the table of routes):

- Authentication: ``Authorization: Bearer <token>`` on every ``/v1`` route (see
  ``console.domain.tokens``). ``/healthz``, ``/readyz``, ``/metrics`` and ``/openapi.json`` are
  open: they are for load balancers and scrapers, and reveal only counts. Each ``/v1`` route
  declares the least role it needs with a ``RoleGuard`` dependency, which the auth test
  enumerates, so a new route without a guard fails that test.
- Every mutation's actor is the token's user; an actor a client claims is never read.
- Errors are JSON ``{"error": code, "message": text, ...}``:
  401 ``unauthorized`` / 403 ``forbidden`` (saying why), 404 ``not_found``,
  409 ``conflict`` (stale ``expected_version``; adds ``key``, ``expected_version``,
  ``current_version`` and ``changed``), 413 ``too_large``, 422 ``invalid_body`` (with
  ``fields``: where and what) or ``invalid_action`` (the lifecycle refused the move, e.g.
  acknowledging a resolved incident; adds ``allowed`` when known: 422 because the request
  is well-formed and current but not applicable, whereas 409 means "you aimed at an old
  version, look again"), 503 ``unavailable`` (the store is unreachable; nothing changed).
- ``GET /v1/stream`` is a server-sent event stream of the change feed: ``id`` is the change
  ``seq``, ``event: change``, ``data`` the ``Change`` as JSON. A reconnecting client sends
  ``Last-Event-ID`` (or ``?since=``) and gets everything after it, from memory or from the
  store, then live changes; ``: ping`` comment lines keep idle connections alive. Streams end
  when the server shuts down, so SIGTERM stops it within a second or two.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import time
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backends.base import Backend, BackendError, Conflict, InvalidAction
from backends.sqlite.tokens import TokenStore
from console.domain.clock import Clock, SystemClock
from console.domain.config import Settings
from console.domain.kpis import Kpis, ReportError, stats_window
from console.domain.lifecycle import Action, Escalate, InvalidTransition
from console.domain.models import (
    Change,
    EscalationPolicy,
    Incident,
    IncidentQuery,
    NewIncident,
    Priority,
    Schedule,
    Service,
    SortKey,
    Status,
    Team,
    TimelineEntry,
    User,
)
from console.domain.problems import NewProblem, Problem, ProblemState
from console.domain.sla import SlaState, active_clock
from console.domain.tokens import ROLES, Principal
from console.http.change_stream import ChangeHub, NotifyingBackend, follow
from console.http.metrics import RequestMetrics, gauge

log = logging.getLogger("incidents.server")

OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json"})
"""Routes that need no token (documented in the module docstring)."""

KEY_AUTH_PREFIX = "/v1/integrations/"
"""Routes under here take alerts and authenticate with integration keys, not user tokens
(``console/intake_api.py``)."""

STATUS_CODES = {
    "not_found": 404,
    "conflict": 409,
    "invalid_action": 422,
    "unavailable": 503,
    "forbidden": 403,
    "unauthorized": 401,
    "backend_error": 500,
}

_INCIDENTS = TypeAdapter(list[Incident])
_TIMELINE = TypeAdapter(list[TimelineEntry])
_CHANGES = TypeAdapter(list[Change])


# errors ------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error the API answers with on purpose: status, code, message and extra fields."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.extra = extra


class BodyTooLarge(HTTPException):
    """Raised from inside ``receive`` while a body streams in; FastAPI re-raises
    HTTPExceptions from body parsing, so it reaches the 413 handler intact."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


def error_json(status: int, code: str, message: str, headers=None, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, **extra}, status, headers=headers)


def _field_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    fields = []
    for item in errors:
        loc = [str(part) for part in item.get("loc", ())]
        fields.append(
            {
                "field": ".".join(loc) or "body",
                "message": item.get("msg", ""),
                "type": item.get("type", ""),
            }
        )
    return fields


def _describe_fields(fields: list[dict[str, Any]]) -> str:
    shown = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    more = f" (and {len(fields) - 5} more)" if len(fields) > 5 else ""
    return f"invalid request: {shown}{more}"


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_json(exc.status, exc.code, exc.message, exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = _field_errors(exc.errors())
        return error_json(422, "invalid_body", _describe_fields(fields), fields=fields)

    @app.exception_handler(ValidationError)
    async def _invalid_model(request: Request, exc: ValidationError) -> JSONResponse:
        fields = _field_errors(exc.errors())
        return error_json(422, "invalid_body", _describe_fields(fields), fields=fields)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = str(exc.detail)
        if exc.status_code == 404:
            message = f"no route {request.method} {request.url.path}: /openapi.json lists them"
        return error_json(exc.status_code, code, message, exc.headers)

    @app.exception_handler(InvalidTransition)
    async def _transition(request: Request, exc: InvalidTransition) -> JSONResponse:
        return error_json(422, "invalid_action", str(exc), key=exc.key, allowed=list(exc.allowed))

    @app.exception_handler(Conflict)
    async def _conflict(request: Request, exc: Conflict) -> JSONResponse:
        return error_json(
            409,
            "conflict",
            str(exc),
            key=exc.key,
            expected_version=exc.expected_version,
            current_version=exc.current_version,
            changed=list(exc.changed),
        )

    @app.exception_handler(BackendError)
    async def _backend(request: Request, exc: BackendError) -> JSONResponse:
        status = STATUS_CODES.get(exc.code, 500)
        headers = {"Retry-After": "1"} if status == 503 else None
        extra: dict[str, Any] = {}
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, InvalidTransition):
            extra = {"key": cause.key, "allowed": list(cause.allowed)}
        return error_json(status, exc.code, str(exc), headers, **extra)


# authentication ------------------------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False, description="a token from `incidents token create`")


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


_ROLE_DOES = {
    "viewer": "reading",
    "responder": "triage: acting on and creating incidents",
    "admin": "managing services, people, teams, policies, schedules and tokens",
}

VIEWER = RoleGuard("viewer")
RESPONDER = RoleGuard("responder")
ADMIN = RoleGuard("admin")
AsViewer = Annotated[Principal, Depends(VIEWER)]
AsResponder = Annotated[Principal, Depends(RESPONDER)]
AsAdmin = Annotated[Principal, Depends(ADMIN)]


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
        from fastapi.routing import iter_route_contexts
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


# request bodies ------------------------------------------------------------------------------


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ActRequest(Body):
    """An action on an incident, aimed at the version the caller saw."""

    action: Action
    expected_version: int = Field(ge=1)


class BatchCreate(Body):
    incidents: list[NewIncident] = Field(min_length=1, max_length=10_000)


class Lookup(Body):
    ids: list[int] = Field(max_length=10_000)


class TokenCreate(Body):
    user: str = Field(min_length=1, max_length=64)
    role: Literal["viewer", "responder", "admin"]
    name: str = Field(default="", max_length=200)


class WhoAmI(Body):
    user: str
    role: str
    token_id: str


class Count(Body):
    count: int


class Seq(Body):
    seq: int


class Paged(Body):
    users: list[str]


# middleware ----------------------------------------------------------------------------------


class Instrument:
    """Pure ASGI middleware: request metrics by route template, and the body size limit.

    Pure ASGI (not ``BaseHTTPMiddleware``) so streaming responses pass straight through.
    The limit is checked on ``Content-Length`` up front and on the bytes actually received,
    so a chunked body without a length cannot slip past it.
    """

    def __init__(self, app: ASGIApp, *, metrics: RequestMetrics, max_body: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        recorded = False

        def record() -> None:
            nonlocal recorded
            if recorded:
                return
            recorded = True
            route = scope.get("route")
            template = getattr(route, "path", None) or "(unmatched)"
            self.metrics.observe(scope["method"], template, status, time.perf_counter() - started)

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                record()
            await send(message)

        length = _content_length(scope)
        if length is not None and length > self.max_body:
            status = 413
            response = error_json(
                413,
                "too_large",
                f"the request body ({length} bytes) is larger than the limit of "
                f"{self.max_body} bytes",
            )
            await response(scope, receive, send_wrapper)
            return

        received = 0

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge(self.max_body)
            return message

        try:
            await self.app(scope, receive_limited, send_wrapper)
        finally:
            record()


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


# the app -------------------------------------------------------------------------------------


def _incidents_json(items: Sequence[Incident], status: int = 200) -> Response:
    return Response(_INCIDENTS.dump_json(list(items)), status, media_type="application/json")


def _model_json(model: BaseModel, status: int = 200) -> Response:
    return Response(model.model_dump_json(), status, media_type="application/json")


def _query(
    status: list[str] | None,
    priority: list[Priority] | None,
    service: list[str] | None,
    assignee: list[str] | None,
    text: str,
    breached: bool | None,
    resolved_since: datetime | None,
    sort: SortKey,
    limit: int,
    offset: int,
) -> IncidentQuery:
    data: dict[str, Any] = {"text": text, "sort": sort, "limit": limit, "offset": offset}
    if status:
        data["statuses"] = () if status == ["any"] else tuple(status)
    if priority:
        data["priorities"] = tuple(priority)
    if service:
        data["services"] = tuple(service)
    if assignee:
        data["assignees"] = tuple(a or None for a in assignee)
    if breached is not None:
        data["breached"] = breached
    if resolved_since is not None:
        data["resolved_since"] = resolved_since
    return IncidentQuery.model_validate(data)


def query_params(
    status: Annotated[
        list[str] | None,
        Query(description="repeatable; 'any' for every status (default: the open ones)"),
    ] = None,
    priority: Annotated[list[Priority] | None, Query(description="repeatable")] = None,
    service: Annotated[list[str] | None, Query(description="repeatable")] = None,
    assignee: Annotated[
        list[str] | None,
        Query(description="repeatable; an empty value selects unassigned incidents"),
    ] = None,
    text: Annotated[str, Query(max_length=500)] = "",
    breached: bool | None = None,
    resolved_since: datetime | None = None,
    sort: SortKey = "urgency",
    limit: Annotated[int, Query(ge=1, le=100_000)] = 500,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> IncidentQuery:
    if status and status != ["any"]:
        known = {s.value for s in Status}
        bad = [s for s in status if s not in known]
        if bad:
            raise ApiError(
                422,
                "invalid_body",
                f"unknown status {bad[0]!r}: use {', '.join(sorted(known))} or 'any'",
                fields=[{"field": "query.status", "message": "unknown status", "type": "enum"}],
            )
    return _query(
        status, priority, service, assignee, text, breached, resolved_since, sort, limit, offset
    )


QueryParams = Annotated[IncidentQuery, Depends(query_params)]


def _ref(ref: str) -> int | str:
    return int(ref) if ref.isdigit() else ref


def create_app(
    backend: Backend,
    settings: Settings,
    *,
    clock: Clock | None = None,
    tokens: TokenStore | None = None,
    poll: float = 0.25,
) -> FastAPI:
    """The HTTP API over ``backend``.

    ``tokens`` defaults to a ``TokenStore`` on ``backend`` (which must then be the SQLite
    store: it keeps the ``tokens`` table).
    The app's lifespan starts the change hub, the intake router's needs and the escalator
    (when ``console.services.escalator`` exists), and stops them again.
    """
    clock = clock or SystemClock()
    if tokens is None:
        if not hasattr(backend, "transaction"):
            raise ValueError("create_app needs a TokenStore for a backend other than SQLite")
        tokens = TokenStore(backend, clock=clock)  # type: ignore[arg-type]
    token_store = tokens
    hub = ChangeHub(backend, poll=poll)
    store = NotifyingBackend(backend, hub)
    metrics = RequestMetrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await hub.start()
        escalator = _start_escalator(store, clock)
        try:
            yield
        finally:
            hub.close()
            if escalator is not None:
                escalator.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await escalator
            await hub.stop()

    app = FastAPI(
        title="Incident Console API",
        version="1",
        summary="The incident store over HTTP: the backend contract, a live change stream, "
        "tokens and roles.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.backend = store
    app.state.store = backend
    app.state.settings = settings
    app.state.clock = clock
    app.state.tokens = token_store
    app.state.hub = hub
    app.state.metrics = metrics
    app.state.stop_streams = hub.close
    install_error_handlers(app)
    app.add_middleware(Instrument, metrics=metrics, max_body=settings.server.max_body_bytes)

    api = APIRouter(prefix="/v1")

    # who am I ------------------------------------------------------------------------------
    @api.get("/whoami", response_model=WhoAmI, tags=["auth"])
    async def whoami(who: AsViewer) -> WhoAmI:
        return WhoAmI(user=who.user, role=who.role, token_id=who.token_id)

    # incidents -----------------------------------------------------------------------------
    @api.get("/incidents", response_model=list[Incident], tags=["incidents"])
    async def list_incidents(query: QueryParams, who: AsViewer) -> Response:
        return _incidents_json(await store.list_incidents(query))

    @api.get("/incidents/count", response_model=Count, tags=["incidents"])
    async def count_incidents(query: QueryParams, who: AsViewer) -> Count:
        return Count(count=await store.count_incidents(query))

    @api.post("/incidents/lookup", response_model=list[Incident], tags=["incidents"])
    async def get_incidents(body: Lookup, who: AsViewer) -> Response:
        return _incidents_json(await store.get_incidents(body.ids))

    @api.post("/incidents", response_model=Incident, status_code=201, tags=["incidents"])
    async def create_incident(body: NewIncident, who: AsResponder) -> Response:
        return _model_json(await store.create_incident(body, who.user), 201)

    @api.post(
        "/incidents/batch", response_model=list[Incident], status_code=201, tags=["incidents"]
    )
    async def create_incidents(body: BatchCreate, who: AsResponder) -> Response:
        return _incidents_json(await store.create_incidents(body.incidents, who.user), 201)

    @api.get("/incidents/{ref}", response_model=Incident, tags=["incidents"])
    async def get_incident(ref: str, who: AsViewer) -> Response:
        return _model_json(await store.get_incident(_ref(ref)))

    @api.get(
        "/incidents/{incident_id}/timeline", response_model=list[TimelineEntry], tags=["incidents"]
    )
    async def timeline(incident_id: int, who: AsViewer) -> Response:
        entries = await store.timeline(incident_id)
        return Response(_TIMELINE.dump_json(entries), media_type="application/json")

    @api.post("/incidents/{incident_id}/actions", response_model=Incident, tags=["incidents"])
    async def act(incident_id: int, body: ActRequest, who: AsResponder) -> Response:
        action = body.action
        if isinstance(action, Escalate) and action.automatic:
            # "automatic" claims the escalator as the actor; over HTTP the actor is the
            # token's user, so the timeline says who really escalated.
            action = action.model_copy(update={"automatic": False})
        incident = await store.act(incident_id, action, who.user, body.expected_version)
        return _model_json(incident)

    @api.get("/incidents/{incident_id}/paged", response_model=Paged, tags=["incidents"])
    async def paged_now(incident_id: int, who: AsViewer, at: datetime | None = None) -> Paged:
        return Paged(users=await store.paged_now(incident_id, at))

    # KPIs (console.domain.kpis; the same numbers as the store's own stats) ----------------------
    @api.get("/stats", response_model=Kpis, tags=["reports"])
    async def stats(
        who: AsViewer,
        since: Annotated[str, Query(description="window: 24h, 7d, 30d or seconds")] = "7d",
        service: str | None = None,
        team: str | None = None,
        now: datetime | None = None,
    ) -> Response:
        try:
            window = stats_window(since)
        except ReportError as exc:
            raise InvalidAction(str(exc)) from None
        kpis = await store.stats(window, service=service, team=team, now=now)
        return Response(kpis.model_dump_json(), media_type="application/json")

    # problems (console/problems.py) -----------------------------------------------------
    @api.get("/problems", response_model=list[Problem], tags=["problems"])
    async def problems(who: AsViewer, state: ProblemState | None = None) -> list[Problem]:
        return await store.problems(state)

    @api.post("/problems", response_model=Problem, status_code=201, tags=["problems"])
    async def create_problem(body: NewProblem, who: AsResponder) -> Response:
        problem = await store.create_problem(body.from_incident_id, body.title, who.user)
        return _model_json(problem, 201)

    @api.post("/problems/{problem_id}/resolve", response_model=Problem, tags=["problems"])
    async def resolve_problem(problem_id: int, who: AsResponder) -> Problem:
        return await store.resolve_problem(problem_id, who.user)

    @api.get("/problems/{problem_id}/waiting", response_model=list[Incident], tags=["problems"])
    async def waiting_for_problem(problem_id: int, who: AsViewer) -> Response:
        return _incidents_json(await store.waiting_for_problem(problem_id))

    # directory -----------------------------------------------------------------------------
    _directory(api, store, "services", Service, "services", "put_service")
    _directory(api, store, "users", User, "users", "put_user")
    _directory(api, store, "teams", Team, "teams", "put_team")
    _directory(api, store, "policies", EscalationPolicy, "policies", "put_policy")
    _directory(api, store, "schedules", Schedule, "schedules", "put_schedule")

    # change feed ---------------------------------------------------------------------------
    @api.get("/changes", response_model=list[Change], tags=["changes"])
    async def changes(
        who: AsViewer,
        since: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    ) -> Response:
        items = await store.changes(since, limit)
        return Response(_CHANGES.dump_json(items), media_type="application/json")

    @api.get("/changes/last", response_model=Seq, tags=["changes"])
    async def last_seq(who: AsViewer) -> Seq:
        return Seq(seq=await store.last_seq())

    @api.get(
        "/stream",
        tags=["changes"],
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}, "description": "change events"}},
    )
    async def stream(
        who: AsViewer,
        since: Annotated[int | None, Query(ge=0, description="resume after this seq")] = None,
        ping: Annotated[
            float, Query(ge=0.5, le=300, description="seconds between keep-alives")
        ] = 15.0,
        last_event_id: Annotated[str | None, Header()] = None,
    ) -> StreamingResponse:
        start = since
        if last_event_id:
            if not last_event_id.strip().isdigit():
                raise ApiError(
                    422,
                    "invalid_body",
                    f"Last-Event-ID must be a change seq (a number), not {last_event_id!r}",
                    fields=[{"field": "header.last-event-id", "message": "not a number"}],
                )
            start = int(last_event_id)
        if start is None:
            start = await store.last_seq()
        return StreamingResponse(
            follow(hub, backend, start, ping),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    # tokens --------------------------------------------------------------------------------
    @api.get("/tokens", tags=["auth"])
    async def list_tokens(who: AsAdmin) -> list[dict[str, object]]:
        return [info.as_json() for info in await token_store.list()]

    @api.post("/tokens", status_code=201, tags=["auth"])
    async def create_token(body: TokenCreate, who: AsAdmin) -> dict[str, object]:
        info, token = await token_store.create(body.user, body.role, body.name)
        return {**info.as_json(), "token": token}

    @api.delete("/tokens/{token_id}", tags=["auth"])
    async def revoke_token(token_id: str, who: AsAdmin) -> dict[str, object]:
        return (await token_store.revoke(token_id)).as_json()

    app.include_router(api)
    _include_optional_routers(app)

    # open routes ---------------------------------------------------------------------------
    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"])
    async def readyz() -> Response:
        """Readiness: the store answers within two seconds."""
        try:
            seq = await asyncio.wait_for(backend.last_seq(), 2.0)
        except (BackendError, TimeoutError) as exc:
            message = str(exc) or "the store did not answer within 2 s"
            return error_json(503, "unavailable", f"not ready: {message}")
        return JSONResponse({"status": "ready", "last_seq": seq})

    @app.get("/metrics", response_class=PlainTextResponse, tags=["ops"])
    async def prometheus() -> PlainTextResponse:
        """Prometheus text format: open incidents, breaches, requests and latency."""
        lines = await _store_metrics(backend, settings, clock, hub)
        lines += metrics.render()
        return PlainTextResponse(
            "\n".join(lines) + "\n", media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    return app


def _directory(
    api: APIRouter, store: Any, name: str, model: type[BaseModel], getter: str, putter: str
) -> None:
    """``GET /v1/<name>`` (viewer) and ``PUT /v1/<name>/{id}`` (admin) for one directory kind."""
    adapter = TypeAdapter(list[model])  # type: ignore[valid-type]

    async def read(who: AsViewer) -> Response:
        return Response(
            adapter.dump_json(await getattr(store, getter)()), media_type="application/json"
        )

    async def write(item_id: str, body: model, who: AsAdmin) -> Response:  # type: ignore[valid-type]
        if body.id != item_id:  # type: ignore[attr-defined]
            raise ApiError(
                422,
                "invalid_body",
                f"the body's id {body.id!r} differs from the path's {item_id!r}",  # type: ignore[attr-defined]
                fields=[{"field": "body.id", "message": "must equal the id in the path"}],
            )
        saved = await getattr(store, putter)(body)
        return _model_json(saved)

    # ``from __future__ import annotations`` makes annotations strings that FastAPI would
    # resolve in this module's globals, where ``model`` is not: give it the real types.
    write.__annotations__ = {"item_id": str, "body": model, "who": AsAdmin, "return": Response}
    api.add_api_route(
        f"/{name}",
        read,
        methods=["GET"],
        response_model=list[model],  # type: ignore[valid-type]
        tags=["directory"],
        name=f"list_{name}",
    )
    api.add_api_route(
        f"/{name}/{{item_id}}",
        write,
        methods=["PUT"],
        response_model=model,
        tags=["directory"],
        name=f"put_{name}",
    )


async def _store_metrics(
    backend: Backend, settings: Settings, clock: Clock, hub: ChangeHub
) -> list[str]:
    incidents = await backend.list_incidents(IncidentQuery(limit=100_000))
    now = clock.now()
    by: dict[tuple[str, str], int] = {
        (p.value, s.value): 0 for p in Priority for s in Status if s.is_open
    }
    breached: dict[str, int] = {p.value: 0 for p in Priority}
    for incident in incidents:
        by[(incident.priority.value, incident.status.value)] += 1
        clock_state = active_clock(incident, now, settings.sla).state
        if (
            incident.response_breached
            or incident.resolution_breached
            or clock_state == SlaState.BREACHED
        ):
            breached[incident.priority.value] += 1
    lines = gauge(
        "incidents_open",
        "Open incidents by priority and status.",
        (({"priority": p, "status": s}, n) for (p, s), n in sorted(by.items())),
    )
    lines += gauge(
        "incidents_open_breached",
        "Open incidents that breached an SLA (response or resolution), by priority.",
        (({"priority": p}, n) for p, n in sorted(breached.items())),
    )
    lines += gauge(
        "incidents_change_seq", "The newest change feed sequence number.", [({}, hub.seq)]
    )
    lines += gauge("incidents_sse_streams", "Open server-sent event streams.", [({}, hub.streams)])
    return lines


def _include_optional_routers(app: FastAPI) -> None:
    """Routers that other modules contribute, included when the module exists.

    ``console.http.intake.router`` carries the alert intake routes (``/v1/integrations/...``),
    which authenticate with integration keys, not bearer tokens. A module that needs the
    store reads ``request.app.state.backend``, which pokes the change hub on mutations.
    """
    try:
        intake_api = importlib.import_module("console.http.intake")
    except ModuleNotFoundError as exc:
        if exc.name != "console.http.intake":
            raise
        return
    app.include_router(intake_api.router)


# incidents serve -----------------------------------------------------------------------------


__all__ = [
    "ApiError",
    "ChangeHub",
    "KEY_AUTH_PREFIX",
    "OPEN_PATHS",
    "RoleGuard",
    "create_app",
    "required_role",
    "route_table",
]


def _start_escalator(backend: Any, clock: Clock) -> asyncio.Task[Any] | None:
    """Run ``console.services.escalator.Escalator(backend, clock).run()`` for the server's lifetime."""
    try:
        from console.services.escalator import Escalator
    except ModuleNotFoundError as exc:
        if exc.name != "console.services.escalator":
            raise
        return None
    task = asyncio.create_task(Escalator(backend, clock).run(), name="escalator")
    task.add_done_callback(_report_escalator_end)
    return task


def _report_escalator_end(task: asyncio.Task[Any]) -> None:
    """The escalator runs forever; if it ever stops, the operator must hear about it."""
    if not task.cancelled() and task.exception() is not None:
        log.error("the automatic escalator stopped: %s", task.exception())
