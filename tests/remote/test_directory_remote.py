"""``incidents directory apply`` against a real server: admins only, then live for others."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backends.base import Forbidden
from console.cli.main import main
from console.domain.directory import DirectoryChanges, NewOverride
from console.domain.models import Override, Rotation, Schedule, Team
from tests.remote.conftest import Live

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "team.toml"


async def test_apply_needs_an_admin_token_and_reaches_watchers(
    live: Live, capsys: pytest.CaptureFixture[str]
) -> None:
    responder = await live.remote("responder")
    with pytest.raises(Forbidden):
        await responder.apply_directory(DirectoryChanges(teams=(Team(id="x", name="X"),)))
    viewer = await live.remote("viewer")
    since = await viewer.last_seq()
    args = ["directory", "apply", str(EXAMPLE), "--backend", live.url]
    assert await asyncio.to_thread(main, [*args, "--token", live.token("responder")]) == 1
    assert "admin" in capsys.readouterr().err
    assert await asyncio.to_thread(main, [*args, "--token", live.token("admin")]) == 0
    assert f"applied to {live.url}" in capsys.readouterr().out
    seen: set[tuple[str, str]] = set()
    async with asyncio.timeout(10):
        async for change in viewer.watch(since):
            seen.add((change.kind, change.entity_id))
            if ("service.updated", "database") in seen and ("user.removed", "vic") in seen:
                break
    assert {u.id for u in await viewer.users()} == {"ana", "ben", "chloe"}


async def test_a_responder_may_add_an_override_recorded_as_theirs(live: Live) -> None:
    admin = await live.remote("admin")
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    await admin.put_schedule(
        Schedule(
            id="oncall",
            name="On call",
            rotations=(Rotation(users=("ada",), start=start),),
        )
    )
    responder = await live.remote("responder")
    cover = Override(user="rex", start=start, end=start + timedelta(hours=2), by="someone")
    await responder.apply_directory(
        DirectoryChanges(overrides=(NewOverride(schedule="oncall", override=cover),))
    )
    (schedule,) = await admin.schedules()
    assert schedule.overrides == (cover.model_copy(update={"by": "rex"}),)
    viewer = await live.remote("viewer")
    with pytest.raises(Forbidden):
        await viewer.apply_directory(
            DirectoryChanges(overrides=(NewOverride(schedule="oncall", override=cover),))
        )
