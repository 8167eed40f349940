"""The incident screen lists the alerts grouped into an incident (Pilot, real SQLite)."""

from __future__ import annotations

import json

from rich.text import Text
from textual.widgets import Static

from console.domain.config import IntakeSettings, Settings
from console.domain.intake import parse_alertmanager
from console.domain.models import NewIncident
from console.tui.app import make_app
from screens.incident import IncidentScreen
from tests.intake.conftest import Intake, am_body
from tests.waiting import wait_until


def shown(screen: IncidentScreen, selector: str) -> str:
    content = screen.query_one(selector, Static).content
    assert isinstance(content, Text)
    return content.plain


async def test_incident_screen_lists_its_alerts(intake: Intake) -> None:
    body = am_body(
        [
            {"fingerprint": "a", "annotations": {"summary": "disk full \x1b[31m[bold]x[/bold]"}},
            *({"fingerprint": f"n{n}"} for n in range(9)),
        ]
    )
    _, signals = parse_alertmanager(json.dumps(body), IntakeSettings())
    result = await intake.store.ingest(intake.am, signals)
    [key] = result.created
    intake.clock.advance(30)
    resolved = am_body([{"fingerprint": "n0", "status": "resolved"}])
    await intake.store.ingest(
        intake.am, parse_alertmanager(json.dumps(resolved), IntakeSettings())[1]
    )
    incident = await intake.store.get_incident(key)
    manual = await intake.store.create_incident(
        NewIncident(title="by hand", service="search"), "bob"
    )
    app = make_app(intake.store, clock=intake.clock, settings=Settings(), user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = IncidentScreen(incident.id)
        await app.push_screen(screen)
        await wait_until(lambda: screen.alerts, pilot=pilot)
        await pilot.pause()
        assert screen.has_class("-has-alerts")
        assert screen.query_one("#alerts").display
        text = shown(screen, "#alerts")
        assert text.startswith("10 alerts, 9 not resolved")
        assert text.splitlines()[1].startswith("resolved"), "the latest news first"
        assert "disk full [bold]x[/bold] (web-0)" in text, "cleaned, shown as plain text"
        assert "\x1b" not in text
        assert "... and 2 more" in text
        await app.pop_screen()
        other = IncidentScreen(manual.id)
        await app.push_screen(other)
        await wait_until(lambda: other.entries, pilot=pilot)
        await pilot.pause()
        assert not other.has_class("-has-alerts")
        assert not other.query_one("#alerts").display, "no alerts section for a manual incident"
