"""The pieces the triage dialogs are made of: matching, wording, refusals, the level picker."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.app import App, ComposeResult

from backends.base import Conflict, InvalidAction, NotFound, Unavailable
from console.domain.models import Incident, Status, User
from screens.assign import matches
from screens.dialog import incident_line, naming
from screens.triage import conflict_message, error_message, kind_of, refusal
from widgets.form_level import LevelPicker

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def incident(**changes: object) -> Incident:
    base = Incident(
        id=12, key="INC-12", title="Checkout down", service="checkout", created_at=AT, updated_at=AT
    )
    return base.model_copy(update=changes)


def test_type_ahead_matches_every_word_in_id_name_or_team() -> None:
    carol = User(id="carol", name="Carol Chen", team="dba")
    assert matches(carol, "car")
    assert matches(carol, "CHEN")
    assert matches(carol, "dba car")
    assert not matches(carol, "car sre")
    assert matches(carol, "")


def test_keys_map_to_lifecycle_kinds() -> None:
    assert kind_of("impact", incident()) == "priority"
    assert kind_of("urgency", incident()) == "priority"
    assert kind_of("hold", incident()) == "hold"
    assert kind_of("hold", incident(status=Status.ON_HOLD)) == "resume"


def test_refusals_say_what_is_allowed() -> None:
    assert refusal("acknowledge", incident()) is None
    assert refusal("acknowledge", incident(status=Status.ACKNOWLEDGED)) == (
        "cannot acknowledge INC-12: it is already acknowledged"
    )
    why = refusal("resolve", incident(status=Status.CLOSED))
    assert why == "cannot resolve INC-12: it is already closed"
    why = refusal("escalate", incident(status=Status.ON_HOLD))
    assert why == "cannot escalate INC-12: it is on hold; resume it first"
    why = refusal("reopen", incident())
    assert why == "cannot reopen INC-12: only a resolved incident can be reopened"
    assert refusal("hold", incident(status=Status.ON_HOLD)) is None  # it resumes


def test_conflict_message_names_the_change() -> None:
    exc = Conflict("stale", key="INC-12", changed=["acknowledged by bob", "note by carol"])
    text = conflict_message(exc, incident())
    assert text.startswith("INC-12 changed since you saw it: acknowledged by bob; note by carol")
    assert "nothing was changed" in text
    bare = conflict_message(Conflict("INC-12 is at v3, not v5; reload it"), incident())
    assert bare.startswith("INC-12 is at v3, not v5; reload it")


def test_error_messages_per_type() -> None:
    target = incident()
    assert error_message(NotFound("x"), target) == "INC-12 no longer exists"
    assert error_message(InvalidAction("cannot resolve INC-12: ..."), target).startswith(
        "cannot resolve"
    )
    assert error_message(Unavailable(""), target) == "not connected, nothing was changed"
    assert error_message(Unavailable("server down \x1b[2J"), target) == "server down "


def test_incidents_are_named_in_plain_text() -> None:
    hostile = incident(title="[bold]x[/bold] \x1b]0;owned\x07 [/etc]")
    line = incident_line(hostile)
    assert line.plain == "INC-12  P3  triggered [bold]x[/bold]  [/etc]"
    assert naming([hostile]) == "INC-12"
    assert naming([hostile, hostile]) == "2 incidents"


class PickerApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LevelPicker(2, id="impact")


async def test_level_picker_keys() -> None:
    app = PickerApp()
    async with app.run_test() as pilot:
        picker = app.query_one(LevelPicker)
        picker.focus()
        await pilot.press("left")
        assert picker.value == 1
        await pilot.press("left")
        assert picker.value == 1  # stays within 1..3
        await pilot.press("3")
        assert picker.value == 3
        await pilot.press("right")
        assert picker.value == 3
        assert "[3 low]" in picker.render().plain
