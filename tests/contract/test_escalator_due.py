"""``IncidentQuery(escalator_due=True)``: only the incidents the automatic escalator may have
to act on now (an escalation due, or an SLA breach not marked yet), on every backend, and a
policy written recomputes it for the incidents already open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backends.base import Backend
from console.domain.lifecycle import Acknowledge, Escalate
from console.domain.models import EscalationLevel, Incident, IncidentQuery, NewIncident
from tests.contract.conftest import POLICY

DUE = IncidentQuery(escalator_due=True, limit=100)


def _ago(**kwargs: float) -> datetime:
    return datetime.now(UTC) - timedelta(**kwargs)


async def _new(backend: Backend, title: str, minutes_ago: float, **fields: object) -> Incident:
    return await backend.create_incident(
        NewIncident(title=title, created_at=_ago(minutes=minutes_ago), **fields),  # type: ignore[arg-type]
        "alice",
    )


async def _due(backend: Backend) -> list[str]:
    listed = [i.title for i in await backend.list_incidents(DUE)]
    paged = [i.title for i in (await backend.page_incidents(DUE, None, "oldest")).incidents]
    assert sorted(listed) == sorted(paged)
    assert await backend.count_incidents(DUE) == len(listed)
    return sorted(paged)


async def test_only_incidents_due_now(backend: Backend) -> None:
    # "web" escalates by web-oncall: level 1 waits 5 minutes; "db" has no policy.
    await _new(backend, "waited 6m", 6, service="web")
    await _new(backend, "waited 1m", 1, service="web")
    acked = await _new(backend, "acknowledged", 6, service="web")
    await backend.act(acked.id, Acknowledge(), "alice", acked.version)
    # P4 (impact 3, urgency 2): its one-day response target passed a day ago, not marked.
    late = await _new(backend, "late P4", 2 * 24 * 60, service="db", impact=3, urgency=2)
    await _new(backend, "fresh P4", 1, service="db", impact=3, urgency=2)
    assert await _due(backend) == ["late P4", "waited 6m"]

    # Acknowledged late: the response clock stopped (missed for good, nothing more to mark).
    await backend.act(late.id, Acknowledge(), "alice", late.version)
    assert await _due(backend) == ["waited 6m"], "its resolution clock (10 days) still runs"


async def test_an_escalation_moves_the_next_due_time(backend: Backend) -> None:
    incident = await _new(backend, "waited 6m", 6, service="web")
    assert await _due(backend) == ["waited 6m"]
    # Level 2 waits 10 minutes from now: not due any more.
    await backend.act(
        incident.id, Escalate(level=2, loop=0, automatic=True), "escalator", incident.version
    )
    assert await _due(backend) == []


async def test_a_policy_written_recomputes_the_open_incidents(backend: Backend) -> None:
    await _new(backend, "waited 2m", 2, service="web")
    assert await _due(backend) == []
    shorter = POLICY.model_copy(
        update={
            "levels": (
                POLICY.levels[0].model_copy(update={"wait": timedelta(minutes=1)}),
                *POLICY.levels[1:],
            )
        }
    )
    await backend.put_policy(shorter)
    assert await _due(backend) == ["waited 2m"], "a shorter first wait is honoured at once"
    longer = shorter.model_copy(
        update={
            "levels": (EscalationLevel(targets=POLICY.levels[0].targets, wait=timedelta(hours=1)),)
        }
    )
    await backend.put_policy(longer)
    assert await _due(backend) == [], "and a longer one too"
