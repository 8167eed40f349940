"""The SQL that recomputes ``escalator_due`` when a policy is written
(``backends.common.due.escalator_due_sql``) gives exactly the float the domain's
``escalator_due`` gives, to the microsecond, on SQLite and PostgreSQL: random incidents
(levels and loops in and out of range, odd microseconds, holds before and after the level
was reached, open holds, acknowledged ones, marked and unmarked breaches, every priority)
under random policies (one to three levels, repeats, waits with microseconds)."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from backends.common.rows import ts
from console.domain.clock import FrozenClock
from console.domain.escalation import escalation_clock, escalator_due
from console.domain.models import (
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    Incident,
    NewIncident,
    Pause,
    Priority,
    Status,
    TargetKind,
)
from tests.intake.conftest import POLICY, T0, column_values, open_store, seed


def _policy(rng: random.Random) -> EscalationPolicy:
    levels = tuple(
        EscalationLevel(
            targets=(EscalationTarget(kind=TargetKind.USER, id="alice"),),
            wait=timedelta(minutes=rng.randint(1, 90), microseconds=rng.randint(0, 999_999)),
        )
        for _ in range(rng.randint(1, 3))
    )
    return POLICY.model_copy(update={"levels": levels, "repeat": rng.randint(0, 2)})


def _variant(template: Incident, rng: random.Random) -> Incident:
    created = T0 - timedelta(minutes=rng.randint(0, 600), microseconds=rng.randint(0, 999_999))
    since = created + timedelta(minutes=rng.randint(0, 120), microseconds=rng.randint(0, 999_999))
    status = rng.choice([Status.TRIGGERED] * 4 + [Status.ACKNOWLEDGED, Status.ON_HOLD])
    pauses: list[Pause] = []
    for _ in range(rng.choice([0, 0, 1, 2])):
        start = created + timedelta(minutes=rng.randint(0, 240), seconds=rng.random())
        pauses.append(Pause(start=start, end=start + timedelta(minutes=rng.randint(0, 60))))
    pauses.sort(key=lambda p: p.start)
    if status == Status.ON_HOLD:
        pauses.append(Pause(start=T0 - timedelta(minutes=rng.randint(0, 30)), was=Status.TRIGGERED))
    return template.model_copy(
        update={
            "status": status,
            "priority": rng.choice(list(Priority)),
            "escalation_level": rng.randint(0, 4),
            "escalation_loop": rng.randint(0, 3),
            "escalated_at": since if rng.random() < 0.7 else None,
            "created_at": created,
            "acknowledged_at": T0 if status == Status.ACKNOWLEDGED else None,
            "pauses": tuple(pauses),
            "response_breached": rng.random() < 0.3,
            "resolution_breached": rng.random() < 0.2,
        }
    )


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_the_sql_of_a_policy_written_is_the_domain_rule(kind: str, tmp_path: Path) -> None:
    rng = random.Random(20261202)
    clock = FrozenClock(T0)
    store = await open_store(kind, tmp_path, clock)
    try:
        await seed(store)
        template = await store.create_incident(NewIncident(title="t", service="checkout"), "alice")
        records: list[tuple[Incident, Any]] = [(_variant(template, rng), []) for _ in range(400)]
        incidents = {i.id: i for i in await store.import_records(records)}
        linear = sum(
            1
            for i in incidents.values()
            if (clock_ := escalation_clock(i)) is not None and clock_.linear
        )
        assert 100 < linear < 400, "most go through the SQL, some are parsed"
        for _ in range(6):
            policy = _policy(rng)
            await store.put_policy(policy)
            clock.advance(timedelta(seconds=1))  # the rule does not depend on now
            rows = await column_values(store, "SELECT id FROM incidents ORDER BY id")
            dues = await column_values(store, "SELECT escalator_due FROM incidents ORDER BY id")
            for incident_id, stored in zip(rows, dues, strict=True):
                if incident_id not in incidents:
                    continue
                incident = incidents[incident_id]
                expected = ts(escalator_due(incident, policy, store.settings.sla, clock.now()))
                assert stored == expected, (incident, policy, stored, expected)
    finally:
        await store.close()
