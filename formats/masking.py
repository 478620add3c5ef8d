"""Masking personal values before they reach a report, a log or a screen.

Which fields are personal is declared on the field kind (``personal=...``):

- ``"name"``: names are shown partially (first character, then one ＊ per remaining one);
- ``"account"``: account and customer numbers keep only their last 3 characters;
- ``"mynumber"``: individual numbers (個人番号) are never shown, not even in part;
- ``"other"``: any other personal value is hidden entirely.

Whatever is shown also goes through :func:`safe_text` (:func:`safe_json` for JSON), so that
no file name, value or message can move a terminal's cursor, reorder what is read after it
or hide characters: see :func:`safe_text` for the rule.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any, Literal

__all__ = ["Personal", "hidden", "mask", "mask_bytes", "safe_json", "safe_text"]

Personal = Literal["name", "account", "mynumber", "other"]


def mask(value: str, personal: Personal | None) -> str:
    """Mask a decoded value according to what kind of personal data it is."""
    if personal is None:
        return value
    stripped = value.strip()
    if not stripped:
        return value
    if personal == "name":
        return stripped[0] + "*" * (len(stripped) - 1)
    if personal == "account":
        keep = stripped[-3:] if len(stripped) > 3 else ""
        return "*" * (len(stripped) - len(keep)) + keep
    return "*" * len(stripped)


def mask_bytes(raw: bytes, personal: Personal | None) -> str:
    """Show raw field bytes to an operator: decoded when possible (byte escapes ``\\xNN`` for
    everything but printable ASCII otherwise), masked, then made safe (:func:`safe_text`)."""
    try:
        text = raw.decode("cp932")
    except UnicodeDecodeError:
        text = "".join(chr(b) if 0x20 <= b < 0x7F else f"\\x{b:02x}" for b in raw)
    return safe_text(mask(text, personal))


# -- showing text safely ----------------------------------------------------------------------

#: Unicode categories never shown as they are: controls (Cc: C0, DEL, C1), format characters
#: (Cf: the bidi controls, zero-width characters, the BOM, tag characters …), surrogates (Cs),
#: private use (Co), unassigned code points (Cn), and the line and paragraph separators.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def hidden(ch: str) -> bool:
    """Whether :func:`safe_text` shows the character ``ch`` as an escape."""
    return unicodedata.category(ch) in HIDDEN_CATEGORIES


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def safe_text(text: str) -> str:
    """``text`` safe to show on one line of a page, a table cell or a terminal.

    The rule (one for the console, the command line and :func:`mask_bytes`): every character
    whose Unicode category is Cc, Cf, Cs, Co, Cn, Zl or Zp is replaced by a visible escape as
    Python writes it: ``\\xNN`` below U+0100, ``\\uNNNN`` up to U+FFFF, ``\\UNNNNNNNN`` above.
    That is every C0 control (TAB, CR and LF included: a value is shown on one line), DEL,
    every C1 control, the bidi controls (U+061C, U+200E, U+200F, U+202A–U+202E,
    U+2066–U+2069), the zero-width characters (U+200B–U+200D: ZWJ too, which Japanese text
    does not need), the BOM, the tag characters, lone surrogates, private-use characters
    (外字 show as their code point) and unassigned code points; and U+2028, U+2029.

    Every other character is kept as it is: Japanese text (kanji, kana, half-width kana,
    the ideographic space U+3000 and the other spaces) and the variation selectors
    (U+FE00–U+FE0F, and U+E0100–U+E01EF, the IVS that select a name's registered glyph),
    which are combining marks (Mn), not format characters.

    The escapes are for reading, not reversible: a backslash is left as it is.
    """
    if text.isprintable():  # nothing to escape (isprintable refuses a superset: every Z* but the space)
        return text
    # one pass in C over the text: each code point looked up in a table filled as characters are met
    return text.translate(_SHOWN)


class _ShownTable(dict[int, int | str]):
    """``str.translate`` table of :func:`safe_text`: a hidden character → its escape, any other → itself
    (decided by :func:`hidden` the first time a code point is met, then kept)."""

    def __missing__(self, code: int) -> int | str:
        ch = chr(code)
        shown: int | str = _escape(ch) if hidden(ch) else code
        self[code] = shown
        return shown


_SHOWN = _ShownTable()


def safe_json(value: Any, **options: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, **options)``, except that every character
    :func:`safe_text` would escape is written as a JSON escape (``\\u202e``; a pair of
    surrogate escapes above U+FFFF): Japanese stays readable, and nothing raw reaches a terminal.

    The JSON is the same value: ``json.loads`` gives back exactly ``value``'s strings."""
    text = json.dumps(value, ensure_ascii=False, **options)
    if text.isprintable():
        return text
    # json.dumps already escapes every C0 control inside a string: a raw one is indentation
    return "".join(_json_escape_char(ch) for ch in text)


def _json_escape_char(ch: str) -> str:
    if ch < " " or not hidden(ch):
        return ch
    code = ord(ch)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
