"""``incidents token create|list|revoke`` and ``incidents serve`` as a user runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from tests.remote.server import ROOT, ServerProcess, cli_token, hermetic_env


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=hermetic_env(home),
        cwd=ROOT,
    )


async def test_tokens_from_the_cli_work_on_a_served_database(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    admin = cli_token(db, "ada", "admin", tmp_path)
    viewer = cli_token(db, "vic", "viewer", tmp_path)
    assert admin.startswith("inc_") and len(admin) > 40
    listed = cli(tmp_path, "token", "list", "--db", str(db))
    assert listed.returncode == 0
    assert "ada" in listed.stdout and "admin" in listed.stdout and "viewer" in listed.stdout
    assert (
        admin.split("_", 2)[2] not in listed.stdout and viewer.split("_", 2)[2] not in listed.stdout
    )

    server = ServerProcess(db, home=tmp_path).start()
    try:
        url = await server.ready()
        assert url.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            who = await client.get("/v1/whoami", headers={"Authorization": f"Bearer {viewer}"})
            assert who.json()["user"] == "vic"
            made = await client.post(
                "/v1/tokens",
                json={"user": "rex", "role": "responder"},
                headers={"Authorization": f"Bearer {admin}"},
            )
            assert made.status_code == 201 and made.json()["token"].startswith("inc_")

            viewer_id = viewer.split("_")[1]
            revoked = cli(tmp_path, "token", "revoke", viewer_id, "--db", str(db))
            assert revoked.returncode == 0, revoked.stderr
            after = await client.get("/v1/whoami", headers={"Authorization": f"Bearer {viewer}"})
            assert after.status_code == 401  # revocation is immediate, no restart
            listed = (
                await client.get("/v1/tokens", headers={"Authorization": f"Bearer {admin}"})
            ).json()
            used = {row["user"]: row["last_used_at"] is not None for row in listed}
            assert used == {"ada": True, "vic": True, "rex": False}  # rex never called
            states = {row["user"]: row["revoked_at"] is not None for row in listed}
            assert states == {"ada": False, "vic": True, "rex": False}
            assert all("token" not in row and "secret" not in str(row) for row in listed)
    finally:
        server.stop()
    missing = cli(tmp_path, "token", "revoke", "nope", "--db", str(db))
    assert missing.returncode == 1 and "no token with id 'nope'" in missing.stderr
