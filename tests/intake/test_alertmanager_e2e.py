"""End to end with Debian's real Prometheus Alertmanager and a real ``incidents serve``.

Alertmanager (``/usr/bin/prometheus-alertmanager``, fired with ``amtool``) posts its
webhooks to ``/v1/integrations/alertmanager`` with the integration key as a bearer
credential. Asserted: the incident appears; the same alert arriving again is deduplicated
(one incident, the alert counted twice); ending the alerts auto-resolves the incident.
In CI (``CI=true``) a missing binary is a failure, never a skip.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from backends.sqlite import intake as sqlite_intake
from backends.sqlite.store import SqliteBackend
from console.domain.models import Incident, IncidentQuery, Service, Status
from tests.waiting import wait_until_sync

pytestmark = pytest.mark.slow

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
AMTOOL = shutil.which("amtool") or "/usr/bin/amtool"


def _require_alertmanager() -> None:
    if os.path.exists(ALERTMANAGER) and os.path.exists(AMTOOL):
        return
    reason = (
        f"{ALERTMANAGER} or amtool is missing: install Debian's prometheus-alertmanager "
        "(apt-get install --no-install-recommends prometheus-alertmanager; .ci/run does)"
    )
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tails(logs: list[Path]) -> str:
    """The end of every log, for a failure message."""
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in logs)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=8)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def incidents(db: Path) -> list[tuple[Incident, list[tuple[str, str, int]]]]:
    """Every incident with its alerts (key, status, count), read from the server's file."""

    async def read() -> list[tuple[Incident, list[tuple[str, str, int]]]]:
        async with SqliteBackend(db) as store:
            found = await store.list_incidents(IncidentQuery(statuses=tuple(Status), sort="age"))
            return [
                (
                    i,
                    [
                        (a.labels.get("instance", ""), a.status, a.count)
                        for a in await store.alerts(i.id)
                    ],
                )
                for i in found
            ]

    return asyncio.run(read())


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[Path, int, list[Path]]]:
    """``incidents serve`` and Alertmanager wired together; yields (db, am_port, logs)."""
    _require_alertmanager()
    db = tmp_path / "incidents.db"

    async def setup() -> str:
        async with SqliteBackend(db) as store:
            await store.put_service(Service(id="checkout", name="Checkout"))
            _, key = await sqlite_intake.create_integration(store, "checkout", "alertmanager")
            return key

    key = asyncio.run(setup())
    server_log = tmp_path / "serve.log"
    am_log = tmp_path / "alertmanager.log"
    logs = [server_log, am_log]
    env = {**os.environ, "INCIDENTS_CONFIG": str(tmp_path / "none.toml")}
    (tmp_path / "none.toml").write_text("")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "console",
            "serve",
            "--db",
            str(db),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
        ],
        stdout=server_log.open("wb"),
        stderr=subprocess.STDOUT,
        env=env,
    )
    processes = [server]
    try:
        url = wait_until_sync(
            lambda: (
                (m := re.search(r"listening on (http://\S+)", server_log.read_text()))
                and m.group(1)
            ),
            what="incidents serve to listen",
            detail=lambda: tails(logs),
        )
        am_port = free_port()
        config = tmp_path / "alertmanager.yml"
        config.write_text(
            f"""
route:
  receiver: incidents
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 4h
receivers:
  - name: incidents
    webhook_configs:
      - url: {url}/v1/integrations/alertmanager
        send_resolved: true
        http_config:
          authorization:
            credentials: {key}
"""
        )
        am = subprocess.Popen(
            [
                ALERTMANAGER,
                f"--config.file={config}",
                f"--storage.path={tmp_path / 'am-data'}",
                f"--web.listen-address=127.0.0.1:{am_port}",
                "--cluster.listen-address=",
            ],
            stdout=am_log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        processes.append(am)

        def ready() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{am_port}/-/ready", timeout=1) as r:
                    return r.status == 200
            except OSError:
                return False

        wait_until_sync(ready, what="Alertmanager to be ready", detail=lambda: tails(logs))
        yield db, am_port, logs
    finally:
        for process in reversed(processes):
            stop(process)


def amtool(am_port: int, *args: str) -> None:
    subprocess.run(
        [AMTOOL, f"--alertmanager.url=http://127.0.0.1:{am_port}", "alert", "add", *args],
        check=True,
        capture_output=True,
        timeout=20,
    )


LABELS = ["alertname=CheckoutErrors", "service=checkout", "severity=critical"]


def test_alertmanager_pages_dedups_and_auto_resolves(stack: tuple[Path, int, list[Path]]) -> None:
    db, am_port, logs = stack
    amtool(am_port, *LABELS, "instance=web-1", "--annotation=summary=5xx above 5% on checkout")
    [(incident, alerts)] = wait_until_sync(
        lambda: incidents(db), what="the incident", detail=lambda: tails(logs)
    )
    assert incident.title == "5xx above 5% on checkout"
    assert incident.source == "alertmanager" and incident.status == Status.TRIGGERED
    assert incident.labels["severity"] == "critical" and incident.priority.value == "P1"
    assert alerts == [("web-1", "firing", 1)]

    # The same alert fires again, and a second one joins its group: Alertmanager sends the
    # whole group, so web-1 arrives a second time. Still one incident; web-1 counted twice.
    amtool(am_port, *LABELS, "instance=web-1", "--annotation=summary=5xx above 5% on checkout")
    amtool(am_port, *LABELS, "instance=web-2", "--annotation=summary=5xx above 5% on checkout")

    def grouped() -> list[tuple[Incident, list[tuple[str, str, int]]]] | None:
        found = incidents(db)
        return found if found and len(found[0][1]) == 2 else None

    found = wait_until_sync(
        grouped, what="the second alert to join the incident", detail=lambda: tails(logs)
    )
    assert len(found) == 1, "deduplicated into one incident"
    [(incident, alerts)] = found
    assert sorted(alerts) == [("web-1", "firing", 2), ("web-2", "firing", 1)]
    assert incident.alert_count == 3

    # End both alerts: Alertmanager sends them resolved, and the incident resolves itself.
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for instance in ("web-1", "web-2"):
        amtool(
            am_port,
            *LABELS,
            f"instance={instance}",
            f"--end={now}",
            "--annotation=summary=5xx above 5% on checkout",
        )

    def resolved() -> Incident | None:
        [(current, _)] = incidents(db)
        return current if current.status == Status.RESOLVED else None

    incident = wait_until_sync(
        resolved, what="the incident to auto-resolve", timeout=40, detail=lambda: tails(logs)
    )
    assert incident.resolution_code is not None
    assert incident.resolution_code.value == "auto_resolved"
    [(_, alerts)] = incidents(db)
    assert {status for _, status, _ in alerts} == {"resolved"}
