"""The intake routes through the real FastAPI app: keys, answers, 4xx that store nothing."""

from __future__ import annotations

import json
from typing import Any

from console.domain.models import IncidentQuery, NewIncident, Status
from tests.intake.conftest import Api, am_body, count_rows, fixture_body, second_store

AM = "/v1/integrations/alertmanager"
EV = "/v1/integrations/events"


async def stored(api: Api) -> tuple[int, int, int]:
    """(incidents, alerts, changes): what a refused request must leave unchanged."""
    store = api.intake.store
    incidents = await store.count_incidents(IncidentQuery(statuses=tuple(Status)))
    alerts = await count_rows(store, "alerts")
    return incidents, alerts, await store.last_seq()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_alertmanager_webhook_with_bearer_and_query_key(api: Api) -> None:
    response = await api.client.post(
        AM, json=fixture_body("firing.json"), headers=bearer(api.intake.am_key)
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "success" and answer["alerts"] == 1
    [key] = answer["created"]
    response = await api.client.post(
        AM, params={"key": api.intake.am_key}, json=fixture_body("firing.json")
    )
    assert response.json()["created"] == [] and response.json()["updated"] == [key]
    response = await api.client.post(
        AM, params={"key": api.intake.am_key}, json=fixture_body("resolved.json")
    )
    assert response.status_code == 200
    incident = await api.intake.store.get_incident(key)
    assert incident.status == Status.RESOLVED and incident.alert_count == 2

    alerts = await api.client.get(f"/v1/incidents/{key}/alerts", headers=bearer(api.viewer))
    assert alerts.status_code == 200
    [alert] = alerts.json()
    assert alert["alert_key"] == "7d2d332feada5c59" and alert["count"] == 2
    assert alert["status"] == "resolved"
    assert (await api.client.get(f"/v1/incidents/{key}/alerts")).status_code == 401


async def test_refused_alertmanager_requests_store_nothing(api: Api) -> None:
    before = await stored(api)
    key = api.intake.am_key
    wrong = key[:-1] + ("1" if key[-1] == "0" else "0")
    body = fixture_body("firing.json")
    cases: list[tuple[dict[str, Any], int]] = [
        ({"json": body}, 401),
        ({"json": body, "headers": bearer("0" * 40)}, 401),
        ({"json": body, "params": {"key": wrong}}, 401),
        ({"json": body, "headers": bearer(api.intake.events_key)}, 403),
        ({"content": b"{nope", "headers": bearer(key)}, 400),
        ({"json": {**body, "alerts": [{"status": 1}]}, "headers": bearer(key)}, 400),
        ({"json": {k: v for k, v in body.items() if k != "groupKey"}, "headers": bearer(key)}, 400),
        ({"content": b"x" * (6 * 1024 * 1024), "headers": bearer(key)}, 413),
    ]
    for kwargs, status in cases:
        response = await api.client.post(AM, **kwargs)
        assert response.status_code == status, (kwargs.get("headers"), response.text)
        assert response.json()["message"], "every refusal says why"
    assert await stored(api) == before


async def test_revoked_key_stops_working(api: Api) -> None:
    await api.intake.store.revoke_integration(api.intake.am.id)
    response = await api.client.post(
        AM, json=fixture_body("firing.json"), headers=bearer(api.intake.am_key)
    )
    assert response.status_code == 401
    assert "revoked" in response.json()["message"]


async def test_a_key_revoked_by_another_process_stores_nothing(api: Api) -> None:
    """The server caches checked keys; a revoke from elsewhere (the CLI, another server)
    is still caught inside the ingest transaction, so nothing is stored after it."""
    ok = await api.client.post(
        AM, json=fixture_body("firing.json"), headers=bearer(api.intake.am_key)
    )
    assert ok.status_code == 200  # the key is now in the server's cache
    elsewhere = await second_store(api.intake)
    try:
        await elsewhere.revoke_integration(api.intake.am.id)
    finally:
        await elsewhere.close()
    before = await stored(api)
    body = am_body([{"fingerprint": "after-revoke"}], group_key="{}:{other}")
    for _ in range(2):  # refused in the transaction, then at the (now emptied) cache
        response = await api.client.post(AM, json=body, headers=bearer(api.intake.am_key))
        assert response.status_code == 401, response.text
        assert "revoked" in response.json()["message"]
    assert await stored(api) == before
    metrics = await api.client.get("/metrics")
    assert 'route="/v1/integrations/alertmanager"' in metrics.text


def event(key: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "routing_key": key,
        "event_action": "trigger",
        "payload": {"summary": "disk full on db-1", "source": "db-1", "severity": "critical"},
    }
    body.update(fields)
    return body


async def test_events_answer_like_the_events_api(api: Api) -> None:
    key = api.intake.events_key
    response = await api.client.post(EV, json=event(key))
    assert response.status_code == 202
    answer = response.json()
    assert answer["status"] == "success" and answer["message"] == "Event processed"
    dedup = answer["dedup_key"]
    assert len(dedup) == 32, "generated when none was sent"
    response = await api.client.post(
        EV, json=event(key, event_action="acknowledge", dedup_key=dedup, payload=None)
    )
    assert response.status_code == 202 and response.json()["dedup_key"] == dedup
    [incident] = await api.intake.store.list_incidents(IncidentQuery())
    assert incident.status == Status.ACKNOWLEDGED
    response = await api.client.post(EV, json=event(key, event_action="resolve", dedup_key=dedup))
    assert response.status_code == 202
    assert (await api.intake.store.get_incident(incident.id)).status == Status.RESOLVED
    # After resolution: accepted, changes nothing, and says so.
    before = await stored(api)
    response = await api.client.post(EV, json=event(key, event_action="resolve", dedup_key=dedup))
    assert response.status_code == 202
    assert response.json()["message"].startswith("Event dropped")
    assert await stored(api) == before


async def test_invalid_events_are_400_and_store_nothing(api: Api) -> None:
    before = await stored(api)
    key = api.intake.events_key
    cases = [
        event(key, event_action="bogus"),
        event(key, payload={"summary": "x", "source": "y", "severity": "fatal"}),
        event(key, event_action="resolve"),
        event("f" * 40),
        event(api.intake.am_key),
        {"routing_key": key},
    ]
    for body in cases:
        response = await api.client.post(EV, json=body)
        assert response.status_code == 400, (body, response.text)
        answer = response.json()
        assert answer["status"] == "invalid event" and answer["errors"]
    response = await api.client.post(EV, content=b"not json")
    assert response.status_code == 400
    assert await stored(api) == before


async def test_resolve_with_another_integrations_key_does_not_touch_it(api: Api) -> None:
    response = await api.client.post(EV, json=event(api.intake.events_key, dedup_key="x1"))
    [key] = [i.key for i in await api.intake.store.list_incidents(IncidentQuery())]
    response = await api.client.post(
        EV, json=event(api.intake.other_events_key, event_action="resolve", dedup_key="x1")
    )
    assert response.status_code == 202
    assert response.json()["message"].startswith("Event dropped")
    assert (await api.intake.store.get_incident(key)).status == Status.TRIGGERED


async def test_a_webhook_of_1000_alerts(api: Api) -> None:
    body = am_body([{"fingerprint": f"f{n}"} for n in range(1000)])
    response = await api.client.post(
        AM, content=json.dumps(body), headers=bearer(api.intake.am_key)
    )
    assert response.status_code == 200
    assert response.json()["alerts"] == 1000
    assert await stored(api) == (1, 1000, (await stored(api))[2])


async def test_deliveries_are_for_admins_only(api: Api) -> None:
    assert (await api.client.get("/v1/deliveries", headers=bearer(api.viewer))).status_code == 403
    response = await api.client.get("/v1/deliveries", headers=bearer(api.admin))
    assert response.status_code == 200 and response.json() == []


async def test_remote_backend_lists_an_incidents_alerts(api: Api) -> None:
    import httpx

    from backends.remote import RemoteBackend

    response = await api.client.post(
        AM, json=fixture_body("firing.json"), headers=bearer(api.intake.am_key)
    )
    [key] = response.json()["created"]
    incident = await api.intake.store.get_incident(key)
    transport = api.client._transport
    assert isinstance(transport, httpx.ASGITransport)
    remote = RemoteBackend("http://intake.test", api.viewer, transport=transport)
    try:
        [alert] = await remote.alerts(incident.id)
        assert alert.alert_key == "7d2d332feada5c59" and alert.incident_id == incident.id
        assert (
            await remote.alerts(
                (
                    await api.intake.store.create_incident(
                        NewIncident(title="by hand", service="search"), "alice"
                    )
                ).id
            )
            == []
        )
    finally:
        await remote.close()


async def test_intake_bodies_over_the_limit_are_413_and_store_nothing(api: Api) -> None:
    """The intake routes run ahead of the middleware (``FastIntake``): the body limit is
    theirs too, on ``Content-Length`` and on the bytes of a chunked body as it arrives,
    and the metrics count the refusals."""
    limit = api.intake.store.settings.server.max_body_bytes
    before = await stored(api)
    padding = "x" * (limit + 10)
    body = json.dumps(am_body([{"fingerprint": "big", "annotations": {"summary": padding}}]))
    for path in (AM, EV):
        response = await api.client.post(
            path, content=body, headers={**bearer(api.intake.am_key), "Content-Type": "json"}
        )
        assert response.status_code == 413, response.text
        assert response.json()["error"] == "too_large"
        assert str(limit) in response.json()["message"]

    async def chunks():  # type: ignore[no-untyped-def]
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536].encode()

    response = await api.client.post(AM, content=chunks(), headers=bearer(api.intake.am_key))
    assert "content-length" not in response.request.headers
    assert response.status_code == 413, response.text
    assert response.json()["error"] == "too_large"
    assert await stored(api) == before
    metrics = (await api.client.get("/metrics")).text
    assert 'route="/v1/integrations/alertmanager",status="413"} 2' in metrics
    assert 'route="/v1/integrations/events",status="413"} 1' in metrics
