"""Change events and presence through the SQLite store and a real ``incidents serve``.

Change events: the PagerDuty Change Events v2 body answered 202 as PagerDuty does, a bad body
refused with the field named and nothing stored, keys of kind ``change`` or ``events``
accepted, the remote client recording and listing, and a change on the feed. Presence: two
stores on one file see each other's announcements; a remote console sees another's over the
server's presence stream; nothing of it reaches a timeline or the change feed.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from backends import capabilities
from backends.remote import RemoteBackend
from backends.sqlite.store import SqliteBackend
from console.domain.changes import new_change
from console.domain.presence import announcement
from tests.intake.conftest import seed
from tests.remote.server import ServerProcess, make_tokens
from tests.waiting import wait_until

DOC_BODY = {
    "payload": {
        "summary": "Build Success: Increase snapshot create timeout to 30 seconds",
        "timestamp": "2020-07-17T08:42:58.315+0000",
        "source": "acme-build-pipeline-tool-default-i-9999",
        "custom_details": {"build_state": "passed", "build_number": "2", "run_time": "1236s"},
    },
    "links": [{"href": "https://acme.pagerduty.dev/build/2", "text": "View more details in Acme!"}],
}


async def test_sqlite_records_filters_and_feeds_change_events(tmp_path: Path) -> None:
    async with SqliteBackend(tmp_path / "c.db") as store:
        await records_filters_and_feeds(store)


async def test_postgres_records_filters_and_feeds_change_events() -> None:
    from backends.postgres.store import PostgresBackend
    from tests.postgres import fresh_dsn

    async with PostgresBackend(await fresh_dsn()) as store:
        await records_filters_and_feeds(store)


async def records_filters_and_feeds(store: Any) -> None:
    """The same change events through either SQL store: numbered, filtered, on the feed."""
    await seed(store)
    log = capabilities.changes(store)
    assert log is not None
    now = store.clock.now()
    seq = await store.last_seq()
    first = await log.record_change_event(
        new_change("checkout", "v1", now=now, at=now - timedelta(hours=2)), "ci"
    )
    second = await log.record_change_event(new_change("checkout", "v2", now=now), "ci")
    await log.record_change_event(new_change("search", "reindex", now=now), "ci")
    assert (first.key, second.key) == ("CHG-1", "CHG-2")
    on_checkout = await log.change_events(services=["checkout"])
    assert [e.summary for e in on_checkout] == ["v2", "v1"]
    recent = await log.change_events(since=now - timedelta(hours=1))
    assert {e.summary for e in recent} == {"v2", "reindex"}
    older = await log.change_events(until=now - timedelta(hours=1))
    assert [e.summary for e in older] == ["v1"]
    both = await log.change_events(services=["checkout", "search"], limit=2)
    assert [e.summary for e in both] == ["reindex", "v2"]
    assert await log.change_events(services=[]) == []
    feed = await store.changes(seq)
    assert [c.kind for c in feed] == ["change_event.recorded"] * 3
    with pytest.raises(Exception, match="unknown service"):
        await log.record_change_event(new_change("nope", "x", now=now), "ci")


async def test_presence_is_shared_through_one_file_and_expires(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    async with SqliteBackend(db) as a, SqliteBackend(db) as b:
        board_a, board_b = capabilities.presence(a), capabilities.presence(b)
        assert board_a is not None and board_b is not None
        seq = await a.last_seq()
        now = a.clock.now()
        await board_a.announce(announcement("console-a", "ines", now, incident_id=7))
        seen = await board_b.present()
        assert [(p.user, p.incident_id, p.doing()) for p in seen] == [("ines", 7, "viewing")]
        await board_a.announce(announcement("console-a", "ines", now, 7, action="acknowledge"))
        assert (await board_b.present())[0].doing() == "acknowledging…"
        await board_a.leave("console-a")
        assert await board_b.present() == []
        expired = announcement("console-c", "bob", now - timedelta(minutes=5), incident_id=7)
        await board_a.announce(expired)
        assert await board_b.present() == []
        assert await a.changes(seq) == [], "presence never reaches the change feed"


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = tmp_path / "team.db"

    async def prepare() -> dict[str, str]:
        async with SqliteBackend(db) as store:
            await seed(store)
            intake = capabilities.intake(store)
            assert intake is not None
            _c, change_key = await intake.create_integration("checkout", "change", "deploys")
            _e, events_key = await intake.create_integration("search", "events", "pd")
            _a, am_key = await intake.create_integration("checkout", "alertmanager")
        tokens = await make_tokens(db, {"rex": "responder", "vic": "viewer", "ines": "viewer"})
        return {"change": change_key, "events": events_key, "am": am_key, **tokens}

    keys = asyncio.run(prepare())
    process = ServerProcess(db, home=tmp_path).start()
    try:
        url = process.wait_ready()
        yield url, keys, db
    finally:
        process.stop()


async def test_change_intake_answers_like_pagerduty(server) -> None:  # type: ignore[no-untyped-def]
    url, keys, db = server
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        ok = await client.post(
            "/v1/integrations/change", json={"routing_key": keys["change"], **DOC_BODY}
        )
        assert ok.status_code == 202, ok.text
        assert ok.json() == {"status": "success", "message": "Change event processed"}
        # PagerDuty takes the same key for alert and change events.
        same = await client.post(
            "/v1/integrations/change",
            json={"routing_key": keys["events"], "payload": {"summary": "reindex"}},
        )
        assert same.status_code == 202, same.text
        bad = [
            ({"routing_key": keys["change"], "payload": {}}, "payload.summary"),
            ({"routing_key": keys["change"]}, "payload"),
            ({"payload": {"summary": "x"}}, "routing_key"),
            ({"routing_key": "0" * 64, "payload": {"summary": "x"}}, "routing_key"),
            ({"routing_key": keys["am"], "payload": {"summary": "x"}}, "routing_key"),
        ]
        for body, field in bad:
            refused = await client.post("/v1/integrations/change", json=body)
            assert refused.status_code == 400, (body, refused.text)
            assert refused.json()["status"] == "invalid event"
            assert any(e.startswith(field) for e in refused.json()["errors"]), refused.text
        junk = await client.post("/v1/integrations/change", content=b"\x00{")
        assert junk.status_code == 400
        listed = await client.get(
            "/v1/change-events", headers={"Authorization": f"Bearer {keys['vic']}"}
        )
        assert listed.status_code == 200
        events = listed.json()
    assert [(e["service"], e["summary"]) for e in events] == [
        ("search", "reindex"),
        ("checkout", "Build Success: Increase snapshot create timeout to 30 seconds"),
    ]
    assert events[1]["details"]["build_number"] == "2"
    assert events[1]["links"][0]["ref"] == "https://acme.pagerduty.dev/build/2"
    assert "\u202e" not in json.dumps(events)


async def test_remote_records_lists_and_streams_presence(server) -> None:  # type: ignore[no-untyped-def]
    url, keys, _db = server
    async with (
        RemoteBackend(url, token=keys["rex"]) as rex,
        RemoteBackend(url, token=keys["ines"]) as ines,
        RemoteBackend(url, token=keys["vic"]) as vic,
    ):
        log = capabilities.changes(rex)
        assert log is not None
        now = datetime.now(UTC)
        made = await log.record_change_event(new_change("checkout", "v9", now=now), "ignored")
        assert made.recorded_by == "rex", "the server records the token's user"
        listed = await capabilities.changes(vic).change_events(services=["checkout"])  # type: ignore[union-attr]
        assert [e.summary for e in listed] == ["v9"]
        with pytest.raises(Exception, match="responder|role|403|forbidden"):
            await capabilities.changes(vic).record_change_event(  # type: ignore[union-attr]
                new_change("checkout", "x", now=now), "vic"
            )

        board_vic, board_ines = capabilities.presence(vic), capabilities.presence(ines)
        assert board_vic is not None and board_ines is not None
        snapshots: list[list[str]] = []

        async def follow() -> None:
            async for snapshot in board_vic.watch_presence():
                snapshots.append([p.describe() for p in snapshot])

        task = asyncio.create_task(follow())
        try:
            # Claiming to be someone else does not work: the token's user is recorded.
            await board_ines.announce(announcement("ines-1", "mallory", now, incident_id=3))
            await wait_until(
                lambda: ["ines viewing"] in snapshots, what="ines's presence on vic's stream"
            )
            await board_ines.announce(announcement("ines-1", "ines", now, 3, action="note"))
            await wait_until(
                lambda: ["ines writing a note on…"] in snapshots, what="the dialog on the stream"
            )
            await board_ines.leave("ines-1")
            await wait_until(lambda: snapshots[-1] == [], what="ines leaving")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
