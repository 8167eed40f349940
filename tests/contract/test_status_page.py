"""The public status page: the same page from every backend, with nothing internal in it."""

from __future__ import annotations

from backends.base import Backend
from console.domain.lifecycle import (
    Acknowledge,
    AddNote,
    Assign,
    PublicUpdate,
    Publish,
    Resolve,
)
from console.domain.models import NewIncident, Priority
from console.domain.status_page import HISTORY_DAYS, ServiceState

INTERNAL = (
    "db-7.internal",  # the internal title
    "restart pgbouncer on db-7",  # an internal note
    "carol",  # the assignee
    "alice",  # the actor
    "sk-secret",  # a label value
)


async def _publish(backend: Backend, incident_id: int, version: int) -> int:
    done = await backend.act(
        incident_id,
        Publish(title="Checkout is slow", message="We are <investigating>."),
        "alice",
        version,
    )
    return done.version


async def test_only_published_incidents_appear_with_their_public_updates(backend: Backend) -> None:
    page = await backend.status_page()
    assert page.state == ServiceState.OPERATIONAL
    assert {s.id for s in page.services} == {"web", "db"}
    assert page.open == () and page.recent == ()
    assert len(page.history) == HISTORY_DAYS

    public = await backend.create_incident(
        NewIncident(
            title="Pool exhausted on db-7.internal",
            service="web",
            impact=1,
            urgency=2,
            labels={"api_key": "sk-secret"},
        ),
        "alice",
    )
    hidden = await backend.create_incident(
        NewIncident(title="Backups late", service="db", impact=1, urgency=1), "alice"
    )
    version = await _publish(backend, public.id, public.version)
    version = (await backend.act(public.id, Acknowledge(), "alice", version)).version
    version = (await backend.act(public.id, Assign(assignee="carol"), "alice", version)).version
    note = AddNote(text="restart pgbouncer on db-7")
    version = (await backend.act(public.id, note, "alice", version)).version
    update = PublicUpdate(message="A fix is rolling out.")
    version = (await backend.act(public.id, update, "alice", version)).version

    page = await backend.status_page()
    assert page.state == ServiceState.DEGRADED  # a P2 (the P1 on db is not public)
    states = {s.id: s.state for s in page.services}
    assert states == {"web": ServiceState.DEGRADED, "db": ServiceState.OPERATIONAL}
    [shown] = page.open
    assert shown.key == public.key and shown.title == "Checkout is slow"
    assert shown.service == "Web shop" and shown.state == "open"
    assert [u.message for u in shown.updates] == [
        "A fix is rolling out.",
        "We are <investigating>.",
    ]
    assert page.history[0].incidents == (public.key,)
    text = page.model_dump_json()
    assert hidden.key not in text and "Backups late" not in text
    for internal in INTERNAL:
        assert internal not in text, internal

    resolved = await backend.act(public.id, Resolve(note="pgbouncer restarted"), "alice", version)
    page = await backend.status_page()
    assert page.state == ServiceState.OPERATIONAL and page.open == ()
    [past] = page.recent
    assert past.state == "resolved" and past.ended_at == resolved.resolved_at
    assert "pgbouncer" not in page.model_dump_json()


async def test_a_public_p1_is_an_outage(backend: Backend) -> None:
    incident = await backend.create_incident(
        NewIncident(title="Everything down", service="db", priority=Priority.P1), "alice"
    )
    await _publish(backend, incident.id, incident.version)
    page = await backend.status_page()
    assert page.state == ServiceState.OUTAGE
    assert {s.id: s.state for s in page.services}["db"] == ServiceState.OUTAGE
