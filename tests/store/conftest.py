"""Helpers for the SQLite-specific tests: real files, real second processes."""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from backends.sqlite.store import SqliteBackend
from console.domain.models import Service, User

ROOT = Path(__file__).resolve().parents[2]


async def run_python(code: str, *args: str, timeout: float = 30.0) -> str:
    """Run ``code`` in a fresh interpreter (a real second process); return its stdout."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        textwrap.dedent(code),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env=env,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def seed(backend: SqliteBackend) -> None:
    await backend.put_user(User(id="alice", name="Alice"))
    await backend.put_user(User(id="bob", name="Bob"))
    await backend.put_service(Service(id="web", name="Web shop"))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[SqliteBackend]:
    async with SqliteBackend(db_path, poll_interval=0.02) as backend:
        await seed(backend)
        yield backend
