"""Explainable grouping and priority: the words match the rule that decided."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from console.domain.config import IntakeSettings
from console.domain.explain import grouping, priority
from console.domain.intake import Alert, parse_alertmanager, parse_event
from console.domain.models import Incident, Priority

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def incident(**changes: object) -> Incident:
    base = dict(id=7, key="INC-7", title="t", service="checkout", created_at=NOW, updated_at=NOW)
    return Incident.model_validate({**base, **changes})


def stored(source: str, alert_key: str, group_key: str, severity: str, count: int = 1) -> Alert:
    return Alert(
        id=1,
        incident_id=7,
        integration_id="i1",
        source=source,
        alert_key=alert_key,
        group_key=group_key,
        status="firing",
        severity=severity,
        count=count,
        first_seen=NOW,
        last_seen=NOW,
    )


def test_alertmanager_grouping_names_the_group_key_and_the_fingerprint() -> None:
    rules = IntakeSettings()
    body = {
        "version": "4",
        "groupKey": '{}:{alertname="HighLatency"}',
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "HighLatency", "severity": "critical"},
                "fingerprint": "abc123",
            }
        ],
    }
    _hook, [signal] = parse_alertmanager(json.dumps(body), rules)
    alert = stored("alertmanager", signal.alert_key, signal.group_key, signal.severity, count=3)
    lines = grouping(alert, incident(), rules)
    assert "fingerprint abc123" in lines[0] and "3x" in lines[0]
    assert 'groupKey {}:{alertname="HighLatency"}' in lines[1] and "INC-7" in lines[1]


def test_events_grouped_by_source_say_so() -> None:
    rules = IntakeSettings(events_group_by="source")
    body = {
        "routing_key": "k",
        "event_action": "trigger",
        "dedup_key": "d-1",
        "payload": {"summary": "disk", "source": "db-7", "severity": "error"},
    }
    _event, signal = parse_event(json.dumps(body), rules)
    alert = stored("events", signal.alert_key, signal.group_key, signal.severity)
    lines = grouping(alert, incident(), rules)
    assert "dedup_key d-1" in lines[0]
    assert "payload.source = db-7" in lines[1]


def test_priority_walks_severity_rule_and_matrix() -> None:
    rules = IntakeSettings()
    lines = priority(
        incident(impact=2, urgency=1, priority=Priority.P2),
        [stored("events", "d", "d", "error")],
        rules,
    )
    assert lines[0].startswith("severity: error")
    assert lines[1] == "rule: intake.severities.error gives impact 2, urgency 1"
    assert lines[2] == "matrix: impact 2 x urgency 1 = P2"
    assert lines[3] == "now: impact 2 x urgency 1 = P2"


def test_unknown_severity_and_a_manual_override_are_named() -> None:
    rules = IntakeSettings()
    lines = priority(
        incident(impact=2, urgency=2, priority=Priority.P1, priority_override=True),
        [stored("alertmanager", "f", "g", "bogus")],
        rules,
    )
    assert "no rule names" in lines[0] and "'warning'" in lines[0]
    assert lines[-1].startswith("now: P1, set by hand") and "would give P3" in lines[-1]
