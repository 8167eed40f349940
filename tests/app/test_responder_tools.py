"""Responder tools and live problem links (issue 10 points 5 and 8), over a real SQLite file.

- a problem link shows the problem's state now: resolved in another console, the incident
  screen says ``[resolved]`` without a key pressed;
- an incident joins a problem that is already open, picked from a list;
- ``l`` opens the incident's first link with the system browser (``$BROWSER``, here a
  script that writes what it was given), shows it as an OSC 8 hyperlink over SSH, and says
  so when there is none.
"""

from __future__ import annotations

import stat
import sys
import webbrowser
from pathlib import Path

import pytest
from textual.widgets import Static

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.models import Link, LinkKind, NewIncident
from console.tui.app import make_app
from screens.incident import IncidentScreen
from screens.links import LinkScreen
from screens.problem_pick import ProblemPickScreen
from tests.app.conftest import loaded, run_command
from tests.app.triage_helpers import plain
from tests.waiting import wait_until

RUNBOOK = "https://runbooks.example.com/checkout/HighErrorRate"


async def open_screen(pilot: object, key: str) -> IncidentScreen:
    app = pilot.app  # type: ignore[attr-defined]
    incident = await app.backend.get_incident(key)
    screen = IncidentScreen(incident.id)
    await app.push_screen(screen)
    await wait_until(lambda: screen.incident is not None and bool(screen.entries), pilot=pilot)
    return screen


def details(screen: IncidentScreen) -> str:
    return plain(screen.query_one("#details", Static))


async def test_problem_link_follows_the_problem_live(
    backend: SqliteBackend, other: SqliteBackend, clock: FrozenClock
) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        screen = await open_screen(pilot, "INC-1")
        problem = await other.create_problem(1, "Flaky load balancer", "bob")  # elsewhere
        await wait_until(
            lambda: "problem PRB-1 (Flaky load balancer) [open]" in details(screen), pilot=pilot
        )
        await other.resolve_problem(problem.id, "bob")
        await wait_until(
            lambda: "problem PRB-1 (Flaky load balancer) [resolved]" in details(screen),
            pilot=pilot,
            what="the link to show the problem resolved elsewhere",
        )
        # the stored link still holds the state it was made with: the screen reads the problem
        stored = await other.get_incident(1)
        assert [link.state for link in stored.links] == ["open"]


async def test_link_an_incident_to_an_open_problem(
    backend: SqliteBackend, other: SqliteBackend, clock: FrozenClock
) -> None:
    await other.create_problem(2, "Payment provider throttles webhooks", "bob")  # PRB-1
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        screen = await open_screen(pilot, "INC-4")
        await run_command(pilot, "Link this incident to an open problem")
        await wait_until(lambda: isinstance(app.screen, ProblemPickScreen), pilot=pilot)
        await pilot.press("enter")
        await wait_until(
            lambda: "problem PRB-1 (Payment provider throttles webhooks) [open]" in details(screen),
            pilot=pilot,
        )
        assert "INC-4 linked to PRB-1" in app.status_text
        linked = await other.get_incident(4)
        assert [(link.kind, link.ref) for link in linked.links] == [(LinkKind.PROBLEM, "PRB-1")]
        # once linked, the problem is not offered again
        await run_command(pilot, "Link this incident to an open problem")
        await wait_until(
            lambda: "no open problem it is not linked to" in app.status_text, pilot=pilot
        )
        assert not isinstance(app.screen, ProblemPickScreen)


@pytest.fixture
async def linked(other: SqliteBackend) -> str:
    """INC-9: an alert with a runbook link, the only incident whose key is typed below."""
    incident = await other.create_incident(
        NewIncident(
            title="Checkout error rate high",
            service="checkout",
            links=(Link(kind=LinkKind.URL, ref=RUNBOOK, title="runbook"),),
        ),
        "alertmanager",
    )
    return incident.key


async def cursor_on(pilot: object, key: str) -> None:
    await pilot.press("slash", *key, "enter")  # type: ignore[attr-defined]
    screen = pilot.app.screen  # type: ignore[attr-defined]
    await wait_until(
        lambda: screen.list.cursor_incident is not None and screen.list.cursor_incident.key == key,
        pilot=pilot,
    )


async def test_l_opens_the_first_link_in_the_browser(
    linked: str,
    backend: SqliteBackend,
    clock: FrozenClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser"
    browser.write_text(
        f"#!{sys.executable}\nimport sys\nopen({str(opened)!r}, 'w').write(sys.argv[1])\n"
    )
    browser.chmod(browser.stat().st_mode | stat.S_IXUSR)
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    monkeypatch.delenv("SSH_TTY", raising=False)
    monkeypatch.setenv("BROWSER", f"{browser} %s")
    # webbrowser reads $BROWSER once per process; make it read this one
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await cursor_on(pilot, linked)
        await pilot.press("l")
        await wait_until(lambda: opened.exists() and opened.read_text() == RUNBOOK, pilot=pilot)
        await wait_until(lambda: "in the browser" in app.status_text, pilot=pilot)
        assert f"opened the runbook of {linked}" in app.status_text


async def test_l_over_ssh_shows_a_terminal_hyperlink(
    linked: str, backend: SqliteBackend, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.7 52100 10.0.0.1 22")
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await cursor_on(pilot, linked)
        await pilot.press("l")
        await wait_until(lambda: isinstance(app.screen, LinkScreen), pilot=pilot)
        url = app.screen.query_one("#link-url", Static)
        # the line on screen carries the link (Textual writes it as OSC 8)
        line = url.render_line(0)
        assert any(seg.style and seg.style.link == RUNBOOK for seg in line), list(line)
        await pilot.press("y")
        assert app.clipboard == RUNBOOK
        await pilot.press("escape")
        await wait_until(lambda: not isinstance(app.screen, LinkScreen), pilot=pilot)
        await pilot.press("slash", "escape")
        await cursor_on(pilot, "INC-2")
        await pilot.press("l")
        await wait_until(lambda: "INC-2 has no link to open" in app.status_text, pilot=pilot)
