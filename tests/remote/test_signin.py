"""The sign-in screen (what every ``incidents web`` session starts on), against a real server:
a wrong token is refused on screen, a viewer gets the read-only console, a responder the full one."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from backends.base import Backend
from backends.remote import RemoteBackend
from console.tui.app import make_app
from screens.queue import QueueScreen
from screens.signin import SignInScreen
from tests.remote.conftest import Live
from tests.waiting import wait_until


def _console(live: Live) -> object:
    async def connect(token: str) -> Backend:
        remote = RemoteBackend(live.url, token=token)
        try:
            await remote.open()
        except BaseException:
            await remote.close()
            raise
        return remote

    return make_app(RemoteBackend(live.url), user="nobody", connect=connect)


async def _type_token(pilot: object, app: object, token: str) -> None:
    field = app.screen.query_one("#token", Input)  # type: ignore[attr-defined]
    field.value = token
    await pilot.press("enter")  # type: ignore[attr-defined]


@pytest.mark.parametrize(("role", "readonly"), [("viewer", True), ("responder", False)])
async def test_a_token_opens_the_console_its_role_allows(
    live: Live, role: str, readonly: bool
) -> None:
    app = _console(live)
    async with app.run_test(size=(100, 30)) as pilot:  # type: ignore[attr-defined]
        assert isinstance(app.screen, SignInScreen)  # type: ignore[attr-defined]
        await _type_token(pilot, app, "inc_0000_not-a-token")
        error = app.screen.query_one("#signin-error", Static)  # type: ignore[attr-defined]
        await wait_until(lambda: "not accepted" in str(error.render()), pilot=pilot)
        assert app.screen.query_one("#token", Input).value == ""  # type: ignore[attr-defined]
        assert not app.loaded  # type: ignore[attr-defined]

        await _type_token(pilot, app, live.token(role))
        await wait_until(lambda: isinstance(app.screen, QueueScreen), pilot=pilot)  # type: ignore[attr-defined]
        await wait_until(lambda: app.loaded, pilot=pilot)  # type: ignore[attr-defined]
        assert app.readonly is readonly  # type: ignore[attr-defined]
        expected = next(
            user
            for user, r in {"ada": "admin", "rex": "responder", "vic": "viewer"}.items()
            if r == role
        )
        assert app.user == expected  # type: ignore[attr-defined]
        assert not any(isinstance(s, SignInScreen) for s in app.screen_stack)  # type: ignore[attr-defined]
