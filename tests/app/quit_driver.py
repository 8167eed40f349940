"""Open the console on a real SQLite store and quit right after its first frame, N times.

Run as ``python -m tests.app.quit_driver DB RUNS``. Each run does what ``incidents`` does
(open the store, ``make_app``, run, close the store) but quits as soon as the first frame
is drawn, while the live-feed worker may still be connecting. After each run no thread that
would keep the interpreter from exiting may be left (a store connection nobody closed keeps
its aiosqlite thread, and the process then hangs in ``threading._shutdown``). Prints
``run K`` after each run, then ``ok N``, and exits 0; or names the run and the threads left
and exits 1. The test around it bounds the time between two of those lines and from
``ok N`` to the exit, so a hang fails too however slow the machine is.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from pathlib import Path

from backends.sqlite.store import SqliteBackend
from console.domain.config import Settings
from console.tui.app import make_app

RUN_TIMEOUT = 30.0


def _lingering() -> list[threading.Thread]:
    return [
        thread
        for thread in threading.enumerate()
        if thread is not threading.main_thread() and not thread.daemon and thread.is_alive()
    ]


async def _once(db: Path) -> None:
    backend = SqliteBackend(db, settings=Settings(db=db, escalator=False))
    await backend.open()
    try:
        app = make_app(backend, settings=Settings(db=db, escalator=False))
        # Quit from the first refresh: the live feed is starting up at about this moment.
        app.call_after_refresh(app.exit)
        await app.run_async(headless=True, size=(100, 30))
    finally:
        await backend.close()


async def _lingering_after(deadline: float) -> list[threading.Thread]:
    # Closing threads finish a moment after close() returns: wait for that, bounded.
    while (left := _lingering()) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    return left


async def main(db: Path, runs: int) -> int:
    for number in range(1, runs + 1):
        async with asyncio.timeout(RUN_TIMEOUT):
            await _once(db)
        left = await _lingering_after(time.monotonic() + 10)
        if left:
            names = ", ".join(thread.name for thread in left)
            print(f"run {number}: threads left after the console quit: {names}", flush=True)
            return 1
        print(f"run {number}", flush=True)
    print(f"ok {runs}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2]))))
