"""Presence: which console has which incident open, and whether a dialog is open on it.

Each console announces itself (``Presence``) when it opens an incident or a triage dialog, and
again every ``RENEW_EVERY`` seconds while it stays; an announcement lives ``TTL`` seconds,
so a console that goes away (closed, killed, cut off) disappears by itself. Presence is
ephemeral by design: it is never written to an incident's timeline or to the change feed,
only to a small table (consoles sharing a SQLite file) or to the server's memory and stream
(remote consoles).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from console.domain.models import Model, utc
from console.domain.text import Line

TTL = timedelta(seconds=15)
"""How long an announcement counts without being renewed."""
RENEW_EVERY = 5.0
"""Seconds between a console's renewals (well inside ``TTL``, so one lost renewal is harmless)."""


class Activity(StrEnum):
    VIEWING = "viewing"
    ACTING = "acting"


# What a dialog is doing, said the way a colleague would: "ines acknowledging…".
_DOING = {
    "acknowledge": "acknowledging",
    "resolve": "resolving",
    "escalate": "escalating",
    "priority": "changing the priority of",
    "impact": "changing the impact of",
    "urgency": "changing the urgency of",
    "assign": "assigning",
    "note": "writing a note on",
    "hold": "putting on hold",
    "resume": "resuming",
    "reopen": "reopening",
    "cancel": "cancelling",
    "close": "closing",
    "link_problem": "linking a problem to",
    "public_update": "writing a public update on",
}


class Presence(Model):
    """One console's announcement."""

    console: Annotated[Line, Field(min_length=1, max_length=64)]
    """A random id per running console (one person may run two)."""
    user: str = Field(min_length=1, max_length=64)
    incident_id: int | None = None
    """The incident open on that console, or none (it is on the queue)."""
    activity: Activity = Activity.VIEWING
    action: Annotated[Line, Field(max_length=32)] = ""
    """While ``acting``: the triage action whose dialog is open (``acknowledge``, ``note``...)."""
    expires_at: datetime

    def verb(self) -> str:
        """``viewing``, or what the open dialog does: ``acknowledging``."""
        if self.activity is Activity.ACTING:
            return _DOING.get(self.action, f"{self.action or 'acting'} on")
        return "viewing"

    def doing(self) -> str:
        """``viewing`` or ``acknowledging…``: what a row or header shows after the name."""
        return f"{self.verb()}…" if self.activity is Activity.ACTING else "viewing"

    def describe(self) -> str:
        return f"{self.user} {self.doing()}"


def announcement(
    console: str,
    user: str,
    now: datetime,
    incident_id: int | None = None,
    action: str = "",
) -> Presence:
    """What a console says about itself now: viewing an incident, or acting on it."""
    return Presence(
        console=console,
        user=user,
        incident_id=incident_id,
        activity=Activity.ACTING if action else Activity.VIEWING,
        action=action,
        expires_at=utc(now) + TTL,
    )


def live(entries: Iterable[Presence], now: datetime) -> list[Presence]:
    """The announcements that have not expired, one per console (the latest wins)."""
    now = utc(now)
    latest: dict[str, Presence] = {}
    for entry in entries:
        if utc(entry.expires_at) > now:
            seen = latest.get(entry.console)
            if seen is None or entry.expires_at >= seen.expires_at:
                latest[entry.console] = entry
    return sorted(latest.values(), key=lambda p: (p.user, p.console))


def others_on(
    entries: Iterable[Presence], incident_id: int, *, me: str, now: datetime
) -> list[Presence]:
    """Who else (any console but ``me``) has ``incident_id`` open now; those acting first."""
    return others_by_incident(entries, me=me, now=now).get(incident_id, [])


def others_by_incident(
    entries: Iterable[Presence], *, me: str, now: datetime
) -> dict[int, list[Presence]]:
    """``others_on`` for every incident at once (one pass over the board for a screenful)."""
    found: dict[int, list[Presence]] = {}
    for p in live(entries, now):
        if p.incident_id is not None and p.console != me:
            found.setdefault(p.incident_id, []).append(p)
    return {
        incident_id: sorted(on, key=lambda p: (p.activity is not Activity.ACTING, p.user))
        for incident_id, on in found.items()
    }


def summary(entries: Iterable[Presence], limit: int = 3) -> str:
    """``ines viewing, bob acknowledging…`` (``+2`` when more): for a row or a header."""
    items = list(entries)
    text = ", ".join(p.describe() for p in items[:limit])
    if len(items) > limit:
        text += f" +{len(items) - limit}"
    return text


def acting_warning(others: Iterable[Presence], incident_key: str) -> str:
    """The line an action dialog shows when someone else is acting on the same incident, or
    ``""`` when nobody is."""
    acting = [p for p in others if p.activity is Activity.ACTING]
    if not acting:
        return ""
    who = " and ".join(f"{p.user} is {p.verb()}" for p in acting)
    return f"careful: {who} {incident_key} right now"
