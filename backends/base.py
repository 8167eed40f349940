"""The backend contract: one async Protocol that every store and transport implements.

The console, the server and the tests talk only to this. Implementations: ``sqlite`` (the
embedded default) and ``remote`` (the project's own HTTP server). One contract test suite
(tests/contract) runs against every implementation.

Errors are typed so callers can tell a user what happened and what to do:

- ``NotFound``: no such incident / service / user.
- ``Conflict``: the incident changed since the version the caller saw; carries the current
  version and a short description of what changed.
- ``InvalidAction``: the lifecycle refused the move (wraps ``InvalidTransition``), or the
  input is invalid (an unknown service, assignee or policy).
- ``Unavailable``: the store cannot be reached (locked database, dropped connection,
  server down). Nothing was changed; retrying later is safe.
- ``Forbidden``: the caller's role does not allow this.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol, runtime_checkable

from backends.capabilities import Capabilities
from console.domain.directory import DirectoryChanges
from console.domain.intake import Alert
from console.domain.kpis import Kpis
from console.domain.lifecycle import Action
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
from console.domain.problems import Problem, ProblemState
from console.domain.status_page import StatusPage


@dataclass(frozen=True, slots=True)
class ConnectionState:
    """How a backend is connected, for the console's status line.

    A local store is always ``connected``; a remote one may be ``reconnecting`` (with the
    attempt number) or ``offline`` since a time, during which its data on screen is stale.
    """

    status: Literal["connected", "reconnecting", "offline"] = "connected"
    attempt: int = 0
    since: datetime | None = None
    detail: str = ""

    @property
    def connected(self) -> bool:
        return self.status == "connected"


class BackendError(Exception):
    """Base of every error a backend raises on purpose."""

    code = "backend_error"


class NotFound(BackendError):
    code = "not_found"


class Conflict(BackendError):
    """The incident's version is not the one the caller aimed at."""

    code = "conflict"

    def __init__(
        self,
        message: str,
        *,
        key: str = "",
        expected_version: int = 0,
        current_version: int = 0,
        changed: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.key = key
        self.expected_version = expected_version
        self.current_version = current_version
        self.changed = tuple(changed)


class InvalidAction(BackendError):
    code = "invalid_action"


class Unavailable(BackendError):
    code = "unavailable"


class Forbidden(BackendError):
    code = "forbidden"


class Unauthorized(BackendError):
    code = "unauthorized"


@runtime_checkable
class Backend(Protocol):
    """What the console needs from a store. Every method may raise ``Unavailable``."""

    @property
    def description(self) -> str:
        """Where the data lives, for status lines (a path or a URL)."""
        ...

    @property
    def connection(self) -> ConnectionState:
        """The connection state now (always connected for a local store)."""
        ...

    @property
    def role(self) -> str:
        """What the caller may do: ``viewer``, ``responder`` or ``admin``."""
        ...

    @property
    def capabilities(self) -> Capabilities:
        """What this backend can do beyond the contract (``backends.capabilities``)."""
        ...

    async def close(self) -> None: ...

    # incidents -----------------------------------------------------------------------------
    async def list_incidents(self, query: IncidentQuery) -> list[Incident]:
        """Incidents matching ``query``, sorted by ``query.sort`` (``urgency``: breached
        first, then priority, then SLA time left)."""
        ...

    async def count_incidents(self, query: IncidentQuery) -> int: ...

    async def page_incidents(
        self, query: IncidentQuery, after: str | None = None, order: HistoryOrder = "newest"
    ) -> IncidentPage:
        """One page of the history: up to ``query.limit`` incidents matching ``query`` (any
        status it names: resolved and closed ones too), by id (the order they were
        recorded), newest or oldest first, after the cursor ``after`` (the previous page's
        ``next``; ``None`` for the first page). ``query.sort`` and ``offset`` are not used.

        Keyset paging, not OFFSET: a page deep in a million incidents costs what the first
        does, and incidents recorded meanwhile never shift the pages already read.
        ``InvalidAction`` for a cursor this backend did not hand out."""
        ...

    async def get_incident(self, ref: int | str) -> Incident:
        """One incident by id or key (``INC-1042``); ``NotFound`` if there is none."""
        ...

    async def get_incidents(self, ids: Sequence[int]) -> list[Incident]:
        """The incidents with these ids that exist (any status), in no particular order."""
        ...

    async def timeline(self, incident_id: int) -> list[TimelineEntry]:
        """The incident's timeline, oldest first."""
        ...

    async def alerts(self, incident_id: int) -> list[Alert]:
        """The monitoring alerts grouped into the incident (``console.domain.intake.Alert``),
        oldest first; empty for an incident opened by hand."""
        ...

    async def create_incident(self, new: NewIncident, actor: str) -> Incident: ...

    async def create_incidents(self, batch: Sequence[NewIncident], actor: str) -> list[Incident]:
        """Create many incidents in one transaction (all or nothing)."""
        ...

    async def act(
        self, incident_id: int, action: Action, actor: str, expected_version: int
    ) -> Incident:
        """Apply ``action`` if the incident is still at ``expected_version``.

        Raises ``Conflict`` (stale version, naming what changed), ``InvalidAction`` (the
        lifecycle refuses), ``NotFound``.
        """
        ...

    # directory -----------------------------------------------------------------------------
    async def services(self) -> list[Service]: ...

    async def users(self) -> list[User]: ...

    async def teams(self) -> list[Team]: ...

    async def policies(self) -> list[EscalationPolicy]: ...

    async def schedules(self) -> list[Schedule]: ...

    async def put_service(self, service: Service) -> Service: ...

    async def put_user(self, user: User) -> User: ...

    async def put_team(self, team: Team) -> Team: ...

    async def put_policy(self, policy: EscalationPolicy) -> EscalationPolicy: ...

    async def put_schedule(self, schedule: Schedule) -> Schedule: ...

    async def apply_directory(self, changes: DirectoryChanges) -> None:
        """Write a planned directory change (``console.domain.directory.plan``) in one
        transaction: all of it or none. ``InvalidAction`` (nothing written) when an open
        incident still uses a service, person or policy being removed, naming the
        incidents; ``Forbidden`` unless the caller is an admin (a responder may send
        changes that only add ``overrides``, recorded as theirs). Each entry written or
        removed appears on the change feed as ``<kind>.updated`` / ``<kind>.removed``."""
        ...

    # escalation ----------------------------------------------------------------------------
    async def paged_now(self, incident_id: int, at: datetime | None = None) -> list[str]:
        """Who the incident's current escalation level pages at ``at`` (default: now)."""
        ...

    # change feed ---------------------------------------------------------------------------
    async def last_seq(self) -> int:
        """The newest change sequence number (0 for an empty store)."""
        ...

    async def changes(self, since_seq: int, limit: int = 1000) -> list[Change]:
        """Changes with ``seq > since_seq``, in order."""
        ...

    def watch(self, since_seq: int | None = None) -> AsyncIterator[Change]:
        """Yield changes as they happen, from ``since_seq`` (default: from now), forever.

        Nothing is missed and nothing is yielded twice; after a dropped connection the
        iterator resumes from the last sequence it yielded.
        """
        ...

    # KPIs ------------------------------------------------------------------------------------
    async def stats(
        self,
        since: timedelta,
        *,
        service: str | None = None,
        team: str | None = None,
        now: datetime | None = None,
    ) -> Kpis:
        """KPIs for the window ``[now - since, now]`` (default ``now``: the backend's clock),
        computed with ``console.domain.kpis.compute_kpis`` so every backend gives the same numbers.
        ``team`` selects the services of that team."""
        ...

    # problems --------------------------------------------------------------------------------
    async def create_problem(self, from_incident_id: int, title: str, actor: str) -> Problem:
        """A problem record created from an incident, which gets linked to it."""
        ...

    async def problems(self, state: ProblemState | None = None) -> list[Problem]: ...

    async def resolve_problem(self, problem_id: int, actor: str) -> Problem:
        """Mark the problem resolved (``InvalidAction`` if it already is)."""
        ...

    async def waiting_for_problem(self, problem_id: int) -> list[Incident]:
        """Incidents on hold awaiting a problem and linked to this one: what resolving it
        offers to resolve too (the caller asks, then resolves each with ``act``)."""
        ...

    # the public status page ------------------------------------------------------------------
    async def status_page(self, now: datetime | None = None) -> StatusPage:
        """The public status page at ``now`` (default: the backend's clock), built with
        ``console.domain.status_page.build_status_page``: only whitelisted public fields."""
        ...
