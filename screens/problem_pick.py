"""Link an incident to an existing (open) problem: pick it from a list.

"Create a problem from this incident" (``screens/problems.py``) makes a new record; this is
the other half: the second, third, ... incident with the same cause joins the problem that
is already open, so resolving the problem can offer to resolve it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from backends.base import BackendError
from console.domain.lifecycle import AddLink
from console.domain.models import Incident
from console.domain.problems import Problem, ProblemState, link_for, links_to
from console.domain.text import clean
from screens.dialog import ENTER_AND_CTRL_S, Dialog, incident_line


class ProblemPickScreen(Dialog[Problem]):
    """Dismisses with the chosen problem, ``None`` on cancel."""

    DEFAULT_CSS = """
    ProblemPickScreen #problem-list {
        height: auto;
        max-height: 10;
        margin-top: 1;
    }
    """

    confirm_label = "Link"
    submit_keys = ENTER_AND_CTRL_S

    def __init__(self, incident: Incident, problems: Sequence[Problem]) -> None:
        super().__init__()
        self._incident = incident
        self._problems = tuple(problems)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield self.title_widget(f"Link {self._incident.key} to an open problem")
            yield Static(incident_line(self._incident), markup=False)
            options = [
                Option(Text(f"{p.key:<8} {clean(p.title, limit=60)}")) for p in self._problems
            ]
            yield OptionList(*options, id="problem-list")
            yield from self.buttons()

    def on_mount(self) -> None:
        problems = self.query_one("#problem-list", OptionList)
        problems.highlighted = 0
        problems.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        index = self.query_one("#problem-list", OptionList).highlighted
        if index is None or not 0 <= index < len(self._problems):
            self.app.bell()
            return
        self.dismiss(self._problems[index])


async def pick_and_link(app: Any, incident: Incident) -> Problem | None:
    """Pick an open problem and link ``incident`` to it, at the version the user saw."""
    try:
        problems = await app.backend.problems(ProblemState.OPEN)
    except BackendError as exc:
        app.set_status(f"cannot list the problems: {exc}", error=True)
        return None
    choices = [p for p in sorted(problems, key=lambda p: -p.id) if not links_to(incident, p.key)]
    if not choices:
        already = " it is not linked to yet" if problems else ""
        app.set_status(
            f"no open problem{already} to link {incident.key} to "
            "(: then 'Create a problem' makes one)"
        )
        return None
    problem = await app.push_screen_wait(ProblemPickScreen(incident, choices))
    if problem is None:
        return None
    try:
        await app.backend.act(
            incident.id, AddLink(link=link_for(problem)), app.user, incident.version
        )
    except BackendError as exc:
        app.set_status(f"{incident.key} not linked to {problem.key}: {exc}", error=True)
        return None
    app.set_status(f"{incident.key} linked to {problem.key} ({clean(problem.title, limit=60)})")
    return problem
