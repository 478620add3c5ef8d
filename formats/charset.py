"""Named single-byte character sets for text fields, as byte tables.

Zengin name fields are single-byte Shift_JIS (JIS X 0201): ASCII plus half-width
katakana 0xA1–0xDF. Each charset is a set of allowed *bytes*; fields are checked
on raw bytes before any decoding, so a check never depends on how cp932 maps
0x5C or 0x7E.

``strict`` follows the 全銀 rules in ../shared/reference/zengin.md; ``permissive``
adds what some banks accept (/ , ｰ ｦ ' &). A channel chooses its mode.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

__all__ = ["Charset", "CHARSETS", "get_charset", "HALF_KANA", "NAME_CHARACTERS", "SMALL_KANA"]

DIGITS = b"0123456789"
UPPER = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: ｱ (0xB1) … ﾝ (0xDD): the full-size half-width katakana, without ｦ and small kana.
HALF_KANA = bytes(range(0xB1, 0xDE))
VOICE_MARKS = b"\xde\xdf"  # ﾞ ﾟ
WO = b"\xa6"  # ｦ
#: ｧｨｩｪｫｬｭｮｯ — never allowed in strict mode (enlarge them when building).
SMALL_KANA = bytes(range(0xA7, 0xB0))
LONG_VOWEL = b"\xb0"  # ｰ
#: What a Zengin name field may hold (strict): space, digits, A-Z, kana, ﾞ ﾟ and ( ) . -
NAME_CHARACTERS = b" " + DIGITS + UPPER + HALF_KANA + VOICE_MARKS + b"().-"


@dataclass(frozen=True)
class Charset:
    """A named set of allowed bytes, with a 256-entry lookup table for vector checks."""

    name: str
    description: str
    strict: frozenset[int]
    permissive: frozenset[int]
    if TYPE_CHECKING:  # set by __post_init__: the sets as sorted bytes, for bytes.translate
        _strict_bytes: bytes = field(init=False, repr=False, compare=False)
        _permissive_bytes: bytes = field(init=False, repr=False, compare=False)

    def allowed(self, strict: bool = True) -> frozenset[int]:
        return self.strict if strict else self.permissive

    def table(self, strict: bool = True) -> np.ndarray:
        table = np.zeros(256, dtype=bool)
        table[list(self.allowed(strict))] = True
        return table

    def first_invalid(self, raw: bytes, strict: bool = True) -> int:
        """Index of the first byte not in the set, or -1."""
        if not raw.translate(None, self._bytes(strict)):  # every byte allowed (checked in C)
            return -1
        allowed = self.allowed(strict)
        return next(index for index, byte in enumerate(raw) if byte not in allowed)

    def _bytes(self, strict: bool) -> bytes:
        return self._strict_bytes if strict else self._permissive_bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "_strict_bytes", bytes(sorted(self.strict)))
        object.__setattr__(self, "_permissive_bytes", bytes(sorted(self.permissive)))

    def describe(self, strict: bool = True) -> str:
        return f"{self.name} ({'strict' if strict else 'permissive'}): {self.description}"


def _set(*parts: Iterable[int]) -> frozenset[int]:
    return frozenset(b for part in parts for b in part)


_NAME_BASE = _set(NAME_CHARACTERS)
_EXTRA = _set(b"/,'&", LONG_VOWEL)

CHARSETS: dict[str, Charset] = {
    charset.name: charset
    for charset in (
        Charset(
            "zengin-name",
            "半角カナ・英大文字・数字・空白・( ) - . (ｦ・小さいカナは不可)",
            _NAME_BASE,
            _NAME_BASE | _EXTRA | _set(WO),
        ),
        Charset(
            "zengin-name-wo",
            "zengin-name と同じ、ｦ を許す (種別 01, 03, 21, 98, 99)",
            _NAME_BASE | _set(WO),
            _NAME_BASE | _EXTRA | _set(WO),
        ),
        Charset(
            "zengin-bank-name",
            "半角カナ・英大文字・数字・- ・空白埋め (ｦ・小さいカナは不可)",
            _set(b" ", DIGITS, UPPER, HALF_KANA, VOICE_MARKS, b"-"),
            _set(b" ", DIGITS, UPPER, HALF_KANA, VOICE_MARKS, b"-().", _EXTRA),
        ),
        Charset(
            "ascii",
            "ASCII 0x20–0x7E",
            frozenset(range(0x20, 0x7F)),
            frozenset(range(0x20, 0x7F)),
        ),
        Charset(
            "sjis-single",
            "1バイトのシフトJIS (ASCII 0x20–0x7E と半角カナ 0xA1–0xDF)",
            frozenset(range(0x20, 0x7F)) | frozenset(range(0xA1, 0xE0)),
            frozenset(range(0x20, 0x7F)) | frozenset(range(0xA1, 0xE0)),
        ),
        Charset(
            "digits-space",
            "数字と空白",
            _set(DIGITS, b" "),
            _set(DIGITS, b" "),
        ),
    )
}


def get_charset(name: str) -> Charset:
    try:
        return CHARSETS[name]
    except KeyError:
        raise KeyError(f"unknown charset {name!r}; known: {', '.join(sorted(CHARSETS))}") from None
