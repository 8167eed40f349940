"""Walk every registered command of the console and prove that none changes the store.

Shared by the read-only tests (``--readonly`` and wall over SQLite, a viewer token over a real
server): on each screen every key of the key table is pressed and run as the palette runs it,
and every palette system command is called. Each mutating one must be refused with a line
saying why, and no dialog may open. The caller compares the store's last change before/after.
"""

from __future__ import annotations

import inspect
from typing import Any

from console.domain.keys import KEYS
from screens.dialog import Dialog
from screens.incident import IncidentScreen
from screens.problems import ProblemsScreen
from tests.waiting import wait_until

SKIP = {"quit", "palette", "back"}
"""Leave the console or the screen (every other test walks those)."""
SHOW_ONLY = {"LinkScreen"}
"""Dialogs that only show something (``l`` shows the link where no browser opens it)."""


async def _back_to(pilot: Any, screen: Any) -> None:
    while pilot.app.screen is not screen and len(pilot.app.screen_stack) > 1:
        pilot.app.pop_screen()
        await pilot.pause()


async def walk(pilot: Any, reason: str) -> int:
    """Run every command; return how many mutating ones were refused."""
    app = pilot.app
    home = app.screen_stack[1]  # the queue (under the wall in wall mode)
    await _back_to(pilot, home)
    incident = next(iter(app.incidents.values()))
    drafts = app.settings.reviews_path()
    refused = 0
    for kind, screen in (
        ("queue", home),
        ("incident", IncidentScreen(incident.id)),
        ("problems", ProblemsScreen()),
    ):
        if screen is not home:
            await app.push_screen(screen)
            await pilot.pause()
        for key in KEYS:
            if kind not in key.screens or key.id in SKIP:
                continue
            for how in ("key", "palette"):
                if how == "key" and not key.keys:
                    continue
                app.set_status("")
                if how == "key":
                    await pilot.press(key.keys.split(",")[0])
                else:
                    await screen.run_action(key.action)
                await pilot.pause()
                if key.id == "pir":
                    # Writing a review draft is allowed read-only (a local file, not the
                    # store); the next run must not find it and ask before replacing it.
                    await wait_until(lambda: any(drafts.glob("*.md")), pilot=pilot)
                    for draft in drafts.glob("*.md"):
                        draft.unlink()
                opened = [
                    type(s).__name__
                    for s in app.screen_stack
                    if isinstance(s, Dialog) and type(s).__name__ not in SHOW_ONLY
                ]
                assert not opened, f"{key.id} by {how} opened {opened}"
                if key.mutating:
                    assert app.status_error, f"{key.id} by {how}: refused without a word"
                    assert f"read-only console ({reason})" in app.status_text, app.status_text
                    refused += 1
                await _back_to(pilot, screen)
        for command in app.get_system_commands(screen):
            if command.title == "Quit":
                continue
            result = command.callback()
            if inspect.isawaitable(result):
                await result
            await pilot.pause()
            await _back_to(pilot, screen)
        await _back_to(pilot, home)
    return refused
