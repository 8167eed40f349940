"""``/readyz`` tells the truth: not ready while the store cannot write, ready again by itself.

Against a real ``incidents serve`` on loopback. Before readiness looked at writes, both
cases answered 200: reads go on under another process's write lock (WAL) and on a full
disk, so a read-only check saw nothing wrong.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.remote.conftest import Live, seed_directory
from tests.remote.server import make_tokens, shared_zygote
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


async def _ready(client: httpx.AsyncClient) -> httpx.Response:
    return await client.get("/readyz", timeout=10)


async def test_readyz_fails_while_another_process_holds_the_write_lock(live: Live) -> None:
    async with live.http() as client:
        assert (await _ready(client)).status_code == 200
        holder = sqlite3.connect(live.db, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")

            async def refused() -> httpx.Response | None:
                answer = await _ready(client)
                return answer if answer.status_code == 503 else None

            answer = await wait_until(refused, what="/readyz to fail under the lock")
            body = answer.json()
            assert body["error"] == "unavailable"
            assert body["message"].startswith("not ready: ")
            assert "lock" in body["message"], body
            # The probe that timed out goes on waiting for the lock and then fails with the
            # store's own reason, which later checks report.
            locked = await wait_until(
                lambda: _refused_saying(client, "is locked by another process"),
                what="/readyz to name the locked database",
            )
            assert str(live.db) in locked["message"]
            # Reads still work: only writes are refused.
            health = await client.get("/healthz")
            assert health.status_code == 200
        finally:
            holder.execute("ROLLBACK")
            holder.close()

        async def ready_again() -> bool:
            return (await _ready(client)).status_code == 200

        await wait_until(ready_again, what="/readyz to recover once the lock is gone")
        assert (await _ready(client)).json()["status"] == "ready"


async def _refused_saying(client: httpx.AsyncClient, text: str) -> dict[str, str] | None:
    answer = await _ready(client)
    if answer.status_code != 503:
        return None
    body: dict[str, str] = answer.json()
    return body if text in body["message"] else None


async def test_a_refused_write_makes_readyz_fail_until_writes_succeed(live: Live) -> None:
    """The last real write's outcome counts at once, without waiting for a probe."""
    holder = sqlite3.connect(live.db, isolation_level=None)
    async with live.http("responder") as client:
        # The token's first use records itself (a write): done before the lock is taken.
        assert (await client.get("/v1/incidents")).status_code == 200
        try:
            holder.execute("BEGIN IMMEDIATE")
            raw = await client.post("/v1/incidents", json={"title": "x", "service": "web"})
            assert raw.status_code == 503
            answer = await _ready(client)
            assert answer.status_code == 503
            assert "refused its last write" in answer.json()["message"]
            assert "locked" in answer.json()["message"]
        finally:
            holder.execute("ROLLBACK")
            holder.close()

        async def ready_again() -> bool:
            return (await _ready(client)).status_code == 200

        await wait_until(ready_again, what="/readyz to recover after the lock is released")
        created = await client.post("/v1/incidents", json={"title": "y", "service": "web"})
        assert created.status_code == 201
        assert (await _ready(client)).status_code == 200


@contextlib.contextmanager
def _small_filesystem(where: Path, size: str = "4m") -> Iterator[Path]:
    """A tmpfs of ``size`` at ``where`` (root only): a disk that really fills up."""
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _fill(folder: Path) -> Path:
    """Write zeros into ``folder`` until the filesystem is full; returns the filler file."""
    filler = folder / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb", buffering=0) as out:
        while True:
            try:
                out.write(chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
    for size in (4096, 512, 1):  # the last partial blocks too
        with contextlib.suppress(OSError), filler.open("ab", buffering=0) as out:
            while True:
                out.write(b"\0" * size)
    return filler


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small filesystem needs root")
async def test_readyz_fails_on_a_full_disk_and_recovers_when_space_returns(
    tmp_path: Path,
) -> None:
    with _small_filesystem(tmp_path / "disk") as disk:
        db = disk / "full.db"
        tokens = await make_tokens(db, {"rex": "responder"})
        await seed_directory(db)
        server = shared_zygote().fork(db)
        try:
            url = await server.ready()
            headers = {"Authorization": f"Bearer {tokens['rex']}"}
            async with httpx.AsyncClient(base_url=url, headers=headers, timeout=15) as client:
                assert (await _ready(client)).status_code == 200
                filler = _fill(disk)
                refused = 0
                for n in range(20):
                    # Large enough that the write-ahead log must grow.
                    body = {"title": f"t{n}", "service": "web", "description": "d" * 20_000}
                    answer = await client.post("/v1/incidents", json=body)
                    assert answer.status_code in (201, 503), answer.text
                    refused += answer.status_code == 503
                assert refused > 0, "the disk was not full"
                answer = await _ready(client)
                assert answer.status_code == 503, answer.text
                assert "full" in answer.json()["message"], answer.json()
                filler.unlink()

                async def ready_again() -> bool:
                    return (await _ready(client)).status_code == 200

                await wait_until(ready_again, what="/readyz to recover once space is back")
                body = {"title": "after", "service": "web"}
                assert (await client.post("/v1/incidents", json=body)).status_code == 201
        finally:
            server.stop()
