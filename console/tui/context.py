"""What screens and widgets may use of the App: the typed ``ConsoleContext`` Protocol.

Screens and widgets never import ``console.tui.app`` (an import-linter contract checks it):
they reach the console through ``context(self)``, typed as this Protocol, and use the
Textual ``App`` API (``push_screen``, ``run_worker``, ``notify``) through ``self.app`` as
any Textual widget does. ``IncidentApp`` is checked against the Protocol in ``app.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, cast

from backends.base import Backend
from console.domain.changes import ChangeEvent
from console.domain.clock import Clock
from console.domain.config import Settings
from console.domain.escalation import on_call
from console.domain.models import EscalationPolicy, Incident, Schedule, Service, Team, User
from console.domain.problems import Problem
from console.domain.rows import IncidentRow

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from console.tui.presence import PresenceKeeper
    from widgets.queue_model import SlaTracker


class Directory:
    """People, teams, services, escalation policies and schedules, refreshed on change."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.users: list[User] = []
        self.teams: list[Team] = []
        self.services: list[Service] = []
        self.policies: list[EscalationPolicy] = []
        self.schedules: list[Schedule] = []

    async def load(self, backend: Backend) -> None:
        self.users = await backend.users()
        self.teams = await backend.teams()
        self.services = await backend.services()
        self.policies = await backend.policies()
        self.schedules = await backend.schedules()

    def on_call_now(self) -> set[str]:
        now = self._clock.now()
        return {user for s in self.schedules if (user := on_call(s, now)) is not None}

    def user_name(self, user_id: str | None) -> str:
        for user in self.users:
            if user.id == user_id:
                return user.name
        return user_id or ""


class TriageRunner(Protocol):
    """``screens.triage.Triage`` as the screens see it."""

    async def run(self, action_id: str, targets: Sequence[Incident | IncidentRow]) -> None:
        """Ask, confirm, act and report ``action_id`` over ``targets`` (from a worker);
        rows are read in full at the versions they show (``ConsoleContext.as_shown``)."""


class ConsoleContext(Protocol):
    """The console state and services every screen shares (see docs/interfaces.md)."""

    backend: Backend
    clock: Clock
    settings: Settings
    user: str
    readonly: bool
    wall: bool
    demo: bool
    incidents: dict[int, IncidentRow]
    """What the console knows: every open incident and the recently finished ones, as
    compact rows (``full_incident`` and ``as_shown`` give the full ones)."""
    directory: Directory
    tracker: SlaTracker
    retimed: set[int]
    """Incidents whose SLA state moved with the last tick."""
    loaded: bool
    keymap_ids: dict[str, str]
    presence: PresenceKeeper | None
    """This console's presence (``None``: the backend keeps none, or this is a wall)."""
    change_events: list[ChangeEvent]
    """Recent change events, newest first."""
    problems: dict[str, Problem]
    """Every problem record by key (``PRB-1``), fresh from the change feed."""

    def recent_change(self, incident: Incident | IncidentRow) -> ChangeEvent | None:
        """A change shortly before ``incident`` started, for the queue's marker."""

    @property
    def triage(self) -> TriageRunner:
        """Runs the mutating actions (``screens.triage.Triage``)."""

    @property
    def now(self) -> datetime:
        """The app clock: ticks once a second; widgets watch ``app.now``."""

    @property
    def status_text(self) -> str:
        """The status line's current text."""

    @property
    def status_error(self) -> bool:
        """Whether the status line shows an error."""

    @property
    def connection_text(self) -> str:
        """The connection state for the status line (empty when connected)."""

    def set_status(
        self, text: str, error: bool = False, *, until: Callable[[], bool] | None = None
    ) -> None:
        """Show ``text`` on the status line (an error notifies where there is none). It
        expires by itself (information after seconds, an error after longer); with
        ``until`` it stays until that condition holds, and an error shown while offline
        stays until the connection is back."""

    def is_connected(self) -> bool:
        """Whether the backend is connected now (a condition for ``set_status``)."""

    def refuse_readonly(self, what: str) -> bool:
        """The read-only guard: ``True`` when refused (the status line says why)."""

    def remember(
        self,
        incidents: Iterable[Incident | IncidentRow],
        *,
        announce: bool = True,
        keep: bool = True,
    ) -> None:
        """Take newer versions of incidents (idempotent by version), held as rows."""

    def full_incident(self, incident_id: int) -> Incident | None:
        """The newest full incident held for ``incident_id`` (``None``: read it)."""

    async def as_shown(self, incidents: Sequence[Incident | IncidentRow]) -> list[Incident]:
        """The full incidents behind rows at the versions shown (read when not held)."""

    def note_own(self, incident: Incident) -> None:
        """``incident`` (as the backend returned it) is this console's own work."""

    def is_own(self, incident: Incident | IncidentRow) -> bool:
        """Whether this version of ``incident`` came from this console's own action: the
        queue does not treat it as a row changing under the responder."""

    def tick(self) -> None:
        """One beat of the app clock (tests and benches call it)."""

    def collect_garbage_when_idle(self) -> None:
        """Run a full garbage collection once no key or mouse input came for a while."""

    async def sign_in(self, token: str) -> None:
        """Connect with ``token`` and start the console (the sign-in screen calls it);
        raises the backend's error when the token or the server says no."""


def context(node: DOMNode) -> ConsoleContext:
    """The console context of the App that ``node`` (a screen or widget) belongs to."""
    return cast("ConsoleContext", node.app)
