"""Create an incident: a small form, validated before anything is sent, errors next to fields."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Select, Static, TextArea

from console.domain.models import NewIncident, Service, User, priority_for
from console.domain.text import clean
from screens.dialog import ENTER_AND_CTRL_S, PRIORITY_STYLES, Dialog
from widgets.form_level import LevelPicker

TITLE_MAX = 500


class CreateScreen(Dialog[NewIncident]):
    """Dismisses with a ``NewIncident``, ``None`` on cancel."""

    DEFAULT_CSS = """
    CreateScreen #form {
        height: auto;
        max-height: 16;
    }
    CreateScreen .dialog-title {
        margin-bottom: 0;
    }
    CreateScreen .picker-row {
        height: 1;
        margin-top: 1;
    }
    CreateScreen #urgency-row {
        margin-top: 0;
    }
    CreateScreen .picker-name {
        width: 10;
        color: $text-muted;
    }
    CreateScreen #description {
        height: 3;
    }
    """

    confirm_label = "Create"
    submit_keys = ENTER_AND_CTRL_S
    confirm_variant = "success"

    def __init__(
        self,
        services: Sequence[Service],
        users: Sequence[User],
        on_call: Collection[str] = (),
        *,
        initial: NewIncident | None = None,
        problem: str = "",
    ) -> None:
        super().__init__()
        self._initial = initial
        self._problem = problem
        self._services = sorted(services, key=lambda s: s.name.casefold())
        self._users = sorted(users, key=lambda u: u.name.casefold())
        self._on_call = frozenset(on_call)
        self._impact = initial.impact if initial else 2
        self._urgency = initial.urgency if initial else 2

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield self.title_widget("Create an incident")
            if self._problem:
                # The backend refused the last try; the form keeps what was typed.
                yield Static(Text(self._problem), classes="field-error", id="problem")
            with VerticalScroll(id="form"):
                yield self.field_row("Title", "title")
                yield Input(
                    initial.title if (initial := self._initial) else "",
                    placeholder="what is broken, for whom",
                    id="title",
                    compact=True,
                )
                yield self.field_row("Service", "service")
                if self._services:
                    yield Select(
                        [(Text(clean(s.name, limit=40)), s.id) for s in self._services],
                        prompt="pick a service",
                        allow_blank=True,
                        value=self._initial.service if self._initial else Select.NULL,
                        id="service",
                        compact=True,
                    )
                else:
                    # A fresh database has no services yet: name one here and it is
                    # created with the incident, so the first incident needs no other tool.
                    yield Input(
                        self._initial.service if self._initial else "",
                        placeholder="no services yet: name a new one, e.g. checkout",
                        id="service",
                        compact=True,
                    )
                with Horizontal(classes="picker-row"):
                    yield Static("Impact", classes="picker-name")
                    yield LevelPicker(self._impact, id="impact")
                with Horizontal(classes="picker-row", id="urgency-row"):
                    yield Static("Urgency", classes="picker-name")
                    yield LevelPicker(self._urgency, id="urgency")
                yield Static(self._matrix_text(), id="matrix", markup=False)
                yield self.field_row("Assignee (optional)", "assignee")
                yield Select(
                    [(self._user_label(u), u.id) for u in self._users],
                    prompt="unassigned",
                    allow_blank=True,
                    value=(
                        self._initial.assignee
                        if self._initial and self._initial.assignee
                        else Select.NULL
                    ),
                    id="assignee",
                    compact=True,
                )
                yield Static("Description (optional)", classes="field-label")
                yield TextArea(
                    self._initial.description if self._initial else "",
                    id="description",
                    soft_wrap=True,
                    tab_behavior="focus",
                )
            yield from self.buttons()

    def _user_label(self, user: User) -> Text:
        label = Text(clean(user.name, limit=30))
        if user.id in self._on_call:
            label.append("  ● on call", style="bold green")
        return label

    def _matrix_text(self) -> Text:
        priority = priority_for(self._impact, self._urgency).value
        text = Text("Priority: ")
        text.append(priority, style=PRIORITY_STYLES[priority])
        return text

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()

    def on_level_picker_changed(self, event: LevelPicker.Changed) -> None:
        event.stop()
        if event.picker.id == "impact":
            self._impact = event.value
        else:
            self._urgency = event.value
        if self.is_mounted:
            self.query_one("#matrix", Static).update(self._matrix_text())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def _error(self, field: str, message: str) -> None:
        self.query_one(f"#{field}-error", Static).update(Text(message))

    def validate(self) -> NewIncident | None:
        """The incident to create, or ``None`` with every problem shown next to its field."""
        title = clean(self.query_one("#title", Input).value).strip()
        widget = self.query_one("#service")
        service: object = (
            service_id(widget.value) or None
            if isinstance(widget, Input)
            else self.query_one("#service", Select).value
        )
        assignee = self.query_one("#assignee", Select).value
        errors: dict[str, str] = {}
        if not title:
            errors["title"] = "a title is required"
        elif len(title) > TITLE_MAX:
            errors["title"] = f"the title is {len(title)} characters; at most {TITLE_MAX}"
        known_services = {s.id for s in self._services}
        if not isinstance(service, str):
            errors["service"] = (
                "pick a service" if known_services else "name the service this incident is on"
            )
        elif known_services and service not in known_services:
            errors["service"] = f"unknown service {service!r}"
        if isinstance(assignee, str) and assignee not in {u.id for u in self._users}:
            errors["assignee"] = f"unknown person {assignee!r}"
        for name in ("title", "service", "assignee"):
            self._error(name, errors.get(name, ""))
        if errors:
            first = next(iter(errors))
            self.query_one(f"#{first}").focus()
            return None
        assert isinstance(service, str)
        description = self.query_one("#description", TextArea).text.strip()
        return NewIncident(
            title=title,
            service=service,
            description=description[:20_000],
            impact=self._impact,
            urgency=self._urgency,
            assignee=assignee if isinstance(assignee, str) else None,
        )

    def action_submit(self) -> None:
        new = self.validate()
        if new is not None:
            self.dismiss(new)


def service_id(name: str) -> str:
    """``"Checkout Web"`` -> ``"checkout-web"``: the id a typed service name gets."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", clean(name).strip().casefold()).strip("-")
    return slug[:64]
