"""Intake on a real SQLite file: dedup, grouping, auto-resolve, Events v2 semantics, one
transaction per batch, integration keys."""

from __future__ import annotations

import json
from typing import Any

import pytest

from backends.base import Backend, InvalidAction, NotFound
from backends.sqlite.store import SqliteBackend
from console.domain.config import IntakeSettings
from console.domain.intake import parse_alertmanager, parse_event
from console.domain.models import EntryKind, IncidentQuery, Priority, ResolutionCode, Status
from tests.intake.conftest import Intake, am_body, column_values, fixture_body, second_store

RULES = IntakeSettings()


async def send_am(intake: Intake, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    _, signals = parse_alertmanager(json.dumps(body), RULES)
    return await intake.store.ingest(intake.am, signals)


async def send_event(intake: Intake, integration: str = "events", **fields: Any):  # type: ignore[no-untyped-def]
    body: dict[str, Any] = {"routing_key": "x", "event_action": "trigger"}
    body.update(fields)
    if body["event_action"] == "trigger":
        body.setdefault("payload", {"summary": "disk full", "source": "db-1", "severity": "error"})
    _, signal = parse_event(json.dumps(body), RULES)
    target = intake.events if integration == "events" else intake.other_events
    return signal, await intake.store.ingest(target, [signal])


async def all_incidents(store: Backend):  # type: ignore[no-untyped-def]
    return await store.list_incidents(IncidentQuery(statuses=tuple(Status), sort="age"))


async def test_real_alertmanager_bodies_open_and_auto_resolve_an_incident(intake: Intake) -> None:
    result = await send_am(intake, fixture_body("firing.json"))
    [key] = result.created
    incident = await intake.store.get_incident(key)
    assert incident.title == "5xx rate above 5%"
    assert incident.priority == Priority.P1 and incident.service == "checkout"
    assert incident.policy == "checkout-oncall", "the service's escalation policy applies"
    assert incident.labels["severity"] == "critical"
    assert {link.ref for link in incident.links} >= {"https://runbooks.example/5xx"}
    assert incident.source == "alertmanager" and incident.alert_count == 1
    [alert] = await intake.store.alerts(incident.id)
    assert alert.alert_key == "7d2d332feada5c59" and alert.status == "firing"
    assert alert.annotations["summary"] == "5xx rate above 5%"

    intake.clock.advance(60)
    result = await send_am(intake, fixture_body("resolved.json"))
    assert result.updated == (key,)
    incident = await intake.store.get_incident(key)
    assert incident.status == Status.RESOLVED
    assert incident.resolution_code == ResolutionCode.AUTO_RESOLVED
    timeline = await intake.store.timeline(incident.id)
    assert [e.kind for e in timeline] == [EntryKind.CREATED, EntryKind.RESOLVED]
    assert timeline[-1].actor == intake.am.actor
    [alert] = await intake.store.alerts(incident.id)
    assert alert.status == "resolved" and alert.ends_at is not None


async def test_repeats_are_deduplicated_by_fingerprint(intake: Intake) -> None:
    body = fixture_body("firing.json")
    await send_am(intake, body)
    await send_am(intake, body)
    await send_am(intake, body)
    [incident] = await all_incidents(intake.store)
    assert incident.alert_count == 3
    kinds = [e.kind for e in await intake.store.timeline(incident.id)]
    assert kinds == [EntryKind.CREATED, EntryKind.ALERT_REPEATED, EntryKind.ALERT_REPEATED]
    [alert] = await intake.store.alerts(incident.id)
    assert alert.count == 3


async def test_same_summary_different_fingerprint_is_another_alert(intake: Intake) -> None:
    same = {"annotations": {"summary": "identical"}}
    await send_am(intake, am_body([{**same, "fingerprint": "a"}], group_key="g1"))
    await send_am(intake, am_body([{**same, "fingerprint": "b"}], group_key="g2"))
    assert len(await all_incidents(intake.store)) == 2


async def test_a_group_grows_one_incident_and_resolves_when_all_alerts_do(intake: Intake) -> None:
    await send_am(intake, am_body([{"fingerprint": "a"}, {"fingerprint": "b"}]))
    await send_am(
        intake, am_body([{"fingerprint": "a"}, {"fingerprint": "b"}, {"fingerprint": "c"}])
    )
    [incident] = await all_incidents(intake.store)
    assert len(await intake.store.alerts(incident.id)) == 3
    await send_am(
        intake,
        am_body(
            [{"fingerprint": "a", "status": "resolved"}, {"fingerprint": "b"}, {"fingerprint": "c"}]
        ),
    )
    assert (await intake.store.get_incident(incident.id)).status == Status.TRIGGERED
    await send_am(
        intake,
        am_body([{"fingerprint": f, "status": "resolved"} for f in ("a", "b", "c")]),
    )
    assert (await intake.store.get_incident(incident.id)).status == Status.RESOLVED


async def test_a_firing_after_resolution_opens_a_new_incident(intake: Intake) -> None:
    await send_am(intake, fixture_body("firing.json"))
    await send_am(intake, fixture_body("resolved.json"))
    result = await send_am(intake, fixture_body("firing.json"))
    assert len(result.created) == 1
    first, second = await all_incidents(intake.store)
    assert first.status == Status.RESOLVED and second.status == Status.TRIGGERED
    assert len(await intake.store.alerts(first.id)) == 1
    assert len(await intake.store.alerts(second.id)) == 1


async def test_a_webhook_of_1000_alerts_is_one_transaction(intake: Intake) -> None:
    # Intake writes on the store's writer connection (``SqliteBackend.write``).
    statements: list[str] = []
    body = am_body([{"fingerprint": f"fp{n}"} for n in range(1000)])
    if isinstance(intake.store, SqliteBackend):
        assert intake.store._writer is not None
        intake.store._writer.set_trace_callback(statements.append)
        result = await send_am(intake, body)
        intake.store._writer.set_trace_callback(None)
        assert sum(s.startswith("BEGIN") for s in statements) == 1
        assert sum(s == "COMMIT" for s in statements) == 1
    else:
        # One transaction on PostgreSQL: the rows and their change rows commit together.
        result = await send_am(intake, body)
    assert len(result.created) == 1
    [incident] = await all_incidents(intake.store)
    assert incident.alert_count == 1000
    assert len(await intake.store.alerts(incident.id)) == 1000
    changes = await intake.store.changes(0)
    assert [c.kind for c in changes if c.entity == "incident"] == ["incident.created"]


async def test_event_trigger_ack_resolve(intake: Intake) -> None:
    signal, result = await send_event(intake, dedup_key="disk-db-1")
    [key] = result.created
    incident = await intake.store.get_incident(key)
    assert incident.priority == Priority.P2 and incident.source == "events"
    _, result = await send_event(intake, event_action="acknowledge", dedup_key="disk-db-1")
    incident = await intake.store.get_incident(key)
    assert incident.status == Status.ACKNOWLEDGED
    assert incident.assignee is None, "a monitoring tool does not become the owner"
    _, result = await send_event(intake, event_action="resolve", dedup_key="disk-db-1")
    incident = await intake.store.get_incident(key)
    assert incident.status == Status.RESOLVED
    assert incident.resolution_code == ResolutionCode.AUTO_RESOLVED


async def test_event_for_a_resolved_alert_is_dropped(intake: Intake) -> None:
    await send_event(intake, dedup_key="d")
    await send_event(intake, event_action="resolve", dedup_key="d")
    seq = await intake.store.last_seq()
    for action in ("resolve", "acknowledge"):
        _, result = await send_event(intake, event_action=action, dedup_key="d")
        assert result.dropped == 1
        assert "already resolved" in result.message()
    assert await intake.store.last_seq() == seq, "nothing changed"


async def test_only_the_same_routing_key_touches_an_alert(intake: Intake) -> None:
    _, result = await send_event(intake, dedup_key="shared-key")
    [key] = result.created
    _, other = await send_event(intake, "other", event_action="resolve", dedup_key="shared-key")
    assert other.dropped == 1
    assert (await intake.store.get_incident(key)).status == Status.TRIGGERED
    # The same dedup key through another integration is another alert entirely.
    _, other = await send_event(intake, "other", dedup_key="shared-key")
    assert len(other.created) == 1 and other.created != result.created


async def test_auto_resolve_off_keeps_the_incident_open(intake: Intake) -> None:
    _, result = await send_event(intake, "other", dedup_key="d")
    _, _ = await send_event(intake, "other", event_action="resolve", dedup_key="d")
    incident = await intake.store.get_incident(result.created[0])
    assert incident.status == Status.TRIGGERED
    timeline = await intake.store.timeline(incident.id)
    assert "auto-resolve is off" in timeline[-1].message


async def test_integration_keys(intake: Intake) -> None:
    found = await intake.store.integration_for_key(intake.am_key)
    assert found is not None and found.id == intake.am.id
    assert await intake.store.integration_for_key(intake.am_key[:-1] + "x") is None
    assert await intake.store.integration_for_key("") is None
    digests = await column_values(intake.store, "SELECT secret_sha256 FROM integrations")
    assert all(intake.am_key[8:] not in value for value in digests), "only a digest is stored"
    revoked = await intake.store.revoke_integration(intake.am.id)
    assert revoked.revoked_at is not None
    assert await intake.store.integration_for_key(intake.am_key) is None
    with pytest.raises(NotFound):
        await intake.store.revoke_integration("nope")
    with pytest.raises(InvalidAction):
        await intake.store.create_integration("no-such-service", "events")


async def test_alerts_of_an_unknown_incident(intake: Intake) -> None:
    with pytest.raises(NotFound):
        await intake.store.alerts(999)


async def test_concurrent_webhooks_from_two_stores_open_one_incident_per_group(
    intake: Intake,
) -> None:
    """Two processes' stores on one database (a server and a console, or two replicas): the
    state is read inside each write transaction, so a group never gets two incidents and
    every arrival is counted (on PostgreSQL: group locks and the alert_groups key)."""
    import asyncio

    other = await second_store(intake)
    try:
        bodies = [am_body([{"fingerprint": f"f{n % 3}"}], group_key="same") for n in range(12)]
        signals = [parse_alertmanager(json.dumps(b), RULES)[1] for b in bodies]
        stores = [intake.store, other]
        await asyncio.gather(*(stores[n % 2].ingest(intake.am, s) for n, s in enumerate(signals)))
    finally:
        await other.close()
    [incident] = await all_incidents(intake.store)
    assert incident.alert_count == 12
    alerts = await intake.store.alerts(incident.id)
    assert sorted(a.alert_key for a in alerts) == ["f0", "f1", "f2"]
    assert sum(a.count for a in alerts) == 12
