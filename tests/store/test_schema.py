"""The file itself: migrations, a newer schema refused untouched, append-only timeline."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from backends import open_backend
from backends.base import Unavailable
from backends.common.sql import where as sql_where
from backends.sqlite.store import MIGRATIONS, Migration, SchemaTooNew, SqliteBackend
from console.domain.config import Settings
from console.domain.models import IncidentQuery, NewIncident
from tests.store.conftest import seed


def _user_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


def _fingerprint(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


async def test_migrates_an_empty_file_and_reopens(db_path: Path) -> None:
    db_path.touch()
    async with SqliteBackend(db_path) as backend:
        await seed(backend)
        await backend.create_incident(NewIncident(title="kept", service="web"), "alice")
    assert _user_version(db_path) == len(MIGRATIONS)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert {"incidents", "timeline", "changes", "services", "users", "policies"} <= tables
    async with SqliteBackend(db_path) as again:
        [incident] = await again.list_incidents(IncidentQuery())
        assert incident.title == "kept"


async def test_an_appended_migration_runs_once_on_an_existing_file(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with SqliteBackend(db_path) as backend:
        await seed(backend)

    calls: list[int] = []

    async def backfill(db: aiosqlite.Connection) -> None:
        calls.append(1)
        await db.execute("INSERT INTO extra (note) VALUES ('migrated')")

    extended = [
        *MIGRATIONS,
        Migration("an extra table", ("CREATE TABLE extra (note TEXT)", backfill)),
    ]
    monkeypatch.setattr("backends.sqlite.store.MIGRATIONS", extended)
    for _ in range(2):
        async with SqliteBackend(db_path) as backend:
            assert [s.id for s in await backend.services()] == ["web"]  # data kept
    assert calls == [1]
    assert _user_version(db_path) == len(extended)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT note FROM extra").fetchall() == [("migrated",)]


async def test_a_failing_migration_leaves_the_old_schema(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with SqliteBackend(db_path):
        pass
    broken = [*MIGRATIONS, Migration("broken", ("CREATE TABLE half (x)", "NOT SQL AT ALL"))]
    monkeypatch.setattr("backends.sqlite.store.MIGRATIONS", broken)
    with pytest.raises(Unavailable):
        await SqliteBackend(db_path).open()
    assert _user_version(db_path) == len(MIGRATIONS)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'half'").fetchall() == []


async def test_a_newer_schema_is_refused_and_left_untouched(db_path: Path) -> None:
    async with SqliteBackend(db_path) as backend:
        await seed(backend)
    newer = len(MIGRATIONS) + 1
    with sqlite3.connect(db_path) as conn:
        conn.execute(f"PRAGMA user_version = {newer}")
    before = _fingerprint(db_path)

    backend = SqliteBackend(db_path)
    with pytest.raises(SchemaTooNew) as caught:
        await backend.open()
    message = str(caught.value)
    assert str(newer) in message and "newer" in message and "not changed" in message
    assert isinstance(caught.value, Unavailable)
    assert _fingerprint(db_path) == before
    assert _user_version(db_path) == newer


async def test_a_file_of_another_program_is_refused_untouched(db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE photos (id INTEGER)")
    before = _fingerprint(db_path)
    with pytest.raises(Unavailable, match="some other program"):
        await SqliteBackend(db_path).open()
    assert _fingerprint(db_path) == before


async def test_garbage_and_unreachable_files_are_unavailable(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database at all, just text" * 100)
    with pytest.raises(Unavailable, match="not an SQLite database"):
        await SqliteBackend(garbage).open()
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(Unavailable, match="cannot create the folder"):
        await SqliteBackend(blocker / "sub" / "x.db").open()


async def test_timeline_is_append_only_in_the_schema(store: SqliteBackend, db_path: Path) -> None:
    incident = await store.create_incident(NewIncident(title="x", service="web"), "alice")
    with sqlite3.connect(db_path) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE timeline SET actor = 'mallory'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM timeline")
    assert [e.actor for e in await store.timeline(incident.id)] == ["alice"]


async def test_the_queue_query_uses_the_open_index(store: SqliteBackend, db_path: Path) -> None:
    query = IncidentQuery()
    where, params = sql_where(query, 0.0)
    with sqlite3.connect(db_path) as conn:
        plan = " ".join(
            str(row[-1])
            for row in conn.execute(
                f"EXPLAIN QUERY PLAN SELECT id FROM incidents{where} ORDER BY priority", params
            )
        )
    assert "incidents_open" in plan


async def test_open_backend_creates_folders_and_picks_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "incidents.db"
    backend = await open_backend(Settings(db=path))
    try:
        assert isinstance(backend, SqliteBackend)
        assert backend.description == str(path)
        assert path.exists()
    finally:
        await backend.close()
    with pytest.raises(Unavailable, match="not an http"):
        await open_backend(Settings(backend="ftp://example"))


async def test_the_search_column_is_filled_for_incidents_stored_before_it(
    db_path: Path,
) -> None:
    """Migration 10 on a file written at version 9: what free text matches is filled in for
    every incident already there, so the history finds old incidents by any word."""
    async with SqliteBackend(db_path) as backend:
        await seed(backend)
        for n in range(12):
            await backend.create_incident(
                NewIncident(
                    title=f"Ünïcode DISK {n}",
                    service="web",
                    assignee="alice" if n == 3 else None,
                    labels={"rack": f"r{n}"},
                ),
                "alice",
            )
    with sqlite3.connect(db_path) as conn:  # back to version 9: no search column
        conn.execute("DROP TABLE due_basis")
        conn.execute("DROP INDEX incidents_policy")
        for column in ("policy", "escalation_level", "escalation_loop", "escalation_from"):
            conn.execute(f"ALTER TABLE incidents DROP COLUMN {column}")
        conn.execute("ALTER TABLE incidents DROP COLUMN breach_mark")
        conn.execute("DROP INDEX incidents_escalator")
        conn.execute("ALTER TABLE incidents DROP COLUMN escalator_due")
        conn.execute("DROP INDEX incidents_history")
        conn.execute("ALTER TABLE incidents DROP COLUMN search")
        conn.execute("PRAGMA user_version = 9")
    async with SqliteBackend(db_path) as backend:
        assert _user_version(db_path) == len(MIGRATIONS)
        found = await backend.page_incidents(IncidentQuery(terms=("ünïcode disk",)))
        assert len(found.incidents) == 12
        [one] = (await backend.page_incidents(IncidentQuery(terms=("rack=r3", "alice")))).incidents
        assert one.title == "Ünïcode DISK 3"
