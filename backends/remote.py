"""The backend contract over HTTP: a client of ``incidents serve`` (``console/server.py``).

- Every Protocol method is one request to ``/v1/...``; HTTP errors come back as the typed
  errors of ``backends.base`` (409 -> ``Conflict`` with the current version and what changed,
  404 -> ``NotFound``, 401 -> ``Unauthorized``, 403 -> ``Forbidden``, 413/422 ->
  ``InvalidAction``, connection failures and 5xx -> ``Unavailable``).
- Reads are retried on connection errors and 5xx (they are idempotent). Mutations are sent
  once: if the connection fails before the request is sent, the error says nothing was
  changed; if it fails after, it says the outcome is unknown. Nothing is ever queued to be
  sent later: an action while the server is unreachable fails at once with ``Unavailable``.
- ``watch()`` reads the server-sent event stream ``/v1/stream``. After a dropped connection
  it reconnects with exponential backoff and full jitter, sending ``Last-Event-ID`` = the
  last seq it yielded; the server replays everything after it, and the iterator skips any
  seq it has already yielded, so nothing is missed or repeated.
- ``connection`` says how the link is: ``connected``; ``reconnecting`` with the attempt
  number (the first ``offline_after`` attempts); then ``offline`` since the moment the link
  dropped. It changes as soon as a request or the stream fails or recovers; the console
  polls it once a second (see docs/interfaces.md).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from backends.base import (
    BackendError,
    Conflict,
    ConnectionState,
    Forbidden,
    InvalidAction,
    NotFound,
    Unauthorized,
    Unavailable,
)
from backends.capabilities import Capabilities
from console.domain.changes import ChangeEvent, NewChange
from console.domain.directory import DirectoryChanges
from console.domain.intake import Alert
from console.domain.kpis import Kpis
from console.domain.lifecycle import ACTION_ADAPTER, Action
from console.domain.models import (
    Change,
    EscalationPolicy,
    HistoryOrder,
    Incident,
    IncidentPage,
    IncidentQuery,
    NewIncident,
    Schedule,
    Service,
    Team,
    TimelineEntry,
    User,
)
from console.domain.presence import Presence
from console.domain.problems import Problem, ProblemState
from console.domain.status_page import StatusPage

_INCIDENTS = TypeAdapter(list[Incident])
_PROBLEMS = TypeAdapter(list[Problem])
_TIMELINE = TypeAdapter(list[TimelineEntry])
_ALERTS = TypeAdapter(list[Alert])
_CHANGES = TypeAdapter(list[Change])
_CHANGE_EVENTS = TypeAdapter(list[ChangeEvent])
_PRESENCE = TypeAdapter(list[Presence])
_SERVICES = TypeAdapter(list[Service])
_USERS = TypeAdapter(list[User])
_TEAMS = TypeAdapter(list[Team])
_POLICIES = TypeAdapter(list[EscalationPolicy])
_SCHEDULES = TypeAdapter(list[Schedule])


@dataclass(frozen=True, slots=True)
class Retry:
    """How the client retries and reconnects.

    ``attempts`` extra tries for reads (never for mutations). The delay before try *n* is
    drawn uniformly from ``[c/2, c]`` with ``c = min(max_delay, base_delay * 2**(n-1))``
    ("equal jitter"): exponential, never a tight loop, and many consoles reconnecting to a
    restarted server do not arrive in lock-step.
    """

    attempts: int = 2
    base_delay: float = 0.25
    max_delay: float = 5.0
    offline_after: int = 5
    """Reconnect attempts shown as ``reconnecting`` before the state becomes ``offline``."""

    def delay(self, attempt: int) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2 ** max(0, attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


def query_params(query: IncidentQuery) -> list[tuple[str, str]]:
    """``IncidentQuery`` -> the query string ``GET /v1/incidents`` reads."""
    params: list[tuple[str, str]] = []
    if not query.statuses:
        params.append(("status", "any"))
    params += [("status", status.value) for status in query.statuses]
    params += [("priority", priority.value) for priority in query.priorities]
    params += [("service", service) for service in query.services]
    params += [("assignee", assignee or "") for assignee in query.assignees]
    if query.text:
        params.append(("text", query.text))
    if query.breached is not None:
        params.append(("breached", "true" if query.breached else "false"))
    if query.resolved_since is not None:
        params.append(("resolved_since", query.resolved_since.isoformat()))
    if query.escalator_due:
        params.append(("escalator_due", "true"))
    params += [("key", key) for key in query.keys]
    params += [("service_prefix", prefix) for prefix in query.service_prefixes]
    params += [("term", term) for term in query.terms]
    params += [("sort", query.sort), ("limit", str(query.limit)), ("offset", str(query.offset))]
    return params


@dataclass(slots=True)
class Event:
    """One server-sent event."""

    id: str | None = None
    event: str = "message"
    data: str = ""


async def sse_events(lines: AsyncIterator[str]) -> AsyncIterator[Event]:
    """Parse an ``text/event-stream`` body (comments and ``retry`` lines are skipped)."""
    event = Event()
    data: list[str] = []
    async for line in lines:
        if not line:
            if data or event.id is not None:
                event.data = "\n".join(data)
                yield event
            event, data = Event(), []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            data.append(value)
        elif name == "id":
            event.id = value
        elif name == "event":
            event.event = value


class RemoteBackend:
    """The ``Backend`` contract against an ``incidents serve`` server."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = 10.0,
        retry: Retry | None = None,
        ping: float = 15.0,
        tokens: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """``tokens`` maps users to their own tokens for a client that acts for several
        people (a bot, a test harness): a mutation whose ``actor`` is in it is sent with that
        user's token. The server always records the token's user as the actor; an ``actor``
        without a token here is recorded as this client's own user."""
        self.url = url.rstrip("/")
        self.token = token
        self.tokens = dict(tokens or {})
        self.retry = retry or Retry()
        self.ping = ping
        self.timeout = timeout
        headers = {"Accept": "application/json", "User-Agent": "incident-console"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.AsyncClient(
            base_url=self.url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(3.0, timeout)),
            transport=transport,
        )
        self._state = ConnectionState(status="offline", detail="not connected yet")
        self._role = "viewer"
        self._user = ""
        self._watchers = 0
        self._closed = False
        self._listeners: list[Callable[[ConnectionState], None]] = []

    # identity and state ------------------------------------------------------------------
    @property
    def description(self) -> str:
        return self.url

    @property
    def connection(self) -> ConnectionState:
        return self._state

    @property
    def role(self) -> str:
        return self._role

    @property
    def user(self) -> str:
        """The token's user: the actor the server records for this client's mutations."""
        return self._user

    @property
    def capabilities(self) -> Capabilities:
        """A client of a server: it acts as the token's user; the server keeps intake,
        tokens and deliveries and runs the automation; change events and presence go
        through the server."""
        return Capabilities(identity=self, changes=self, presence=self)

    def on_connection(self, callback: Callable[[ConnectionState], None]) -> None:
        """Call ``callback(state)`` on every connection state change (besides polling)."""
        self._listeners.append(callback)

    def _set_state(self, state: ConnectionState) -> None:
        if state == self._state:
            return
        self._state = state
        for callback in list(self._listeners):
            callback(state)

    def _connected(self) -> None:
        if self._state.status != "connected":
            self._set_state(ConnectionState(status="connected"))

    def _failed(self, attempt: int, detail: str) -> None:
        since = self._state.since if not self._state.connected and self._state.since else None
        since = since or datetime.now(UTC)
        if attempt <= self.retry.offline_after:
            state = ConnectionState("reconnecting", attempt=attempt, since=since, detail=detail)
        else:
            state = ConnectionState("offline", attempt=attempt, since=since, detail=detail)
        self._set_state(state)

    async def open(self) -> RemoteBackend:
        """Check the server answers and the token is valid; learn the caller's user and role."""
        who = (await self._request("GET", "/v1/whoami")).json()
        self._user = str(who["user"])
        self._role = str(who["role"])
        self._connected()
        return self

    async def close(self) -> None:
        self._closed = True
        await self._client.aclose()

    async def __aenter__(self) -> RemoteBackend:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # requests ------------------------------------------------------------------------------
    def _headers_for(self, actor: str | None) -> dict[str, str] | None:
        token = self.tokens.get(actor) if actor is not None else None
        return {"Authorization": f"Bearer {token}"} if token else None

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        actor: str | None = None,
        what: str = "",
    ) -> httpx.Response:
        """One request with the retry policy: reads retry, mutations never resend."""
        mutation = method not in ("GET", "HEAD") and not path.endswith("/lookup")
        what = what or f"{method} {path}"
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._client.request(
                    method, path, json=json, params=params, headers=self._headers_for(actor)
                )
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # Nothing reached the server: safe to retry reads; a mutation fails now.
                detail = _reason(exc)
                self._note_failure(detail)
                if not mutation and attempt <= self.retry.attempts and not self._closed:
                    await asyncio.sleep(self.retry.delay(attempt))
                    continue
                raise Unavailable(
                    self._offline_message(what, detail, sent=False, mutation=mutation)
                ) from None
            except httpx.TransportError as exc:
                detail = _reason(exc)
                self._note_failure(detail)
                if not mutation and attempt <= self.retry.attempts and not self._closed:
                    await asyncio.sleep(self.retry.delay(attempt))
                    continue
                raise Unavailable(
                    self._offline_message(what, detail, sent=mutation, mutation=mutation)
                ) from None
            except RuntimeError as exc:  # the client was closed
                raise Unavailable(f"the connection to {self.url} is closed ({exc})") from None
            if response.status_code >= 500 and not mutation and attempt <= self.retry.attempts:
                await asyncio.sleep(self.retry.delay(attempt))
                continue
            if response.status_code < 500 and self._watchers == 0:
                # With a live stream, the stream decides "connected" (it also means "caught
                # up"); without one, any answer from the server does.
                self._connected()
            if response.is_success:
                return response
            raise _error(response, self.url)

    def _note_failure(self, detail: str) -> None:
        # With a live stream, the stream decides: a dead server drops it too, and one
        # failed request must not leave the state "reconnecting" while the stream is fine.
        if self._state.connected and self._watchers == 0:
            self._failed(1, detail)

    def _offline_message(self, what: str, detail: str, *, sent: bool, mutation: bool) -> str:
        state = self._state
        since = (
            f" (offline since {state.since:%H:%M})" if state.since and not state.connected else ""
        )
        if sent:
            return (
                f"lost the connection to {self.url} during {what}{since}: {detail}. The "
                "server may or may not have done it; look at the incident before trying again"
            )
        if not mutation:
            return (
                f"cannot reach the server at {self.url}{since}: {detail}. Is `incidents "
                "serve` running there?"
            )
        return (
            f"cannot reach the server at {self.url}{since}: {detail}. {what} was not sent "
            "and nothing changed; try again once the status line says connected"
        )

    async def _get(self, path: str, params: Any = None) -> httpx.Response:
        return await self._request("GET", path, params=params)

    # incidents -----------------------------------------------------------------------------
    async def list_incidents(self, query: IncidentQuery) -> list[Incident]:
        response = await self._get("/v1/incidents", query_params(query))
        return _INCIDENTS.validate_json(response.content)

    async def page_incidents(
        self, query: IncidentQuery, after: str | None = None, order: HistoryOrder = "newest"
    ) -> IncidentPage:
        params = [p for p in query_params(query) if p[0] not in ("sort", "offset")]
        params.append(("order", order))
        if after is not None:
            params.append(("after", after))
        response = await self._get("/v1/incidents/page", params)
        return IncidentPage.model_validate_json(response.content)

    async def count_incidents(self, query: IncidentQuery) -> int:
        response = await self._get("/v1/incidents/count", query_params(query))
        return int(response.json()["count"])

    async def get_incident(self, ref: int | str) -> Incident:
        text = str(ref).strip()
        if not text or "/" in text:
            raise NotFound(f"there is no incident {ref!r}")
        response = await self._get(f"/v1/incidents/{quote(text, safe='')}")
        return Incident.model_validate_json(response.content)

    async def get_incidents(self, ids: Sequence[int]) -> list[Incident]:
        if not ids:
            return []
        response = await self._request("POST", "/v1/incidents/lookup", json={"ids": list(ids)})
        return _INCIDENTS.validate_json(response.content)

    async def timeline(self, incident_id: int) -> list[TimelineEntry]:
        response = await self._get(f"/v1/incidents/{int(incident_id)}/timeline")
        return _TIMELINE.validate_json(response.content)

    async def alerts(self, incident_id: int) -> list[Alert]:
        """The alerts grouped into the incident (``GET /v1/incidents/{id}/alerts``)."""
        response = await self._get(f"/v1/incidents/{int(incident_id)}/alerts")
        return _ALERTS.validate_json(response.content)

    async def create_incident(self, new: NewIncident, actor: str) -> Incident:
        if _backfill(new):
            return (await self.create_incidents([new], actor))[0]
        response = await self._request(
            "POST",
            "/v1/incidents",
            json=new.model_dump(mode="json", exclude_unset=True),
            actor=actor,
            what=f"creating {new.title!r}",
        )
        return Incident.model_validate_json(response.content)

    async def create_incidents(self, batch: Sequence[NewIncident], actor: str) -> list[Incident]:
        if not batch:
            return []
        body = {"incidents": [new.model_dump(mode="json", exclude_unset=True) for new in batch]}
        # The server takes provenance (created_at, source, dedup_key) only on its audited
        # admin import path; anything else creates incidents as of now.
        path = "/v1/incidents/import" if any(_backfill(n) for n in batch) else "/v1/incidents/batch"
        response = await self._request(
            "POST",
            path,
            json=body,
            actor=actor,
            what=f"creating {len(batch)} incidents",
        )
        return _INCIDENTS.validate_json(response.content)

    async def act(
        self, incident_id: int, action: Action, actor: str, expected_version: int
    ) -> Incident:
        body = {
            "action": ACTION_ADAPTER.dump_python(action, mode="json"),
            "expected_version": expected_version,
        }
        response = await self._request(
            "POST",
            f"/v1/incidents/{int(incident_id)}/actions",
            json=body,
            actor=actor,
            what=f"the {action.kind} of incident {incident_id}",
        )
        return Incident.model_validate_json(response.content)

    # directory -----------------------------------------------------------------------------
    async def services(self) -> list[Service]:
        return _SERVICES.validate_json((await self._get("/v1/services")).content)

    async def users(self) -> list[User]:
        return _USERS.validate_json((await self._get("/v1/users")).content)

    async def teams(self) -> list[Team]:
        return _TEAMS.validate_json((await self._get("/v1/teams")).content)

    async def policies(self) -> list[EscalationPolicy]:
        return _POLICIES.validate_json((await self._get("/v1/policies")).content)

    async def schedules(self) -> list[Schedule]:
        return _SCHEDULES.validate_json((await self._get("/v1/schedules")).content)

    async def _put(self, kind: str, item: BaseModel) -> Any:
        item_id = str(getattr(item, "id"))  # noqa: B009 - every directory model has an id
        response = await self._request(
            "PUT",
            f"/v1/{kind}/{quote(item_id, safe='')}",
            json=item.model_dump(mode="json"),
            what=f"saving {kind[:-1]} {item_id!r}",
        )
        return type(item).model_validate_json(response.content)

    async def put_service(self, service: Service) -> Service:
        return await self._put("services", service)

    async def put_user(self, user: User) -> User:
        return await self._put("users", user)

    async def put_team(self, team: Team) -> Team:
        return await self._put("teams", team)

    async def put_policy(self, policy: EscalationPolicy) -> EscalationPolicy:
        return await self._put("policies", policy)

    async def put_schedule(self, schedule: Schedule) -> Schedule:
        return await self._put("schedules", schedule)

    async def apply_directory(self, changes: DirectoryChanges) -> None:
        await self._request(
            "POST",
            "/v1/directory",
            json=changes.model_dump(mode="json"),
            what="applying the directory",
        )

    # escalation ----------------------------------------------------------------------------
    async def paged_now(self, incident_id: int, at: datetime | None = None) -> list[str]:
        params = {"at": at.isoformat()} if at is not None else None
        response = await self._get(f"/v1/incidents/{int(incident_id)}/paged", params)
        return [str(user) for user in response.json()["users"]]

    # change feed ---------------------------------------------------------------------------
    async def stats(
        self,
        since: timedelta,
        *,
        service: str | None = None,
        team: str | None = None,
        now: datetime | None = None,
    ) -> Kpis:
        params: dict[str, str] = {"since": str(int(since.total_seconds()))}
        if service is not None:
            params["service"] = service
        if team is not None:
            params["team"] = team
        if now is not None:
            params["now"] = now.isoformat()
        response = await self._get("/v1/stats", params)
        return Kpis.model_validate_json(response.content)

    async def status_page(self, now: datetime | None = None) -> StatusPage:
        # The server's public page (no token needed there); ``now`` is for tests and history.
        params = {"now": now.isoformat()} if now is not None else None
        response = await self._get("/status.json", params)
        return StatusPage.model_validate_json(response.content)

    async def create_problem(self, from_incident_id: int, title: str, actor: str) -> Problem:
        body = {"from_incident_id": from_incident_id, "title": title}
        response = await self._request("POST", "/v1/problems", json=body, actor=actor)
        return Problem.model_validate_json(response.content)

    async def problems(self, state: ProblemState | None = None) -> list[Problem]:
        params = {"state": state.value} if state is not None else None
        response = await self._get("/v1/problems", params)
        return _PROBLEMS.validate_json(response.content)

    async def resolve_problem(self, problem_id: int, actor: str) -> Problem:
        response = await self._request(
            "POST", f"/v1/problems/{int(problem_id)}/resolve", actor=actor
        )
        return Problem.model_validate_json(response.content)

    async def waiting_for_problem(self, problem_id: int) -> list[Incident]:
        response = await self._get(f"/v1/problems/{int(problem_id)}/waiting")
        return _INCIDENTS.validate_json(response.content)

    # change events and presence --------------------------------------------------------
    async def record_change_event(self, change: NewChange, actor: str) -> ChangeEvent:
        response = await self._request(
            "POST",
            "/v1/change-events",
            json=change.model_dump(mode="json"),
            actor=actor,
            what=f"record a change on {change.service}",
        )
        return ChangeEvent.model_validate_json(response.content)

    async def change_events(
        self,
        *,
        services: Sequence[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 500,
    ) -> list[ChangeEvent]:
        if services is not None and not services:
            return []
        params: list[tuple[str, str]] = [("limit", str(limit))]
        params += [("service", service) for service in services or ()]
        if since is not None:
            params.append(("since", since.isoformat()))
        if until is not None:
            params.append(("until", until.isoformat()))
        response = await self._get("/v1/change-events", params)
        return _CHANGE_EVENTS.validate_json(response.content)

    async def announce(self, presence: Presence) -> None:
        await self._request(
            "PUT",
            f"/v1/presence/{quote(presence.console, safe='')}",
            json=presence.model_dump(mode="json"),
            what="announce presence",
        )

    async def leave(self, console: str) -> None:
        await self._request(
            "DELETE", f"/v1/presence/{quote(console, safe='')}", what="leave presence"
        )

    async def present(self) -> list[Presence]:
        return _PRESENCE.validate_json((await self._get("/v1/presence")).content)

    async def watch_presence(self) -> AsyncGenerator[list[Presence], None]:
        """Follow ``/v1/presence/stream`` (a snapshot each time it changes), reconnecting."""
        attempt = 0
        while not self._closed:
            try:
                timeout = httpx.Timeout(
                    self.timeout, connect=min(3.0, self.timeout), read=self.ping * 2 + 5
                )
                async with self._client.stream(
                    "GET",
                    "/v1/presence/stream",
                    params={"ping": self.ping},
                    headers={"Accept": "text/event-stream"},
                    timeout=timeout,
                ) as response:
                    if response.status_code != 200:
                        await response.aread()
                        raise _error(response, self.url)
                    attempt = 0
                    async for event in sse_events(response.aiter_lines()):
                        if event.event == "presence" and event.data:
                            yield _PRESENCE.validate_json(event.data)
            except (httpx.TransportError, Unavailable, ValidationError):
                pass
            except RuntimeError:
                return  # the client was closed under us
            if self._closed:
                return
            attempt += 1
            await asyncio.sleep(self.retry.delay(attempt))

    async def last_seq(self) -> int:
        return int((await self._get("/v1/changes/last")).json()["seq"])

    async def changes(self, since_seq: int, limit: int = 1000) -> list[Change]:
        response = await self._get("/v1/changes", {"since": since_seq, "limit": limit})
        return _CHANGES.validate_json(response.content)

    async def watch(self, since_seq: int | None = None) -> AsyncIterator[Change]:
        """Follow ``/v1/stream`` forever, reconnecting with backoff; ends when closed.

        Raises ``Unauthorized`` / ``Forbidden`` (retrying cannot help); every other failure
        is retried, and shows in ``connection`` meanwhile.
        """
        last = since_seq
        attempt = 0
        self._watchers += 1
        try:
            while not self._closed:
                try:
                    if last is None:
                        last = await self.last_seq()
                    async for change in self._stream(last):
                        if change is None:  # connected: the next failure starts afresh
                            attempt = 0
                            continue
                        if change.seq <= last:
                            continue  # replayed after a reconnect: already yielded
                        last = change.seq
                        yield change
                    detail = "the server closed the stream"
                except (httpx.TransportError, Unavailable) as exc:
                    detail = _reason(exc) if isinstance(exc, httpx.TransportError) else str(exc)
                except RuntimeError:
                    return  # the client was closed under us
                if self._closed:
                    return
                attempt += 1
                self._failed(attempt, detail)
                await asyncio.sleep(self.retry.delay(attempt))
        finally:
            self._watchers -= 1

    async def _stream(self, last: int) -> AsyncIterator[Change | None]:
        """The changes after ``last``, preceded by ``None`` once the stream is open."""
        timeout = httpx.Timeout(
            self.timeout, connect=min(3.0, self.timeout), read=self.ping * 2 + 5
        )
        headers = {"Last-Event-ID": str(last), "Accept": "text/event-stream"}
        async with self._client.stream(
            "GET", "/v1/stream", params={"ping": self.ping}, headers=headers, timeout=timeout
        ) as response:
            if response.status_code != 200:
                await response.aread()
                raise _error(response, self.url)
            # Headers arrived: the server is up and the replay after ``last`` follows first.
            self._connected()
            yield None
            async for event in sse_events(response.aiter_lines()):
                if event.event != "change" or not event.data:
                    continue
                try:
                    yield Change.model_validate_json(event.data)
                except ValidationError as exc:
                    raise Unavailable(f"the server sent a malformed change: {exc}") from None


def _backfill(new: NewIncident) -> bool:
    """Whether ``new`` says what only the system (or an admin's backfill) may say."""
    return new.created_at is not None or new.source != "manual" or new.dedup_key is not None


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        return f"connection refused or unreachable ({text})"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__})"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return f"the connection dropped ({text})"
    return text


def _error(response: httpx.Response, url: str) -> BackendError:
    """The typed error for an HTTP error response."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    status = response.status_code
    message = str(body.get("message") or f"HTTP {status} {response.reason_phrase}")
    if status == 401:
        return Unauthorized(f"the server at {url} needs a valid token (--token): {message}")
    if status == 403:
        return Forbidden(message)
    if status == 404:
        return NotFound(message)
    if status == 409:
        return Conflict(
            message,
            key=str(body.get("key", "")),
            expected_version=int(body.get("expected_version") or 0),
            current_version=int(body.get("current_version") or 0),
            changed=[str(item) for item in body.get("changed") or ()],
        )
    if status in (413, 422, 400):
        return InvalidAction(message)
    if status >= 500:
        return Unavailable(f"the server at {url} failed (HTTP {status}): {message}")
    return BackendError(message)


__all__ = ["Event", "RemoteBackend", "Retry", "query_params", "sse_events"]
