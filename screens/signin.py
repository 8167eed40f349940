"""The sign-in screen: every browser session of ``incidents web`` starts here.

It takes an API token (``incidents token create``), connects to the server with it and hands
over to the console as the token's user; a viewer token gets the read-only console. A wrong
token or an unreachable server is said on screen, and the field is cleared so nothing typed
stays visible. The token is masked and never written anywhere.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Static

from backends.base import BackendError, Unauthorized
from console.domain.text import clean
from console.tui.context import context

TOKEN_MAX = 200


class SignInScreen(Screen[None]):
    DEFAULT_CSS = """
    SignInScreen {
        align: center middle;
    }
    SignInScreen #signin {
        width: 64;
        max-width: 100%;
        height: auto;
        border: thick $accent;
        background: $surface;
        padding: 1 2;
    }
    SignInScreen #signin-title {
        text-style: bold;
        margin-bottom: 1;
    }
    SignInScreen #signin-error {
        color: $error;
        text-style: bold;
        height: auto;
        margin-top: 1;
    }
    SignInScreen .hint {
        color: $text-muted;
        margin-top: 1;
    }
    SignInScreen Button {
        margin-top: 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+c", "app.quit", "Quit", show=False, priority=True)
    ]

    def compose(self) -> ComposeResult:
        app = context(self)
        with Vertical(id="signin"):
            yield Static("Incident Console: sign in", id="signin-title")
            yield Static(Text(f"Server: {app.backend.description}"), markup=False)
            yield Static("API token", classes="hint")
            yield Input(
                placeholder="inc_…",
                password=True,
                id="token",
                max_length=TOKEN_MAX,
            )
            yield Static("", id="signin-error")
            yield Static(
                "Ask an admin for a token: incidents token create --user NAME --role ROLE. "
                "A viewer token opens the read-only console.",
                classes="hint",
                markup=False,
            )
            with Center():
                yield Button("Sign in (enter)", id="submit", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#token", Input).focus()

    @on(Input.Submitted, "#token")
    @on(Button.Pressed, "#submit")
    def _submit(self) -> None:
        token = self.query_one("#token", Input).value.strip()
        if not token:
            self._say("type or paste your API token")
            return
        self._sign_in(token)

    def _say(self, text: str) -> None:
        self.query_one("#signin-error", Static).update(Text(text))

    @work(exclusive=True, group="signin", exit_on_error=False)
    async def _sign_in(self, token: str) -> None:
        field = self.query_one("#token", Input)
        field.disabled = True
        self._say("signing in…")
        try:
            await context(self).sign_in(token)
        except Unauthorized:
            self._say("that token was not accepted (wrong, revoked or mistyped): try again")
        except BackendError as exc:
            self._say(f"cannot sign in: {clean(str(exc), limit=300)}")
        else:
            return  # the console took this screen's place
        field.value = ""
        field.disabled = False
        field.focus()
