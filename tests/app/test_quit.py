"""The console always exits: quit right after the first frame, 50 times, none hangs.

A cancel landing while the live feed's watch was connecting used to leave a store
connection nobody closed; its aiosqlite thread then kept the process alive forever in
``threading._shutdown`` (2 exits in 12 hung). The runs happen in one subprocess
(``tests/app/quit_driver.py``) so an interpreter that cannot exit fails on the timeout
instead of hanging pytest; each run also checks that no such thread is left.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from backends.sqlite.store import SqliteBackend
from console.domain.models import NewIncident, Service

ROOT = Path(__file__).resolve().parents[2]
RUNS = 50
STALL = 60.0
"""Seconds with no run finished (or, after the last, no exit) that count as a hang. A run
takes about 0.2 s of CPU; 50 runs took 77 s of wall time at load 14 and more at load 16,
which is why the bound is on each step, not on the whole (a total of 100 s failed there)."""


@pytest.mark.timeout(RUNS * 12)  # far above 50 runs at load 16; STALL is what finds a hang
async def test_quitting_right_after_the_first_frame_never_hangs(tmp_path: Path) -> None:
    db = tmp_path / "incidents.db"
    async with SqliteBackend(db) as store:
        await store.put_service(Service(id="web", name="Web"))
        await store.create_incidents(
            [NewIncident(title=f"incident {n}", service="web") for n in range(20)], "test"
        )
    driver = subprocess.Popen(
        [sys.executable, "-m", "tests.app.quit_driver", str(db), str(RUNS)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    output: list[str] = []

    def pump() -> None:
        assert driver.stdout is not None
        for line in driver.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    try:
        while True:
            try:
                line = lines.get(timeout=STALL)
            except queue.Empty:
                last = output[-1].strip() if output else "nothing yet"
                raise AssertionError(
                    f"the console did not exit: nothing more in {STALL:g}s after {last!r}"
                ) from None
            if line is None:
                break
            output.append(line)
        try:
            driver.wait(timeout=STALL)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"the driver did not exit {STALL:g}s after its output ended: "
                + "".join(output[-3:])
            ) from None
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    text = "".join(output)
    assert driver.returncode == 0, text[-3000:]
    assert text.strip().endswith(f"ok {RUNS}")
