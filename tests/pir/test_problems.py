"""Problems: created from an incident (which gets linked), resolved, and the incidents on hold
waiting for one listed so the UI can offer to resolve them. Over SQLite and a real server."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.base import Backend, InvalidAction, NotFound
from backends.remote import RemoteBackend
from backends.sqlite.store import SqliteBackend
from console.domain.lifecycle import AddLink, Hold, Resolve
from console.domain.models import EntryKind, HoldReason, LinkKind, NewIncident, Service, Status
from console.domain.problems import ProblemState, link_for, waiting_on
from tests.remote.server import ServerProcess, make_tokens


async def seed(backend: Backend) -> None:
    await backend.put_service(Service(id="db", name="Databases"))
    for title in ("Replica lag", "Replica lag again", "Slow reports", "Disk full"):
        await backend.create_incident(NewIncident(title=title, service="db"), "alice")


async def hold(backend: Backend, incident_id: int, reason: HoldReason) -> None:
    incident = await backend.get_incident(incident_id)
    await backend.act(incident_id, Hold(reason=reason), "alice", incident.version)


async def exercise(backend: Backend) -> None:
    problem = await backend.create_problem(
        1, "Replication \x1b[31mbreaks\x1b[0m under load", "alice"
    )
    assert (problem.key, problem.state, problem.from_incident) == ("PRB-1", "open", "INC-1")
    assert problem.title == "Replication breaks under load"
    first = await backend.get_incident(1)
    assert [(link.kind, link.ref) for link in first.links] == [(LinkKind.PROBLEM, "PRB-1")]
    assert (await backend.timeline(1))[-1].kind == EntryKind.LINKED
    # INC-2 is linked by hand; INC-1 and INC-2 wait for the problem, INC-3 for a vendor,
    # INC-4 waits for "a problem" but not this one
    second = await backend.get_incident(2)
    await backend.act(2, AddLink(link=link_for(problem)), "bob", second.version)
    await hold(backend, 1, HoldReason.AWAITING_PROBLEM)
    await hold(backend, 2, HoldReason.AWAITING_PROBLEM)
    await hold(backend, 3, HoldReason.AWAITING_VENDOR)
    await hold(backend, 4, HoldReason.AWAITING_PROBLEM)

    assert [p.key for p in await backend.problems()] == ["PRB-1"]
    resolved = await backend.resolve_problem(problem.id, "carol")
    assert (resolved.state, resolved.resolved_by) == (ProblemState.RESOLVED, "carol")
    assert await backend.problems(ProblemState.OPEN) == []
    with pytest.raises(InvalidAction, match="already resolved"):
        await backend.resolve_problem(problem.id, "carol")

    waiting = await backend.waiting_for_problem(problem.id)
    assert [i.key for i in waiting] == ["INC-1", "INC-2"]
    for incident in waiting:  # what the UI does once the user says yes
        await backend.act(incident.id, Resolve(note="fixed by PRB-1"), "carol", incident.version)
    assert await backend.waiting_for_problem(problem.id) == []
    assert (await backend.get_incident(3)).status == Status.ON_HOLD
    with pytest.raises(NotFound):
        await backend.waiting_for_problem(99)


async def test_problems_over_sqlite(tmp_path: Path) -> None:
    async with SqliteBackend(tmp_path / "p.db") as backend:
        await seed(backend)
        await exercise(backend)


async def test_problems_over_postgres() -> None:
    from backends.postgres.store import PostgresBackend
    from tests.postgres import fresh_dsn

    async with PostgresBackend(await fresh_dsn()) as backend:
        await seed(backend)
        await exercise(backend)


@pytest.mark.slow
async def test_problems_over_a_real_server(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    async with SqliteBackend(db) as store:
        await seed(store)
    tokens = await make_tokens(db, {"alice": "admin", "bob": "responder", "carol": "responder"})
    server = ServerProcess(db, home=tmp_path).start()
    try:
        url = await server.ready()
        async with RemoteBackend(url, tokens["alice"], tokens=tokens) as remote:
            await exercise(remote)
    finally:
        server.stop()


def test_waiting_on_needs_the_hold_reason_and_the_link() -> None:
    from datetime import UTC, datetime

    from console.domain.lifecycle import apply
    from console.domain.models import Incident, Link

    t = datetime(2026, 3, 2, 9, tzinfo=UTC)
    base = Incident(id=1, key="INC-1", title="x", service="db", created_at=t, updated_at=t)
    linked, _ = apply(base, AddLink(link=Link(kind=LinkKind.PROBLEM, ref="PRB-7")), "a", t)
    held, _ = apply(linked, Hold(reason=HoldReason.AWAITING_PROBLEM), "a", t)
    vendor, _ = apply(linked, Hold(reason=HoldReason.AWAITING_VENDOR), "a", t)
    unlinked, _ = apply(base, Hold(reason=HoldReason.AWAITING_PROBLEM), "a", t)
    assert waiting_on("PRB-7", [held, vendor, unlinked, linked]) == [held]
    assert waiting_on("PRB-8", [held]) == []
