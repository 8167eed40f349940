"""``incidents directory apply`` against a real server: admins only, then live for others."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from backends.base import Forbidden
from console.cli.main import main
from console.domain.directory import DirectoryChanges
from console.domain.models import Team
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
