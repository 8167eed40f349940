"""Rate-limited logging for ``incidents serve``: a flood of one error must not flood the disk.

Out of file descriptors, asyncio logs a traceback for every failed ``accept()``; a client
that sends garbage makes uvicorn warn once per request. Under attack that was 235,181
tracebacks and 99 MB of log in 6 s. ``RepeatFilter`` lets each distinct message (logger,
level and unformatted text, so the same message with other arguments counts as one)
through ``repeats`` times per ``window`` seconds; the first one after the window says how
many were left out, so nothing goes unnoticed and the log stays small.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

_MAX_KEYS = 1000
"""Distinct messages remembered at most (old windows are forgotten first)."""


@dataclass
class _Window:
    start: float
    logged: int = 0
    dropped: int = 0


class RepeatFilter(logging.Filter):
    """Each message at most ``repeats`` times per ``window`` seconds."""

    def __init__(
        self,
        repeats: int = 5,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.repeats = repeats
        self.window = window
        self.clock = clock
        self._windows: dict[tuple[str, int, str], _Window] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, str(record.msg))
        now = self.clock()
        window = self._windows.get(key)
        if window is None or now - window.start >= self.window:
            dropped = window.dropped if window is not None else 0
            if window is None and len(self._windows) >= _MAX_KEYS:
                self._forget(now)
            window = self._windows[key] = _Window(start=now)
            if dropped:
                # No "%" in the addition: the record's own arguments still format it.
                record.msg = (
                    f"{record.msg} [and {dropped} more like this in the "
                    f"{self.window:g} s before, not logged]"
                )
        if window.logged >= self.repeats:
            window.dropped += 1
            return False
        window.logged += 1
        return True

    def _forget(self, now: float) -> None:
        expired = [k for k, w in self._windows.items() if now - w.start >= self.window]
        for key in expired or list(self._windows)[: _MAX_KEYS // 2]:
            del self._windows[key]


def limit_repeats(repeats: int, window: float) -> RepeatFilter:
    """Put one ``RepeatFilter`` on every handler of the root logger (where uvicorn's and
    asyncio's records end up too: the server gives uvicorn no handlers of its own)."""
    limiter = RepeatFilter(repeats, window)
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.WARNING)
    for handler in root.handlers:
        for old in [f for f in handler.filters if isinstance(f, RepeatFilter)]:
            handler.removeFilter(old)
        handler.addFilter(limiter)
    return limiter
