"""Digits for a wall read across a room: a pixel font drawn with half blocks at any scale.

Textual's ``Digits`` is always three rows tall, fine for a terminal, too small on a TV. Here
each character is a 3x5 pixel glyph; a pixel is ``scale`` columns wide and ``scale`` half
rows tall (a terminal cell is about twice as tall as wide, so pixels come out square), which
gives ``ceil(5 * scale / 2)`` rows: 3 at scale 1, 5 at 2, 8 at 3, 10 at 4. The rendered
strip is cached per text and scale, so a ticking countdown costs one lookup per change.
"""

from __future__ import annotations

from functools import lru_cache

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

_GLYPHS: dict[str, tuple[str, ...]] = {
    "0": ("###", "#.#", "#.#", "#.#", "###"),
    "1": (".#.", "##.", ".#.", ".#.", "###"),
    "2": ("###", "..#", "###", "#..", "###"),
    "3": ("###", "..#", ".##", "..#", "###"),
    "4": ("#.#", "#.#", "###", "..#", "..#"),
    "5": ("###", "#..", "###", "..#", "###"),
    "6": ("###", "#..", "###", "#.#", "###"),
    "7": ("###", "..#", ".#.", ".#.", ".#."),
    "8": ("###", "#.#", "###", "#.#", "###"),
    "9": ("###", "#.#", "###", "..#", "###"),
    ":": (".", "#", ".", "#", "."),
    ".": (".", ".", ".", ".", "#"),
    "-": ("...", "...", "###", "...", "..."),
    " ": ("...", "...", "...", "...", "..."),
}
GLYPH_ROWS = 5


def rows_for(scale: int) -> int:
    """Terminal rows a line of digits takes at ``scale``."""
    return -(-GLYPH_ROWS * scale // 2)


def width_for(text: str, scale: int) -> int:
    """Terminal columns ``text`` takes at ``scale`` (one pixel of space between characters)."""
    chars = [c for c in text if c in _GLYPHS]
    if not chars:
        return 0
    return sum(len(_GLYPHS[c][0]) * scale for c in chars) + (len(chars) - 1) * scale


@lru_cache(maxsize=256)
def render_lines(text: str, scale: int) -> tuple[str, ...]:
    """``text`` as half-block lines; characters the font lacks are left out."""
    chars = [c for c in text if c in _GLYPHS]
    pixels: list[str] = []
    for row in range(GLYPH_ROWS):
        line = ("." * scale).join("".join(p * scale for p in _GLYPHS[c][row]) for c in chars)
        pixels += [line] * scale
    if len(pixels) % 2:
        pixels.append("." * (len(pixels[0]) if pixels else 0))
    out = []
    for top, bottom in zip(pixels[0::2], pixels[1::2], strict=True):
        out.append(
            "".join(
                "█" if t == "#" and b == "#" else "▀" if t == "#" else "▄" if b == "#" else " "
                for t, b in zip(top, bottom, strict=True)
            )
        )
    return tuple(out)


class BigDigits(Widget):
    """A line of big digits, right-aligned in its region, coloured by the widget's CSS."""

    DEFAULT_CSS = """
    BigDigits {
        width: auto;
        height: auto;
    }
    """

    def __init__(self, text: str = "", *, scale: int = 2, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = text
        self._scale = max(1, scale)

    @property
    def text(self) -> str:
        return self._text

    @property
    def scale(self) -> int:
        return self._scale

    def update(self, text: str) -> None:
        if text != self._text:
            old = width_for(self._text, self._scale)
            self._text = text
            self.refresh(layout=width_for(text, self._scale) != old)

    def set_scale(self, scale: int) -> None:
        scale = max(1, scale)
        if scale != self._scale:
            self._scale = scale
            self.refresh(layout=True)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return width_for(self._text, self._scale)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return rows_for(self._scale)

    def render_line(self, y: int) -> Strip:
        lines = render_lines(self._text, self._scale)
        width = self.size.width
        if y >= len(lines) or width <= 0:
            return Strip.blank(width, self.rich_style)
        line = lines[y]
        # Right-aligned: a countdown's last digits (the seconds) stay put as it narrows.
        line = line[-width:] if len(line) > width else " " * (width - len(line)) + line
        style: Style = self.rich_style
        return Strip([Segment(line, style)])
