"""This console's presence: what it announces, and what it hears from the others.

One ``PresenceKeeper`` per App. Screens tell it what the responder is doing (``viewing`` an
incident, ``acting`` in a dialog on one); it announces that at once and renews it every
``RENEW_EVERY`` seconds, and it follows the backend's presence board, posting
``PresenceChanged`` to every screen when someone else's presence changes. When the console
closes it leaves; if it is killed its announcement expires by itself (``TTL``).

Presence is best effort by design: a failure to announce or to listen is logged on the
status line once and retried, and never blocks a key or an action.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime

from backends.base import BackendError
from backends.capabilities import PresenceBoard
from console.domain.clock import Clock
from console.domain.presence import (
    RENEW_EVERY,
    Presence,
    acting_warning,
    announcement,
    others_by_incident,
    others_on,
    summary,
)


class PresenceKeeper:
    def __init__(
        self,
        board: PresenceBoard,
        *,
        user: str,
        clock: Clock,
        on_change: Callable[[], None],
        on_error: Callable[[str], None],
    ) -> None:
        self.board = board
        self.user = user
        self.clock = clock
        self.console = f"{user[:40]}-{secrets.token_hex(6)}"
        self.incident_id: int | None = None
        self.action = ""
        self.everyone: list[Presence] = []
        self._on_change = on_change
        self._on_error = on_error
        self._wake = asyncio.Event()
        self._failed = False

    # what this console is doing ------------------------------------------------------------
    def viewing(self, incident_id: int | None) -> None:
        """The responder opened ``incident_id`` (``None``: back on the queue)."""
        if (incident_id, "") != (self.incident_id, self.action):
            self.incident_id, self.action = incident_id, ""
            self._wake.set()

    @contextmanager
    def acting(self, incident_id: int, key: str, action: str) -> Iterator[str]:
        """While a dialog for ``action`` is open on ``incident_id`` (``key``); yields the
        warning to show when someone else is acting on it too (``""`` when nobody is)."""
        before = self.incident_id
        self.incident_id, self.action = incident_id, action
        self._wake.set()
        try:
            yield self.warning(incident_id, key=key)
        finally:
            self.incident_id, self.action = before, ""
            self._wake.set()

    # what the others are doing -------------------------------------------------------------
    def others(self, incident_id: int) -> list[Presence]:
        return others_on(self.everyone, incident_id, me=self.console, now=self.clock.now())

    def describe(self, incident_id: int) -> str:
        """``ines viewing, bob acknowledging…`` for a row or the incident screen."""
        return summary(self.others(incident_id))

    def describe_all(self, now: datetime) -> dict[int, str]:
        """``describe`` for every incident someone else is on at ``now`` (a screenful of
        rows reads the board once)."""
        board = others_by_incident(self.everyone, me=self.console, now=now)
        return {incident_id: summary(on) for incident_id, on in board.items()}

    def warning(self, incident_id: int, *, key: str) -> str:
        return acting_warning(self.others(incident_id), key)

    # the loops -----------------------------------------------------------------------------
    async def run(self) -> None:
        """Announce and listen until cancelled; leave on the way out."""
        listener = asyncio.create_task(self._listen())
        try:
            while True:
                self._wake.clear()
                await self._announce()
                with suppress(TimeoutError):
                    async with asyncio.timeout(RENEW_EVERY):
                        await self._wake.wait()
        finally:
            listener.cancel()
            with suppress(asyncio.CancelledError, BackendError):
                await listener
            with suppress(BackendError, OSError, asyncio.CancelledError):
                async with asyncio.timeout(2):
                    await self.board.leave(self.console)

    async def _announce(self) -> None:
        presence = announcement(
            self.console, self.user, self.clock.now(), self.incident_id, self.action
        )
        try:
            await self.board.announce(presence)
        except BackendError as exc:
            if not self._failed:
                self._failed = True
                self._on_error(f"presence not shared: {exc}")
        else:
            self._failed = False

    async def _listen(self) -> None:
        while True:
            try:
                async for snapshot in self.board.watch_presence():
                    mine = [p for p in snapshot if p.console != self.console]
                    if mine != [p for p in self.everyone if p.console != self.console]:
                        self.everyone = snapshot
                        self._on_change()
                    else:
                        self.everyone = snapshot
            except BackendError:
                await asyncio.sleep(RENEW_EVERY)
