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
from console.domain.config import Settings
from console.tui.app import make_app
from screens.confirm import ConfirmScreen
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
    # an existing (perhaps edited) draft is replaced only with --force
    out.write_text("edited by hand", encoding="utf-8")
    command = [sys.executable, "-m", "console", "pir", "INC-1", "--db", str(db), "--out", str(out)]
    kept = subprocess.run(
        command, capture_output=True, text=True, timeout=60, env=hermetic_env(tmp_path), cwd=ROOT
    )
    assert kept.returncode == 1 and "already exists" in kept.stderr and "--force" in kept.stderr
    assert out.read_text(encoding="utf-8") == "edited by hand"
    forced = subprocess.run(
        [*command, "--force"],
        capture_output=True,
        text=True,
        timeout=60,
        env=hermetic_env(tmp_path),
        cwd=ROOT,
    )
    assert forced.returncode == 0, forced.stderr
    assert out.read_text(encoding="utf-8").startswith("# Post-incident review: INC-1")


@pytest.mark.timeout(60)
async def test_p_on_the_incident_screen_writes_the_draft(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    backend = await store_with_story(tmp_path / "pir.db")
    drafts = tmp_path / "drafts"
    settings = Settings().model_copy(update={"reviews_dir": drafts})
    try:
        app = make_app(backend, clock=backend.clock, user="alice", settings=settings)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_until(lambda: app.loaded, pilot=pilot)
            screen = IncidentScreen(1)
            await app.push_screen(screen)
            await wait_until(lambda: screen.incident is not None, pilot=pilot)
            await pilot.press("P")
            written = drafts / "INC-1-review.md"  # the configured folder, not the cwd
            # The status line names the file once it is written.
            await wait_until(lambda: str(written) in app.status_text, pilot=pilot)
            assert "## Action items" in written.read_text(encoding="utf-8")
            assert not (tmp_path / "INC-1-review.md").exists()
            written.write_text("edited by hand", encoding="utf-8")
            await pilot.press("P")  # asks before replacing it
            await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot)
            await pilot.press("escape")
            await wait_until(lambda: "kept as it was" in app.status_text, pilot=pilot)
            assert written.read_text(encoding="utf-8") == "edited by hand"
            await pilot.press("P")
            await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot)
            await pilot.press("ctrl+s")
            await wait_until(lambda: "written to" in app.status_text, pilot=pilot)
            assert "## Action items" in written.read_text(encoding="utf-8")
    finally:
        await backend.close()
