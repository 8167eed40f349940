"""Textual's ``Footer``, rebuilt only when the keys it shows change.

Textual's footer recomposes (removes and mounts one widget per key) whenever the screen's
bindings are recomputed: every focus change and every time its screen is pushed again. A
reused screen shows the same keys each time, so rebuilding them is pure cost (a fifth of
opening an incident).
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class StableFooter(Footer):
    """A ``Footer`` that skips the recompose when the keys it would show are unchanged."""

    _shown: object = None

    def _keys(self, screen: Screen[object]) -> object:
        """Everything ``Footer.compose`` reads: the shown bindings and their state."""
        shown = tuple(
            (binding, enabled, tooltip)
            for (_, binding, enabled, tooltip) in screen.active_bindings.values()
            if binding.show
        )
        return (shown, self.show_command_palette, self.compact, self.app.ENABLE_COMMAND_PALETTE)

    def bindings_changed(self, screen: Screen[object]) -> None:
        if screen is self.screen and screen.app.app_focus and self.is_attached:
            keys = self._keys(screen)
            if keys == self._shown:
                return
            self._shown = keys
        super().bindings_changed(screen)

    async def recompose(self) -> None:
        await super().recompose()
        # Each new key data-binds to ``compact``: a watcher holding the key, which Textual
        # drops only when ``compact`` changes (never here), so every key ever drawn stayed
        # alive with its styles (~0.85 MB RSS per incident opened and closed). Drop the
        # watchers of the keys just removed (``textual.reactive._watch`` keeps them here).
        watchers = getattr(self, "__watchers", {})
        for entries in watchers.values():
            entries[:] = [(node, callback) for node, callback in entries if node.is_attached]
