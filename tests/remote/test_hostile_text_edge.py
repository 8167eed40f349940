"""Every stored text is cleaned once, at the edge (issue 11 point 7), on a real server.

Hostile strings (ANSI and 8-bit C1 escapes, bidi overrides, zero-width and other invisible
characters, tag characters) go in through each way text enters: the Alertmanager webhook
(labels, annotations, their keys, generatorURL, receiver, externalURL, groupKey,
fingerprint), an Events v2 event (custom_details at every depth, client, client_url, links,
images, dedup_key), the API (incidents, actions, problems, tokens, change events, the
directory: ids included) and the command line. Afterwards no such character is in the
database file, in any JSON the server answers, raw or decoded; and a store written around
the edge (raw text put into the file directly) is still answered with no raw character.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from tests.remote.conftest import Live
from tests.remote.server import ROOT, hermetic_env

INCIDENTS = str(Path(sys.executable).with_name("incidents"))

# Each cleans to "EvilTitle!" (checked below): escapes, C1, bidi, zero-width, tags, NUL, DEL.
HOSTILE = (
    "Ev\x1b[31mil\x9b2J\x9d0;x\x07\u202eTi\u200btle\u2066!\x00\x7f\u00ad\U000e0041"
    "\u200d\ufeff\u2060"
)
SHOWN = "EvilTitle!"
ARGV_HOSTILE = HOSTILE.replace("\x00", "")  # a command line cannot carry NUL
FORBIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069"
    "\ufeff\U000e0000-\U000e007f]"
)


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*strings(k), *strings(v))]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []


def assert_clean_answer(response: httpx.Response) -> Any:
    """The raw bytes carry no forbidden character, and neither do the decoded strings."""
    assert response.status_code < 300, (response.request.url, response.text)
    raw = FORBIDDEN.findall(response.content.decode("utf-8"))
    assert not raw, (response.request.url, raw)
    data = response.json()
    dirty = [s for s in strings(data) if FORBIDDEN.search(s)]
    assert not dirty, (response.request.url, dirty[:3])
    return data


def cli(live: Live, *args: str) -> str:
    result = subprocess.run(
        [INCIDENTS, *args, "--db", str(live.db)],
        capture_output=True,
        text=True,
        timeout=60,
        env=hermetic_env(live.db.parent),
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def integration_key(live: Live, kind: str) -> str:
    out = cli(
        live, "integration", "create", "--service", "web", "--kind", kind, "--name", ARGV_HOSTILE
    )
    return next(line.split()[1] for line in out.splitlines() if line.startswith("key:"))


def alertmanager_body(now: datetime) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="' + HOSTILE + '"}',
        "status": "firing",
        "receiver": HOSTILE,
        "groupLabels": {HOSTILE: HOSTILE},
        "commonLabels": {"alertname": HOSTILE},
        "commonAnnotations": {"summary": HOSTILE, "description": HOSTILE + "\nsecond line"},
        "externalURL": "https://am.test/" + HOSTILE,
        "truncatedAlerts": 0,
        "alerts": [
            {
                "status": "firing",
                "labels": {HOSTILE: HOSTILE, "severity": "critical"},
                "annotations": {HOSTILE: HOSTILE, "runbook_url": "https://rb.test/\u202e"},
                "startsAt": now.isoformat(),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "https://gen.test/\x9d8;;x\x07" + HOSTILE,
                "fingerprint": "fp" + HOSTILE,
            }
        ],
    }


def event_body(key: str) -> dict[str, Any]:
    return {
        "routing_key": key,
        "event_action": "trigger",
        "dedup_key": "dd" + HOSTILE,
        "payload": {
            "summary": HOSTILE,
            "source": HOSTILE,
            "severity": "critical",
            "component": HOSTILE,
            "group": HOSTILE,
            "class": HOSTILE,
            "custom_details": {HOSTILE: HOSTILE, "nested": [HOSTILE, {HOSTILE: [HOSTILE, 3]}]},
        },
        "client": HOSTILE,
        "client_url": "https://client.test/\u202e" + HOSTILE,
        "links": [{"href": "https://l.test/\x9b" + HOSTILE, "text": HOSTILE}],
        "images": [{"src": "https://i.test/\u200b.png", "href": HOSTILE, "alt": HOSTILE}],
    }


async def test_hostile_text_is_stored_and_answered_clean(live: Live) -> None:
    now = datetime.now(UTC)
    am_key, events_key = integration_key(live, "alertmanager"), integration_key(live, "events")
    cli(live, "token", "create", "--user", "c\u200bli", "--role", "viewer", "--name", ARGV_HOSTILE)
    cli(
        live,
        "--as",
        "ci\u202ebot",
        "change",
        "record",
        "--service",
        "web",
        "--summary",
        ARGV_HOSTILE,
        "--detail",
        f"k\u200b={ARGV_HOSTILE}",
    )
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:
        admin, rex = live.headers("admin"), live.headers("responder")
        sent = await http.post(
            "/v1/integrations/alertmanager",
            json=alertmanager_body(now),
            headers={"Authorization": f"Bearer {am_key}"},
        )
        assert_clean_answer(sent)
        assert_clean_answer(await http.post("/v1/integrations/events", json=event_body(events_key)))
        made = assert_clean_answer(
            await http.post(
                "/v1/incidents",
                headers=rex,
                json={
                    "title": HOSTILE,
                    "service": "we\u200bb",  # the service 'web', once cleaned
                    "description": HOSTILE + "\n" + HOSTILE,
                    "labels": {HOSTILE: HOSTILE},
                    "links": [{"kind": "url", "ref": "https://x.test/\u202e", "title": HOSTILE}],
                },
            )
        )
        assert made["title"] == SHOWN and made["service"] == "web"
        assert made["description"] == f"{SHOWN}\n{SHOWN}"
        version = made["version"]
        for action in (
            {"kind": "note", "text": HOSTILE},
            {"kind": "assign", "assignee": "r\u200bex"},
            {
                "kind": "link",
                "link": {"kind": "url", "ref": "https://y.test/\u200b", "title": HOSTILE},
            },
        ):
            acted = await http.post(
                f"/v1/incidents/{made['id']}/actions",
                headers=rex,
                json={"action": action, "expected_version": version},
            )
            version = assert_clean_answer(acted)["version"]
        assert acted.json()["assignee"] == "rex"
        problem = await http.post(
            "/v1/problems", headers=rex, json={"from_incident_id": made["id"], "title": HOSTILE}
        )
        assert assert_clean_answer(problem)["title"] == SHOWN
        token = await http.post(
            "/v1/tokens",
            headers=admin,
            json={"user": "to\u200bken", "role": "viewer", "name": HOSTILE},
        )
        assert_clean_answer(token)
        change = await http.post(
            "/v1/change-events",
            headers=rex,
            json={
                "service": "web",
                "summary": HOSTILE,
                "source": HOSTILE,
                "at": now.isoformat(),
                "links": [{"kind": "url", "ref": "https://c.test/\u2066", "title": HOSTILE}],
                "details": {HOSTILE: [HOSTILE]},
            },
        )
        assert assert_clean_answer(change)["summary"] == SHOWN
        directory = await http.post(
            "/v1/directory",
            headers=admin,
            json={
                "teams": [{"id": "o\u200bps\x1b[2J", "name": HOSTILE}],
                "users": [
                    {
                        "id": "mal\u202elory",
                        "name": HOSTILE,
                        "email": "m@x\u200b.test",
                        "team": "o\u200bps",
                        "contacts": [{"kind": "slack", "to": HOSTILE}],
                    }
                ],
                "services": [
                    {"id": "pay\u2060ments\x9b2J", "name": HOSTILE, "description": HOSTILE}
                ],
            },
        )
        assert directory.status_code == 204, directory.text
        team = await http.put(
            "/v1/teams/sre\u200b", headers=admin, json={"id": "sre\u200b", "name": HOSTILE}
        )
        assert assert_clean_answer(team) == {"id": "sre", "name": SHOWN}

        viewer = live.headers("viewer")
        listed = assert_clean_answer(
            await http.get("/v1/incidents", params={"status": "any"}, headers=viewer)
        )
        assert len(listed) == 3
        assert {i["title"] for i in listed} == {SHOWN}
        for incident in listed:
            for path in ("", "/timeline", "/alerts"):
                assert_clean_answer(
                    await http.get(f"/v1/incidents/{incident['id']}{path}", headers=viewer)
                )
        for path in (
            "/v1/services",
            "/v1/users",
            "/v1/teams",
            "/v1/policies",
            "/v1/schedules",
            "/v1/problems",
            "/v1/changes",
            "/v1/change-events",
            "/v1/stats",
            "/status.json",
        ):
            assert_clean_answer(await http.get(path, headers=viewer))
        tokens = assert_clean_answer(await http.get("/v1/tokens", headers=admin))
        assert {"cli", "token"} <= {t["user"] for t in tokens}

        ids = {
            kind: {item["id"] for item in (await http.get(f"/v1/{kind}", headers=viewer)).json()}
            for kind in ("services", "users", "teams")
        }
        assert "payments" in ids["services"] and "mallory" in ids["users"]
        assert {"ops", "sre"} <= ids["teams"]
        by_source = {i["source"]: i for i in listed}
        am = by_source["alertmanager"]
        (alert,) = (await http.get(f"/v1/incidents/{am['id']}/alerts", headers=viewer)).json()
        assert alert["details"]["receiver"] == SHOWN
        assert alert["details"]["groupKey"] == '{}:{alertname="' + SHOWN + '"}'
        (event,) = (
            await http.get(f"/v1/incidents/{by_source['events']['id']}/alerts", headers=viewer)
        ).json()
        assert event["details"]["custom_details"]["nested"] == [SHOWN, {SHOWN: [SHOWN, 3]}]
        assert event["alert_key"] == "dd" + SHOWN

    with sqlite3.connect(live.db) as conn:
        dump = "\n".join(conn.iterdump())
    assert SHOWN in dump
    found = sorted({f"U+{ord(c):04X}" for c in FORBIDDEN.findall(dump)})
    assert not found, found


async def test_text_stored_around_the_edge_leaves_the_server_escaped(live: Live) -> None:
    """A store written before the rule (or directly) still answers with no raw character:
    each leaves as a \\u escape, so a JSON reader gets the same string back."""
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:
        made = await http.post(
            "/v1/incidents",
            headers=live.headers("responder"),
            json={"title": "x", "service": "web"},
        )
        incident = made.json()
    raw_title = "pay\u200bpal \u202eevil\x9b2J\u009d0;t\x07 \U000e0041 \u2028 end"
    with sqlite3.connect(live.db) as conn:
        conn.execute(
            "UPDATE incidents SET title = ?, data = json_set(data, '$.title', ?) WHERE id = ?",
            (raw_title, raw_title, incident["id"]),
        )
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:
        for path in (f"/v1/incidents/{incident['id']}", "/v1/incidents"):
            answer = await http.get(path, headers=live.headers("viewer"))
            assert answer.status_code == 200
            text = answer.content.decode("utf-8")
            assert not FORBIDDEN.findall(text) and "\u2028" not in text, path
            assert "\\u202e" in text and "\\u009b" in text and "\\udb40\\udc41" in text
            data = answer.json()
            title = data["title"] if isinstance(data, dict) else data[0]["title"]
            assert title == raw_title  # the same document to a JSON reader
            assert int(answer.headers["content-length"]) == len(answer.content)


def test_hostile_strings_really_are_hostile() -> None:
    """The strings above carry what the issue found raw (C1 CSI/OSC, RLO, zero-width)."""
    assert {"\x9b", "\x9d", "\u202e", "\u200b"} <= set(HOSTILE)
    assert FORBIDDEN.search(HOSTILE) and not FORBIDDEN.search(SHOWN)
