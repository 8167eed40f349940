"""Optional backend capabilities: small Protocols a backend declares, one typed getter each.

The ``Backend`` contract (``backends.base``) is what every backend does. Some backends can do
more, and the code that needs the extra asks for it here instead of probing attributes:

- ``Store``: the backend *is* the data store (not a client of a server), so it knows the
  settings and clock it writes with; whoever opens one runs the automation (escalator) that
  a server would otherwise run.
- ``Importer``: takes pre-built incidents with their timelines in one transaction (the demo,
  ``incidents migrate``).
- ``IntakeStore``: alert intake, integrations and their keys.
- ``TokenStore``: API tokens for ``incidents serve``.
- ``DeliveryLog``: the outgoing-webhook delivery log the notifier keeps.
- ``Identified``: a client that acts as a known user (the token's user on a server).
- ``ChangeLog``: change events (deploys) per service, for correlation with incidents.
- ``PresenceBoard``: which console has which incident open (ephemeral, never a timeline).
- ``WriteHealth``: whether the store can write now (the server's ``/readyz``).
- ``Tally``: open incidents counted by priority and status in one query (``/metrics``).

A backend declares what it has through its ``capabilities`` property (a ``Capabilities``
value); callers use the getters below (``intake(backend) -> IntakeStore | None``), so the
declaration is explicit, typed and checked by mypy, and a wrapper (the server's
``NotifyingBackend``) passes it through unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from console.domain.changes import ChangeEvent, NewChange
from console.domain.clock import Clock
from console.domain.config import Settings
from console.domain.deliveries import Delivery, DeliveryStatus, NewDelivery, PendingDelivery
from console.domain.intake import IngestResult, Integration, IntegrationKind, Signal
from console.domain.models import Incident, Priority, Status, TimelineEntry
from console.domain.presence import Presence
from console.domain.tokens import Principal, TokenInfo


class Store(Protocol):
    """The backend holds the data itself and writes with these settings and this clock."""

    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> Clock: ...


class Importer(Protocol):
    """Bulk-insert pre-built incidents with their timelines in one transaction.

    Each incident gets a fresh id and key (its entries are re-pointed at it); the records
    are trusted as given (no lifecycle replay), and each appears on the change feed as
    ``incident.created``.
    """

    async def import_records(
        self, records: Sequence[tuple[Incident, Sequence[TimelineEntry]]]
    ) -> list[Incident]: ...


class IntakeStore(Protocol):
    """Alert intake: integrations (only a digest of each key is kept) and alert batches."""

    async def ingest(self, integration: Integration, signals: Sequence[Signal]) -> IngestResult:
        """One batch from one integration, in one transaction."""
        ...

    async def create_integration(
        self, service: str, kind: IntegrationKind, name: str = ""
    ) -> tuple[Integration, str]:
        """A new integration and its key (returned once, never stored)."""
        ...

    async def integrations(self) -> list[Integration]: ...

    async def revoke_integration(self, integration_id: str) -> Integration: ...

    async def integration_for_key(self, key: str) -> Integration | None:
        """The active integration whose key this is, or ``None``."""
        ...


class TokenStore(Protocol):
    """API tokens: create (the secret is shown once), list, revoke, verify."""

    async def create(self, user: str, role: str, name: str = "") -> tuple[TokenInfo, str]: ...

    async def list(self, *, include_revoked: bool = True) -> list[TokenInfo]: ...

    async def revoke(self, token_id: str) -> TokenInfo: ...

    async def verify(self, token: str) -> Principal | None: ...


class DeliveryLog(Protocol):
    """The log of outgoing webhook messages, which is also the notifier's outbox
    (``console.domain.deliveries`` says how a message in flight survives its server)."""

    async def add(
        self, deliveries: Sequence[NewDelivery], seq: int | None = None
    ) -> list[int | None]:
        """Append rows in one transaction; their ids, in order, ``None`` for a row whose
        non-empty ``key`` is logged already (another server logged that message: it is not
        logged or sent twice). With ``seq``, the same transaction records that change
        ``seq`` is handled (see ``cursor``)."""
        ...

    async def update(
        self,
        delivery_id: int,
        status: DeliveryStatus,
        *,
        attempts: int,
        response_code: int | None,
        error: str,
        at: datetime,
    ) -> None: ...

    async def pending(self) -> list[PendingDelivery]:
        """Every ``queued`` or ``retrying`` row, oldest first: what the next notifier sends
        again."""
        ...

    async def abandon_unfinished(self, error: str, at: datetime) -> int:
        """Mark every queued or retrying row failed with ``error``; how many there were."""
        ...

    async def recent(self, limit: int = 100) -> list[Delivery]:
        """The newest deliveries first."""
        ...

    async def cursor(self) -> int | None:
        """The change the notifier last handled, kept by ``add(..., seq=)``; ``None`` before
        the first (the notifier then starts from the newest change)."""
        ...


class Identified(Protocol):
    """A client that acts as one user (the server records that user as the actor)."""

    @property
    def user(self) -> str: ...


class ChangeLog(Protocol):
    """Change events per service, recorded with an entry on the change feed."""

    async def record_change_event(self, change: NewChange, actor: str) -> ChangeEvent: ...

    async def change_events(
        self,
        *,
        services: Sequence[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 500,
    ) -> list[ChangeEvent]:
        """Newest first; only ``services`` (when given) and within ``since``..``until``."""
        ...


class PresenceBoard(Protocol):
    """Ephemeral announcements; never on the change feed, never on a timeline."""

    async def announce(self, presence: Presence) -> None: ...

    async def leave(self, console: str) -> None: ...

    async def present(self) -> list[Presence]: ...

    def watch_presence(self) -> AsyncGenerator[list[Presence], None]:
        """The live announcements now and after each change."""
        ...


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    """How the store's most recent write ended: ``ok``, or the reason it was refused."""

    ok: bool
    at: float
    """``time.monotonic()`` when it ended."""
    error: str = ""


class WriteHealth(Protocol):
    """Whether the store accepts writes now, for readiness checks.

    Only failures of the store itself count (locked, disk full, read-only, I/O errors:
    what ``Unavailable`` reports), never a refused action or a stale version.
    """

    async def probe_write(self) -> None:
        """One small durable write of a row of its own (never on the change feed); raises
        ``Unavailable`` saying why when the store refuses it."""
        ...

    def last_write(self) -> WriteOutcome | None:
        """The outcome of the most recent write (a probe or a real one); ``None`` before
        the first."""
        ...


@dataclass(frozen=True, slots=True)
class OpenCount:
    """How many open incidents have this priority and status, and how many of them are
    breached (``console.domain.sla.breach_due`` at or before the ``now`` asked about)."""

    priority: Priority
    status: Status
    open: int
    breached: int


class Tally(Protocol):
    """Counts of the open incidents in one aggregate query over the stored columns, with
    no incident parsed: what ``/metrics`` reports."""

    async def open_counts(self, now: datetime) -> list[OpenCount]:
        """One row per (priority, status) that has open incidents."""
        ...


class Leadership(Protocol):
    """Which one of the processes on one store runs the automation (escalator, notifier).

    ``acquire`` waits until this process leads; ``wait_lost`` returns when it no longer
    does (its hold on the store broke); ``release`` gives it up. PostgreSQL holds it with an
    advisory lock, a SQLite file with a lease row; a backend without this capability has no
    competing servers to choose among.
    """

    async def acquire(self) -> None: ...

    async def wait_lost(self) -> None: ...

    async def release(self) -> None: ...


class Elector(Protocol):
    def leadership(self) -> Leadership:
        """A fresh, not yet held candidacy."""
        ...


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a backend can do beyond the contract; ``None`` means it cannot."""

    store: Store | None = None
    importer: Importer | None = None
    intake: IntakeStore | None = None
    tokens: TokenStore | None = None
    deliveries: DeliveryLog | None = None
    identity: Identified | None = None
    elector: Elector | None = None
    changes: ChangeLog | None = None
    presence: PresenceBoard | None = None
    write_health: WriteHealth | None = None
    tally: Tally | None = None


NONE = Capabilities()


class Capable(Protocol):
    @property
    def capabilities(self) -> Capabilities: ...


def store(backend: Capable) -> Store | None:
    return backend.capabilities.store


def importer(backend: Capable) -> Importer | None:
    return backend.capabilities.importer


def intake(backend: Capable) -> IntakeStore | None:
    return backend.capabilities.intake


def tokens(backend: Capable) -> TokenStore | None:
    return backend.capabilities.tokens


def deliveries(backend: Capable) -> DeliveryLog | None:
    return backend.capabilities.deliveries


def identity(backend: Capable) -> Identified | None:
    return backend.capabilities.identity


def elector(backend: Capable) -> Elector | None:
    return backend.capabilities.elector


def changes(backend: Capable) -> ChangeLog | None:
    return backend.capabilities.changes


def presence(backend: Capable) -> PresenceBoard | None:
    return backend.capabilities.presence


def write_health(backend: Capable) -> WriteHealth | None:
    return backend.capabilities.write_health


def tally(backend: Capable) -> Tally | None:
    return backend.capabilities.tally


__all__ = [
    "NONE",
    "Capabilities",
    "Capable",
    "ChangeLog",
    "DeliveryLog",
    "Elector",
    "Leadership",
    "Identified",
    "Importer",
    "PresenceBoard",
    "IntakeStore",
    "Store",
    "OpenCount",
    "Tally",
    "TokenStore",
    "WriteHealth",
    "WriteOutcome",
    "changes",
    "deliveries",
    "elector",
    "identity",
    "importer",
    "intake",
    "presence",
    "store",
    "tally",
    "tokens",
    "write_health",
]
