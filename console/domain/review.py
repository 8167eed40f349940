"""Post-incident review drafts: Markdown from an incident and its audit trail (pure).

The draft is blameless by construction: it says what happened and when, who took part and
what the SLA clocks did, and leaves the analysis (contributing factors, what went well,
what could go better, action items) as sections for the team to fill. Every piece of text
that came from people or alerts is cleaned (``console.domain.text.clean``) and Markdown-escaped, so
a title such as ``| x | *y*`` cannot break a table or turn into formatting, and a note cannot
start a heading.

``incidents pir KEY [--out FILE]`` and the incident screen's ``P`` key both go through
:func:`write_pir`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from console.domain import durations
from console.domain.changes import Candidate
from console.domain.models import EntryKind, Incident, LinkKind, Service, TimelineEntry, User, utc
from console.domain.sla import SlaPolicy, SlaState, counted, sla_clock
from console.domain.text import clean

if TYPE_CHECKING:
    pass

# Characters that carry meaning inline in CommonMark / GFM tables; each gets a backslash.
_INLINE = re.compile(r"([\\`*_\[\]<>|#~!])")
# What makes a line a block (heading, list, quote, rule, fence, numbered list).
_BLOCK_START = re.compile(r"^(\s*)([-+=>])")
_NUMBERED = re.compile(r"^(\s*\d+)([.)])")


def md_inline(text: str | None, limit: int | None = None) -> str:
    """Untrusted text as one line of inert Markdown (also safe inside a table cell)."""
    return _INLINE.sub(r"\\\1", clean(text, limit=limit)).strip()


def md_block(text: str | None) -> str:
    """Untrusted multi-line text as inert Markdown paragraphs (line breaks kept)."""
    lines = []
    for line in clean(text, multiline=True).splitlines():
        line = _INLINE.sub(r"\\\1", line.rstrip())
        line = _BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2), line)
        line = _NUMBERED.sub(lambda m: m.group(1) + "\\" + m.group(2), line)
        lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    # Two trailing spaces keep the author's line breaks without inventing structure.
    return "\n".join(f"{line}  " if line else "" for line in lines).rstrip()


def _when(at: datetime) -> str:
    return f"{utc(at):%Y-%m-%d %H:%M} UTC"


def _offset(start: datetime, at: datetime) -> str:
    return "+" + durations.elapsed((utc(at) - utc(start)).total_seconds())


_MILESTONES = {
    EntryKind.CREATED: "Detected",
    EntryKind.ACKNOWLEDGED: "Acknowledged",
    EntryKind.RESOLVED: "Resolved",
    EntryKind.MERGED: "Resolved (merged)",
    EntryKind.REOPENED: "Reopened",
    EntryKind.ESCALATED: "Escalated",
    EntryKind.ON_HOLD: "On hold",
    EntryKind.RESUMED: "Resumed",
    EntryKind.SLA_BREACHED: "SLA breached",
    EntryKind.PRIORITY_CHANGED: "Priority changed",
    EntryKind.REASSIGNED: "Reassigned",
    EntryKind.CLOSED: "Closed",
    EntryKind.CANCELLED: "Cancelled",
    EntryKind.NOTE: "Note",
    EntryKind.LINKED: "Linked",
    EntryKind.ALERT_REPEATED: "Alert repeated",
}
_DID = {
    EntryKind.CREATED: "opened it",
    EntryKind.ACKNOWLEDGED: "acknowledged",
    EntryKind.RESOLVED: "resolved",
    EntryKind.MERGED: "merged",
    EntryKind.REOPENED: "reopened",
    EntryKind.ESCALATED: "escalated",
    EntryKind.ON_HOLD: "put on hold",
    EntryKind.RESUMED: "resumed",
    EntryKind.PRIORITY_CHANGED: "changed the priority",
    EntryKind.REASSIGNED: "reassigned",
    EntryKind.NOTE: "wrote notes",
    EntryKind.LINKED: "linked records",
    EntryKind.CLOSED: "closed",
    EntryKind.CANCELLED: "cancelled",
}


@dataclass
class _Person:
    id: str
    did: list[str] = field(default_factory=list)
    paged: bool = False


def _participants(incident: Incident, timeline: Sequence[TimelineEntry]) -> list[_Person]:
    people: dict[str, _Person] = {}

    def person(who: str) -> _Person:
        return people.setdefault(who, _Person(who))

    for entry in timeline:
        did = _DID.get(entry.kind)
        if did and entry.actor:
            p = person(entry.actor)
            if did not in p.did:
                p.did.append(did)
        if entry.kind == EntryKind.ESCALATED:
            for paged in entry.data.get("paged") or ():
                person(str(paged)).paged = True
        if entry.kind == EntryKind.REASSIGNED and entry.data.get("to"):
            person(str(entry.data["to"]))
    if incident.assignee:
        person(incident.assignee)
    return list(people.values())


def _sla_line(incident: Incident, policy: SlaPolicy, now: datetime, kind: Any) -> str:
    clock = sla_clock(incident, now, policy, kind)
    target = durations.span(clock.target)
    used = durations.elapsed(clock.used.total_seconds())
    if clock.state == SlaState.MET:
        outcome = "met"
    elif clock.state == SlaState.BREACHED:
        late = durations.elapsed((clock.used - clock.target).total_seconds())
        outcome = f"**breached** by {late}"
    else:
        outcome = f"still running ({clock.state.value})"
    label = "Response (to acknowledge)" if kind == "response" else "Resolution (to resolve)"
    return f"| {label} | {target} | {used} | {outcome} |"


def render_pir(
    incident: Incident,
    timeline: Sequence[TimelineEntry],
    *,
    services: Iterable[Service] = (),
    users: Iterable[User] = (),
    sla_policy: SlaPolicy | None = None,
    now: datetime,
    changes: Sequence[Candidate] | None = None,
    change_window: timedelta | None = None,
) -> str:
    """A blameless post-incident review draft in Markdown.

    ``changes`` are the candidate changes before the incident (``console.domain.changes``);
    ``None`` leaves the section out (the backend keeps no change events), an empty list says
    none were recorded in ``change_window``.
    """
    policy = sla_policy or SlaPolicy()
    now = utc(now)
    service_by_id = {s.id: s for s in services}
    user_by_id = {u.id: u for u in users}
    entries = sorted(timeline, key=lambda e: (e.at, e.id or 0, e.version))

    def who(user_id: str) -> str:
        user = user_by_id.get(user_id)
        if user is None:
            return md_inline(user_id)
        return f"{md_inline(user.name)} ({md_inline(user.id)})"

    service = service_by_id.get(incident.service)
    service_text = md_inline(service.name if service else incident.service)
    if service is not None and service.name != service.id:
        service_text += f" ({md_inline(service.id)})"
    team = md_inline(service.team) if service is not None and service.team else ""

    end = incident.resolved_at or (incident.closed_at if not incident.is_open else None)
    stop = end or now
    wall = stop - incident.created_at
    held = wall - counted(incident.created_at, stop, incident.pauses)
    status = incident.status.label
    if incident.resolution_code is not None:
        status += f" ({incident.resolution_code.value.replace('_', ' ')})"

    out: list[str] = []
    add = out.append
    add(f"# Post-incident review: {incident.key}: {md_inline(incident.title)}")
    add("")
    add(
        f"> Draft written {_when(now)} from the incident's audit trail. This review is "
        "blameless: it looks at systems, signals and decisions, not at who to blame. "
        "Complete the sections marked *to fill in*, then publish."
    )
    add("")
    add("## Summary")
    add("")
    add("| | |")
    add("| --- | --- |")
    add(f"| Incident | {incident.key} |")
    add(f"| Title | {md_inline(incident.title)} |")
    add(f"| Service | {service_text}" + (f", team {team}" if team else "") + " |")
    add(
        f"| Priority | {incident.priority.value} (impact {incident.impact}, "
        f"urgency {incident.urgency}"
        + (", set by hand" if incident.priority_override else "")
        + ") |"
    )
    add(f"| Status | {status} |")
    add(f"| Opened | {_when(incident.created_at)} (source: {md_inline(incident.source)}) |")
    if incident.acknowledged_at:
        add(
            f"| Acknowledged | {_when(incident.acknowledged_at)} "
            f"({_offset(incident.created_at, incident.acknowledged_at)}) |"
        )
    if incident.resolved_at:
        add(
            f"| Resolved | {_when(incident.resolved_at)} "
            f"({_offset(incident.created_at, incident.resolved_at)}) |"
        )
    if incident.assignee:
        add(f"| Owner | {who(incident.assignee)} |")
    add("")
    if incident.description.strip():
        add(md_block(incident.description))
        add("")
    if incident.resolution_note:
        add("Resolution note:")
        add("")
        add(md_block(incident.resolution_note))
        add("")

    add("## Impact")
    add("")
    add(f"- Service affected: {service_text}" + (f", team {team}" if team else ""))
    duration = durations.elapsed(wall.total_seconds())
    if held > timedelta(0):
        duration += (
            f" from detection to {'resolution' if end else 'now (still open)'}, of which "
            f"{durations.elapsed(held.total_seconds())} on hold or resolved before a reopen"
        )
    else:
        duration += f" from detection to {'resolution' if end else 'now (still open)'}"
    add(f"- Duration: {duration}")
    add(f"- Priority: {incident.priority.value}")
    if incident.alert_count:
        add(f"- Alerts received: {incident.alert_count}")
    if incident.reopen_count:
        add(f"- Reopened: {incident.reopen_count} time{'s' if incident.reopen_count > 1 else ''}")
    add("- Who and what was affected (users, regions, data): *to fill in*")
    add("")

    add("## Timeline")
    add("")
    add("All times UTC, from the audit trail.")
    add("")
    add("| Time | Since detection | Event | Who | Details |")
    add("| --- | --- | --- | --- | --- |")
    for entry in entries:
        label = _MILESTONES.get(entry.kind, entry.kind.value)
        if entry.kind in (EntryKind.CREATED, EntryKind.ACKNOWLEDGED, EntryKind.RESOLVED):
            label = f"**{label}**"
        add(
            f"| {entry.at:%Y-%m-%d %H:%M} | {_offset(incident.created_at, entry.at)} | "
            f"{label} | {who(entry.actor)} | {md_inline(entry.message, limit=300)} |"
        )
    add("")

    add("## Who took part")
    add("")
    people = _participants(incident, entries)
    if not people:
        add("Nobody is on record yet.")
    for p in people:
        parts = list(p.did)
        if p.paged:
            parts.append("was paged")
        if not parts:
            parts.append("owns it")
        add(f"- {who(p.id)}: {', '.join(parts)}")
    add("")

    add("## SLA outcomes")
    add("")
    add("| Clock | Target | Counted time | Outcome |")
    add("| --- | --- | --- | --- |")
    add(_sla_line(incident, policy, now, "response"))
    add(_sla_line(incident, policy, now, "resolution"))
    add("")
    add(
        "Counted time excludes time on hold and time resolved before a reopen"
        + (", and counts business hours only." if policy.calendar else ".")
    )
    add("")

    add("## Escalations")
    add("")
    escalations = [e for e in entries if e.kind == EntryKind.ESCALATED]
    if not escalations:
        add("None: the first people paged handled it.")
    for entry in escalations:
        paged = ", ".join(who(str(p)) for p in entry.data.get("paged") or ()) or "nobody"
        how = "automatically" if entry.data.get("automatic") else f"by {who(entry.actor)}"
        add(
            f"- {entry.at:%Y-%m-%d %H:%M} ({_offset(incident.created_at, entry.at)}): "
            f"to level {entry.data.get('level', '?')} {how}, paging {paged}"
        )
    add("")

    if incident.links:
        add("## Related records")
        add("")
        for link in incident.links:
            text = f"- {link.kind.value} {md_inline(link.ref)}"
            if link.title:
                text += f": {md_inline(link.title)}"
            if link.state:
                text += f" ({md_inline(link.state)})"
            add(text)
        add("")

    if changes is not None:
        linked = {link.ref for link in incident.links if link.kind is LinkKind.CHANGE}
        add("## Changes before it started")
        add("")
        if not changes:
            span = f" in the {durations.elapsed(change_window)}" if change_window else ""
            add(
                f"No change events were recorded on {md_inline(incident.service)} or what it "
                f"depends on{span} before it started."
            )
        for candidate in changes:
            change = candidate.change
            mark = " (linked to this incident)" if change.key in linked else ""
            add(
                f"- {change.key} {change.at:%Y-%m-%d %H:%M}: {md_inline(change.summary)}, "
                f"{md_inline(candidate.describe())}{mark}"
            )
        add("")

    add("## Contributing factors")
    add("")
    add("*To fill in:* the conditions that together made this possible (changes, load,")
    add('dependencies, gaps in monitoring or runbooks). Ask "how", not "who".')
    add("")
    add("## What went well")
    add("")
    add("*To fill in.*")
    add("")
    add("## What could go better")
    add("")
    add("*To fill in.*")
    add("")
    add("## Action items")
    add("")
    add("| # | Action | Owner | Due | Tracking |")
    add("| --- | --- | --- | --- | --- |")
    add("| 1 | *to fill in* | | | |")
    add("")
    return "\n".join(out)
