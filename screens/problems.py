"""Problem records in the console: a list to resolve them, and "create a problem" from an
incident. Both are reached from the command palette (``:``): "Problems" anywhere, "Create a
problem from INC-N" on an incident screen.

Resolving a problem asks first, then offers to resolve the incidents on hold waiting for it
(``backend.waiting_for_problem``), naming each; only a second yes resolves them, each at the
version the user was shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from backends.base import BackendError
from console.domain.lifecycle import Resolve
from console.domain.models import Incident
from console.domain.problems import Problem, ProblemState
from console.domain.text import clean
from console.tui.context import context
from screens.confirm import ConfirmScreen
from screens.dialog import incidents_text
from screens.reason import ReasonScreen
from widgets.footer import StableFooter
from widgets.keybindings import bindings_for


class ProblemsScreen(Screen[None]):
    """Every problem record, newest first; ``r`` resolves the one under the cursor."""

    BINDINGS: ClassVar = [
        Binding("escape", "back", "Back"),
        *bindings_for("problems"),
        Binding("f5", "reload", "Reload"),
    ]

    DEFAULT_CSS = """
    ProblemsScreen #problems-title {
        height: 1;
        padding: 0 1;
        background: $primary-background;
        text-style: bold;
    }
    ProblemsScreen #problems-state {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    ProblemsScreen DataTable {
        height: 1fr;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.items: list[Problem] = []

    def compose(self) -> ComposeResult:
        yield Static("Problems", id="problems-title", markup=False)
        yield Static("loading…", id="problems-state", markup=False)
        table: DataTable[Any] = DataTable(cursor_type="row", zebra_stripes=True)
        table.add_columns("problem", "state", "title", "from", "created", "by")
        yield table
        yield StableFooter()

    def on_mount(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss()

    def action_reload(self) -> None:
        self.load()

    @work(exclusive=True, group="problems", exit_on_error=False)
    async def load(self) -> None:
        app = context(self)
        state = self.query_one("#problems-state", Static)
        try:
            items = await app.backend.problems()
        except BackendError as exc:
            state.update(f"could not load problems: {exc} (F5 to try again)")
            return
        self.items = sorted(items, key=lambda p: p.id, reverse=True)
        table = self.query_one(DataTable)
        table.clear()
        for problem in self.items:
            table.add_row(
                problem.key,
                problem.state.value,
                Text(clean(problem.title, limit=80)),
                problem.from_incident or "-",
                f"{problem.created_at:%Y-%m-%d %H:%M}",
                Text(clean(problem.created_by, limit=24)),
                key=str(problem.id),
            )
        open_count = sum(1 for p in self.items if p.state == ProblemState.OPEN)
        state.update(
            f"{len(self.items)} problems, {open_count} open · r resolve · esc back"
            if self.items
            else "no problems yet: create one from an incident (: then 'Create a problem')"
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action == "resolve_problem" and context(self).readonly)  # footer hides it

    def action_resolve_problem(self) -> None:
        if context(self).refuse_readonly("resolve problem"):
            return
        table = self.query_one(DataTable)
        if not self.items or table.cursor_row < 0 or table.cursor_row >= len(self.items):
            return
        self._resolve(self.items[table.cursor_row])

    @work(group="problems-resolve", exclusive=True, exit_on_error=False)
    async def _resolve(self, problem: Problem) -> None:
        app = context(self)
        if problem.state == ProblemState.RESOLVED:
            app.set_status(f"{problem.key} is already resolved")
            return
        body = Text(f"{problem.key}: {clean(problem.title, limit=200)}")
        if not await self.app.push_screen_wait(
            ConfirmScreen(f"Resolve {problem.key}?", body, confirm_label="Resolve problem")
        ):
            return
        try:
            await app.backend.resolve_problem(problem.id, app.user)
            waiting = await app.backend.waiting_for_problem(problem.id)
        except BackendError as exc:
            app.set_status(f"{problem.key} not resolved: {exc}", error=True)
            return
        self.load()
        if not waiting:
            app.set_status(f"{problem.key} resolved; no incidents were waiting for it")
            return
        offer = Text(
            f"{len(waiting)} incident(s) on hold waiting for {problem.key}:\n\n"
        ) + incidents_text(waiting)
        if not await self.app.push_screen_wait(
            ConfirmScreen(
                f"Resolve the incidents waiting for {problem.key}?",
                offer,
                confirm_label=f"Resolve {len(waiting)}",
            )
        ):
            app.set_status(f"{problem.key} resolved; its {len(waiting)} incident(s) stay on hold")
            return
        done, failed = await resolve_waiting(app, problem, waiting)
        message = f"{problem.key} resolved, and {done} of {len(waiting)} waiting incident(s)"
        app.set_status(message + (f"; not resolved: {', '.join(failed)}" if failed else ""))


async def resolve_waiting(
    app: Any, problem: Problem, waiting: Iterable[Incident]
) -> tuple[int, list[str]]:
    """Resolve each incident at the version the user was shown; a changed one is skipped."""
    done = 0
    failed: list[str] = []
    for incident in waiting:
        action = Resolve(note=f"resolved with {problem.key}: {problem.title}")
        try:
            await app.backend.act(incident.id, action, app.user, incident.version)
        except BackendError as exc:
            failed.append(f"{incident.key} ({exc})")
        else:
            done += 1
    return done, failed


async def create_from(app: Any, incident: Incident) -> Problem | None:
    """Ask for a title and create a problem from ``incident`` (which gets linked to it)."""
    title = await app.push_screen_wait(
        ReasonScreen(
            f"Create a problem from {incident.key}",
            [incident],
            confirm_label="Create problem",
            required=True,
            placeholder="the underlying cause, e.g. replication breaks under write load",
        )
    )
    if not title:
        return None
    try:
        problem = await app.backend.create_problem(incident.id, title, app.user)
    except BackendError as exc:
        app.set_status(f"problem not created: {exc}", error=True)
        return None
    app.set_status(f"{problem.key} created from {incident.key} and linked to it")
    return problem


def problem_commands(app: Any, screen: Screen[Any]) -> Iterable[SystemCommand]:
    """Command palette entry for the problems list ("create a problem from this incident" is
    a key row in ``console.domain.keys``, listed with the incident screen's commands)."""
    yield SystemCommand(
        "Problems",
        "Problem records: list and resolve them",
        lambda: app.push_screen(ProblemsScreen()),
    )
