"""Issue 11 points 4 and 6 against a real server: every bad input is a 4xx naming the field,
and provenance (created_at, source, dedup_key, system actions) comes only from the system."""

from __future__ import annotations

import pytest

from tests.remote.conftest import Live

HUGE = str(2**63)  # one past the largest 64-bit integer
ROUTES_WITH_IDS = [
    ("GET", f"/v1/incidents/{HUGE}"),
    ("GET", f"/v1/incidents/{HUGE}/timeline"),
    ("GET", f"/v1/incidents/{HUGE}/paged"),
    ("GET", f"/v1/incidents/{HUGE}/alerts"),
    ("POST", f"/v1/incidents/{HUGE}/actions"),
    ("POST", f"/v1/problems/{HUGE}/resolve"),
    ("GET", f"/v1/problems/{HUGE}/waiting"),
    ("GET", f"/v1/changes?since={HUGE}"),
    ("GET", f"/v1/incidents?offset={HUGE}"),
    ("GET", f"/v1/incidents/count?offset={HUGE}"),
    ("GET", f"/v1/stream?since={HUGE}"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES_WITH_IDS)
async def test_integers_past_64_bits_are_a_422(live: Live, method: str, path: str) -> None:
    body = {"action": {"kind": "acknowledge"}, "expected_version": 1}
    async with live.http("admin") as http:
        response = await http.request(method, path, json=body if method == "POST" else None)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_body"
    assert response.json()["fields"][0]["field"].startswith(("path.", "query."))


async def test_bodies_with_huge_integers_are_a_422(live: Live) -> None:
    async with live.http("admin") as http:
        lookup = await http.post("/v1/incidents/lookup", json={"ids": [2**64]})
        act = await http.post(
            "/v1/incidents/1/actions",
            json={"action": {"kind": "acknowledge"}, "expected_version": 2**63},
        )
        problem = await http.post("/v1/problems", json={"from_incident_id": 2**70, "title": "x"})
    for response in (lookup, act, problem):
        assert response.status_code == 422, response.text
        assert response.json()["fields"], response.text


async def test_unicode_digits_and_far_times_are_4xx(live: Live) -> None:
    async with live.http("admin") as http:
        superscript = await http.get("/v1/incidents/²")
        far = await http.get("/v1/incidents/1/paged", params={"at": "9999-12-31T23:59:59-14:00"})
        number = await http.get("/v1/stats", params={"now": "0.5"})
        window = await http.get("/v1/stats", params={"since": "99999999999d"})
        seconds = await http.get("/v1/stats", params={"since": "99999999999999999"})
        resolved = await http.get(
            "/v1/incidents", params={"resolved_since": "0001-01-01T00:00:00+14:00"}
        )
    assert superscript.status_code == 404, superscript.text
    for response, field in (
        (far, "query.at"),
        (number, "query.now"),
        (resolved, "query.resolved_since"),
    ):
        assert response.status_code == 422, response.text
        assert response.json()["fields"][0]["field"] == field
    for response in (window, seconds):
        assert response.status_code == 422, response.text
        assert "36500 days" in response.json()["message"]


@pytest.mark.parametrize("value", ["9" * 4301, "²", "-1", "12a", str(2**63)])
async def test_any_last_event_id_is_a_422_naming_the_header(live: Live, value: str) -> None:
    async with live.http("viewer") as http:
        # raw UTF-8 bytes, as a hostile client sends them (httpx would refuse a str)
        response = await http.get("/v1/stream", headers={b"Last-Event-ID": value.encode()})
    assert response.status_code == 422, response.text
    assert response.json()["fields"][0]["field"] == "header.last-event-id"
    assert len(response.text) < 1000


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"created_at": "2020-01-01T00:00:00Z"}, "body.created_at"),
        ({"source": "alertmanager"}, "body.source"),
        ({"dedup_key": "abc"}, "body.dedup_key"),
    ],
)
async def test_provenance_is_refused_from_every_token(
    live: Live, extra: dict[str, str], field: str
) -> None:
    body = {"title": "forged", "service": "web", **extra}
    for role in ("responder", "admin"):
        async with live.http(role) as http:
            one = await http.post("/v1/incidents", json=body)
            batch = await http.post("/v1/incidents/batch", json={"incidents": [body]})
        assert one.status_code == 403, one.text
        assert one.json()["fields"][0]["field"] == field
        assert batch.status_code == 403, batch.text
        assert batch.json()["fields"][0]["field"] == field.replace("body", "body.incidents.0")
    async with live.http("admin") as http:
        assert (await http.get("/v1/incidents/count")).json()["count"] == 0


@pytest.mark.parametrize(
    "action",
    [
        {"kind": "breach", "clock": "response"},
        {"kind": "alert_repeated"},
    ],
)
async def test_system_actions_are_refused_from_every_token(live: Live, action: dict) -> None:
    async with live.http("responder") as http:
        created = (await http.post("/v1/incidents", json={"title": "t", "service": "web"})).json()
    for role in ("responder", "admin"):
        async with live.http(role) as http:
            response = await http.post(
                f"/v1/incidents/{created['id']}/actions",
                json={"action": action, "expected_version": created["version"]},
            )
        assert response.status_code == 403, response.text
        assert response.json()["fields"][0]["field"] == "body.action.kind"


async def test_admins_backfill_through_the_audited_import(live: Live) -> None:
    item = {
        "title": "old outage",
        "service": "web",
        "created_at": "2025-03-01T10:00:00Z",
        "source": "alertmanager",
        "dedup_key": "k1",
    }
    async with live.http("responder") as http:
        refused = await http.post("/v1/incidents/import", json={"incidents": [item]})
    assert refused.status_code == 403
    async with live.http("admin") as http:
        response = await http.post("/v1/incidents/import", json={"incidents": [item]})
        assert response.status_code == 201, response.text
        [incident] = response.json()
        assert incident["created_at"].startswith("2025-03-01T10:00:00")
        assert incident["source"] == "alertmanager" and incident["dedup_key"] == "k1"
        timeline = (await http.get(f"/v1/incidents/{incident['id']}/timeline")).json()
    assert any("imported by ada" in entry["message"] for entry in timeline), timeline
