"""clean(): untrusted text loses escape sequences and control characters, nothing else."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.domain.text import (
    INVISIBLE,
    PRINTABLE_INVISIBLE,
    clean,
    clean_data,
    scrub,
    visible_json,
)

HIDDEN = re.compile(f"[{PRINTABLE_INVISIBLE}]")


@pytest.mark.parametrize(
    ("dirty", "safe"),
    [
        ("title\x1b]0;owned\x07", "title"),  # OSC: set the window title
        ("a\x1b]0;owned\x1b\\b", "ab"),  # OSC ended by ST
        ("\x1b]8;;http://evil\x07link\x1b]8;;\x07", "link"),  # OSC 8 hyperlink
        ("\x1b[2Jcleared", "cleared"),  # CSI: clear the screen
        ("\x1b[31;1mred\x1b[0m", "red"),
        ("\x1b[?1049h alt screen", " alt screen"),
        ("\x1bPq#0;2;0;0;0\x1b\\sixel", "sixel"),  # DCS
        ("\x1b_apc\x1b\\x", "x"),  # APC
        ("\x1bcreset", "reset"),  # two-character escape (RIS)
        ("\x9b2Jc1 csi", "c1 csi"),  # 8-bit CSI
        ("\x9d0;owned\x9cok", "ok"),  # 8-bit OSC ended by 8-bit ST
        ("bell\x07 del\x7f nul\x00 bs\x08", "bell del nul bs"),
        ("c1\x80\x85\x8d\x9f", "c1 "),  # NEL becomes a line break, the rest goes
        ("\u202eevil\u202c", "evil"),  # right-to-left override and pop
        ("a\u2066b\u2069c\u200ed\u200fe\u061cf", "abcdef"),  # isolates, marks
        ("\x1b]0;unterminated", ""),  # an unterminated OSC swallows the rest
    ],
)
def test_escape_sequences_and_controls_are_removed(dirty: str, safe: str) -> None:
    assert clean(dirty) == safe


@pytest.mark.parametrize(
    "text",
    [
        "数据库连接失败",
        "Ошибка диска",
        "خطأ في الخادم",  # right-to-left letters are letters, not overrides
        "שגיאה",
        "disk full 🔥💾",
        "family 👩‍👩‍👧 flag 🇩🇪",  # zero-width joiners and regional indicators stay
        "naïve café",
        "e\u0301",  # combining accent
    ],
)
def test_real_text_in_any_script_is_kept(text: str) -> None:
    assert clean(text) == text


@pytest.mark.parametrize("text", ["[bold]x", "[/etc]", "[red on white]alarm[/]", "[@click=quit]"])
def test_markup_is_left_as_literal_text(text: str) -> None:
    """Rendering it as plain text is the UI's job; clean() must not eat the brackets."""
    assert clean(text) == text


def test_single_line_turns_line_breaks_and_tabs_into_spaces() -> None:
    assert clean("a\nb\r\nc\rd\te\u2028f\u2029g") == "a b c d e f g"


def test_multiline_keeps_line_breaks_and_expands_tabs() -> None:
    text = "line 1\r\nline 2\rline 3\n\tindented\u2028line 5"
    assert clean(text, multiline=True) == "line 1\nline 2\nline 3\n    indented\nline 5"


def test_a_lone_carriage_return_cannot_overwrite_what_was_shown() -> None:
    assert "\r" not in clean("all good\rEVIL", multiline=True)
    assert clean("all good\rEVIL") == "all good EVIL"


@pytest.mark.parametrize(
    ("limit", "expected"),
    [(None, "abcdef"), (10, "abcdef"), (6, "abcdef"), (5, "abcd…"), (1, "…"), (0, "")],
)
def test_limit_truncates_with_an_ellipsis(limit: int | None, expected: str) -> None:
    assert clean("abcdef", limit=limit) == expected


def test_limit_counts_the_cleaned_text() -> None:
    assert clean("\x1b[31mabc\x1b[0m", limit=3) == "abc"


@pytest.mark.parametrize("empty", [None, ""])
def test_nothing_gives_an_empty_string(empty: str | None) -> None:
    assert clean(empty) == ""


def test_clean_is_idempotent_on_a_nasty_mix() -> None:
    nasty = "\x1b[1m[b]T\x1b]0;x\x07itle\u202e\r\n\x9b5m\tok 数据 🔥\x00"
    once = clean(nasty, multiline=True)
    assert clean(once, multiline=True) == once
    assert once == "[b]Title\n    ok 数据 🔥"
    assert all(ch == "\n" or ch.isprintable() for ch in once)


@given(st.text(max_size=40), st.booleans())
def test_printable_text_is_what_thescrub_leaves_it(text: str, multiline: bool) -> None:
    # clean() returns printable text untouched without running the patterns: that is only
    # right if the patterns would have left it untouched too.
    printable = "".join(ch for ch in text if ch.isprintable() and ch not in PRINTABLE_INVISIBLE)
    assert scrub(printable, multiline) == printable
    assert clean(printable, multiline=multiline) == printable


def test_every_printable_character_survives_thescrub() -> None:
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        if HIDDEN.fullmatch(ch):  # printable by category, but shows nothing
            selector = 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF  # one may stay
            expected = f"a{ch}b" if selector else "ab"
            assert clean(f"a{ch}{ch}b") == expected, hex(cp)
        elif ch.isprintable():
            assert scrub(f"a{ch}b", False) == f"a{ch}b", hex(cp)


# --- invisible characters and look-alikes (issue 11 point 7) ---------------------------------


@pytest.mark.parametrize(
    ("dirty", "safe"),
    [
        ("pay\u200bpal", "paypal"),  # zero-width space
        ("pay\u2060pal\ufeff", "paypal"),  # word joiner, byte order mark
        ("pay\u00adpal", "paypal"),  # soft hyphen: invisible inside a line
        ("a\u200db", "ab"),  # a zero-width joiner between letters joins nothing
        ("a\u200cb", "ab"),  # a non-joiner in Latin text only hides
        ("\u2061\u2062\u2063\u2064x", "x"),  # invisible operators
        ("\u3164\u115f\u1160name", "name"),  # Hangul fillers ("blank" user names)
        ("x\U000e0041\U000e0042\U000e007f", "x"),  # tag characters outside a flag
        ("x\ufe0f\ufe0f\ufe0f\ufe0e", "x\ufe0f"),  # a run of selectors can carry data
        ("\ufe0fstart", "start"),
        ("a\u180eb\u034fc", "abc"),
    ],
)
def test_invisible_characters_are_removed(dirty: str, safe: str) -> None:
    assert clean(dirty) == safe
    assert clean(dirty, multiline=True) == safe


@pytest.mark.parametrize(
    "text",
    [
        "👨\u200d💻 on call",  # emoji ZWJ sequence
        "❤\ufe0f\u200d🔥",
        "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f Scotland",  # tag flag
        "می\u200cخواهم",  # Persian needs the non-joiner
        "क्\u200dष",  # Devanagari half forms
        "❤️ ok",
    ],
)
def test_joiners_and_selectors_that_writing_needs_stay(text: str) -> None:
    assert clean(text) == text


def test_clean_is_idempotent_on_hostile_text() -> None:
    text = HOSTILE
    assert clean(clean(text)) == clean(text)


HOSTILE = "a\x1b[31mb\x9b2Jc\x9d0;x\x9cd\u202ee\u200bf\u2066g\x00h\x7fi\u00adj\U000e0041k\u200dl"


def test_clean_data_cleans_keys_and_values_at_every_depth() -> None:
    data = {"k\u200by": ["v\u202e", {"in\x8fner": "x\x1b[2Jy", "n": 3, "b": None}], "t": True}
    assert clean_data(data) == {"ky": ["v", {"inner": "xy", "n": 3, "b": None}], "t": True}


def test_the_json_guard_escapes_exactly_what_cleaning_takes_out() -> None:
    """Every non-ASCII character ``clean`` removes alone (and DEL) leaves the server only as
    a \\u escape, and the escaped document reads back as the same data."""
    removed = [
        chr(code)
        for code in range(0x7F, 0x110000)
        if not 0xD800 <= code <= 0xDFFF and clean("a" + chr(code) + "b") == "ab"
    ]
    assert len(removed) > 150  # C1, bidi, zero-width, fillers, tags...
    for char in [*removed, "\u200c", "\u200d"]:
        document = json.dumps({"t": f"x{char}y"}, ensure_ascii=False).encode()
        out = visible_json(document)
        assert char.encode() not in out, hex(ord(char))
        assert json.loads(out) == {"t": f"x{char}y"}


def test_the_json_guard_leaves_ordinary_text_alone() -> None:
    document = json.dumps(
        {"t": "数据库 “quoted” — naïve 🔥 👩\u200d👩 flag 🇩🇪"}, ensure_ascii=False
    ).encode()
    out = visible_json(document)
    assert json.loads(out) == json.loads(document)
    assert "数据库 “quoted” — naïve 🔥".encode() in out


def test_the_json_guard_reads_bytes_as_the_characters_it_names() -> None:
    """``visible_json`` works on UTF-8 bytes without decoding: its byte pattern matches the
    encoding of exactly the characters of ``INVISIBLE``, nothing else."""
    mismatched = [
        hex(code)
        for code in range(0x110000)
        if not 0xD800 <= code <= 0xDFFF
        and bool(INVISIBLE.fullmatch(chr(code)))
        != (visible_json(chr(code).encode()) != chr(code).encode())
    ]
    assert not mismatched
