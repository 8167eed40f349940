"""The incident screen: details, both SLA clocks, escalation state and a live timeline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.config import Settings
from console.domain.lifecycle import AddNote
from screens.hold import HoldScreen
from screens.incident import IncidentScreen
from screens.queue import QueueScreen
from tests.app import triage_helpers as helpers
from tests.app.triage_helpers import (
    T0,
    console,
    open_incident,
    plain,
    shown_on,
    wait_for_screen,
)
from tests.waiting import wait_until

tclock, store, live, elsewhere = helpers.tclock, helpers.store, helpers.live, helpers.elsewhere

SIZE = (120, 40)


@pytest.fixture
async def watching(store: Path, tclock: FrozenClock) -> AsyncIterator[SqliteBackend]:
    """A store that notices other writers quickly (the console's normal setting)."""
    opened = await SqliteBackend(store, clock=tclock, poll_interval=0.05).open()
    yield opened
    await opened.close()


def text(screen: IncidentScreen, selector: str) -> str:
    return plain(screen.query_one(selector, Static))


def tick(app: Any, clock: FrozenClock, seconds: float) -> None:
    clock.advance(seconds)
    app.tick()


async def test_details_clocks_and_escalation(
    store: Path, live: SqliteBackend, tclock: FrozenClock
) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_incident(pilot, "INC-1")
        assert "INC-1  P1  Checkout returns 502 for EU customers" in text(screen, "#headline")
        details = text(screen, "#details")
        for fragment in (
            "checkout (Checkout API)",
            "triggered",
            "P1 impact 1 (high), urgency 1 (high)",
            "unassigned",
            "alertmanager  dedup key checkout-5xx",
            "env=prod, region=eu-west-1",
            "problem PRB-7 (Flaky LB)",
            "2026-03-02 08:50:00 UTC",
        ):
            assert fragment in details, fragment
        sla = text(screen, "#sla")
        assert "Response" in sla and "05:00 left, due 09:05 (target 15m)" in sla
        assert "3h50m left, due 12:50 (target 4h)" in sla
        escalation = text(screen, "#escalation")
        assert "SRE escalation" in escalation
        assert "1 of 2" in escalation
        assert "Paged now  alice" in escalation
        assert "in 05:00  to level 2, paging carol, dave" in escalation
        timeline = text(screen, "#timeline")
        assert "alertmanager" in timeline and "created P1 on checkout" in timeline


async def test_countdowns_follow_the_app_clock(
    store: Path, live: SqliteBackend, tclock: FrozenClock
) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_incident(pilot, "INC-1")
        tick(app, tclock, 120)  # 12 of 15 minutes used: warning
        await pilot.pause()
        assert "03:00 left (warning)" in text(screen, "#sla")
        assert "in 03:00" in text(screen, "#escalation")
        tick(app, tclock, 240)  # 16 minutes: breached, marked in words
        await pilot.pause()
        assert "!-01:00 BREACHED was due 09:05" in text(screen, "#sla")
        assert "due now" in text(screen, "#escalation")


async def test_met_and_paused_clocks(store: Path, live: SqliteBackend, tclock: FrozenClock) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_incident(pilot, "INC-2")  # acknowledged 20 minutes after creation
        sla = text(screen, "#sla")
        assert "met in 20:00 (target 4h)" in sla
        assert "none while acknowledged" in text(screen, "#escalation")
        await pilot.press("h")
        await wait_for_screen(pilot, HoldScreen)
        await pilot.press("ctrl+s")  # awaiting caller
        await wait_until(lambda: "paused" in text(screen, "#sla"), pilot=pilot)
        assert "(on hold)" in text(screen, "#sla")
        assert "on hold (awaiting caller)" in text(screen, "#details")


async def test_timeline_updates_live_from_another_console(
    store: Path, watching: SqliteBackend, elsewhere: SqliteBackend, tclock: FrozenClock
) -> None:
    app = console(watching, tclock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_incident(pilot, "INC-1")
        before = len(screen.entries)
        incident = await elsewhere.get_incident("INC-1")
        tclock.set(T0 + timedelta(minutes=1))
        await elsewhere.act(
            incident.id, AddNote(text="bob here: \x1b[2Jlooking [red]now[/red]"), "bob", 1
        )
        await wait_until(lambda: len(screen.entries) == before + 1, pilot=pilot)
        await pilot.pause()
        timeline = text(screen, "#timeline")
        assert "03-02 09:01:00" in timeline
        assert "bob here: looking [red]now[/red]" in timeline
        assert "\x1b" not in timeline
        assert shown_on(screen).version == 2


async def test_hostile_title_is_plain_text(
    store: Path, live: SqliteBackend, tclock: FrozenClock
) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_incident(pilot, "INC-4")
        headline = text(screen, "#headline")
        assert "[bold]x[/bold] [/etc]  disk  full" in headline
        assert "\x1b" not in headline and "\x07" not in headline


async def test_keys_and_escape_back(store: Path, live: SqliteBackend, tclock: FrozenClock) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_incident(pilot, "INC-1")
        keys = {b.binding.id: b.binding.key for b in screen.active_bindings.values()}
        for binding_id in ("acknowledge", "resolve", "escalate", "priority", "assign", "note"):
            assert binding_id in keys
        await pilot.press("escape")
        await wait_until(lambda: isinstance(app.screen, QueueScreen), pilot=pilot)


async def test_opened_from_the_queue_with_enter(
    store: Path, live: SqliteBackend, tclock: FrozenClock
) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: getattr(app.screen, "loaded", False), pilot=pilot)
        await pilot.press("enter")  # the cursor starts on the most urgent: INC-1
        await wait_until(lambda: isinstance(app.screen, IncidentScreen), pilot=pilot)
        screen = app.screen
        assert isinstance(screen, IncidentScreen)
        await wait_until(lambda: bool(screen.entries), pilot=pilot)
        assert shown_on(screen).key == "INC-1"


async def test_review_draft_key_writes_markdown(
    store: Path,
    live: SqliteBackend,
    tclock: FrozenClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings().model_copy(update={"reviews_dir": tmp_path})
    app = console(live, tclock, settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await open_incident(pilot, "INC-2")
        await pilot.press("P")
        await wait_until(lambda: "review draft" in app.status_text, pilot=pilot)
        assert app.status_text.endswith("INC-2-review.md")
    draft = (tmp_path / "INC-2-review.md").read_text(encoding="utf-8")
    assert "INC-2" in draft and "Payment webhooks delayed" in draft


async def test_unknown_incident_says_so(
    store: Path, live: SqliteBackend, tclock: FrozenClock
) -> None:
    app = console(live, tclock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(lambda: getattr(app.screen, "loaded", False), pilot=pilot)
        screen = IncidentScreen(999)
        await app.push_screen(screen)
        await wait_until(lambda: "no longer exists" in text(screen, "#headline"), pilot=pilot)
        await pilot.press("a")  # nothing to act on; no crash, no dialog
        await wait_until(lambda: "incident 999 no longer exists" in app.status_text, pilot=pilot)
        assert app.screen is screen
