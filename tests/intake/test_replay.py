"""``incidents replay``: recorded bodies through the real intake on a copy of the store.

The proof that replay says what live intake does: the same file is replayed (the store is
left exactly as it was), then posted body by body to a real ``incidents serve`` on the same
store, and what the server opened, repeated, acknowledged and resolved is what replay said.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from backends.sqlite import intake as sqlite_intake
from backends.sqlite.store import SqliteBackend
from tests.intake.conftest import am_body, seed
from tests.remote.server import ROOT, ServerProcess, hermetic_env

pytestmark = pytest.mark.slow


def counts(db: Path) -> tuple[int, ...]:
    with sqlite3.connect(db) as conn:
        return tuple(
            conn.execute(f"SELECT count(*), coalesce(max(rowid), 0) FROM {table}").fetchone()[n]
            for table in ("incidents", "alerts", "timeline", "changes")
            for n in (0, 1)
        )


def replay(db: Path, lines: list[Any], home: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    path = home / "alerts.jsonl"
    path.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    )
    return subprocess.run(
        [sys.executable, "-m", "console", "replay", str(path), "--db", str(db), *extra],
        capture_output=True,
        text=True,
        env=hermetic_env(home),
        cwd=ROOT,
        timeout=120,
    )


async def make_store(db: Path) -> tuple[str, str, str]:
    async with SqliteBackend(db) as store:
        await seed(store)
        am, am_key = await sqlite_intake.create_integration(store, "checkout", "alertmanager")
        _ev, ev_key = await sqlite_intake.create_integration(store, "checkout", "events")
    return am.id, am_key, ev_key


def bodies(ev_key: str, am_id: str) -> list[Any]:
    fire = am_body([{"fingerprint": "aa01"}, {"fingerprint": "aa02"}])
    again = am_body([{"fingerprint": "aa01"}])
    clear = am_body(
        [
            {"fingerprint": "aa01", "status": "resolved", "endsAt": "2026-11-27T07:10:00Z"},
            {"fingerprint": "aa02", "status": "resolved", "endsAt": "2026-11-27T07:10:00Z"},
        ]
    )
    event = {
        "routing_key": ev_key,
        "event_action": "trigger",
        "dedup_key": "disk-db7",
        "payload": {"summary": "disk full on db-7", "source": "db-7", "severity": "critical"},
    }
    return [
        {"integration": am_id, "body": fire},
        {"integration": am_id, "body": again},
        event,
        {**event, "event_action": "acknowledge", "payload": None},
        {"integration": am_id, "body": clear},
        {**event, "event_action": "resolve", "dedup_key": "never-seen", "payload": None},
        "{not json",
        {"routing_key": "0" * 64, "event_action": "trigger", "payload": event["payload"]},
    ]


async def post_all(url: str, lines: list[Any], am_key: str) -> list[int]:
    statuses = []
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        for line in lines:
            if isinstance(line, str):
                response = await client.post("/v1/integrations/events", content=line)
            elif "integration" in line:
                response = await client.post(
                    "/v1/integrations/alertmanager",
                    json=line["body"],
                    headers={"Authorization": f"Bearer {am_key}"},
                )
            else:
                response = await client.post("/v1/integrations/events", json=line)
            statuses.append(response.status_code)
    return statuses


def live_state(db: Path) -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, int]]]:
    with sqlite3.connect(db) as conn:
        incidents = {
            key: (json.loads(data)["priority"], json.loads(data)["status"])
            for key, data in conn.execute("SELECT key, data FROM incidents")
        }
        alerts = {
            json.loads(data)["alert_key"]: (key, json.loads(data)["count"])
            for key, data in conn.execute(
                "SELECT i.key, a.data FROM alerts a JOIN incidents i ON i.id = a.incident_id"
            )
        }
    return incidents, alerts


def test_replay_says_what_live_intake_then_does(tmp_path: Path) -> None:
    db = tmp_path / "team.db"
    am_id, am_key, ev_key = asyncio.run(make_store(db))
    lines = bodies(ev_key, am_id)
    before = counts(db)

    done = replay(db, lines, tmp_path, "--format", "json")
    assert done.returncode == 0, done.stderr
    decisions = json.loads(done.stdout)
    assert counts(db) == before, "replay must not write the store"

    assert [d["line"] for d in decisions] == list(range(1, 9))
    opened = [item for d in decisions for item in d["opened"]]
    assert len(opened) == 2
    assert decisions[0]["opened"][0].startswith("INC-1 ")
    assert decisions[2]["opened"][0].startswith("INC-2 P1 disk full on db-7")
    assert decisions[1]["outcomes"] == ["repeated aa01 on INC-1"]
    assert decisions[3]["outcomes"] == ["acknowledged disk-db7 on INC-2"]
    assert sorted(decisions[4]["outcomes"]) == ["resolved aa01 on INC-1", "resolved aa02 on INC-1"]
    assert decisions[5]["outcomes"][0].startswith("dropped never-seen")
    assert "not JSON" in decisions[6]["refused"]
    assert "routing_key" in decisions[7]["refused"]

    server = ServerProcess(db, home=tmp_path).start()
    try:
        url = server.wait_ready()
        statuses = asyncio.run(post_all(url, lines, am_key))
    finally:
        server.stop()
    assert statuses[:6] == [200, 200, 202, 202, 200, 202]
    assert statuses[6] == 400 and statuses[7] in (400, 401)

    incidents, alerts = live_state(db)
    for item in opened:
        key, priority = item.split()[:2]
        assert incidents[key][0] == priority
    assert set(incidents) == {item.split()[0] for item in opened}
    repeats = {"aa01": 1}
    for decision in decisions:
        for outcome in decision["outcomes"]:
            result, alert_key, *_rest = outcome.split()
            if result in ("created", "repeated", "resolved", "acknowledged"):
                owner = outcome.split(" on ")[1].split(":")[0]
                assert alerts[alert_key][0] == owner
            if result == "resolved":
                assert incidents[owner][1] == "resolved"
    for alert_key, extra in repeats.items():
        assert alerts[alert_key][1] == 1 + extra
    assert incidents["INC-2"][1] == "acknowledged"


def test_replay_tries_other_rules_from_a_config(tmp_path: Path) -> None:
    db = tmp_path / "team.db"
    am_id, _am_key, ev_key = asyncio.run(make_store(db))
    config = tmp_path / "new.toml"
    config.write_text("[intake.severities.critical]\nimpact = 3\nurgency = 3\n")
    lines = bodies(ev_key, am_id)[2:3]
    now = replay(db, lines, tmp_path, "--format", "json")
    tried = replay(db, lines, tmp_path, "--format", "json", "--config", str(config))
    assert now.returncode == tried.returncode == 0, now.stderr + tried.stderr
    assert json.loads(now.stdout)[0]["opened"][0].split()[1] == "P1"
    assert json.loads(tried.stdout)[0]["opened"][0].split()[1] == "P5"


def test_replay_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    missing = replay(tmp_path / "nothing.db", [], tmp_path)
    assert missing.returncode == 1 and "no database" in missing.stderr
    assert "Traceback" not in missing.stderr
