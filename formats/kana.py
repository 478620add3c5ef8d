"""Normalise user input into Zengin half-width kana name fields.

Zengin name fields (預金者名, 委託者名, 受取人名 …) are single-byte Shift_JIS (cp932):
space, 0-9, A-Z, half-width katakana ｱ-ﾝ, the marks ﾞ ﾟ and ( ) - . — plus ｦ in
the record types that allow it. See ../shared/reference/zengin.md, "Character
rules", and standard-data.md, "Characters between standard systems and bank files".

Input typed by people is full-width, hiragana or mixed. Each character is converted
on its own, so an error can name the character and its index in the input:

1. ``jaconv.hira2kata`` then ``jaconv.z2h`` (kana, ASCII, digits): ガ → ｶﾞ, Ａ → A;
2. :data:`FIXES` for what jaconv leaves alone: small kana, ヰヱヵヶヮ, dashes,
   ・, decomposed or spacing voice marks, lower-case ASCII;
3. ｦ → ｵ unless ``allow_wo``;
4. every resulting character must be in :data:`ALLOWED` (or ｦ), else :class:`KanaError`.

NFKC is deliberately not used: it would merge ｶﾞ back into ガ. Company abbreviations
(株式会社 → ｶ)) are not expanded; kanji are always an error.
"""

from __future__ import annotations

import string
import unicodedata

import jaconv

from formats import charset

__all__ = ["KanaError", "normalise", "encode", "fit", "byte_length"]

ENCODING = "cp932"
# The kana sets are formats.charset's bytes, as text.
WO = charset.WO.decode(ENCODING)  # ｦ
VOICE_MARKS = charset.VOICE_MARKS.decode(ENCODING)  # ﾞﾟ
#: ｱ (U+FF71) … ﾝ (U+FF9D): full-size half-width katakana, without ｦ and small kana.
HALF_KANA = charset.HALF_KANA.decode(ENCODING)
#: Characters a normalised name may contain (ｦ is added when ``allow_wo``): what the
#: ``zengin-name`` charset accepts in strict mode.
ALLOWED = frozenset(charset.NAME_CHARACTERS.decode(ENCODING))

#: Small half-width kana → full size (jaconv's z2h keeps them small).
SMALL_KANA = dict(zip(charset.SMALL_KANA.decode(ENCODING), "ｱｲｳｴｵﾔﾕﾖﾂ", strict=True))  # ｧｨｩｪｫｬｭｮｯ
#: Full-width kana jaconv's z2h leaves alone (after hira2kata, so ゐゑゎゕゖ land here too).
KANA_GAPS = {
    "ヮ": "ﾜ",
    "ヵ": "ｶ",
    "ヶ": "ｹ",
    "ヰ": "ｲ",
    "ヱ": "ｴ",
    "ヷ": "ﾜﾞ",
    "ヸ": "ｲﾞ",
    "ヹ": "ｴﾞ",
    "ヺ": "ｦﾞ",
}
#: Spacing (゛゜) and combining (U+3099, U+309A, from decomposed input) voice marks.
MARKS = {"゛": "ﾞ", "゜": "ﾟ", "\u3099": "ﾞ", "\u309a": "ﾟ"}
#: Long vowel marks and hyphen-likes → "-".
DASHES = dict.fromkeys(
    "ｰー－‐‑‒–—―−﹣",  # ｰ ー － U+2010 U+2011 U+2012 U+2013 U+2014 U+2015 U+2212 U+FE63
    "-",
)
#: ・ (and z2h's ･) and the full-width space → space.
SPACES = {"・": " ", "･": " ", "\u3000": " "}
UPPER = dict(zip(string.ascii_lowercase, string.ascii_uppercase, strict=True))
#: Everything applied to the output of jaconv, one character at a time.
FIXES: dict[str, str] = {**SMALL_KANA, **KANA_GAPS, **MARKS, **DASHES, **SPACES, **UPPER}


class KanaError(ValueError):
    """A character that cannot be written in a Zengin kana name field."""

    def __init__(self, char: str, index: int, allow_wo: bool = False) -> None:
        self.char = char
        self.index = index
        self.allow_wo = allow_wo
        name = unicodedata.name(char, "unnamed")
        allowed = "kana (ｦ allowed)" if allow_wo else "kana (ｦ becomes ｵ)"
        super().__init__(
            f"character {char!r} (U+{ord(char):04X} {name}) at index {index} cannot be used "
            f"in a Zengin name field; allowed: {allowed}, A-Z, 0-9, space and ( ) - ."
        )

    def __reduce__(self) -> tuple[type[KanaError], tuple[str, int, bool]]:
        return (type(self), (self.char, self.index, self.allow_wo))


def _convert(char: str, allow_wo: bool) -> str:
    """One input character as half-width field characters (not yet checked)."""
    half = jaconv.z2h(jaconv.hira2kata(char), kana=True, ascii=True, digit=True)
    out = "".join(FIXES.get(c, c) for c in half)
    return out if allow_wo else out.replace(WO, "ｵ")


def normalise(text: str, *, allow_wo: bool = False) -> str:
    """Convert ``text`` to a half-width Zengin name, or raise :class:`KanaError`."""
    allowed = (ALLOWED | {WO}) if allow_wo else ALLOWED
    parts: list[str] = []
    for index, char in enumerate(text):
        out = _convert(char, allow_wo)
        if any(c not in allowed for c in out):
            raise KanaError(char, index, allow_wo)
        parts.append(out)
    return "".join(parts).strip(" ")


def encode(text: str, *, allow_wo: bool = False) -> bytes:
    """``normalise(text)`` as cp932 bytes, one byte per character."""
    return normalise(text, allow_wo=allow_wo).encode(ENCODING)


def fit(text: str, width: int, *, allow_wo: bool = False) -> bytes:
    """``encode(text)`` cut to at most ``width`` bytes, never between a kana and its ﾞ/ﾟ.

    Trailing spaces left by the cut are removed; the result is not padded.
    """
    if width < 0:
        raise ValueError(f"width must be >= 0, got {width}")
    raw = encode(text, allow_wo=allow_wo)
    if len(raw) <= width:
        return raw
    cut = raw[:width]
    if cut and _is_mark(raw[width]) and _is_kana(cut[-1]):
        cut = cut[:-1]
    return cut.rstrip(b" ")


def byte_length(text: str, *, allow_wo: bool = False) -> int:
    """Length in bytes of ``text`` once normalised and encoded."""
    return len(normalise(text, allow_wo=allow_wo))


_KANA_BYTES = charset.WO + charset.SMALL_KANA + charset.LONG_VOWEL + charset.HALF_KANA  # ｦ … ﾝ (0xA6–0xDD)


def _is_mark(byte: int) -> bool:
    return byte in charset.VOICE_MARKS  # ﾞ ﾟ


def _is_kana(byte: int) -> bool:
    return byte in _KANA_BYTES
