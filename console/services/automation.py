"""What a server runs besides answering requests: the escalator and the ChatOps notifier,
only while it leads. A local console on a SQLite file campaigns the same way for its
escalator (``notify=False``: notifications are a server's), so a file has one escalator
however many servers and consoles have it open.

On a store with an ``Elector`` (PostgreSQL's advisory lock, ``backends.postgres.leader``;
a SQLite file's lease, ``backends.sqlite.leader``), each server campaigns and only the
leader runs them; when it loses the lead it stops them and campaigns again, and when it
dies another server takes over. On a store without one they simply run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from backends import capabilities
from backends.base import Backend
from console.domain.clock import Clock
from console.domain.config import Settings
from console.services.escalator import Escalator
from console.services.notifier import Notifier

log = logging.getLogger("incidents.server")


class Automation:
    """The escalator task and the notifier of one server, started and stopped together."""

    def __init__(
        self,
        store: Backend,
        settings: Settings,
        clock: Clock,
        *,
        interval: float = 5.0,
        notify: bool = True,
        who: str = "incidents serve",
        log_level: int = logging.WARNING,
    ) -> None:
        self.store = store
        self.interval = interval
        self.settings = settings
        self.clock = clock
        self.notify = notify
        """Run the notifier while leading (servers); a local console leaves it to them."""
        self.who = who
        """Who is campaigning, for the log lines about the lead."""
        self.log_level = log_level
        """A server says when it takes or loses the lead; a console (INFO) keeps its screen."""
        self.escalator: asyncio.Task[None] | None = None
        self.notifier: Notifier | None = None
        self.leading = False
        self.terms = 0

    async def start(self) -> None:
        self.escalator = asyncio.create_task(
            Escalator(self.store, self.clock, interval=self.interval).run(), name="escalator"
        )
        self.escalator.add_done_callback(_report_end)
        if (
            self.notify
            and self.settings.notify.webhooks
            and capabilities.deliveries(self.store) is not None
        ):
            self.notifier = Notifier(self.store, self.settings.notify, clock=self.clock)
            await self.notifier.start()
        self.leading = True
        self.terms += 1

    async def stop(self) -> None:
        self.leading = False
        escalator, self.escalator = self.escalator, None
        if escalator is not None:
            escalator.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await escalator
        notifier, self.notifier = self.notifier, None
        if notifier is not None:
            await notifier.stop()

    async def run(self) -> None:
        """Run while leading, for ever (cancel to stop; it stops what it started)."""
        elector = capabilities.elector(self.store)
        if elector is None:
            await self.start()
            try:
                await asyncio.Event().wait()
            finally:
                await self.stop()
        assert elector is not None
        while True:
            leadership = elector.leadership()
            try:
                await leadership.acquire()
                log.log(self.log_level, "%s: leading (%s here)", self.who, self._runs())
                await self.start()
                await leadership.wait_lost()
                log.log(
                    self.log_level, "%s: lost the lead; stopping the %s", self.who, self._tasks()
                )
            finally:
                await self.stop()
                await leadership.release()

    def _tasks(self) -> str:
        return "escalator and notifier" if self.notify else "escalator"

    def _runs(self) -> str:
        return f"{self._tasks()} run" if self.notify else "escalator runs"


def _report_end(task: asyncio.Task[Any]) -> None:
    """The escalator runs forever; if it ever stops, the operator must hear about it."""
    if not task.cancelled() and task.exception() is not None:
        log.error("the automatic escalator stopped: %s", task.exception())
