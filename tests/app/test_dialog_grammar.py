"""One dialog grammar (issue 10 point 6), walked over every ``Dialog`` of the console.

Each dialog, opened in a console over a real SQLite file: starts focused on the field a
responder types into; its buttons read ``Back (esc)`` and ``<what it does> (<keys>)``; esc
dismisses it with nothing; ctrl+s submits it; where its keys say ``enter`` too, enter from
the starting field submits it. A new Dialog subclass without a row here fails the test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rich.text import Text
from textual.widgets import Button, Input, TextArea

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.lifecycle import (
    AddNote,
    Assign,
    Hold,
    PublicUpdate,
    Publish,
    Resolve,
    SetPriority,
)
from console.domain.links import WebLink
from console.domain.models import HoldReason, Incident, NewIncident, Rotation, Schedule
from console.domain.problems import Problem
from console.domain.sla import SlaPolicy
from console.tui.app import make_app
from screens.assign import AssignScreen
from screens.bulk import BulkPreviewScreen
from screens.bulk_summary import BulkSummaryScreen, Outcome
from screens.confirm import ConfirmScreen
from screens.create import CreateScreen
from screens.dialog import CANCEL_LABEL, Dialog
from screens.hold import HoldScreen
from screens.links import LinkScreen
from screens.note import NoteScreen
from screens.override import OverrideScreen
from screens.priority import PriorityScreen
from screens.problem_pick import ProblemPickScreen
from screens.public_update import PublicUpdateScreen
from screens.reason import ReasonScreen
from screens.resolve import ResolveScreen
from tests.app.conftest import loaded
from tests.waiting import wait_until

Build = Callable[[Any], Dialog[Any]]


@dataclass(frozen=True)
class Row:
    build: Build
    focus: str
    """The id (or type name) of the widget focused when it opens."""
    typed: str = ""
    """What a responder types first (into the focused field) before submitting."""
    expect: Callable[[Any], bool] = lambda result: result is not None


def incidents(app: Any) -> list[Incident]:
    """The first two incidents in full (the App holds rows; these were on its first page)."""
    rows = sorted(app.incidents.values(), key=lambda i: i.id)[:2]
    return [app.full_incident(row.id) for row in rows]


def _schedule() -> Schedule:
    return Schedule(
        id="primary",
        name="Primary",
        rotations=(Rotation(users=("alice", "bob"), start=datetime(2026, 3, 2, tzinfo=UTC)),),
    )


def _override(app: Any, person: str | None) -> OverrideScreen:
    now = app.clock.now()
    return OverrideScreen(
        _schedule(),
        me="alice",
        person=person,
        people=app.directory.users,
        start=now,
        end=now + timedelta(hours=2),
        zone=UTC,
        zone_name="UTC",
        current="bob",
        current_name="Bob Brown",
        now=now,
    )


PROBLEM = Problem(
    id=1,
    key="PRB-1",
    title="Flaky load balancer",
    created_at=datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    created_by="bob",
)

DIALOGS: dict[str, Row] = {
    "AssignScreen": Row(
        lambda app: AssignScreen(incidents(app), app.directory.users, ()),
        "who",
        "carol",
        lambda result: isinstance(result, Assign) and result.assignee == "carol",
    ),
    "BulkPreviewScreen": Row(
        lambda app: BulkPreviewScreen("acknowledge", incidents(app)),
        "confirm",
        expect=lambda result: result is True,
    ),
    "BulkSummaryScreen": Row(
        lambda app: BulkSummaryScreen(
            "acknowledge", [Outcome(i, True, "acknowledged") for i in incidents(app)]
        ),
        "close",
        expect=lambda result: result is None,
    ),
    "ConfirmScreen": Row(
        lambda app: ConfirmScreen("Escalate INC-1?", Text("to level 2")),
        "confirm",
        expect=lambda result: result is True,
    ),
    "CreateScreen": Row(
        lambda app: CreateScreen(
            app.directory.services,
            app.directory.users,
            initial=NewIncident(title="Printer", service="checkout"),
        ),
        "title",
        " on fire",
        lambda result: isinstance(result, NewIncident) and result.title == "Printer on fire",
    ),
    "HoldScreen": Row(
        lambda app: HoldScreen(incidents(app)),
        "note",
        "vendor ticket 4411",
        lambda result: (
            isinstance(result, Hold)
            and result.note == "vendor ticket 4411"
            and result.reason == HoldReason.AWAITING_CALLER
        ),
    ),
    "LinkScreen": Row(
        lambda app: LinkScreen(
            incidents(app)[0], WebLink("https://runbooks.example.com/x", "runbook"), "Over SSH"
        ),
        "confirm",
        expect=lambda result: result is None,
    ),
    "NoteScreen": Row(
        lambda app: NoteScreen(incidents(app)),
        "text",
        "rolled back",
        lambda result: isinstance(result, AddNote) and result.text == "rolled back",
    ),
    "OverrideScreen": Row(
        lambda app: _override(app, "alice"),
        "override-end",
        expect=lambda result: result is not None and result.user == "alice",
    ),
    "PriorityScreen": Row(
        lambda app: PriorityScreen(incidents(app), sla=SlaPolicy(), now=app.clock.now()),
        "impact",
        expect=lambda result: isinstance(result, SetPriority),
    ),
    "ProblemPickScreen": Row(
        lambda app: ProblemPickScreen(incidents(app)[0], [PROBLEM]),
        "problem-list",
        expect=lambda result: result == PROBLEM,
    ),
    "PublicUpdateScreen": Row(
        lambda app: PublicUpdateScreen(incidents(app)[0]),
        "message",
        "We are on it",
        lambda result: isinstance(result, Publish | PublicUpdate),
    ),
    "ReasonScreen": Row(
        lambda app: ReasonScreen(
            "Cancel INC-1", incidents(app), confirm_label="Cancel incident", required=True
        ),
        "reason",
        "opened by mistake",
        lambda result: result == "opened by mistake",
    ),
    "ResolveScreen": Row(
        lambda app: ResolveScreen(incidents(app)),
        "note",
        "restarted the pod",
        lambda result: isinstance(result, Resolve) and result.note == "restarted the pod",
    ),
}
"""Swap on-call (``OverrideScreen`` without a person) starts on its people list; the take
variant above is the one a responder types into."""


def every_dialog() -> set[str]:
    found: set[str] = set()
    todo: list[type[Any]] = [Dialog]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("screens."):
                found.add(sub.__name__)
            todo.append(sub)
    return found


def test_every_dialog_is_walked() -> None:
    assert every_dialog() == set(DIALOGS), "give each new Dialog a row in DIALOGS"


def _focused(app: Any) -> str:
    widget = app.focused
    return (widget.id or type(widget).__name__) if widget is not None else "nothing"


async def _open(pilot: Any, row: Row) -> tuple[Dialog[Any], list[object]]:
    results: list[object] = []
    dialog = row.build(pilot.app)
    pilot.app.push_screen(dialog, results.append)
    await wait_until(lambda: pilot.app.screen is dialog and dialog.is_mounted, pilot=pilot)
    await pilot.pause()
    return dialog, results


async def _type(pilot: Any, text: str) -> None:
    focused = pilot.app.focused
    if isinstance(focused, Input | TextArea):
        focused.insert_text_at_cursor(text) if isinstance(focused, Input) else focused.insert(text)
    await pilot.pause()


@pytest.mark.parametrize("name", sorted(DIALOGS))
async def test_dialog_grammar(name: str, backend: SqliteBackend, clock: FrozenClock) -> None:
    row = DIALOGS[name]
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        dialog, results = await _open(pilot, row)
        assert type(dialog).__name__ == name
        assert _focused(app) == row.focus, f"{name} starts on {_focused(app)}"
        labels = {str(b.label) for b in dialog.query(Button)}
        if name != "BulkSummaryScreen":  # a report: one Close button
            assert CANCEL_LABEL in labels, labels
            assert f"{dialog.confirm_label} ({dialog.submit_keys})" in labels, labels
        assert dialog.submit_keys in ("ctrl+s", "enter, ctrl+s")

        await pilot.press("escape")
        await wait_until(lambda: bool(results), pilot=pilot, what=f"esc to close {name}")
        assert results == [None] or results == [False], results

        # ctrl+s submits (after the responder typed into the first field)
        dialog, results = await _open(pilot, row)
        await _type(pilot, row.typed)
        await pilot.press("ctrl+s")
        await wait_until(lambda: bool(results), pilot=pilot, what=f"ctrl+s to submit {name}")
        assert row.expect(results[0]), results

        if "enter" in dialog.submit_keys:
            dialog, results = await _open(pilot, row)
            await _type(pilot, row.typed)
            await pilot.press("enter")
            await wait_until(lambda: bool(results), pilot=pilot, what=f"enter to submit {name}")
            assert row.expect(results[0]), results
        else:  # enter in a multi-line field is a new line, not a submit
            dialog, results = await _open(pilot, row)
            await _type(pilot, row.typed)
            await pilot.press("enter")
            await pilot.pause()
            assert not results and app.screen is dialog


async def test_swap_starts_on_the_people_and_hold_enter_picks_and_submits(
    backend: SqliteBackend, clock: FrozenClock
) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        swap = Row(lambda app: _override(app, None), "override-people")
        dialog, results = await _open(pilot, swap)
        assert _focused(app) == "override-people" and dialog.submit_keys == "ctrl+s"
        await pilot.press("escape")
        # Hold: down on the note moves the reason; enter on the reasons picks and submits
        hold = DIALOGS["HoldScreen"]
        dialog, results = await _open(pilot, hold)
        await pilot.press("down", "down")
        await pilot.press("enter")
        await wait_until(lambda: bool(results), pilot=pilot)
        assert isinstance(results[0], Hold) and results[0].reason == list(HoldReason)[2]
        dialog, results = await _open(pilot, hold)
        await pilot.press("shift+tab")  # from the note back to the reasons
        assert _focused(app) == "reason"
        await pilot.press("down", "enter")
        await wait_until(lambda: bool(results), pilot=pilot)
        assert isinstance(results[0], Hold) and results[0].reason == list(HoldReason)[1]
