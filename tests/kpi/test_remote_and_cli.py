"""The same KPIs over a real ``incidents serve`` process, and from ``incidents report``.

Both run real processes (a server on a loopback port; the CLI), so they are marked slow.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from backends.remote import RemoteBackend
from console.domain.clock import SystemClock
from tests.kpi.fixture import NOW, WEEK, replay
from tests.remote.server import ROOT, ServerProcess, hermetic_env, make_tokens

pytestmark = pytest.mark.slow


async def test_remote_stats_equal_sqlite_stats(tmp_path: Path) -> None:
    db = tmp_path / "kpis.db"
    store = await replay(db)
    try:
        local = {
            (since, team): await store.stats(since, team=team, now=NOW)
            for since in (WEEK, timedelta(hours=24))
            for team in (None, "data")
        }
    finally:
        await store.close()
    tokens = await make_tokens(db, {"alice": "viewer"})
    server = ServerProcess(db, home=tmp_path).start()
    try:
        url = await server.ready()
        async with RemoteBackend(url, tokens["alice"]) as remote:
            for (since, team), expected in local.items():
                got = await remote.stats(since, team=team, now=NOW)
                assert got == expected
                assert got.model_dump_json() == expected.model_dump_json()
    finally:
        server.stop()


async def test_report_json_matches_the_hand_computation(tmp_path: Path) -> None:
    # The CLI reads the real clock: play the story so that its NOW is this moment.
    shift = SystemClock().now() - NOW
    db = tmp_path / "kpis.db"
    await (await replay(db, shift)).close()
    result = subprocess.run(
        [sys.executable, "-m", "console", "report", "--db", str(db), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=hermetic_env(tmp_path),
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    # the arithmetic is in test_kpis.py; the numbers do not depend on when "now" is
    assert report["since"] == "7d"
    counts = ("created", "acknowledged", "resolved", "reopened", "open_now")
    assert [report[k] for k in counts] == [6, 4, 5, 1, 1]
    assert report["mtta"] == {"count": 4, "mean": 1725.0, "median": 1500.0, "p90": 3600.0}
    assert report["mttr"] == {
        "count": 5,
        "mean": 218160.0,
        "median": 18000.0,
        "p90": 1036800.0,
    }
    assert report["first_call"] == {"resolved": 5, "first_call": 3, "share": 0.6}
    sla = {row["priority"]: row for row in report["sla"]}
    assert sla["P1"]["response"] == {"met": 1, "breached": 1, "share": 0.5}
    assert sla["P1"]["resolution"] == {"met": 1, "breached": 1, "share": 0.5}
    assert sla["P2"]["response"] == {"met": 1, "breached": 1, "share": 0.5}
    assert sla["P3"]["resolution"] == {"met": 1, "breached": 0, "share": 1.0}
    assert sla["P4"]["resolution"] == {"met": 0, "breached": 1, "share": 0.0}
    assert [(s["service"], s["created"], s["resolved"]) for s in report["per_service"]] == [
        ("api", 3, 2),
        ("db", 2, 2),
        ("web", 1, 1),
    ]
    assert sum(d["created"] for d in report["per_day"]) == 6
    assert sum(d["resolved"] for d in report["per_day"]) == 5


def test_report_table_and_csv_and_errors(tmp_path: Path) -> None:
    import asyncio

    db = tmp_path / "kpis.db"
    shift = SystemClock().now() - NOW

    async def build() -> None:
        await (await replay(db, shift)).close()

    asyncio.run(build())

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "console", "report", "--db", str(db), *args],
            capture_output=True,
            text=True,
            timeout=60,
            env=hermetic_env(tmp_path),
            cwd=ROOT,
        )

    table = run("--team", "data")
    assert table.returncode == 0, table.stderr
    assert "team data" in table.stdout
    lines = [" ".join(line.split()) for line in table.stdout.splitlines()]
    assert "MTTR 2 6h00m 6h00m 7h00m" in lines  # mean and median 21600 s, p90 25200 s
    csv = run("--format", "csv", "--service", "web")
    assert "mttr,seconds,mean,1036800.0" in csv.stdout
    bad = run("--since", "1w")
    assert bad.returncode == 2
    assert "24h, 7d or 30d" in bad.stderr
