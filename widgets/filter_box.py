"""The filter box of a list screen (the queue, the history): ``/`` opens it, ``enter``
applies what was typed, ``esc`` clears it; every key acts in the order it was typed.

Textual gives each key to what has focus when the App takes it from its queue, runs a
widget's ordinary bindings only when the key has come back up to the App, and moves focus
a turn later still. With keys arriving together (typed ahead, a slow link, a loaded
machine) that reorders them: a ``/status:triggered`` typed behind ``/`` went to the list
as triage keys, ``enter`` submitted a prefix (``status:tri``, refused) or the letters typed
after it, ``esc`` cleared a prefix. Here:

- ``/`` is a priority binding (``opens_at_once``): the box opens and takes focus as the App
  takes the key, so the letters behind it go into the box.
- The box runs its own bindings (``enter``, ``esc``, Input's ``backspace``, arrows,
  ``ctrl+u``...) as it takes each key from its own queue, in order with the characters.
- Closing hides the box at once but hands focus back to the list only once the box's queue
  is empty; keys the App gave the box meanwhile are held and, at that moment, handed on in
  order, ahead of any key the App takes later: they act as keys typed on the list (``/``
  among them opens the box again and what follows goes into it).

The screen holding the box is its ``FilterHost``.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Protocol, cast

from textual import events
from textual.actions import SkipAction
from textual.binding import Binding
from textual.widgets import Input

if TYPE_CHECKING:
    from textual.widget import Widget


class FilterHost(Protocol):
    """What the box asks of its screen."""

    @property
    def filter_home(self) -> Widget:
        """Where focus goes back when the box closes (the list)."""
        ...

    def submit_filter(self, value: str) -> None:
        """``enter``: apply ``value`` and ``close()`` the box, or say what is wrong."""
        ...

    def clear_filter(self) -> None:
        """``esc``: no typed filter any more; ``close()`` the box."""
        ...

    def action_filter(self) -> None:
        """``/``: ``open()`` the box on the filter in force."""
        ...


def opens_at_once(binding: Binding) -> Binding:
    """The ``filter`` binding (``/``) as a priority binding, for the host's BINDINGS."""
    return dataclasses.replace(binding, priority=True) if binding.id == "filter" else binding


class FilterInput(Input):
    """The filter being typed (see the module docstring for the order of keys)."""

    BINDINGS = [
        Binding("escape", "clear", "Clear filter", show=False),
        Binding("enter", "submit", "Apply filter", show=False),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._closing = False
        self._held: list[events.Key] = []

    def on_mount(self) -> None:
        self.display = False
        self.cursor_blink = False  # steady: calmer, and the same in every snapshot

    @property
    def host(self) -> FilterHost:
        return cast(FilterHost, self.screen)

    async def _on_key(self, event: events.Key) -> None:
        if self._closing:
            # given to the box before it closed: it belongs to the list, after what the
            # box has already done
            event.stop()
            event.prevent_default()
            self._held.append(events.Key(event.key, event.character))
            return
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if await self.app.run_action(binding.action, self):
                event.stop()
                event.prevent_default()  # not also Input's own handler, nor again at the App
                return
        # not one of the box's keys: Input's handler types it, or it bubbles as usual

    def action_clear(self) -> None:
        self.value = ""
        self.host.clear_filter()

    async def action_submit(self) -> None:
        self.host.submit_filter(self.value)

    def open(self, value: str) -> None:
        """Show the box holding ``value`` and focus it now (``focus()`` would wait a turn
        of the App's queue, and the next key is already on its way)."""
        if self.display and self.screen.focused is self:  # not has_focus: a turn late
            raise SkipAction()  # a "/" typed in the open box is text
        self.display = True
        self.value = value
        self.cursor_position = len(value)
        self.screen.set_focus(self)
        if self._closing:  # opened again (by the palette) before it had handed its keys on:
            self._closing = False  # they were typed for the box, so they go into it
            held, self._held = self._held, []
            for key in held:
                self._forward_event(key)

    def close(self) -> None:
        """Hide the box; focus moves back once the keys already given to the box are
        through it (now, when there are none)."""
        self.display = False
        self._closing = True
        self._hand_on()

    def on_idle(self) -> None:
        self._hand_on()

    def _hand_on(self) -> None:
        if not self._closing or self.message_queue_size:
            return  # something is still on its way through the box: it keeps the focus
        self._closing = False
        held, self._held = self._held, []
        screen, host = self.screen, self.host
        if screen.focused is self:
            screen.set_focus(host.filter_home)
        for key in held:
            active = screen.active_bindings.get(key.key)
            if self.display:
                self._forward_event(key)  # a "/" among them opened the box again
            elif active is not None and active.binding.id == "filter":
                host.action_filter()  # a priority binding: the App skipped it for the box
            else:
                (screen.focused or screen)._forward_event(key)

    def is_late(self, event: Input.Changed) -> bool:
        """A ``Changed`` the host should not filter by: the box has closed since (``enter``
        or ``esc`` decided) or changed again."""
        return not self.display or event.value != self.value
