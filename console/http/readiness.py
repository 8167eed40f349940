"""``/readyz``: whether this server can do its job now, which means its store can write.

A read alone says nothing about writes: with a full disk, or another process holding the
write lock, every read answers while every write is refused. So readiness looks at the
outcome of the store's most recent write (``backends.capabilities.WriteHealth``): a busy
server's own writes answer the question for free, and when the last write is older than
``every`` seconds one small probe write asks again. Probes never pile up: concurrent checks
share the one in flight, and a check waits for it at most ``timeout`` seconds (a probe
stuck behind another process's lock is itself the answer). Once writes succeed again, the
next check says ready: nothing has to be reset by hand.
"""

from __future__ import annotations

import asyncio
import time

from backends.base import BackendError
from backends.capabilities import WriteHealth


class Readiness:
    """The write half of ``/readyz`` for one store."""

    def __init__(self, health: WriteHealth, *, every: float = 1.0, timeout: float = 2.0) -> None:
        self.health = health
        self.every = every
        self.timeout = timeout
        self._probe: asyncio.Task[str | None] | None = None

    async def problem(self) -> str | None:
        """Why the store cannot write now, or ``None`` when it can."""
        last = self.health.last_write()
        if last is None or time.monotonic() - last.at >= self.every:
            if self._probe is None or self._probe.done():
                self._probe = asyncio.create_task(self._run_probe(), name="readiness-probe")
            try:
                refused = await asyncio.wait_for(asyncio.shield(self._probe), self.timeout)
            except TimeoutError:
                return (
                    f"the store did not accept a probe write within {self.timeout:g} s "
                    "(is another process holding its write lock?)"
                )
            if refused is not None:
                return f"the store refused a probe write: {refused}"
            last = self.health.last_write()
        if last is None:
            return "the store has not completed a write yet"
        if not last.ok:
            ago = time.monotonic() - last.at
            return f"the store refused its last write ({ago:.1f} s ago): {last.error}"
        return None

    async def _run_probe(self) -> str | None:
        try:
            await self.health.probe_write()
        except BackendError as exc:
            return str(exc) or type(exc).__name__
        return None

    def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
