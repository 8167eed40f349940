"""Why an alert joined its incident, and why the incident has its priority: in words.

Grouping and priority are decided by ``console.domain.intake`` (``parse_*`` turn bodies into
signals with an identity and a group key; ``plan`` joins a signal to the open incident of its
group). These functions read a stored alert back against the same settings and say which
key, which rule and which matrix cell produced what a responder sees, so nobody has to read
the intake code to trust (or question) a page.
"""

from __future__ import annotations

from collections.abc import Sequence

from console.domain.config import IntakeSettings
from console.domain.intake import Alert, severity_rule
from console.domain.models import Incident, priority_for


def _short(key: str, limit: int = 60) -> str:
    return key if len(key) <= limit else key[: limit - 1] + "…"


def grouping(alert: Alert, incident: Incident, rules: IntakeSettings) -> list[str]:
    """How ``alert`` came to be part of ``incident``: its identity and its group."""
    lines = []
    if alert.source == "alertmanager":
        lines.append(
            f"identity: Alertmanager fingerprint {_short(alert.alert_key)}; a repeat of the same "
            f"fingerprint counts on this alert ({alert.count}x so far), it never opens another"
        )
        if rules.alertmanager_group_by == "group_key":
            lines.append(
                f"group: Alertmanager groupKey {_short(alert.group_key)} "
                "(intake.alertmanager_group_by = group_key): every firing alert of that "
                f"Alertmanager group joins the open incident {incident.key}"
            )
        else:
            lines.append(
                "group: one incident per fingerprint (intake.alertmanager_group_by = fingerprint)"
            )
    else:
        lines.append(
            f"identity: Events v2 dedup_key {_short(alert.alert_key)}; events with the same "
            f"dedup_key update this alert ({alert.count}x so far)"
        )
        field = rules.events_group_by
        if field == "dedup_key" or alert.group_key == alert.alert_key:
            lines.append("group: one incident per dedup_key (intake.events_group_by = dedup_key)")
        else:
            value = alert.group_key.split(":", 1)[1] if ":" in alert.group_key else alert.group_key
            lines.append(
                f"group: payload.{field} = {_short(value)} (intake.events_group_by = {field}): "
                f"events with the same {field} join the open incident {incident.key}"
            )
    return lines


def priority(incident: Incident, alerts: Sequence[Alert], rules: IntakeSettings) -> list[str]:
    """Why ``incident`` has its priority: the severity rule of its first alert, the impact
    and urgency that rule gives, the ITIL matrix cell, and any change a person made since."""
    lines = []
    first = min(alerts, key=lambda a: (a.first_seen, a.id)) if alerts else None
    if first is not None:
        name, impact, urgency = severity_rule(first.severity, rules)
        said = first.severity or "(none)"
        if name != (first.severity or "").strip().lower():
            lines.append(
                f"severity: the alert said {said!r}, which no rule names, so the default "
                f"{name!r} applies (intake.default_severity)"
            )
        else:
            lines.append(f"severity: {name} (from the alert's {rules.severity_label!r})")
        lines.append(f"rule: intake.severities.{name} gives impact {impact}, urgency {urgency}")
        lines.append(
            f"matrix: impact {impact} x urgency {urgency} = {priority_for(impact, urgency).value}"
        )
    else:
        lines.append("no alerts: the incident was opened by hand")
    now = priority_for(incident.impact, incident.urgency)
    if incident.priority_override:
        lines.append(
            f"now: {incident.priority.value}, set by hand (it overrides the matrix, which "
            f"would give {now.value})"
        )
    else:
        lines.append(
            f"now: impact {incident.impact} x urgency {incident.urgency} = {incident.priority.value}"
        )
    return lines
