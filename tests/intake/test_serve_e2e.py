"""Through a real ``incidents serve`` process: an Events v2 trigger opens an incident, a
Slack-style receiver gets the message, the unacknowledged incident escalates by itself
(the server's escalator) and the receiver hears about that too; admins see the delivery log."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from backends.sqlite import intake as sqlite_intake
from backends.sqlite.store import SqliteBackend
from backends.sqlite.tokens import SqliteTokenStore
from console.domain.models import (
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    Service,
    TargetKind,
    User,
)
from tests.intake.receiver import Receiver
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


async def test_events_page_slack_and_escalate_by_themselves(tmp_path: Path) -> None:
    db = tmp_path / "serve.db"
    async with SqliteBackend(db) as store:
        for user in ("alice", "bob"):
            await store.put_user(User(id=user, name=user.title()))
        await store.put_policy(
            EscalationPolicy(
                id="fast",
                name="Fast",
                levels=(
                    EscalationLevel(
                        targets=(EscalationTarget(kind=TargetKind.USER, id="alice"),),
                        wait=timedelta(seconds=1),
                    ),
                    EscalationLevel(
                        targets=(EscalationTarget(kind=TargetKind.USER, id="bob"),),
                        wait=timedelta(minutes=30),
                    ),
                ),
            )
        )
        await store.put_service(Service(id="payments", name="Payments", policy="fast"))
        _, key = await sqlite_intake.create_integration(store, "payments", "events")
        _, admin = await SqliteTokenStore(store).create("root", "admin")

    async with Receiver() as receiver:
        config = tmp_path / "config.toml"
        config.write_text(
            "[notify]\nbackoff = 0.1\n\n[[notify.webhooks]]\n"
            f'url = "{receiver.url}"\nformat = "slack"\nmin_priority = "P5"\n'
        )
        log = tmp_path / "serve.log"
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "console",
            "serve",
            "--db",
            str(db),
            "--port",
            "0",
            stdout=log.open("wb"),
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "INCIDENTS_CONFIG": str(config)},
        )
        try:
            url = await wait_until(
                lambda: (
                    (m := re.search(r"listening on (http://\S+)", log.read_text())) and m.group(1)
                ),
                what="the server",
                detail=lambda: log.read_text()[-3000:],
            )
            async with httpx.AsyncClient(base_url=url, timeout=10) as client:
                response = await client.post(
                    "/v1/integrations/events",
                    json={
                        "routing_key": key,
                        "event_action": "trigger",
                        "dedup_key": "card-auth",
                        "payload": {
                            "summary": "card authorisations failing",
                            "source": "pay-1",
                            "severity": "critical",
                        },
                    },
                )
                assert response.status_code == 202, response.text
                texts = lambda: [r["text"] for r in receiver.requests]  # noqa: E731
                await wait_until(
                    lambda: texts(),
                    what="the new-incident message",
                    detail=lambda: log.read_text()[-3000:],
                )
                assert "[P1] INC-1 new incident: card authorisations failing" in texts()[0]
                await wait_until(
                    lambda: any("escalated" in t for t in texts()),
                    what="the escalation message",
                    detail=lambda: log.read_text()[-3000:],
                )
                incident = (
                    await client.get(
                        "/v1/incidents/INC-1", headers={"Authorization": f"Bearer {admin}"}
                    )
                ).json()
                assert incident["escalation_level"] == 2
                log_rows = (
                    await client.get("/v1/deliveries", headers={"Authorization": f"Bearer {admin}"})
                ).json()
                assert {row["event"] for row in log_rows} >= {
                    "incident.created",
                    "incident.escalated",
                }
                assert all(row["status"] in ("delivered", "queued") for row in log_rows)
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), 10)
                except TimeoutError:
                    process.kill()
                    await process.wait()
