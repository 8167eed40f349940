"""``incidents integration create|list|revoke`` through the real CLI entry point."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from backends.sqlite import intake as sqlite_intake
from backends.sqlite.store import SqliteBackend
from console.cli.main import main
from console.domain.models import Service


def test_create_list_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "x.db"

    async def seed() -> None:
        async with SqliteBackend(db) as store:
            await store.put_service(Service(id="checkout", name="Checkout"))

    asyncio.run(seed())
    assert (
        main(
            [
                "integration",
                "create",
                "--db",
                str(db),
                "--service",
                "checkout",
                "--kind",
                "alertmanager",
                "--name",
                "prod-am",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    key = next(line.split()[1] for line in out.splitlines() if line.startswith("key:"))
    assert f"credentials: {key}" in out

    async def lookup() -> object:
        async with SqliteBackend(db) as store:
            return await sqlite_intake.integration_for_key(store, key)

    found = asyncio.run(lookup())
    assert found is not None
    assert main(["integration", "list", "--db", str(db)]) == 0
    listing = capsys.readouterr().out
    assert "prod-am" in listing and "active" in listing and key[8:] not in listing
    assert main(["integration", "revoke", "--db", str(db), key[:8]]) == 0
    assert asyncio.run(lookup()) is None
    assert main(["integration", "list", "--db", str(db)]) == 0
    assert "revoked" in capsys.readouterr().out
    assert (
        main(["integration", "create", "--db", str(db), "--service", "nope", "--kind", "events"])
        == 1
    )
    assert "unknown service 'nope'" in capsys.readouterr().err


def test_create_service_on_the_fly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "y.db"
    args = ["integration", "create", "--db", str(db), "--service", "web", "--kind", "events"]
    assert main(args) == 1
    assert "--create-service" in capsys.readouterr().err
    assert main([*args, "--create-service"]) == 0
    assert "created service web" in capsys.readouterr().out
    assert main([*args, "--create-service"]) == 0, "an existing service is reused"
    assert "created service" not in capsys.readouterr().out
