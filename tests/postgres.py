"""A throw-away PostgreSQL cluster for the tests: Debian's ``postgresql`` binaries, initdb
into a temp folder (owned by ``nobody`` when the tests run as root, since PostgreSQL refuses
to run as root), listening on a free loopback port, stopped and removed at exit.

One cluster per test process (``cluster()`` starts it on first use); every test gets a
database of its own (``fresh_dsn()``), so the suite stays fast.
"""

from __future__ import annotations

import atexit
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import asyncpg
import pytest

_counter = itertools.count(1)


def bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    return Path(found[-1]).parent if found else None


def _version(path: str) -> int:
    part = Path(path).parent.parent.name
    return int(part) if part.isdigit() else 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="incidents-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "nobody"
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120, cwd=self.root)

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "log"),
            "-o",
            options,
            "-w",
            "start",
        )
        self._watchdog()

    def _watchdog(self) -> None:
        """Stop the cluster and remove its folder once this process is gone, however it
        ends (an xdist worker killed at the end of a run never reaches ``atexit``)."""
        stop = [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]
        if self.user is not None:
            stop = ["runuser", "-u", self.user, "--", *stop]
        script = (
            f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 1; done; "
            f"{' '.join(stop)} >/dev/null 2>&1; rm -rf {self.root}"
        )
        subprocess.Popen(
            ["sh", "-c", script],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except (subprocess.SubprocessError, OSError):
            pass
        shutil.rmtree(self.root, ignore_errors=True)

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    async def create_database(self) -> str:
        name = f"t{os.getpid()}_{next(_counter)}"
        conn = await asyncpg.connect(self.dsn())
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return self.dsn(name)


_cluster: Cluster | None = None


def cluster() -> Cluster:
    """The process's cluster, started on first use; skips the test if PostgreSQL is absent."""
    global _cluster
    if _cluster is None:
        bindir = bin_dir()
        if bindir is None:
            pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
        started = Cluster(bindir)
        try:
            started.start()
        except BaseException:
            started.stop()
            raise
        atexit.register(started.stop)
        _cluster = started
    return _cluster


def stop_cluster() -> None:
    """Stop the process's cluster if one was started (the test session's end)."""
    global _cluster
    if _cluster is not None:
        _cluster.stop()
        _cluster = None


async def fresh_dsn() -> str:
    """The URL of a new, empty database on the test cluster."""
    return await cluster().create_database()
