"""Every mapping rule of console.domain.intake, without I/O: bodies -> signals -> plans."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from console.domain.config import IntakeSettings, SeverityRule
from console.domain.intake import (
    IngestState,
    IntakeError,
    KnownAlert,
    NewRef,
    TooLarge,
    parse_alertmanager,
    parse_event,
    plan,
)
from console.domain.lifecycle import Acknowledge, AddNote, AlertRepeated, Resolve, SetPriority
from console.domain.models import Incident, LinkKind, Priority, ResolutionCode, Status, priority_for
from tests.intake.conftest import am_body, fixture_body

RULES = IntakeSettings()
T0 = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)


def dumps(body: object) -> str:
    return json.dumps(body)


def event(**fields: object) -> str:
    body: dict[str, object] = {
        "routing_key": "k" * 40,
        "event_action": "trigger",
        "payload": {"summary": "disk full", "source": "db-1", "severity": "error"},
    }
    body.update(fields)
    return json.dumps(body)


def incident(id: int = 1, **fields: object) -> Incident:
    data: dict[str, object] = {
        "id": id,
        "key": f"INC-{id}",
        "title": "t",
        "service": "checkout",
        "created_at": T0,
        "updated_at": T0,
    }
    data.update(fields)
    return Incident.model_validate(data)


# --- Alertmanager bodies ----------------------------------------------------------------------


def test_real_firing_body_maps_labels_annotations_links_and_severity() -> None:
    hook, signals = parse_alertmanager(dumps(fixture_body("firing.json")), RULES)
    assert hook.groupKey == '{}:{alertname="HighErrorRate", service="checkout"}'
    [signal] = signals
    assert signal.action == "trigger"
    assert signal.alert_key == "7d2d332feada5c59"
    assert signal.group_key == hook.groupKey
    assert signal.summary == "5xx rate above 5%"
    assert signal.labels["alertname"] == "HighErrorRate"
    assert signal.annotations["runbook_url"] == "https://runbooks.example/5xx"
    assert (signal.severity, signal.impact, signal.urgency) == ("critical", 1, 1)
    assert signal.ends_at is None, "the zero time means: still firing"
    assert signal.starts_at == datetime(2026, 11, 27, 6, 55, 50, 145014, tzinfo=UTC)
    refs = {(link.kind, link.ref, link.title) for link in signal.links}
    assert (LinkKind.URL, "https://runbooks.example/5xx", "runbook") in refs
    assert (LinkKind.URL, "http://example.invalid/graph", "source") in refs


def test_real_resolved_body_keeps_the_fingerprint() -> None:
    _, [firing] = parse_alertmanager(dumps(fixture_body("firing.json")), RULES)
    _, [resolved] = parse_alertmanager(dumps(fixture_body("resolved.json")), RULES)
    assert resolved.action == "resolve"
    assert resolved.alert_key == firing.alert_key
    assert resolved.ends_at == datetime(2026, 11, 27, 6, 55, 51, tzinfo=UTC)


@pytest.mark.parametrize(
    ("severity", "priority"),
    [
        ("critical", Priority.P1),
        ("error", Priority.P2),
        ("warning", Priority.P3),
        ("info", Priority.P5),
        ("CRITICAL", Priority.P1),
        ("nonsense", Priority.P3),
        (None, Priority.P3),
    ],
)
def test_severity_maps_to_impact_urgency_and_priority(
    severity: str | None, priority: Priority
) -> None:
    labels = {"alertname": "X"} if severity is None else {"alertname": "X", "severity": severity}
    _, [signal] = parse_alertmanager(dumps(am_body([{"labels": labels}])), RULES)
    assert priority_for(signal.impact, signal.urgency) == priority


def test_severity_rules_are_configurable() -> None:
    rules = IntakeSettings(
        severities={"page": SeverityRule(impact=1, urgency=2)},
        default_severity="page",
        severity_label="level",
    )
    body = am_body([{"labels": {"alertname": "X", "level": "page"}}])
    _, [signal] = parse_alertmanager(dumps(body), rules)
    assert (signal.impact, signal.urgency) == (1, 2)
    assert priority_for(signal.impact, signal.urgency) == Priority.P2


def test_hostile_text_is_cleaned() -> None:
    body = am_body(
        [
            {
                "labels": {"alertname": "X\x1b[31mred", "bad\x07key": "v\u202e"},
                "annotations": {
                    "summary": "[bold]boom[/bold]\x1b]8;;http://evil\x07",
                    "runbook_url": "javascript:alert(1)",
                },
            }
        ]
    )
    _, [signal] = parse_alertmanager(dumps(body), RULES)
    assert "\x1b" not in signal.summary and "\x07" not in signal.summary
    assert signal.labels["alertname"] == "Xred"
    assert signal.labels["badkey"] == "v"
    assert all(link.title != "runbook" for link in signal.links), "only http(s) runbooks"


def test_missing_fingerprint_falls_back_to_the_labels_never_the_summary() -> None:
    one = am_body(
        [{"labels": {"alertname": "A"}, "fingerprint": "", "annotations": {"summary": "s"}}]
    )
    two = am_body(
        [{"labels": {"alertname": "B"}, "fingerprint": "", "annotations": {"summary": "s"}}]
    )
    _, [a] = parse_alertmanager(dumps(one), RULES)
    _, [b] = parse_alertmanager(dumps(two), RULES)
    assert a.alert_key != b.alert_key, "same summary, different alerts"
    _, [a2] = parse_alertmanager(dumps(one), RULES)
    assert a.alert_key == a2.alert_key


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b.pop("groupKey"), "groupKey"),
        (lambda b: b.update(version="3"), "version"),
        (lambda b: b.update(alerts="nope"), "alerts"),
        (lambda b: b["alerts"][0].update(status="pending"), "alerts.0.status"),
        (lambda b: b["alerts"][0]["labels"].update(severity=3), "alerts.0.labels.severity"),
        (lambda b: b["alerts"][0].update(startsAt="yesterday"), "alerts.0.startsAt"),
        (lambda b: b.update(truncatedAlerts="0"), "truncatedAlerts"),
    ],
)
def test_invalid_alertmanager_bodies_name_the_field(mutate: object, field: str) -> None:
    body = am_body([{}])
    mutate(body)  # type: ignore[operator]
    with pytest.raises(IntakeError) as caught:
        parse_alertmanager(dumps(body), RULES)
    assert any(error.startswith(field) for error in caught.value.errors), caught.value.errors


def test_malformed_json_and_too_many_alerts() -> None:
    with pytest.raises(IntakeError):
        parse_alertmanager(b"{not json", RULES)
    with pytest.raises(IntakeError):
        parse_alertmanager(b"[]", RULES)
    with pytest.raises(TooLarge):
        parse_alertmanager(dumps(am_body([{}] * 3)), IntakeSettings(max_alerts=2))


def test_group_by_fingerprint_gives_each_alert_its_own_group() -> None:
    body = am_body([{"fingerprint": "a"}, {"fingerprint": "b"}])
    _, grouped = parse_alertmanager(dumps(body), RULES)
    assert {s.group_key for s in grouped} == {body["groupKey"]}
    _, single = parse_alertmanager(dumps(body), IntakeSettings(alertmanager_group_by="fingerprint"))
    assert [s.group_key for s in single] == ["a", "b"]


# --- Events v2 bodies -------------------------------------------------------------------------


def test_event_trigger_maps_payload_links_and_generates_a_dedup_key() -> None:
    body = event(
        links=[{"href": "https://wiki.example/disk", "text": "runbook"}],
        images=[{"src": "https://img.example/x.png"}],
        payload={
            "summary": "disk full",
            "source": "db-1",
            "severity": "critical",
            "component": "postgres",
            "group": "prod",
            "class": "disk",
            "custom_details": {"free": "0%"},
        },
    )
    _, signal = parse_event(body, RULES)
    assert len(signal.alert_key) == 32
    assert signal.group_key == signal.alert_key
    assert (signal.impact, signal.urgency) == (1, 1)
    assert signal.labels == {
        "source": "db-1",
        "component": "postgres",
        "group": "prod",
        "class": "disk",
        "severity": "critical",
    }
    assert [link.ref for link in signal.links] == ["https://wiki.example/disk"]
    assert signal.details["custom_details"] == {"free": "0%"}
    _, again = parse_event(body, RULES)
    assert again.alert_key != signal.alert_key, "each keyless trigger is its own alert"


def test_event_grouping_is_configurable() -> None:
    body = event(
        dedup_key="d1", payload={"summary": "s", "source": "x", "severity": "info", "group": "g"}
    )
    _, signal = parse_event(body, IntakeSettings(events_group_by="group"))
    assert signal.alert_key == "d1"
    assert signal.group_key == "group:g"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (event(event_action="explode"), "event_action"),
        (event(payload={"summary": "s", "source": "x", "severity": "fatal"}), "payload.severity"),
        (event(payload={"source": "x", "severity": "info"}), "payload.summary"),
        (event(payload=None), "payload"),
        (event(event_action="resolve", payload=None), "dedup_key"),
        (event(routing_key=5), "routing_key"),
        (event(dedup_key="x" * 256), "dedup_key"),
        ("[1, 2]", "body"),
        ("{", "body"),
    ],
)
def test_invalid_events_say_what_is_wrong(body: str, needle: str) -> None:
    with pytest.raises(IntakeError) as caught:
        parse_event(body, RULES)
    assert any(needle in error for error in caught.value.errors), caught.value.errors


# --- plans ------------------------------------------------------------------------------------


def signals_of(body: dict[str, object]) -> list:  # type: ignore[type-arg]
    return parse_alertmanager(dumps(body), RULES)[1]


def test_first_alert_of_a_group_opens_one_incident_for_the_whole_group() -> None:
    body = am_body([{"fingerprint": "a"}, {"fingerprint": "b"}, {"fingerprint": "c"}])
    decided = plan(signals_of(body), IngestState(), service="checkout")
    assert len(decided.new_incidents) == 1
    assert decided.new_incidents[0].alert_count == 3
    assert [i.incident for i in decided.inserts] == [NewRef(0)] * 3
    assert [o.result for o in decided.outcomes] == ["created", "repeated", "repeated"]
    new = decided.new_incidents[0].new
    assert new.service == "checkout" and new.source == "alertmanager"
    assert new.dedup_key == body["groupKey"]


def test_two_groups_open_two_incidents() -> None:
    a = signals_of(am_body([{"fingerprint": "a"}], group_key="g1"))
    b = signals_of(am_body([{"fingerprint": "b"}], group_key="g2"))
    decided = plan(a + b, IngestState(), service="checkout")
    assert len(decided.new_incidents) == 2


def test_a_repeat_counts_on_the_open_incident_and_never_opens_another() -> None:
    open_incident = incident(alert_count=1)
    state = IngestState(
        alerts={"a": KnownAlert(id=7, incident=1, status="firing")},
        incidents={1: open_incident},
        groups={"g": 1},
        open_alerts={1: {"a"}},
    )
    repeat = signals_of(am_body([{"fingerprint": "a"}], group_key="g"))
    decided = plan(repeat + repeat, state, service="checkout")
    assert decided.new_incidents == [] and decided.inserts == []
    assert decided.updates[7].repeats == 2
    assert decided.actions == [(1, AlertRepeated(count=2, summary="errors on web-0"))]


def test_a_new_alert_joins_the_open_incident_of_its_group() -> None:
    state = IngestState(incidents={1: incident()}, groups={"g": 1}, open_alerts={1: {"a"}})
    decided = plan(signals_of(am_body([{"fingerprint": "b"}], group_key="g")), state, service="c")
    assert decided.new_incidents == []
    assert [i.incident for i in decided.inserts] == [1]
    assert isinstance(decided.actions[0][1], AlertRepeated)


def test_a_more_severe_alert_raises_priority_but_never_lowers_it() -> None:
    state = IngestState(incidents={1: incident()}, groups={"g": 1}, open_alerts={1: {"a"}})
    critical = am_body(
        [{"fingerprint": "b", "labels": {"alertname": "X", "severity": "critical"}}], group_key="g"
    )
    decided = plan(signals_of(critical), state, service="c")
    assert (1, SetPriority(impact=1, urgency=1)) in decided.actions
    info = am_body(
        [{"fingerprint": "b", "labels": {"alertname": "X", "severity": "info"}}], group_key="g"
    )
    decided = plan(signals_of(info), state, service="c")
    assert not any(isinstance(action, SetPriority) for _, action in decided.actions)
    overridden = IngestState(
        incidents={1: incident(priority_override=True, priority=Priority.P4)},
        groups={"g": 1},
        open_alerts={1: {"a"}},
    )
    decided = plan(signals_of(critical), overridden, service="c")
    assert not any(isinstance(action, SetPriority) for _, action in decided.actions)


def test_resolving_every_alert_auto_resolves_and_only_then() -> None:
    state = IngestState(
        alerts={
            "a": KnownAlert(id=1, incident=1, status="firing"),
            "b": KnownAlert(id=2, incident=1, status="firing"),
        },
        incidents={1: incident()},
        groups={"g": 1},
        open_alerts={1: {"a", "b"}},
    )
    one = signals_of(am_body([{"fingerprint": "a", "status": "resolved"}], group_key="g"))
    decided = plan(one, state, service="c")
    assert decided.updates[1].status == "resolved"
    assert decided.actions == [], "b still fires"
    both = signals_of(
        am_body(
            [
                {"fingerprint": "a", "status": "resolved"},
                {"fingerprint": "b", "status": "resolved"},
            ],
            group_key="g",
        )
    )
    decided = plan(both, state, service="c")
    [(ref, action)] = decided.actions
    assert ref == 1 and isinstance(action, Resolve)
    assert action.code == ResolutionCode.AUTO_RESOLVED


def test_auto_resolve_off_leaves_a_note_instead() -> None:
    state = IngestState(
        alerts={"a": KnownAlert(id=1, incident=1, status="firing")},
        incidents={1: incident()},
        open_alerts={1: {"a"}},
    )
    resolved = signals_of(am_body([{"fingerprint": "a", "status": "resolved"}]))
    decided = plan(resolved, state, service="search", auto_resolve=False)
    [(ref, action)] = decided.actions
    assert isinstance(action, AddNote) and "auto-resolve is off" in action.text


def test_a_trigger_after_resolution_opens_a_new_incident() -> None:
    state = IngestState(
        alerts={"a": KnownAlert(id=1, incident=1, status="resolved")},
        incidents={1: incident(status=Status.RESOLVED, resolved_at=T0)},
    )
    decided = plan(signals_of(am_body([{"fingerprint": "a"}])), state, service="c")
    assert len(decided.new_incidents) == 1
    assert decided.outcomes[0].result == "created"


def test_resolve_of_unknown_or_resolved_alerts_is_dropped() -> None:
    state = IngestState(
        alerts={"a": KnownAlert(id=1, incident=1, status="resolved")},
        incidents={1: incident(status=Status.RESOLVED, resolved_at=T0)},
    )
    body = am_body(
        [{"fingerprint": "a", "status": "resolved"}, {"fingerprint": "zz", "status": "resolved"}]
    )
    decided = plan(signals_of(body), state, service="c")
    assert not decided.changes_anything
    assert [o.result for o in decided.outcomes] == ["dropped", "dropped"]
    assert "already resolved" in decided.outcomes[0].reason


def test_event_acknowledge_acks_a_triggered_incident_once() -> None:
    state = IngestState(
        alerts={"d": KnownAlert(id=1, incident=1, status="firing")},
        incidents={1: incident()},
        open_alerts={1: {"d"}},
    )
    _, ack = parse_event(event(event_action="acknowledge", dedup_key="d", payload=None), RULES)
    decided = plan([ack], state, service="c")
    assert decided.actions == [(1, Acknowledge())]
    assert decided.updates[1].status == "acknowledged"
    acked = IngestState(
        alerts={"d": KnownAlert(id=1, incident=1, status="acknowledged")},
        incidents={1: incident(status=Status.ACKNOWLEDGED, acknowledged_at=T0)},
        open_alerts={1: {"d"}},
    )
    assert plan([ack], acked, service="c").actions == []
