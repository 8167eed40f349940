"""``/metrics`` on a real server: the same cost at any size (a snapshot refreshed at most
every ``metrics_refresh`` seconds, however many scrape), breaches by the domain's
definition, and an optional token.

Before, every scrape loaded every open incident (3.7 s at 20,000 open) and no token could
be asked for; figures are in ``bench/metrics.py``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.models import NewIncident
from tests.remote.conftest import seed_directory
from tests.remote.server import ServerProcess, make_tokens
from tests.waiting import wait_until_sync

pytestmark = pytest.mark.slow


def _config(home: Path, **server: object) -> None:
    folder = home / "config" / "incident-console"
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["[server]"] + [
        f"{k} = {str(v).lower() if isinstance(v, bool) else v}" for k, v in server.items()
    ]
    (folder / "config.toml").write_text("\n".join(lines) + "\n")


def _value(text: str, sample: str) -> float:
    found = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.MULTILINE)
    assert found, f"no {sample} in:\n{text}"
    return float(found.group(1))


async def _seed(db: Path) -> dict[str, str]:
    tokens = await make_tokens(db, {"vic": "viewer"})
    await seed_directory(db)
    # Created an hour ago: a P1's 15-minute response target is long past.
    hour_ago = FrozenClock(datetime.now(UTC) - timedelta(hours=1))
    async with SqliteBackend(db, clock=hour_ago) as store:
        await store.create_incident(
            NewIncident(title="old", service="web", impact=1, urgency=1), "t"
        )
    async with SqliteBackend(db) as store:
        await store.create_incident(
            NewIncident(title="new", service="web", impact=1, urgency=1), "t"
        )
        await store.create_incident(NewIncident(title="low", service="web"), "t")
    return tokens


def _start(home: Path, db: Path) -> ServerProcess:
    server = ServerProcess(db, home=home).start()
    server.wait_ready(timeout=60)
    return server


async def test_a_scrape_flood_takes_one_snapshot_per_refresh(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    await _seed(db)
    _config(tmp_path, metrics_refresh=3600)
    server = _start(tmp_path, db)
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            texts = [client.get("/metrics").text for _ in range(50)]
            last = texts[-1]
            assert _value(last, "incidents_metrics_snapshots_total") == 1
            assert _value(last, 'incidents_open{priority="P1",status="triggered"}') == 2
            assert _value(last, 'incidents_open_breached{priority="P1"}') == 1
            assert _value(last, 'incidents_open{priority="P3",status="triggered"}') == 1
            assert _value(last, 'incidents_open_breached{priority="P3"}') == 0
    finally:
        server.stop()


async def test_the_gauges_follow_the_store_within_the_refresh(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    await _seed(db)
    _config(tmp_path, metrics_refresh=0.2)
    server = _start(tmp_path, db)
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            sample = 'incidents_open{priority="P3",status="triggered"}'
            assert _value(client.get("/metrics").text, sample) == 1
            async with SqliteBackend(db) as store:  # another process's write
                await store.create_incident(NewIncident(title="more", service="web"), "t")
            wait_until_sync(
                lambda: _value(client.get("/metrics").text, sample) == 2,
                what="the gauge to count the new incident",
            )
    finally:
        server.stop()


async def test_metrics_token_is_off_by_default_and_can_be_required(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    tokens = await _seed(db)
    server = _start(tmp_path, db)
    try:
        assert httpx.get(f"{server.url}/metrics", timeout=10).status_code == 200
    finally:
        server.stop()
    _config(tmp_path, metrics_token=True)
    server = _start(tmp_path, db)
    try:
        bare = httpx.get(f"{server.url}/metrics", timeout=10)
        assert bare.status_code == 401 and bare.json()["error"] == "unauthorized"
        wrong = httpx.get(
            f"{server.url}/metrics", headers={"Authorization": "Bearer inc_x_y"}, timeout=10
        )
        assert wrong.status_code == 401
        viewer = httpx.get(
            f"{server.url}/metrics",
            headers={"Authorization": f"Bearer {tokens['vic']}"},
            timeout=10,
        )
        assert viewer.status_code == 200
        assert 'incidents_open_breached{priority="P1"} 1' in viewer.text
        assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
    finally:
        server.stop()
