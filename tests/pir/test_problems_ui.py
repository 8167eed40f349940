"""Problems in the console, through the command palette, over a real SQLite store."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.sqlite.store import SqliteBackend
from console.domain.lifecycle import Hold
from console.domain.models import HoldReason, LinkKind, Status
from console.domain.problems import ProblemState
from console.tui.app import make_app
from screens.confirm import ConfirmScreen
from screens.incident import IncidentScreen
from screens.problems import ProblemsScreen
from screens.reason import ReasonScreen
from tests.app.conftest import run_command
from tests.pir.test_problems import seed
from tests.waiting import wait_until


@pytest.mark.timeout(60)
async def test_create_a_problem_then_resolve_it_and_the_incidents_waiting(tmp_path: Path) -> None:
    async with SqliteBackend(tmp_path / "p.db") as backend:
        await seed(backend)
        app = make_app(backend, user="alice")
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_until(lambda: app.loaded, pilot=pilot)
            screen = IncidentScreen(1)
            await app.push_screen(screen)
            await wait_until(lambda: screen.incident is not None, pilot=pilot)
            await run_command(pilot, "Create a problem")
            await wait_until(lambda: isinstance(app.screen, ReasonScreen), pilot=pilot)
            await pilot.press(*"replication breaks under load")
            await pilot.press("enter")
            await wait_until(lambda: "PRB-1 created" in app.status_text, pilot=pilot)
            incident = await backend.get_incident(1)
            assert [(link.kind, link.ref) for link in incident.links] == [
                (LinkKind.PROBLEM, "PRB-1")
            ]
            await backend.act(
                1, Hold(reason=HoldReason.AWAITING_PROBLEM), "alice", incident.version
            )

            await run_command(pilot, "Problems")
            await wait_until(
                lambda: isinstance(app.screen, ProblemsScreen) and app.screen.items, pilot=pilot
            )
            await pilot.press("r")
            await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot)
            await pilot.press("ctrl+s")
            await wait_until(
                lambda: (
                    isinstance(app.screen, ConfirmScreen) and "waiting" in str(app.screen._title)
                ),
                pilot=pilot,
            )
            assert "INC-1" in str(app.screen.query_one("#confirm-body").render())
            await pilot.press("ctrl+s")

            # The summary ("PRB-1 resolved, and 1 of 1 waiting") can be replaced at once by
            # the queue's notice that INC-1 left the view; the store is what must hold.
            async def resolved() -> bool:
                return (await backend.get_incident(1)).status == Status.RESOLVED

            await wait_until(resolved, pilot=pilot)
            assert "waiting" in app.status_text or "left this view" in app.status_text
            assert [p.state for p in await backend.problems()] == [ProblemState.RESOLVED]
