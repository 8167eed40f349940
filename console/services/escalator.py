"""The automatic escalator: nobody stays unpaged because a person forgot.

One pass (``tick``) looks only at the incidents that may be due: the store keeps, per
incident, when the escalator may next act on it (``console.domain.escalation.escalator_due``,
an indexed column recomputed on every write and when a policy changes, see
``backends.common.due``), and a pass asks for ``escalator_due <= now``. So a pass costs what
is due, not what is open: with 100,000 open and nothing due it reads no incident (it runs
every few seconds, on a console's UI loop in SQLite mode). For each incident it reads:

- a triggered incident whose escalation level waited longer than the level's
  acknowledgement wait moves to the next level (``console.domain.escalation.plan_automatic``: the
  next level, or level 1 of the next loop while the policy repeats), with a timeline entry
  naming who is paged now;
- an SLA clock past its due time gets its "breached" entry, once per clock.

Several escalators may run against one store at once (``incidents serve`` and every local
console in SQLite mode). Each action is aimed at the version the escalator read
(``expected_version``); the store refuses a stale version with ``Conflict``, which here
means another escalator already did it, so it is skipped. That makes exactly one
escalation per due level and one breach entry per clock, however many escalators race.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import datetime

from backends import capabilities
from backends.base import Backend, BackendError, Conflict, InvalidAction, NotFound
from console.domain.clock import Clock
from console.domain.escalation import breach_to_mark, plan_automatic
from console.domain.lifecycle import Escalate, MarkBreached
from console.domain.models import (
    OPEN_STATUSES,
    EscalationPolicy,
    Incident,
    IncidentQuery,
    Schedule,
    Status,
)
from console.domain.sla import CLOCK_KINDS, SlaPolicy

log = logging.getLogger(__name__)

ACTOR = "escalator"
_PAGE = 1_000
"""Incidents per page of due ones (the most a history page holds)."""


class Escalator:
    """Escalates due incidents and marks SLA breaches, every ``interval`` seconds."""

    def __init__(
        self,
        backend: Backend,
        clock: Clock,
        *,
        interval: float = 5.0,
        sla: SlaPolicy | None = None,
    ) -> None:
        self.backend = backend
        self.clock = clock
        self.interval = interval
        store = capabilities.store(backend)
        self.sla = sla or (store.settings.sla if store is not None else SlaPolicy())
        self.passes = 0

    async def tick(self) -> list[str]:
        """One pass; returns what it did (``"INC-7 escalated to level 2"``, ...)."""
        now = self.clock.now()
        policies: dict[str, EscalationPolicy] | None = None
        schedules: dict[str, Schedule] = {}
        done: list[str] = []
        looked = False
        async for page in self._open_incidents():
            looked = True
            if policies is None:
                policies = {p.id: p for p in await self.backend.policies()}
                schedules = {s.id: s for s in await self.backend.schedules()}
            for incident in page:
                await self._check(incident, now, policies, schedules, done)
        if looked:
            self.passes += 1
        return done

    async def _check(
        self,
        incident: Incident,
        now: datetime,
        policies: dict[str, EscalationPolicy],
        schedules: dict[str, Schedule],
        done: list[str],
    ) -> None:
        current: Incident | None = incident
        if incident.status == Status.TRIGGERED and incident.policy:
            planned = plan_automatic(incident, policies.get(incident.policy), schedules, now)
            if planned is not None:
                step, paged = planned
                action = Escalate(
                    level=step.level, loop=step.loop, paged=tuple(paged), automatic=True
                )
                current = await self._act(incident, action)
                if current is not None:
                    done.append(f"{incident.key} escalated to level {step.level}")
        if current is None:
            return  # another escalator moved it: its next pass sees the new state
        for kind in CLOCK_KINDS:
            if not breach_to_mark(current, now, self.sla, kind):
                continue
            marked = await self._act(current, MarkBreached(clock=kind))
            if marked is None:
                break
            current = marked
            done.append(f"{incident.key} {kind} SLA breached")

    async def _open_incidents(self) -> AsyncIterator[list[Incident]]:
        """The incidents a pass must look at, a page at a time by id: those whose
        ``escalator_due`` is not after now (an escalation due, or an SLA breach to mark).
        Keyset pages, so an incident acted on (and so no longer due) never shifts the next
        page; pages, not one list, so a storm of due ones never sits in memory at once."""
        query = IncidentQuery(statuses=tuple(OPEN_STATUSES), escalator_due=True, limit=_PAGE)
        after: str | None = None
        while True:
            page = await self.backend.page_incidents(query, after, "oldest")
            if page.incidents:
                yield page.incidents
            if page.next is None:
                return
            after = page.next

    async def _act(self, incident: Incident, action: Escalate | MarkBreached) -> Incident | None:
        try:
            return await self.backend.act(incident.id, action, ACTOR, incident.version)
        except Conflict:
            return None  # someone (often another escalator) changed it first
        except (InvalidAction, NotFound) as exc:
            log.info("escalator skipped %s: %s", incident.key, exc)
            return None

    async def run(self) -> None:
        """Tick forever; a failing pass (store unavailable) is logged and retried."""
        while True:
            try:
                for line in await self.tick():
                    log.info("%s", line)
            except BackendError as exc:
                log.warning("escalator pass failed (will retry): %s", exc)
            await asyncio.sleep(self.interval)
