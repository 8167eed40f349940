"""``incidents migrate --from team.db --to postgresql://...`` round-trips the demo store:
every table's rows, the same incidents and timelines, tokens and integration keys still
working, and the same ``incidents report --format json`` output on both stores."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from backends import capabilities
from backends.postgres.copy import TABLES, count_rows
from backends.postgres.store import PostgresBackend
from backends.sqlite.store import SqliteBackend
from console.domain.changes import NewChange
from console.domain.kpis import render_json
from console.domain.lifecycle import AddNote
from console.domain.models import IncidentQuery, NewIncident, Status
from tests.postgres import fresh_dsn
from tests.remote.server import ROOT, hermetic_env

pytestmark = pytest.mark.slow


def _incidents(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=hermetic_env(home),
        cwd=ROOT,
    )


async def test_migrate_round_trips_the_demo_store(tmp_path: Path) -> None:
    db = tmp_path / "team.db"
    made = _incidents("demo", "--db", str(db), "--history", "300", "--open", "20", home=tmp_path)
    assert made.returncode == 0, made.stderr
    async with SqliteBackend(db) as source:
        tokens = source.capabilities.tokens
        assert tokens is not None
        _, token = await tokens.create("alice", "admin")
        _, key = await source.create_integration((await source.services())[0].id, "events")
        now = source.clock.now()
        change = await source.record_change_event(
            NewChange(service=(await source.services())[0].id, summary="deploy v2", at=now),
            "alice",
        )
        expected_counts = {
            table: len(await source.fetchall(f"SELECT 1 FROM {table}")) for table in TABLES
        }
        everything = IncidentQuery(statuses=tuple(Status), limit=100_000)
        incidents = await source.list_incidents(everything.model_copy(update={"sort": "age"}))
        timeline = await source.timeline(incidents[-1].id)
        report = render_json(await source.stats(timedelta(days=30), now=now))
        last = await source.last_seq()
        due = "SELECT id, sla_due, escalator_due FROM incidents WHERE is_open = 1 ORDER BY id"
        dues = await source.fetchall(due)
        assert len(dues) == 20 and any(row[2] is not None for row in dues)

    dsn = await fresh_dsn()
    moved = _incidents("migrate", "--from", str(db), "--to", dsn, home=tmp_path)
    assert moved.returncode == 0, moved.stderr
    assert "every table's count matches" in moved.stdout

    async with PostgresBackend(dsn) as target:
        assert await count_rows(target) == expected_counts
        assert expected_counts["incidents"] == 320 and expected_counts["change_events"] == 1
        everything = IncidentQuery(statuses=tuple(Status), limit=100_000, sort="age")
        assert await target.list_incidents(everything) == incidents
        assert await target.timeline(incidents[-1].id) == timeline
        assert render_json(await target.stats(timedelta(days=30), now=now)) == report
        # What the escalator reads is computed again on the target (the same settings here).
        assert [tuple(row) for row in await target.fetch(due)] == dues
        assert await target.last_seq() == last
        assert (await target.change_events())[0] == change
        tokens = capabilities.tokens(target)
        assert tokens is not None and await tokens.verify(token) is not None
        assert await target.integration_for_key(key) is not None
        # New rows continue the copied ids and sequence numbers.
        updated = await target.act(
            incidents[0].id, AddNote(text="after the move"), "alice", incidents[0].version
        )
        assert (await target.changes(last))[0].entity_id == str(updated.id)
        new = await target.create_incident(
            NewIncident(title="after the move", service=incidents[0].service), "alice"
        )
        assert new.id == max(i.id for i in incidents) + 1

    again = _incidents("migrate", "--from", str(db), "--to", dsn, home=tmp_path)
    assert again.returncode == 1 and "empty database" in again.stderr
