"""Bad input and typed errors, on a real server: 413, 422, 404, 409, actors, metrics."""

from __future__ import annotations

import pytest

from backends.base import (
    Conflict,
    Forbidden,
    InvalidAction,
    NotFound,
    Unauthorized,
    Unavailable,
)
from backends.remote import RemoteBackend
from backends.remote import _error as remote_error
from console.domain.lifecycle import Acknowledge, AddNote, Escalate, Resolve
from console.domain.models import EntryKind, IncidentQuery, NewIncident, Service
from tests.remote.conftest import Live

LIMIT = 5 * 1024 * 1024  # settings.server.max_body_bytes default


async def test_a_body_over_the_limit_is_413_by_content_length(live: Live) -> None:
    async with live.http("responder") as client:
        body = b'{"title": "' + b"x" * (LIMIT + 10) + b'", "service": "web"}'
        response = await client.post(
            "/v1/incidents", content=body, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
    assert str(LIMIT) in response.json()["message"]


async def test_a_chunked_body_over_the_limit_is_413_as_it_streams(live: Live) -> None:
    async def chunks():
        yield b'{"title": "'
        for _ in range(LIMIT // 65536 + 2):
            yield b"x" * 65536
        yield b'", "service": "web"}'

    async with live.http("responder") as client:
        response = await client.post(
            "/v1/incidents", content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
    async with live.http("viewer") as client:
        assert (await client.get("/v1/incidents/count")).json() == {"count": 0}


async def test_invalid_bodies_are_422_with_the_field_errors(live: Live) -> None:
    async with live.http("responder") as client:
        response = await client.post(
            "/v1/incidents", json={"title": "", "service": "web", "impact": 7, "colour": "red"}
        )
        assert response.status_code == 422
        body = response.json()
        assert body["error"] == "invalid_body"
        fields = {item["field"] for item in body["fields"]}
        assert {"body.title", "body.impact", "body.colour"} <= fields
        response = await client.post(
            "/v1/incidents/1/actions", json={"action": {"kind": "dance"}, "expected_version": 0}
        )
        assert response.status_code == 422
        fields = {item["field"] for item in response.json()["fields"]}
        assert {"body.action", "body.expected_version"} <= fields
        response = await client.get("/v1/incidents", params={"status": "sleeping"})
        assert response.status_code == 422
        response = await client.get("/v1/stream", headers={"Last-Event-ID": "yesterday"})
        assert response.status_code == 422


async def test_unknown_ids_and_routes_are_404(live: Live) -> None:
    async with live.http("viewer") as client:
        for path in ("/v1/incidents/4242", "/v1/incidents/INC-4242", "/v1/incidents/4242/timeline"):
            response = await client.get(path)
            assert response.status_code == 404, path
            assert response.json()["error"] == "not_found"
        response = await client.get("/v1/nothing-here")
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"
    remote = await live.remote("viewer")
    with pytest.raises(NotFound, match="4242"):
        await remote.get_incident("INC-4242")


async def test_a_stale_version_is_409_with_the_current_version_and_what_changed(
    live: Live,
) -> None:
    rex = await live.remote("responder")
    incident = await rex.create_incident(NewIncident(title="db slow", service="web"), "rex")
    seen = incident.version
    await rex.act(incident.id, Acknowledge(), "rex", seen)
    async with live.http("responder") as client:
        response = await client.post(
            f"/v1/incidents/{incident.id}/actions",
            json={"action": {"kind": "resolve"}, "expected_version": seen},
        )
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "conflict"
    assert body["current_version"] == seen + 1 and body["expected_version"] == seen
    assert body["changed"] == ["acknowledged by rex"]
    with pytest.raises(Conflict) as caught:
        await rex.act(incident.id, Resolve(), "rex", seen)
    assert caught.value.current_version == seen + 1
    assert caught.value.key == incident.key
    assert caught.value.changed == ("acknowledged by rex",)


async def test_a_refused_transition_is_422_invalid_action(live: Live) -> None:
    rex = await live.remote("responder")
    incident = await rex.create_incident(NewIncident(title="x", service="web"), "rex")
    incident = await rex.act(incident.id, Acknowledge(), "rex", incident.version)
    async with live.http("responder") as client:
        response = await client.post(
            f"/v1/incidents/{incident.id}/actions",
            json={"action": {"kind": "acknowledge"}, "expected_version": incident.version},
        )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_action"
    assert "already acknowledged" in response.json()["message"]
    with pytest.raises(InvalidAction, match="already acknowledged"):
        await rex.act(incident.id, Acknowledge(), "rex", incident.version)


async def test_the_actor_is_always_the_tokens_user(live: Live) -> None:
    rex = await live.remote("responder")
    assert rex.user == "rex" and rex.role == "responder"
    incident = await rex.create_incident(NewIncident(title="x", service="web"), "mallory")
    incident = await rex.act(incident.id, AddNote(text="hi"), "mallory", incident.version)
    incident = await rex.act(incident.id, Escalate(automatic=True), "escalator", incident.version)
    entries = await rex.timeline(incident.id)
    assert [(e.kind, e.actor) for e in entries] == [
        (EntryKind.CREATED, "rex"),
        (EntryKind.NOTE, "rex"),
        (EntryKind.ESCALATED, "rex"),
    ]
    assert entries[-1].message.startswith("escalated by rex")
    assert entries[-1].data["automatic"] is False


async def test_roles_map_to_typed_errors(live: Live) -> None:
    vic = await live.remote("viewer")
    assert vic.role == "viewer"
    with pytest.raises(Forbidden, match="needs the responder role"):
        await vic.create_incident(NewIncident(title="x", service="web"), "vic")
    rex = await live.remote("responder")
    with pytest.raises(Forbidden, match="admin"):
        await rex.put_service(Service(id="db", name="Databases"))
    with pytest.raises(Unauthorized, match="needs a valid token"):
        await RemoteBackend(live.url, "inc_dead_beef").open()


async def test_metrics_count_open_incidents_and_requests(live: Live) -> None:
    rex = await live.remote("responder")
    first = await rex.create_incident(
        NewIncident(title="a", service="web", impact=1, urgency=1), "rex"
    )
    await rex.create_incident(NewIncident(title="b", service="web"), "rex")
    await rex.act(first.id, Acknowledge(), "rex", first.version)
    async with live.http() as client:
        text = (await client.get("/metrics")).text
        ready = await client.get("/readyz")
        health = await client.get("/healthz")
    assert ready.status_code == 200 and health.status_code == 200
    assert 'incidents_open{priority="P1",status="acknowledged"} 1' in text
    assert 'incidents_open{priority="P3",status="triggered"} 1' in text
    assert 'incidents_open_breached{priority="P1"} 0' in text
    assert (
        'incidents_http_requests_total{method="POST",route="/v1/incidents",status="201"} 2' in text
    )
    bucket = "incidents_http_request_duration_seconds_bucket"
    assert f'{bucket}{{method="POST",route="/v1/incidents",status="201",le="+Inf"}} 2' in text
    assert "# TYPE incidents_http_request_duration_seconds histogram" in text


async def test_openapi_describes_the_v1_api(live: Live) -> None:
    async with live.http() as client:
        spec = (await client.get("/openapi.json")).json()
    assert "/v1/incidents/{incident_id}/actions" in spec["paths"]
    assert "/v1/stream" in spec["paths"]
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


@pytest.mark.slow
async def test_a_locked_store_is_503_and_unavailable_nothing_changed(live: Live) -> None:
    import sqlite3

    rex = await live.remote("responder")
    # Another process holds the write lock for longer than the store's busy timeout (5 s).
    holder = sqlite3.connect(live.db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        async with live.http("responder") as client:
            raw = await client.post("/v1/incidents", json={"title": "x", "service": "web"})
        assert raw.status_code == 503
        assert raw.json()["error"] == "unavailable"
        assert "locked" in raw.json()["message"]
        assert raw.headers["retry-after"] == "1"
        typed = remote_error(raw, live.url)  # what RemoteBackend raises for it
        assert isinstance(typed, Unavailable) and "locked" in str(typed)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert await rex.count_incidents(IncidentQuery(statuses=())) == 0


async def test_odd_references_and_ids_travel_intact(live: Live) -> None:
    vic = await live.remote("viewer")
    for ref in ("INC-1?x=1", "INC 1", "%2e%2e", "INC-1#a"):
        with pytest.raises(NotFound):
            await vic.get_incident(ref)
    ada = await live.remote("admin")
    odd = Service(id="a b?c#d", name="Odd")
    assert await ada.put_service(odd) == odd
    assert odd in await vic.services()
