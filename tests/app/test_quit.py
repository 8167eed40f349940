"""The console always exits: quit right after the first frame, 50 times, none hangs.

A cancel landing while the live feed's watch was connecting used to leave a store
connection nobody closed; its aiosqlite thread then kept the process alive forever in
``threading._shutdown`` (2 exits in 12 hung). The runs happen in one subprocess
(``tests/app/quit_driver.py``) so an interpreter that cannot exit fails on the timeout
instead of hanging pytest; each run also checks that no such thread is left.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from backends.sqlite.store import SqliteBackend
from console.domain.models import NewIncident, Service

ROOT = Path(__file__).resolve().parents[2]
RUNS = 50


async def test_quitting_right_after_the_first_frame_never_hangs(tmp_path: Path) -> None:
    db = tmp_path / "incidents.db"
    async with SqliteBackend(db) as store:
        await store.put_service(Service(id="web", name="Web"))
        await store.create_incidents(
            [NewIncident(title=f"incident {n}", service="web") for n in range(20)], "test"
        )
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tests.app.quit_driver", str(db), str(RUNS)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=100,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"the console did not exit: {exc.stdout!r} {exc.stderr!r}") from None
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert done.stdout.strip().endswith(f"ok {RUNS}")
