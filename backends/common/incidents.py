"""What every store does the same way around the lifecycle: building a new incident,
completing an action with what only the store knows, refusing a stale version with a message
naming what changed, and who the current escalation level pages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal, Protocol

from backends.base import Backend, Conflict, InvalidAction
from console.domain.escalation import paged_at, plan_manual
from console.domain.lifecycle import Action, AddLink, Assign, Escalate, Merge
from console.domain.models import (
    EntryKind,
    EscalationPolicy,
    Incident,
    NewIncident,
    Schedule,
    Service,
    choose_priority,
    utc,
)
from console.domain.problems import Problem, link_for
from console.domain.text import fit

# Short past-tense phrases for conflict messages ("acknowledged by alice; note by bob").
CHANGED: dict[str, str] = {
    EntryKind.CREATED: "created",
    EntryKind.ACKNOWLEDGED: "acknowledged",
    EntryKind.NOTE: "note",
    EntryKind.PRIORITY_CHANGED: "priority changed",
    EntryKind.REASSIGNED: "reassigned",
    EntryKind.ESCALATED: "escalated",
    EntryKind.ON_HOLD: "put on hold",
    EntryKind.RESUMED: "resumed",
    EntryKind.RESOLVED: "resolved",
    EntryKind.CLOSED: "closed",
    EntryKind.REOPENED: "reopened",
    EntryKind.CANCELLED: "cancelled",
    EntryKind.ALERT_REPEATED: "alert repeated",
    EntryKind.SLA_BREACHED: "SLA breached",
    EntryKind.LINKED: "linked",
    EntryKind.MERGED: "merged",
}


def parse_ref(ref: int | str) -> tuple[Literal["id", "key"], int | str]:
    """An incident reference as the column to look it up by: ``7``/``"7"`` -> id, else key."""
    if isinstance(ref, int):
        return "id", ref
    text = ref.strip()
    if text.isascii() and text.isdigit():  # "²".isdigit() is true, int("²") fails
        return "id", int(text)
    return "key", text.upper()


def build_incident(
    incident_id: int,
    new: NewIncident,
    now: datetime,
    services: Mapping[str, Service],
    users: set[str],
    policies: set[str],
    *,
    alert_count: int = 0,
) -> Incident:
    """The incident ``new`` describes, at version 1, with id ``incident_id`` (and
    ``alert_count`` alerts, when intake opens it).

    Refuses (``InvalidAction``) an unknown service, assignee or policy, naming the known
    ones; bounds the text (cleaned already: ``NewIncident``'s fields are ``Line`` /
    ``Text``); the priority is the override, else the ITIL matrix.
    """
    service = services.get(new.service)
    if service is None:
        known = ", ".join(sorted(services)) or "none yet; add one first"
        raise InvalidAction(f"unknown service {new.service!r} (known services: {known})")
    if new.assignee is not None and new.assignee not in users:
        known = ", ".join(sorted(users)) or "none"
        raise InvalidAction(f"unknown assignee {new.assignee!r} (known users: {known})")
    if new.policy is not None and new.policy not in policies:
        known = ", ".join(sorted(policies)) or "none"
        raise InvalidAction(f"unknown escalation policy {new.policy!r} (known policies: {known})")
    choice = choose_priority(new.impact, new.urgency, new.priority)
    created = utc(new.created_at) if new.created_at is not None else now
    return Incident(
        id=incident_id,
        key=f"INC-{incident_id}",
        title=fit(new.title, 500),
        description=new.description,
        service=service.id,
        impact=new.impact,
        urgency=new.urgency,
        priority=choice.priority,
        priority_override=choice.overridden,
        assignee=new.assignee,
        policy=new.policy or service.policy,
        created_at=created,
        source=fit(new.source, 64) or "manual",
        dedup_key=new.dedup_key,
        labels={fit(k, 64): fit(v, 500) for k, v in new.labels.items()},
        links=new.links,
        alert_count=alert_count,
        version=1,
        updated_at=created,
    )


class ActionContext(Protocol):
    """What completing an action reads from the store, inside the caller's transaction."""

    async def policy(self, policy_id: str | None) -> EscalationPolicy | None: ...

    async def schedules(self) -> list[Schedule]: ...

    async def user_ids(self) -> set[str]: ...

    async def incident_key(self, ref: int | str) -> str | None:
        """The key of the incident ``ref`` names, or ``None`` if there is none."""
        ...


async def complete_action(
    incident: Incident, action: Action, now: datetime, context: ActionContext
) -> Action:
    """Fill in what only the store knows (who an escalation pages) and check references."""
    if isinstance(action, Escalate) and action.level is None:
        policy = await context.policy(incident.policy)
        schedules = {s.id: s for s in await context.schedules()}
        step, paged = plan_manual(incident, policy, schedules, now)
        return action.model_copy(
            update={"level": step.level, "loop": step.loop, "paged": tuple(paged)}
        )
    if isinstance(action, Assign) and action.assignee is not None:
        users = await context.user_ids()
        if action.assignee not in users:
            known = ", ".join(sorted(users)) or "none"
            raise InvalidAction(
                f"cannot assign {incident.key} to {action.assignee!r}: no such user "
                f"(known users: {known})"
            )
    if isinstance(action, Merge):
        key = await context.incident_key(action.into)
        if key is None:
            raise InvalidAction(
                f"cannot merge {incident.key} into {action.into}: there is no such incident"
            )
        return action.model_copy(update={"into": key})
    return action


def conflict(
    incident: Incident, expected: int, changes: Sequence[tuple[str, str]] = ()
) -> Conflict:
    """The ``Conflict`` for a caller who aimed at v``expected`` of ``incident``.

    ``changes`` are ``(actor, kind)`` of the timeline entries after ``expected``, oldest
    first; the message names the last five.
    """
    current = incident.version
    if expected > current:
        return Conflict(
            f"{incident.key} is at v{current}, not v{expected}; reload it and try again",
            key=incident.key,
            expected_version=expected,
            current_version=current,
        )
    changed = [f"{CHANGED.get(kind, kind.replace('_', ' '))} by {actor}" for actor, kind in changes]
    shown = changed[-5:]
    summary = "; ".join(shown)
    if len(changed) > len(shown):
        summary = f"{len(changed) - len(shown)} earlier changes; " + summary
    return Conflict(
        f"{incident.key} changed since you saw it (v{expected}, now v{current}): {summary}",
        key=incident.key,
        expected_version=expected,
        current_version=current,
        changed=changed,
    )


async def link_problem(backend: Backend, incident: Incident, problem: Problem, actor: str) -> None:
    """Link ``incident`` to the problem made from it, through the lifecycle (so the link is
    in its audit trail); if someone changed it in between, link the version now current."""
    for _ in range(3):
        try:
            await backend.act(incident.id, AddLink(link=link_for(problem)), actor, incident.version)
            return
        except Conflict:
            incident = await backend.get_incident(incident.id)


async def paged_now(backend: Backend, incident_id: int, at: datetime) -> list[str]:
    """Who the incident's current escalation level pages at ``at``."""
    incident = await backend.get_incident(incident_id)
    if incident.policy is None:
        return []
    policies = {p.id: p for p in await backend.policies()}
    policy = policies.get(incident.policy)
    if policy is None:
        return []
    schedules = {s.id: s for s in await backend.schedules()}
    return paged_at(policy, incident.escalation_level, utc(at), schedules)
