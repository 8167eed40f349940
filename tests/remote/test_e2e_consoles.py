"""End to end: two consoles in real terminals (tmux) on one real server.

One console (a responder) acknowledges the first row with ``a``; the other (a viewer, so
read-only) sees the row turn ``ack`` through the change stream. Then the server is killed
and restarted on the same port: both consoles say they lost it, reconnect by themselves and
catch up with a change made after the restart.
"""

from __future__ import annotations

import shlex
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from backends.remote import RemoteBackend
from backends.sqlite.store import SqliteBackend
from console.domain.models import EntryKind, NewIncident, Status
from tests.remote.conftest import ROLES, seed_directory
from tests.remote.server import ROOT, ServerProcess, hermetic_env, make_tokens
from tests.waiting import wait_until_sync

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
]


class Tmux:
    """A private tmux server (its own ``-L`` socket) with one 120x40 session per console."""

    def __init__(self) -> None:
        self.socket = f"incidents-remote-{uuid.uuid4().hex[:8]}"

    def run(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10
        )
        return result.stdout

    def open(self, name: str, command: str) -> None:
        self.run("new-session", "-d", "-s", name, "-x", "120", "-y", "40", command)

    def screen(self, name: str) -> str:
        return self.run("capture-pane", "-p", "-t", name)

    def wait_for(self, name: str, predicate: Callable[[str], bool], what: str) -> str:
        """Console ``name``'s screen, once ``predicate`` holds for it."""

        def shown() -> str | None:
            screen = self.screen(name)
            return screen if predicate(screen) else None

        return wait_until_sync(
            shown,
            what=f"console {name}: {what}",
            detail=lambda: f"the screen is:\n{self.screen(name)}",
        )


def row(screen: str, key: str) -> str:
    return next((line for line in screen.splitlines() if f" {key} " in f" {line} "), "")


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    terminal = Tmux()
    yield terminal
    terminal.run("kill-server")


async def test_two_consoles_one_acts_the_other_sees_it_and_both_survive_a_restart(
    tmp_path: Path, tmux: Tmux
) -> None:
    db = tmp_path / "shared.db"
    tokens = await make_tokens(db, ROLES)
    await seed_directory(db)
    async with SqliteBackend(db) as store:
        first = await store.create_incident(
            NewIncident(title="Checkout down", service="web", impact=1, urgency=1), "ada"
        )
    server = ServerProcess(db, home=tmp_path).start()
    try:
        url = await server.ready()
        env = hermetic_env(tmp_path)
        prefix = " ".join(
            f"{k}={shlex.quote(env[k])}" for k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "PATH")
        )
        python = shlex.quote(sys.executable)
        for name, user in (("responder", "rex"), ("viewer", "vic")):
            tmux.open(
                name,
                f"cd {shlex.quote(str(ROOT))} && env -u COLUMNS -u LINES {prefix} {python} -m console "
                f"--backend {url} --token {tokens[user]}",
            )
        key = first.key
        for name in ("responder", "viewer"):
            tmux.wait_for(name, lambda s: "triggered" in row(s, key), f"{key} triggered")

        tmux.run("send-keys", "-t", "responder", "a")
        tmux.wait_for(
            "viewer",
            lambda s: " ack " in row(s, key) and " rex " in row(s, key) + " ",
            f"{key} acknowledged and assigned to rex",
        )
        async with SqliteBackend(db) as store:
            incident = await store.get_incident(first.id)
            entries = await store.timeline(first.id)
        assert incident.status == Status.ACKNOWLEDGED
        assert (entries[-1].kind, entries[-1].actor) == (EntryKind.ACKNOWLEDGED, "rex")
        # The viewer's console is read-only: its footer offers no triage keys.
        assert "Ack" not in tmux.screen("viewer").splitlines()[-1]

        server.stop(signal.SIGKILL)
        for name in ("responder", "viewer"):
            tmux.wait_for(
                name,
                lambda s: "reconnecting" in s or "offline" in s,
                "the lost connection",
            )
        server.restart()
        await server.ready()
        async with RemoteBackend(url, tokens["ada"]) as admin:
            later = await admin.create_incident(
                NewIncident(title="Payments slow", service="web", impact=1, urgency=2), "ada"
            )
        for name in ("responder", "viewer"):
            tmux.wait_for(
                name,
                lambda s: later.key in s and "offline" not in s and "reconnecting" not in s,
                f"{later.key}, connected again",
            )
    finally:
        server.stop()
