"""Database files are created readable by their owner only (issue 11 point 10): the file and
its ``-wal`` / ``-shm`` ``0600``, any folder made for it ``0700``, whatever the umask; a
folder given as the database is refused with a sentence."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from backends.base import Unavailable
from backends.sqlite.store import SqliteBackend
from console.domain.models import NewIncident, Service

INCIDENTS = str(Path(sys.executable).with_name("incidents"))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The common umask (022), which made every database world-readable (0644)."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.usefixtures("open_umask")
async def test_a_new_store_and_its_folders_are_private(tmp_path: Path) -> None:
    db = tmp_path / "a" / "b" / "incidents.db"
    backend = await SqliteBackend(db).open()
    try:
        await backend.put_service(Service(id="api", name="API"))
        await backend.create_incident(NewIncident(title="x", service="api"), "alice")
        assert (tmp_path / "a" / "b" / "incidents.db-wal").exists()
        modes = {suffix: mode(db.with_name(db.name + suffix)) for suffix in ("", "-wal", "-shm")}
        assert modes == {"": 0o600, "-wal": 0o600, "-shm": 0o600}
    finally:
        await backend.close()
    assert mode(tmp_path / "a") == 0o700
    assert mode(tmp_path / "a" / "b") == 0o700


@pytest.mark.usefixtures("open_umask")
async def test_an_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    db.touch(mode=0o640)
    os.chmod(db, 0o640)  # somebody chose group read on purpose
    backend = await SqliteBackend(db).open()
    await backend.close()
    assert mode(db) == 0o640


async def test_a_folder_is_not_a_database(tmp_path: Path) -> None:
    with pytest.raises(Unavailable, match="is a folder, not a database file"):
        await SqliteBackend(tmp_path).open()


def test_demo_command_writes_a_private_database(tmp_path: Path) -> None:
    db = tmp_path / "new" / "demo.db"
    result = subprocess.run(
        [INCIDENTS, "demo", "--db", str(db), "--history", "5", "--open", "3"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONSAFEPATH": "1"},
        preexec_fn=lambda: os.umask(0o022),
    )
    assert result.returncode == 0, result.stderr
    assert (mode(db), mode(db.parent)) == (0o600, 0o700)
