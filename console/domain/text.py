"""Untrusted text (titles, labels, notes from alerts) made safe to store and show.

Alert payloads are written by whoever can reach a monitoring system. Text loses every
control character and escape sequence (ANSI CSI/OSC/DCS, C1 controls), the bidi controls
that could disguise a title, and the invisible characters that make look-alikes
(zero-width spaces, word joiners, soft hyphens, fillers, tag characters, runs of variation
selectors); zero-width joiners and non-joiners stay only where writing needs them (between
emoji, in Arabic and Indic words). It is always rendered as plain text, never parsed as
Rich markup: see ``widgets`` for the rendering side.

``clean`` is the one rule. It is applied once, at the edge, as the text comes in: the
intake wire models, the request bodies of the API and the directory's models are typed
with ``Line`` / ``Text`` / ``Data`` (pydantic validators that call it), and the command
line cleans its arguments (``console.cli.main``). ``visible_json`` is the outgoing
guard: the server's JSON never carries such a character raw, even from a store written
before this rule (it becomes a ``\\uXXXX`` escape, the same string to a JSON reader).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator

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
# isolates), interlinear annotation marks, and characters that show nothing: soft hyphen,
# combining grapheme joiner, Hangul and Khmer fillers, Mongolian vowel separator,
# zero-width space, word joiner and invisible operators (U+2060-2064, with the deprecated
# format controls U+206A-206F), byte order mark, musical format controls.
REMOVED = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e"
    "\u200b\u200e\u200f\u202a-\u202e\u2060-\u206f\u3164\ufeff\uffa0\ufff9-\ufffb"
    "\U0001d173-\U0001d17a"
)
_CONTROLS = re.compile(f"[{REMOVED}]")
# Joiners and selectors that writing needs in some places and that hide text elsewhere:
# U+200D (ZWJ) between two emoji (👩‍👩‍👧) or two letters of a script that uses it
# (Devanagari half forms), U+200C (ZWNJ) between two such letters (Persian, Hindi), one variation selector after a character (❤️; a
# run of them can smuggle data), tag characters only inside a flag sequence (🏴 + tags +
# cancel tag).
_EMOJI = (
    "\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u21ff\u2300-\u23ff\u24c2\u25a0-\u27bf"
    "\u2900-\u297f\u2b00-\u2bff\u3030\u303d\u3297\u3299\U0001f000-\U0001faff"
)
_JOINING_SCRIPTS = "\u0600-\u08ff\u0900-\u0dff\ufb50-\ufdff\ufe70-\ufefe"
_SELECTORS = "\ufe00-\ufe0f\U000e0100-\U000e01ef"
_CONTEXTUAL = re.compile(f"[\u200c\u200d{_SELECTORS}\U000e0000-\U000e007f]")
_MISPLACED = re.compile(
    f"(?<![{_EMOJI}\ufe0f{_JOINING_SCRIPTS}])\u200d"
    f"|(?<=[{_EMOJI}\ufe0f])\u200d(?![{_EMOJI}])"
    f"|(?<=[{_JOINING_SCRIPTS}])\u200d(?![{_JOINING_SCRIPTS}])"
    f"|(?<![{_JOINING_SCRIPTS}])\u200c|\u200c(?![{_JOINING_SCRIPTS}])"
    f"|(?<=[{_SELECTORS}\u200c\u200d])[{_SELECTORS}]+|^[{_SELECTORS}]+"
    "|(\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f)|[\U000e0000-\U000e007f]"
)
PRINTABLE_INVISIBLE = f"\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0{_SELECTORS}"
"""Characters ``str.isprintable`` calls printable that show nothing (letters and marks by
category); ``clean`` removes them (a variation selector stays once, after a character)."""
_PRINTABLE_INVISIBLE = re.compile(f"[{PRINTABLE_INVISIBLE}]")
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
    # Text with nothing unprintable and none of the few printable but invisible characters
    # (fillers, the grapheme joiner, variation selectors) has nothing to remove: every
    # character the patterns of ``scrub`` match first is one of those. Most alert text is
    # like this, and intake cleans a dozen fields an alert.
    if not text.isprintable() or (not text.isascii() and _PRINTABLE_INVISIBLE.search(text)):
        text = scrub(text, multiline)
    return text if limit is None else fit(text, limit)


def fit(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis ending what was cut (``clean``'s
    ``limit``, for text that is already clean: a wire model's field)."""
    if len(text) > limit:
        return text[: limit - 1] + "…" if limit > 0 else ""
    return text


def scrub(text: str, multiline: bool) -> str:
    """What ``clean`` does to text that has something to remove (no limit)."""
    text = _ESCAPES.sub("", text)
    if multiline:
        text = _LINE_BREAKS.sub("\n", text).replace("\t", "    ")
    else:
        text = _LINE_BREAKS.sub(" ", text).replace("\t", " ")
    text = _CONTROLS.sub("", text)
    if _CONTEXTUAL.search(text):
        text = _MISPLACED.sub(_keep_flags, text)
    return text


def _keep_flags(match: re.Match[str]) -> str:
    return match.group(1) or ""


def clean_text(text: str | None) -> str:
    """``clean`` for text that may hold several lines (descriptions, notes)."""
    return clean(text, multiline=True)


def clean_data(item: Any, *, text_limit: int = 20_000, depth: int = 0) -> Any:
    """JSON-like data from a sender (``custom_details``, change details) cleaned throughout:
    every key and string value, bounded (100 items a level, 8 levels deep)."""
    if depth > 8:
        return "…"
    if isinstance(item, str):
        return clean(item, multiline=True, limit=text_limit)
    if isinstance(item, Mapping):
        return {
            clean(str(k), limit=200): clean_data(v, text_limit=text_limit, depth=depth + 1)
            for k, v in list(item.items())[:100]
        }
    if isinstance(item, list | tuple):
        return [clean_data(v, text_limit=text_limit, depth=depth + 1) for v in list(item)[:100]]
    if item is None or isinstance(item, bool | int | float):
        return item
    return clean(str(item), limit=1000)


Line = Annotated[str, AfterValidator(clean)]
"""A string field of one line that comes from outside: cleaned as it is validated (``clean``
itself is the validator: one call a field, ~20 in a 1-alert webhook)."""
Text = Annotated[str, AfterValidator(clean_text)]
"""A string field that may hold several lines, cleaned as it is validated."""
Data = Annotated[Any, AfterValidator(clean_data)]
"""JSON-like data from outside, every key and string in it cleaned."""


# What the server's JSON never carries raw: every character ``clean`` removes (or keeps
# only in context) outside ASCII, and DEL. JSON already escapes the C0 controls.
INVISIBLE = re.compile(
    f"[{REMOVED[REMOVED.index(chr(0x7F)) :]}\u200c\u200d\u2028\u2029\U000e0000-\U000e007f]"
)
# The same characters as UTF-8 byte sequences, so a body is escaped without decoding it (a
# list of 100,000 incidents is tens of MB). In UTF-8 a lead byte is never a continuation
# byte, so a match always starts at a character.
_INVISIBLE_BYTES = re.compile(
    rb"\x7f|\xc2[\x80-\x9f\xad]|\xcd\x8f|\xd8\x9c"
    rb"|\xe1(?:\x85[\x9f\xa0]|\x9e[\xb4\xb5]|\xa0\x8e)"
    rb"|\xe2(?:\x80[\x8b-\x8f\xa8-\xae]|\x81[\xa0-\xaf])"
    rb"|\xe3\x85\xa4|\xef(?:\xbb\xbf|\xbe\xa0|\xbf[\xb9-\xbb])"
    rb"|\xf0\x9d\x85[\xb3-\xba]|\xf3\xa0[\x80\x81][\x80-\xbf]"
)


def _escape(match: re.Match[bytes]) -> bytes:
    code = ord(match.group().decode("utf-8"))
    if code > 0xFFFF:  # JSON spells a character past the BMP as a surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}".encode()
    return f"\\u{code:04x}".encode()


def visible_json(data: bytes) -> bytes:
    """JSON (UTF-8) with every invisible or control character written as a ``\\uXXXX``
    escape: the same document to a JSON reader, nothing a terminal acts on to a person
    reading it raw (``curl``). Outside strings JSON is ASCII, so only strings change.
    Bytes that are not UTF-8 pass through unchanged."""
    if data.isascii() and b"\x7f" not in data:  # C speed: most bodies end here
        return data
    return _INVISIBLE_BYTES.sub(_escape, data)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> object:
    """A CSV cell a spreadsheet will not run: text that starts like a formula (``= + - @``,
    or a tab or carriage return before one) gets a leading ``'``, as OWASP advises.

    Numbers pass unchanged (a negative number is data, not a formula).
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
