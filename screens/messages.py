"""Messages the App posts to its screens when the data they show changes."""

from __future__ import annotations

from collections.abc import Sequence

from textual.message import Message

from console.domain.models import Incident
from console.domain.rows import IncidentRow


class IncidentsChanged(Message):
    """Incidents were created or changed (``changed``) or left the open set (``removed``).

    The App posts this to every screen on its stack after each batch from ``watch()``;
    screens update by diff, never by rebuilding. ``changed`` holds full incidents, except
    for the pages loaded behind the first screen, which come as the App's compact rows.
    """

    def __init__(
        self, changed: Sequence[Incident | IncidentRow], removed: Sequence[int] = ()
    ) -> None:
        super().__init__()
        self.changed = tuple(changed)
        self.removed = tuple(removed)


class DirectoryChanged(Message):
    """Services, users, teams, policies or schedules changed; ``app.directory`` is fresh."""


class ConnectionChanged(Message):
    """The backend's connection state changed (see ``backends.base.ConnectionState``)."""


class PresenceChanged(Message):
    """Another console opened, left or started acting on an incident (``app.presence``)."""


class ChangesChanged(Message):
    """A change event was recorded (``app.change_events`` is fresh)."""


class ProblemsChanged(Message):
    """A problem record was created or resolved (``app.problems`` is fresh)."""
