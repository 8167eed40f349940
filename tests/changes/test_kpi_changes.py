"""KPI "incidents with a change in the prior hour", over a real SQLite store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from backends import capabilities
from backends.sqlite.store import SqliteBackend
from console.domain.changes import new_change
from console.domain.clock import FrozenClock
from console.domain.kpis import render_csv, render_table
from console.domain.models import NewIncident, Service

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


async def test_incidents_after_a_change_are_counted(tmp_path: Path) -> None:
    clock = FrozenClock(T0)
    async with SqliteBackend(tmp_path / "k.db", clock=clock) as store:
        await store.put_service(Service(id="db", name="DB"))
        await store.put_service(Service(id="web", name="Web", depends_on=("db",)))
        await store.put_service(Service(id="mail", name="Mail"))
        log = capabilities.changes(store)
        assert log is not None
        await log.record_change_event(new_change("db", "schema migration", now=T0), "ci")
        clock.advance(timedelta(minutes=20))
        await store.create_incident(NewIncident(title="web slow", service="web"), "ada")
        await store.create_incident(NewIncident(title="mail down", service="mail"), "ada")
        clock.advance(timedelta(minutes=70))
        await store.create_incident(NewIncident(title="web slow again", service="web"), "ada")
        kpis = await store.stats(timedelta(days=1))
    assert (kpis.created, kpis.with_change) == (3, 1)
    assert kpis.with_change_share is not None and round(kpis.with_change_share, 3) == 0.333
    assert "with a change in the prior hour: 1/3" in render_table(kpis)
    assert "with_change,,incidents,1" in render_csv(kpis)


async def test_the_review_draft_lists_linked_and_candidate_changes(tmp_path: Path) -> None:
    from console.domain.lifecycle import AddLink
    from console.services.reviews import draft_for

    clock = FrozenClock(T0)
    async with SqliteBackend(tmp_path / "r.db", clock=clock) as store:
        await store.put_service(Service(id="db", name="DB"))
        await store.put_service(Service(id="web", name="Web", depends_on=("db",)))
        log = capabilities.changes(store)
        assert log is not None
        old = await log.record_change_event(new_change("web", "v1 [old]", now=T0), "ci")
        clock.advance(timedelta(hours=3))
        deploy = await log.record_change_event(
            new_change("web", "v2 *rollout*", now=clock.now()), "ci"
        )
        clock.advance(timedelta(minutes=4))
        migration = await log.record_change_event(
            new_change("db", "migration", now=clock.now()), "ci"
        )
        clock.advance(timedelta(minutes=1))
        incident = await store.create_incident(NewIncident(title="web slow", service="web"), "ada")
        incident = await store.act(
            incident.id, AddLink(link=deploy.link()), "ada", incident.version
        )
        draft = await draft_for(store, incident.key, policy=store.settings.sla, now=clock.now())
    section = draft.split("## Changes before it started")[1].split("## ")[0]
    lines = [line for line in section.splitlines() if line.startswith("- ")]
    assert lines[0].startswith(f"- {migration.key} ") and r"via web -\> db" in lines[0]
    assert lines[1].startswith(f"- {deploy.key} ") and "(linked to this incident)" in lines[1]
    assert "v2 \\*rollout\\*" in lines[1], "change text is escaped Markdown"
    assert "deployed 5m00s before this incident" in lines[1]
    assert old.key not in section, "outside the window"
