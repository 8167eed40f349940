"""``incidents pir KEY --out FILE`` and the incident screen's ``P`` key, over a real store."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.tui.app import make_app
from screens.incident import IncidentScreen
from tests.pir.test_pir import SERVICES, USERS, at, story
from tests.remote.server import ROOT, hermetic_env
from tests.waiting import wait_until


async def store_with_story(path: Path) -> SqliteBackend:
    """The golden story's incident (with its audit trail) in a real SQLite file."""
    clock = FrozenClock(at(15))
    backend = await SqliteBackend(path, clock=clock).open()
    for service in SERVICES:
        await backend.put_service(service)
    for user in USERS:
        await backend.put_user(user)
    incident, timeline = story()
    await backend.import_records([(incident, timeline)])
    return backend


def test_cli_writes_the_draft(tmp_path: Path) -> None:
    db = tmp_path / "pir.db"

    async def build() -> None:
        await (await store_with_story(db)).close()

    asyncio.run(build())
    out = tmp_path / "reviews" / "INC-1.md"
    result = subprocess.run(
        [sys.executable, "-m", "console", "pir", "INC-1", "--db", str(db), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        env=hermetic_env(tmp_path),
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert f"to {out}" in result.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Post-incident review: INC-1: Checkout \\| 502s")
    assert "| Response (to acknowledge) | 15m | 18m00s | **breached** by 3m00s |" in text
    missing = subprocess.run(
        [sys.executable, "-m", "console", "pir", "INC-999", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
        env=hermetic_env(tmp_path),
        cwd=ROOT,
    )
    assert missing.returncode == 1
    assert "there is no incident 'INC-999'" in missing.stderr


@pytest.mark.timeout(60)
async def test_p_on_the_incident_screen_writes_the_draft(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    backend = await store_with_story(tmp_path / "pir.db")
    try:
        app = make_app(backend, clock=backend.clock, user="alice")
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_until(lambda: app.loaded, pilot=pilot)
            screen = IncidentScreen(1)
            await app.push_screen(screen)
            await wait_until(lambda: screen.incident is not None, pilot=pilot)
            await pilot.press("P")
            written = tmp_path / "INC-1-review.md"
            # The status line names the file once it is written.
            await wait_until(lambda: str(written) in app.status_text, pilot=pilot)
            assert "## Action items" in written.read_text(encoding="utf-8")
    finally:
        await backend.close()
