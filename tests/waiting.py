"""The one way tests wait: poll a condition until it holds, or fail saying what never happened.

Tests never sleep for a fixed time hoping something has happened by then; they name the
condition and wait for it. The timeouts are generous on purpose: they only bound how long
a failing test takes, so a loaded machine (two cores shared by many jobs) makes a passing
test slower, never red.

- ``wait_until`` (async): inside an event loop; with ``pilot=`` it pauses through the
  Textual Pilot, so the app processes its messages between two looks.
- ``wait_until_sync``: for blocking code (subprocesses, tmux panes, a helper thread).

Both return the predicate's first truthy value, so a wait can also fetch what it waited for.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any

TIMEOUT = 30.0
"""Seconds before a wait gives up (well inside pytest-timeout's 120 s per test)."""


def _describe(predicate: Callable[..., object]) -> str:
    """Where the condition was written, for a failure message that points at it."""
    code = getattr(predicate, "__code__", None)
    name = getattr(predicate, "__qualname__", repr(predicate))
    if code is None:
        return name
    return f"{name} at {code.co_filename}:{code.co_firstlineno}"


def _failure(
    what: str | None,
    predicate: Callable[..., object],
    timeout: float,
    detail: Callable[[], object] | None,
) -> AssertionError:
    message = f"timed out after {timeout:g}s waiting for {what or _describe(predicate)}"
    if detail is not None:
        message += f"\n{detail()}"
    return AssertionError(message)


async def wait_until(
    predicate: Callable[..., Any],
    *,
    timeout: float = TIMEOUT,
    what: str | None = None,
    pilot: Any = None,
    interval: float = 0.02,
    detail: Callable[[], object] | None = None,
) -> Any:
    """Return ``predicate()``'s first truthy result, looking every ``interval`` seconds.

    ``predicate`` may be a coroutine function (a backend read, say). With ``pilot`` the
    pause between two looks is ``pilot.pause(interval)``, which also lets the app's screen
    process pending messages. On timeout raises ``AssertionError`` naming ``what`` (by default
    where the predicate is written), followed by ``detail()`` (a log tail, the screen).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise _failure(what, predicate, timeout, detail)
        if pilot is not None:
            await pilot.pause(interval)
        else:
            await asyncio.sleep(interval)


def wait_until_sync(
    predicate: Callable[..., Any],
    *,
    timeout: float = TIMEOUT,
    what: str | None = None,
    interval: float = 0.1,
    detail: Callable[[], object] | None = None,
) -> Any:
    """``wait_until`` for blocking code: polls ``predicate()`` with ``time.sleep``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise _failure(what, predicate, timeout, detail)
        time.sleep(interval)
