"""The incident lifecycle: every transition as one pure function.

``apply(incident, action, actor, now)`` returns the new incident (version + 1) and the
timeline entries the transition produced, or raises ``InvalidTransition`` whose message says
what is allowed from the current state. Backends call it; nobody else re-implements it.

::

    triggered --ack--> acknowledged --resolve--> resolved --close--> closed
        |  ^               |                        |
        |  +--escalate-----+                        +--reopen--> acknowledged
        +--hold--> on_hold --resume--> (back where it was)
    any open state --cancel--> cancelled
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, field_validator

from console.domain import durations
from console.domain.limits import MAX_INT
from console.domain.models import (
    EntryKind,
    HoldReason,
    Incident,
    Link,
    Model,
    Pause,
    Priority,
    ResolutionCode,
    Status,
    TimelineEntry,
    choose_priority,
    clean_link,
    utc,
)
from console.domain.text import Line, Text, clean


class InvalidTransition(Exception):
    """An action that the incident's current state does not allow."""

    def __init__(self, incident: Incident, action: str, reason: str) -> None:
        self.key = incident.key
        self.status = incident.status
        self.action = action
        self.allowed = allowed_actions(incident)
        allowed = ", ".join(self.allowed) or "nothing"
        super().__init__(
            f"{_refused(incident, action, reason)} "
            f"(it is {incident.status.label}; allowed now: {allowed})"
        )


def _refused(incident: Incident, action: str, reason: str) -> str:
    """The one wording of a refusal: ``cannot resolve INC-12: it is already closed``."""
    return f"cannot {action} {incident.key}: {reason}"


def refusal(incident: Incident, kind: str) -> str | None:
    """Why ``apply`` would refuse an action of ``kind`` on ``incident``; ``None`` if it would not.

    For screens that check before sending; the backend's refusal says the same words.
    """
    if kind in _ALLOWED[incident.status]:
        return None
    return _refused(incident, kind, _why_not(incident, kind))


class Acknowledge(Model):
    kind: Literal["acknowledge"] = "acknowledge"


class Resolve(Model):
    kind: Literal["resolve"] = "resolve"
    code: ResolutionCode = ResolutionCode.FIXED
    note: Text = Field(default="", max_length=20_000)


class Close(Model):
    kind: Literal["close"] = "close"


class Reopen(Model):
    kind: Literal["reopen"] = "reopen"
    reason: Text = Field(default="", max_length=20_000)


class Cancel(Model):
    kind: Literal["cancel"] = "cancel"
    reason: Text = Field(default="", max_length=20_000)


class Hold(Model):
    kind: Literal["hold"] = "hold"
    reason: HoldReason
    note: Text = Field(default="", max_length=20_000)


class Resume(Model):
    kind: Literal["resume"] = "resume"
    note: Text = Field(default="", max_length=20_000)


class Escalate(Model):
    """Move to the next escalation level.

    ``level``, ``loop`` and ``paged`` are filled in by the backend from the escalation policy
    (see ``console.domain.escalation.plan_manual`` and ``plan_automatic``); left empty, the level
    goes up by one.
    ``automatic`` marks escalations made by the escalator rather than a person.
    """

    kind: Literal["escalate"] = "escalate"
    level: int | None = Field(default=None, ge=1, le=MAX_INT)
    loop: int | None = Field(default=None, ge=0, le=MAX_INT)
    paged: tuple[Line, ...] = ()
    automatic: bool = False
    note: Text = Field(default="", max_length=20_000)


class SetPriority(Model):
    """Set impact and urgency; ``priority`` overrides the matrix when given."""

    kind: Literal["priority"] = "priority"
    impact: int = Field(ge=1, le=3)
    urgency: int = Field(ge=1, le=3)
    priority: Priority | None = None


class Assign(Model):
    kind: Literal["assign"] = "assign"
    assignee: Line | None = Field(default=None, max_length=64)


class AddNote(Model):
    kind: Literal["note"] = "note"
    text: Text = Field(min_length=1, max_length=20_000)


class AddLink(Model):
    kind: Literal["link"] = "link"
    link: Link

    @field_validator("link")
    @classmethod
    def _clean(cls, link: Link) -> Link:
        return clean_link(link)


class AlertRepeated(Model):
    """Another alert (or a repeat of one) arrived for this incident."""

    kind: Literal["alert_repeated"] = "alert_repeated"
    count: int = Field(default=1, ge=1, le=MAX_INT)
    summary: Line = ""


class MarkBreached(Model):
    """An SLA clock passed its due time; written once per clock."""

    kind: Literal["breach"] = "breach"
    clock: Literal["response", "resolution"]


class Merge(Model):
    """Fold this incident into another one; it is resolved as a duplicate."""

    kind: Literal["merge"] = "merge"
    into: Line = Field(min_length=1)


class Publish(Model):
    """Show the incident on the public status page under ``title``, with a first update.

    Separate from notes on purpose: notes are internal and never leave the console."""

    kind: Literal["publish"] = "publish"
    title: Line = Field(min_length=1, max_length=200)
    message: Text = Field(min_length=1, max_length=5_000)


class PublicUpdate(Model):
    """A public update for a published incident (what customers read on the status page)."""

    kind: Literal["public_update"] = "public_update"
    message: Text = Field(min_length=1, max_length=5_000)


Action = Annotated[
    Acknowledge
    | Resolve
    | Close
    | Reopen
    | Cancel
    | Hold
    | Resume
    | Escalate
    | SetPriority
    | Assign
    | AddNote
    | AddLink
    | AlertRepeated
    | MarkBreached
    | Merge
    | Publish
    | PublicUpdate,
    Field(discriminator="kind"),
]
ACTION_ADAPTER: TypeAdapter[Action] = TypeAdapter(Action)

# What each status allows; ``allowed_actions`` refines it with per-incident facts.
_ALLOWED: dict[Status, tuple[str, ...]] = {
    Status.TRIGGERED: (
        "acknowledge",
        "resolve",
        "escalate",
        "hold",
        "cancel",
        "priority",
        "assign",
        "note",
        "link",
        "alert_repeated",
        "breach",
        "merge",
        "publish",
        "public_update",
    ),
    Status.ACKNOWLEDGED: (
        "resolve",
        "escalate",
        "hold",
        "cancel",
        "priority",
        "assign",
        "note",
        "link",
        "alert_repeated",
        "breach",
        "merge",
        "publish",
        "public_update",
    ),
    Status.ON_HOLD: (
        "resume",
        "resolve",
        "cancel",
        "priority",
        "assign",
        "note",
        "link",
        "alert_repeated",
        # A clock that ran out before the hold (or a response clock re-targeted by a
        # priority change) is breached even though it is paused now.
        "breach",
        "merge",
        "publish",
        "public_update",
    ),
    Status.RESOLVED: ("close", "reopen", "note", "link", "publish", "public_update"),
    Status.CLOSED: ("note", "link", "publish", "public_update"),
    Status.CANCELLED: ("note", "link"),
}


def allowed_actions(incident: Incident) -> tuple[str, ...]:
    return _ALLOWED[incident.status]


def parse_action(data: object) -> Action:
    """Validate a JSON-like dict (``{"kind": "resolve", ...}``) into an action."""
    return ACTION_ADAPTER.validate_python(data)


def apply(
    incident: Incident, action: Action, actor: str, now: datetime
) -> tuple[Incident, list[TimelineEntry]]:
    """Apply ``action`` by ``actor`` at ``now``; return the new incident and its new entries."""
    now = utc(now)
    if action.kind not in _ALLOWED[incident.status]:
        raise InvalidTransition(incident, action.kind, _why_not(incident, action.kind))
    handler = _HANDLERS[action.kind]
    changes, entries = handler(incident, action, actor, now)
    version = incident.version + 1
    new = incident.model_copy(update={**changes, "version": version, "updated_at": now})
    timeline = [
        TimelineEntry(
            incident_id=incident.id,
            version=version,
            at=now,
            actor=actor,
            kind=kind,
            message=message,
            data=data,
        )
        for kind, message, data in entries
    ]
    return new, timeline


def created_entry(incident: Incident, actor: str, entry_id: int | None = None) -> TimelineEntry:
    """The first timeline entry of a new incident (``entry_id``: its id, if known yet)."""
    return TimelineEntry(
        id=entry_id,
        incident_id=incident.id,
        version=incident.version,
        at=incident.created_at,
        actor=actor,
        kind=EntryKind.CREATED,
        message=f"created {incident.priority} on {incident.service}: {clean(incident.title)}",
        data={
            "priority": incident.priority.value,
            "impact": incident.impact,
            "urgency": incident.urgency,
            "source": incident.source,
            "assignee": incident.assignee,
        },
    )


def _why_not(incident: Incident, kind: str) -> str:
    status = incident.status
    if kind == "acknowledge" and status == Status.ACKNOWLEDGED:
        return "it is already acknowledged"
    if kind == "resume" and status != Status.ON_HOLD:
        return "it is not on hold"
    if kind == "reopen" and status != Status.RESOLVED:
        return "only a resolved incident can be reopened"
    if kind == "close" and status != Status.RESOLVED:
        return "only a resolved incident can be closed"
    if status in (Status.RESOLVED, Status.CLOSED, Status.CANCELLED):
        return f"it is already {status.label}"
    if status == Status.ON_HOLD:
        return "it is on hold; resume it first"
    return f"{kind} is not possible from {status.label}"


Entry = tuple[EntryKind, str, dict[str, object]]
Result = tuple[dict[str, object], list[Entry]]


def _end_pause(incident: Incident, now: datetime) -> tuple[Pause, ...]:
    if incident.pauses and incident.pauses[-1].end is None:
        last = incident.pauses[-1].model_copy(update={"end": now})
        return (*incident.pauses[:-1], last)
    return incident.pauses


def _acknowledge(incident: Incident, action: Acknowledge, actor: str, now: datetime) -> Result:
    changes: dict[str, object] = {"status": Status.ACKNOWLEDGED}
    if incident.acknowledged_at is None:
        changes["acknowledged_at"] = now
    if incident.assignee is None:
        changes["assignee"] = actor
    return changes, [(EntryKind.ACKNOWLEDGED, f"acknowledged by {actor}", {})]


def _resolve(incident: Incident, action: Resolve, actor: str, now: datetime) -> Result:
    note = clean(action.note, multiline=True)
    changes: dict[str, object] = {
        "status": Status.RESOLVED,
        "resolved_at": now,
        "resolution_code": action.code,
        "resolution_note": note,
        "hold_reason": None,
        "pauses": _end_pause(incident, now),
    }
    # Resolving answers the page too: an incident never acknowledged is acknowledged now,
    # so MTTA and the response clock do not run forever.
    if incident.acknowledged_at is None:
        changes["acknowledged_at"] = now
    message = f"resolved by {actor} ({action.code.value.replace('_', ' ')})"
    if note:
        message += f": {note}"
    return changes, [(EntryKind.RESOLVED, message, {"code": action.code.value, "note": note})]


def _close(incident: Incident, action: Close, actor: str, now: datetime) -> Result:
    return {"status": Status.CLOSED, "closed_at": now}, [
        (EntryKind.CLOSED, f"closed by {actor}", {})
    ]


def _reopen(incident: Incident, action: Reopen, actor: str, now: datetime) -> Result:
    reason = clean(action.reason, multiline=True)
    # The time spent resolved does not count against the SLA: it becomes a pause, and the
    # resolution clock runs on from where it stopped.
    resolved_at = incident.resolved_at or now
    pause = Pause(start=resolved_at, end=max(resolved_at, now), reason="resolved")
    changes: dict[str, object] = {
        "status": Status.ACKNOWLEDGED,
        "resolved_at": None,
        "resolution_code": None,
        "resolution_note": "",
        "pauses": (*incident.pauses, pause),
        "reopen_count": incident.reopen_count + 1,
    }
    message = f"reopened by {actor}" + (f": {reason}" if reason else "")
    return changes, [(EntryKind.REOPENED, message, {"reason": reason})]


def _cancel(incident: Incident, action: Cancel, actor: str, now: datetime) -> Result:
    reason = clean(action.reason, multiline=True)
    changes: dict[str, object] = {
        "status": Status.CANCELLED,
        "closed_at": now,
        "hold_reason": None,
        "pauses": _end_pause(incident, now),
    }
    message = f"cancelled by {actor}" + (f": {reason}" if reason else "")
    return changes, [(EntryKind.CANCELLED, message, {"reason": reason})]


def _hold(incident: Incident, action: Hold, actor: str, now: datetime) -> Result:
    note = clean(action.note, multiline=True)
    changes: dict[str, object] = {
        "status": Status.ON_HOLD,
        "hold_reason": action.reason,
        "pauses": (
            *incident.pauses,
            Pause(start=now, reason=action.reason.value, was=incident.status),
        ),
    }
    reason = action.reason.value.replace("_", " ")
    message = f"put on hold by {actor}, {reason}" + (f": {note}" if note else "")
    return changes, [
        (
            EntryKind.ON_HOLD,
            message,
            {"reason": action.reason.value, "note": note, "was": incident.status.value},
        )
    ]


def _resume(incident: Incident, action: Resume, actor: str, now: datetime) -> Result:
    note = clean(action.note, multiline=True)
    # Back where it was: an escalated incident waiting for the new level's acknowledgement
    # is triggered again even though an earlier level acknowledged it. Pauses written
    # before ``was`` existed fall back to what the acknowledgement says.
    last = incident.pauses[-1] if incident.pauses else None
    if (
        last is not None
        and last.end is None
        and last.was in (Status.TRIGGERED, Status.ACKNOWLEDGED)
    ):
        status = last.was
    else:
        status = Status.ACKNOWLEDGED if incident.acknowledged_at else Status.TRIGGERED
    changes: dict[str, object] = {
        "status": status,
        "hold_reason": None,
        "pauses": _end_pause(incident, now),
    }
    held = incident.on_hold_since
    seconds = (now - held).total_seconds() if held else 0.0
    message = f"resumed by {actor} after {durations.elapsed(seconds)} on hold" + (
        f": {note}" if note else ""
    )
    return changes, [(EntryKind.RESUMED, message, {"held_seconds": seconds, "note": note})]


def _escalate(incident: Incident, action: Escalate, actor: str, now: datetime) -> Result:
    level = action.level if action.level is not None else incident.escalation_level + 1
    loop = action.loop if action.loop is not None else incident.escalation_loop
    changes: dict[str, object] = {
        "escalation_level": level,
        "escalation_loop": loop,
        "escalated_at": now,
        # A new level is a new page: whoever is paged must acknowledge again.
        "status": Status.TRIGGERED,
    }
    if action.paged:
        paged = ", ".join(action.paged)
    else:
        paged = "nobody (no policy)" if incident.policy is None else "nobody (nobody on call)"
    how = "automatically escalated" if action.automatic else f"escalated by {actor}"
    message = f"{how} to level {level}" + (f" (loop {loop + 1})" if loop else "")
    message += f", paging {paged}"
    if action.note:
        message += f": {clean(action.note, multiline=True)}"
    data = {
        "from_level": incident.escalation_level,
        "level": level,
        "loop": loop,
        "paged": list(action.paged),
        "automatic": action.automatic,
    }
    return changes, [(EntryKind.ESCALATED, message, data)]


def _priority(incident: Incident, action: SetPriority, actor: str, now: datetime) -> Result:
    choice = choose_priority(action.impact, action.urgency, action.priority)
    priority = choice.priority
    changes: dict[str, object] = {
        "impact": action.impact,
        "urgency": action.urgency,
        "priority": priority,
        "priority_override": choice.overridden,
    }
    message = (
        f"priority {incident.priority} -> {priority} by {actor} "
        f"(impact {action.impact}, urgency {action.urgency}"
        + (", overridden" if changes["priority_override"] else "")
        + ")"
    )
    data: dict[str, object] = {
        "from": incident.priority.value,
        "to": priority.value,
        "impact": action.impact,
        "urgency": action.urgency,
    }
    return changes, [(EntryKind.PRIORITY_CHANGED, message, data)]


def _assign(incident: Incident, action: Assign, actor: str, now: datetime) -> Result:
    if action.assignee == incident.assignee:
        who = action.assignee or "nobody"
        raise InvalidTransition(incident, "assign", f"it is already assigned to {who}")
    target = action.assignee or "nobody"
    message = f"assigned to {target} by {actor}"
    if incident.assignee:
        message = f"reassigned from {incident.assignee} to {target} by {actor}"
    data: dict[str, object] = {"from": incident.assignee, "to": action.assignee}
    return {"assignee": action.assignee}, [(EntryKind.REASSIGNED, message, data)]


def _note(incident: Incident, action: AddNote, actor: str, now: datetime) -> Result:
    text = clean(action.text, multiline=True).strip()
    if not text:
        raise InvalidTransition(incident, "note", "the note is empty")
    return {}, [(EntryKind.NOTE, text, {})]


def _link(incident: Incident, action: AddLink, actor: str, now: datetime) -> Result:
    # Links come from people and integrations: store them cleaned, and compare cleaned refs
    # so the same problem or change is never linked twice under a disguise.
    link = action.link.model_copy(
        update={
            "ref": clean(action.link.ref).strip(),
            "title": clean(action.link.title).strip(),
            "state": clean(action.link.state).strip(),
        }
    )
    if not link.ref:
        raise InvalidTransition(incident, "link", "the link has no reference")
    if any(
        existing.kind == link.kind and clean(existing.ref).strip() == link.ref
        for existing in incident.links
    ):
        raise InvalidTransition(incident, "link", f"it is already linked to {link.ref}")
    message = f"linked to {link.kind.value} {link.ref}"
    if link.title:
        message += f" ({link.title})"
    return {"links": (*incident.links, link)}, [
        (EntryKind.LINKED, message, link.model_dump(mode="json"))
    ]


def _alert_repeated(incident: Incident, action: AlertRepeated, actor: str, now: datetime) -> Result:
    count = incident.alert_count + action.count
    message = f"alert repeated ({count} in all)"
    if action.summary:
        message += f": {clean(action.summary)}"
    return {"alert_count": count}, [(EntryKind.ALERT_REPEATED, message, {"count": count})]


def _breach(incident: Incident, action: MarkBreached, actor: str, now: datetime) -> Result:
    field = f"{action.clock}_breached"
    if getattr(incident, field):
        raise InvalidTransition(incident, "breach", f"the {action.clock} SLA is already breached")
    target = "acknowledged" if action.clock == "response" else "resolved"
    message = f"{action.clock} SLA breached: not {target} in time ({incident.priority})"
    return {field: True}, [(EntryKind.SLA_BREACHED, message, {"clock": action.clock})]


def _merge(incident: Incident, action: Merge, actor: str, now: datetime) -> Result:
    if action.into == incident.key:
        raise InvalidTransition(incident, "merge", "an incident cannot be merged into itself")
    changes, _ = _resolve(
        incident,
        Resolve(code=ResolutionCode.DUPLICATE, note=f"merged into {action.into}"),
        actor,
        now,
    )
    message = f"merged into {clean(action.into)} by {actor}"
    return changes, [(EntryKind.MERGED, message, {"into": action.into})]


def _publish(incident: Incident, action: Publish, actor: str, now: datetime) -> Result:
    if incident.public:
        raise InvalidTransition(incident, "publish", "it is already on the status page")
    title = clean(action.title).strip()
    message = clean(action.message, multiline=True).strip()
    if not title or not message:
        raise InvalidTransition(incident, "publish", "a public title and a first update are needed")
    return {"public": True, "public_title": title}, [
        (EntryKind.PUBLISHED, message, {"title": title})
    ]


def _public_update(incident: Incident, action: PublicUpdate, actor: str, now: datetime) -> Result:
    if not incident.public:
        raise InvalidTransition(
            incident, "public_update", "it is not on the status page; publish it first"
        )
    message = clean(action.message, multiline=True).strip()
    if not message:
        raise InvalidTransition(incident, "public_update", "the update is empty")
    return {}, [(EntryKind.PUBLIC_UPDATE, message, {})]


# Each handler takes its own action type; the table is keyed by ``kind``, so ``Any`` here.
_HANDLERS: dict[str, Callable[[Incident, Any, str, datetime], Result]] = {
    "acknowledge": _acknowledge,
    "resolve": _resolve,
    "close": _close,
    "reopen": _reopen,
    "cancel": _cancel,
    "hold": _hold,
    "resume": _resume,
    "escalate": _escalate,
    "priority": _priority,
    "assign": _assign,
    "note": _note,
    "link": _link,
    "alert_repeated": _alert_repeated,
    "breach": _breach,
    "merge": _merge,
    "publish": _publish,
    "public_update": _public_update,
}
