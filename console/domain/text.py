"""Untrusted text (titles, labels, notes from alerts) made safe to show in a terminal.

Alert payloads are written by whoever can reach a monitoring system. Before such text is
shown it loses every control character and escape sequence (ANSI CSI/OSC/DCS, C1 controls,
bidi overrides that could disguise a title), and it is always rendered as plain text, never
parsed as Rich markup: see ``widgets`` for the rendering side.
"""

from __future__ import annotations

import re

# ESC-introduced sequences: CSI (ESC [ ... final), OSC/DCS/PM/APC/SOS (ESC ] ... BEL or ST),
# and two-character escapes (ESC X).
_ESCAPES = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]?             # CSI
  | \x1b[\]PX^_].*?(?:\x07|\x1b\\|$)     # OSC, DCS, SOS, PM, APC up to BEL or ST
  | \x9b[0-?]*[ -/]*[@-~]?               # 8-bit CSI
  | [\x90\x98\x9d\x9e\x9f].*?(?:\x07|\x9c|$)  # 8-bit DCS/SOS/OSC/PM/APC
  | \x1b.?                               # any other escape
    """,
    re.VERBOSE | re.DOTALL,
)
# C0 and C1 controls except tab and newline (handled by the caller), DEL, the Unicode bidi
# controls that can reorder what a reader sees (LRM/RLM, ALM, embeddings, overrides,
# isolates), and interlinear annotation marks. Zero-width joiners stay: emoji need them.
_CONTROLS = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufff9-\ufffb]"
)
# Every way of ending a line: CRLF, a lone CR (which would move the terminal cursor back
# over what was already shown), and the Unicode line and paragraph separators.
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\u2028\u2029\x85]")


def clean(text: str | None, *, multiline: bool = False, limit: int | None = None) -> str:
    """Return ``text`` without escape sequences and control characters.

    Single-line text (the default) has newlines and tabs turned into spaces; ``multiline``
    keeps newlines. ``limit`` truncates with an ellipsis.
    """
    if not text:
        return ""
    # Printable text has nothing to remove: every character the patterns of ``scrub``
    # match first (escapes, controls, line breaks, tabs, bidi and annotation marks) is
    # unprintable. Most alert text is like this, and intake cleans a dozen fields an alert.
    if not text.isprintable():
        text = scrub(text, multiline)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…" if limit > 0 else ""
    return text


def scrub(text: str, multiline: bool) -> str:
    """What ``clean`` does to text that has something unprintable (no limit)."""
    text = _ESCAPES.sub("", text)
    if multiline:
        text = _LINE_BREAKS.sub("\n", text).replace("\t", "    ")
    else:
        text = _LINE_BREAKS.sub(" ", text).replace("\t", " ")
    return _CONTROLS.sub("", text)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> object:
    """A CSV cell a spreadsheet will not run: text that starts like a formula (``= + - @``,
    or a tab or carriage return before one) gets a leading ``'``, as OWASP advises.

    Numbers pass unchanged (a negative number is data, not a formula).
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
