"""Help a person can use (issue 10.7) and ``y`` (10.8), through Pilot over a real SQLite file."""

from __future__ import annotations

from backends.sqlite.store import SqliteBackend
from console.domain.clock import FrozenClock
from console.domain.keys import KEYS, help_for
from console.tui.app import KeysProvider, make_app
from screens.help import help_rows
from tests.app.conftest import loaded


def test_every_key_has_one_sentence_and_help_lists_navigation() -> None:
    for key in KEYS:
        sentence = help_for(key)
        assert sentence.endswith(".") and sentence[0].isupper(), key.id
        assert "_" not in key.id or key.id not in sentence, key.id
    listed = {keys for keys, _, _ in help_rows({}, readonly=False)}
    for keys in ("g, home", "pagedown", "pageup", ":"):
        assert any(part in row for row in listed for part in keys.split(", ")), keys


async def test_y_copies_the_key_and_the_palette_shows_sentences(
    backend: SqliteBackend, clock: FrozenClock
) -> None:
    app = make_app(backend, clock=clock, user="alice")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("j", "y")
        assert app.clipboard == "INC-1"
        assert app.status_text == "INC-1 copied to the clipboard (OSC 52)"
        await pilot.press("end")
        assert screen.list.cursor_incident.key == keys_last(screen)
        provider = KeysProvider(screen)
        commands = provider._commands()
        assert commands and all(help_text.endswith(".") for _, _, help_text in commands)
        assert not any(action == "cursor_down" for _, action, _ in commands)


def keys_last(screen) -> str:  # noqa: ANN001
    return screen.model.incidents[screen.model.ids()[-1]].key
