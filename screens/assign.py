"""Assign (owner): type-ahead over people, on-call people marked, and "unassign"."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from console.domain.lifecycle import Assign
from console.domain.models import Incident, User
from console.domain.text import clean
from screens.dialog import ENTER_AND_CTRL_S, Dialog, incidents_text, naming

ON_CALL = "● on call"
UNASSIGN = "unassign (nobody)"


def matches(user: User, query: str) -> bool:
    """Type-ahead: every word of the query is in the id, the name or the team."""
    haystack = f"{user.id} {user.name} {user.team or ''}".casefold()
    return all(word in haystack for word in query.casefold().split())


class AssignScreen(Dialog[Assign]):
    """Dismisses with an ``Assign`` action (``assignee=None`` unassigns), ``None`` on cancel."""

    DEFAULT_CSS = """
    AssignScreen #people {
        height: 8;
        margin-top: 1;
    }
    """

    BINDINGS = [
        Binding("down", "cursor(1)", "Next", show=False),
        Binding("up", "cursor(-1)", "Previous", show=False),
    ]

    confirm_label = "Assign"
    submit_keys = ENTER_AND_CTRL_S

    def __init__(
        self,
        targets: Sequence[Incident],
        users: Sequence[User],
        on_call: Collection[str],
    ) -> None:
        super().__init__()
        self._targets = tuple(targets)
        self._on_call = frozenset(on_call)
        # On-call people first: they are who a responder usually hands an incident to.
        self._users = sorted(users, key=lambda u: (u.id not in self._on_call, u.name.casefold()))
        self._choices: list[str | None] = []

    def compose(self) -> ComposeResult:
        current = {t.assignee for t in self._targets}
        now = ", ".join(sorted(a or "nobody" for a in current))
        with Vertical(id="dialog"):
            yield self.title_widget(f"Assign {naming(self._targets)}")
            with VerticalScroll(classes="targets"):
                yield Static(incidents_text(self._targets), markup=False)
            yield Static(Text(f"Assigned now: {clean(now)}"), classes="hint", markup=False)
            yield Input(placeholder="type a name, id or team", id="who", compact=True)
            yield OptionList(id="people")
            yield from self.buttons()

    def on_mount(self) -> None:
        self._fill("")
        self.query_one("#who", Input).focus()

    def _fill(self, query: str) -> None:
        people = self.query_one("#people", OptionList)
        people.clear_options()
        self._choices = []
        options: list[Option] = []
        if not query.strip() or matches(User(id="nobody", name=UNASSIGN), query):
            options.append(Option(Text(UNASSIGN, style="italic")))
            self._choices.append(None)
        for user in self._users:
            if query.strip() and not matches(user, query):
                continue
            label = Text()
            label.append(f"{clean(user.name, limit=28):<28}")
            label.append(f" {clean(user.id, limit=16):<16}", style="dim")
            label.append(f" {clean(user.team or '', limit=12):<12}", style="dim")
            if user.id in self._on_call:
                label.append(f" {ON_CALL}", style="bold green")
            options.append(Option(label))
            self._choices.append(user.id)
        people.add_options(options)
        if options:
            people.highlighted = 0
        if not options:
            people.add_option(Option(Text("nobody matches", style="dim"), disabled=True))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._fill(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_submit()

    def action_cursor(self, step: int) -> None:
        people = self.query_one("#people", OptionList)
        if not self._choices:
            return
        current = people.highlighted if people.highlighted is not None else -1
        people.highlighted = min(len(self._choices) - 1, max(0, current + step))

    def selected(self) -> str | None | bool:
        """The chosen user id, ``None`` for unassign, ``False`` when nothing is highlighted."""
        index = self.query_one("#people", OptionList).highlighted
        if index is None or index >= len(self._choices):
            return False
        return self._choices[index]

    def action_submit(self) -> None:
        choice = self.selected()
        if choice is False:
            self.app.bell()
            return
        assert choice is None or isinstance(choice, str)
        self.dismiss(Assign(assignee=choice))
