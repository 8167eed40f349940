"""``IncidentQuery(escalator_due=True)``: only the incidents the automatic escalator may have
to act on now (an escalation due, or an SLA breach not marked yet), on every backend, and it
follows every input of ``console.domain.escalation.escalator_due``: the incident (an
acknowledge, an escalation, a hold and its resume, a new priority), its policy (written
alone or in a directory file) and the store's SLA settings (targets and business calendar,
when the store or server opens again with others)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backends.base import Backend
from console.cli.directory import current_directory
from console.domain.directory import plan
from console.domain.lifecycle import Acknowledge, Escalate, Hold, Resume, SetPriority
from console.domain.models import (
    EscalationLevel,
    HoldReason,
    Incident,
    IncidentQuery,
    NewIncident,
    Priority,
)
from tests.contract.backends import FACTORIES
from tests.contract.conftest import POLICY, seed

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


async def test_an_incident_written_moves_its_due_time(backend: Backend) -> None:
    # "db" has no policy: only the SLA clocks. P2 responds in 30 minutes, P1 in 15.
    incident = await _new(backend, "P2 20m ago", 20, service="db", priority=Priority.P2)
    assert await _due(backend) == []
    raised = await backend.act(
        incident.id,
        SetPriority(impact=1, urgency=1, priority=Priority.P1),
        "alice",
        incident.version,
    )
    assert await _due(backend) == ["P2 20m ago"], "P1's 15 minutes have passed"
    held = await backend.act(
        incident.id, Hold(reason=HoldReason.AWAITING_VENDOR), "alice", raised.version
    )
    assert await _due(backend) == ["P2 20m ago"], "it ran out before the hold: still to mark"
    await backend.act(incident.id, Resume(), "alice", held.version)
    assert await _due(backend) == ["P2 20m ago"]


async def test_a_policy_in_a_directory_file_recomputes_the_open_incidents(
    backend: Backend,
) -> None:
    await _new(backend, "waited 2m", 2, service="web")
    assert await _due(backend) == []
    current = await current_directory(backend)
    first = POLICY.levels[0].model_copy(update={"wait": timedelta(minutes=1)})
    shorter = POLICY.model_copy(update={"levels": (first, *POLICY.levels[1:])})
    desired = dataclasses.replace(current, policies=(shorter,))
    await backend.apply_directory(plan(current, desired, datetime.now(UTC)).changes)
    assert await _due(backend) == ["waited 2m"]


Factory = Callable[..., AbstractAsyncContextManager[Backend]]


@pytest.fixture(params=sorted(FACTORIES))
def factory(request: pytest.FixtureRequest) -> Factory:
    """A backend's factory: ``factory(tmp, config)`` opens the same store again (a restart),
    with the settings of ``config``."""
    return FACTORIES[request.param]


def _config(tmp: Path, name: str, text: str) -> Path:
    path = tmp / f"{name}.toml"
    path.write_text(text)
    return path


async def test_other_sla_settings_recompute_what_is_due(factory: Factory, tmp_path: Path) -> None:
    """The SLA settings are the store's (or the server's): opened again with other targets
    or another business calendar, what is due follows them, for the escalator and for the
    queue's "breached" alike."""
    breached = IncidentQuery(breached=True)
    async with factory(tmp_path) as backend:  # the defaults: P1 responds in 15 minutes
        await seed(backend)
        await _new(backend, "P1 10m ago", 10, service="db", priority=Priority.P1)
        await _new(backend, "P1 20m ago", 20, service="db", priority=Priority.P1)
        assert await _due(backend) == ["P1 20m ago"]
        assert await backend.count_incidents(breached) == 1
    shorter = _config(tmp_path, "shorter", '[sla.targets.P1]\nresponse = "5m"\n')
    async with factory(tmp_path, shorter) as backend:
        assert await _due(backend) == ["P1 10m ago", "P1 20m ago"]
        assert await backend.count_incidents(breached) == 2
    longer = _config(tmp_path, "longer", '[sla.targets.P1]\nresponse = "1h"\n')
    async with factory(tmp_path, longer) as backend:
        assert await _due(backend) == []
        assert await backend.count_incidents(breached) == 0
    async with factory(tmp_path) as backend:  # back to the defaults
        assert await _due(backend) == ["P1 20m ago"]
    # A calendar on which none of the last days (nor the next) is a working day: no time
    # has counted, nothing is due.
    today = datetime.now(UTC).date()
    days = ", ".join(str(today + timedelta(days=n)) for n in range(-2, 3))
    closed = _config(
        tmp_path,
        "holidays",
        f"[sla.calendar]\nweekdays = [0, 1, 2, 3, 4, 5, 6]\nholidays = [{days}]\n",
    )
    async with factory(tmp_path, closed) as backend:
        assert await _due(backend) == []
        assert await backend.count_incidents(breached) == 0
