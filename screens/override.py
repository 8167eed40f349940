"""The on-call override dialog: "take on-call" (you) or "swap with" (someone you pick), from a
start to an end typed on your own clock. Dismisses with an ``Override`` or ``None``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from console.domain.models import Override, Schedule, User, utc
from console.domain.text import clean
from screens.dialog import ENTER_AND_CTRL_S, Dialog

TIME_FORMAT = "%Y-%m-%d %H:%M"


def local_text(at: datetime, zone: tzinfo) -> str:
    return utc(at).astimezone(zone).strftime(TIME_FORMAT)


def parse_local(text: str, zone: tzinfo) -> datetime:
    """``2026-03-04 18:00`` on the viewer's clock, as UTC; ``ValueError`` says the format."""
    try:
        naive = datetime.strptime(text.strip(), TIME_FORMAT)
    except ValueError:
        raise ValueError("write it as YYYY-MM-DD HH:MM, e.g. 2026-03-04 18:00") from None
    return utc(naive.replace(tzinfo=zone))


class OverrideScreen(Dialog[Override]):
    """``person`` given: take on-call as them; ``None``: pick who covers (a swap)."""

    DEFAULT_CSS = """
    OverrideScreen #override-people {
        height: 7;
        margin-top: 1;
    }
    OverrideScreen Input {
        margin-top: 1;
    }
    """

    def __init__(
        self,
        schedule: Schedule,
        *,
        me: str,
        person: str | None,
        people: Sequence[User],
        start: datetime,
        end: datetime,
        zone: tzinfo,
        zone_name: str,
        current: str | None,
        current_name: str,
        now: datetime,
    ) -> None:
        super().__init__()
        self.schedule = schedule
        self.me = me
        self.person = person
        self.zone = zone
        self.zone_name = zone_name
        self.now = utc(now)
        self.current = current
        self.current_name = current_name
        self._start = start
        self._end = end
        rota = {u for r in schedule.rotations for u in r.users}
        # the schedule's own people first: they are who usually swaps
        self.people = sorted(
            (u for u in people if u.id != current),
            key=lambda u: (u.id not in rota, u.name.casefold()),
        )
        self.confirm_label = "Take on-call" if person else "Swap"
        # taking starts on the "until" field (enter confirms); swapping on the people list
        self.submit_keys = ENTER_AND_CTRL_S if person else "ctrl+s"

    def compose(self) -> ComposeResult:
        name = clean(self.schedule.name, limit=60)
        with Vertical(id="dialog"):
            if self.person is not None:
                yield self.title_widget(f"Take on-call for {name}")
                who = f"You ({clean(self.person, limit=30)}) cover it"
            else:
                yield self.title_widget(f"Swap on-call for {name}")
                who = "Pick who covers it"
            now = clean(self.current_name, limit=30)
            yield Static(
                Text(f"{who} instead of {now}; times on your clock ({self.zone_name})."),
                classes="hint",
                markup=False,
            )
            if self.person is None:
                options = [
                    Option(Text(f"{clean(u.name, limit=30):<30} {clean(u.id, limit=20)}"))
                    for u in self.people
                ]
                yield OptionList(*options, id="override-people")
            yield self.field_row("From", "override-start")
            yield Input(local_text(self._start, self.zone), id="override-start", compact=True)
            yield self.field_row("Until", "override-end")
            yield Input(local_text(self._end, self.zone), id="override-end", compact=True)
            yield from self.buttons()

    def on_mount(self) -> None:
        super().on_mount()
        if self.person is None and self.people:
            people = self.query_one("#override-people", OptionList)
            people.highlighted = 0
            people.focus()
        else:
            self.query_one("#override-end", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.query_one("#override-end", Input).focus()

    def _error(self, field: str, text: str) -> None:
        self.query_one(f"#{field}-error", Static).update(Text(text))

    def action_submit(self) -> None:
        for field in ("override-start", "override-end"):
            self._error(field, "")
        person = self.person
        if person is None:
            index = self.query_one("#override-people", OptionList).highlighted
            if index is None or index >= len(self.people):
                self.app.bell()
                return
            person = self.people[index].id
        try:
            start = parse_local(self.query_one("#override-start", Input).value, self.zone)
        except ValueError as exc:
            self._error("override-start", str(exc))
            return
        try:
            end = parse_local(self.query_one("#override-end", Input).value, self.zone)
        except ValueError as exc:
            self._error("override-end", str(exc))
            return
        if end <= start:
            self._error("override-end", "must be after the start")
            return
        if end <= self.now:
            self._error("override-end", "is already past")
            return
        self.dismiss(Override(user=person, start=start, end=end, by=self.me))
