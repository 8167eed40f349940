"""Read-only means read-only with a viewer's token (issue 10.2): the console over a real
server refuses every mutating command itself, saying why, before the server would."""

from __future__ import annotations

from console.domain.keys import MUTATING
from console.domain.models import NewIncident
from console.tui.app import make_app
from tests.app.readonly_walk import walk
from tests.remote.conftest import Live
from tests.waiting import wait_until


async def test_viewer_console_changes_nothing(live: Live) -> None:
    admin = await live.remote("admin")
    created = await admin.create_incident(
        NewIncident(title="Checkout returns 502", service="web", impact=1, urgency=1), "ada"
    )
    await admin.create_problem(created.id, "replication breaks under write load", "ada")
    before = await admin.last_seq()
    viewer = await live.remote("viewer")
    app = make_app(viewer, user="vic")
    assert app.readonly
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(lambda: app.loaded and app.incidents, pilot=pilot)
        refused = await walk(pilot, "signed in with vic's viewer token")
    assert refused >= 2 * (len(MUTATING) - 2)
    assert await admin.last_seq() == before
