"""formats.masking.safe_text and safe_json: what may be shown of any text, on a page or a terminal."""

from __future__ import annotations

import json
import unicodedata

from hypothesis import example, given
from hypothesis import strategies as st

from formats.masking import mask_bytes, safe_json, safe_text

BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
IVS = [chr(code) for code in range(0xE0100, 0xE01F0)] + [chr(code) for code in range(0xFE00, 0xFE10)]
JAPANESE = "葛飾区　収納課 ｻﾝﾌﾟﾙ ﾊﾅｺ カタカナ ひらがな 髙﨑 〒123-4567 ①②　全角ＡＢＣ ー～"


def _raw_forbidden(text: str) -> list[str]:
    return [ch for ch in text if unicodedata.category(ch) in ("Cc", "Cf") or ch in BIDI or ch in "\u2028\u2029"]


@given(st.text())
@example("rtl\u202eexe.tad")
@example("\x1b[2J\x00\x7f\x85\x9b\t\r\n")
@example("\ufeff\u200b\u200d\U000e0041\udc80\ue000")
def test_safe_text_never_leaves_a_control_or_bidi_character(text):
    """Whatever the input, the output holds no Cc, Cf (bidi controls included), Zl or Zp character."""
    assert _raw_forbidden(safe_text(text)) == []


@given(st.text(alphabet=st.sampled_from(JAPANESE + "".join(IVS) + "abcXYZ019 -_.()[]\\")))
def test_safe_text_keeps_japanese_text_and_ivs_selectors(text):
    """Kanji, kana (half-width too), spaces (the ideographic one too) and variation selectors are kept."""
    assert safe_text(text) == text


def test_safe_text_escapes_as_python_writes_them():
    """ESC, RLO and NUL become visible escapes; an astral format character too; IVS stay."""
    assert safe_text("rtl\u202eexe.tad") == "rtl\\u202eexe.tad"
    assert safe_text("a\x1b[31mb\x00c") == "a\\x1b[31mb\\x00c"
    assert safe_text("\t\r\n\x7f\x9b") == "\\x09\\x0d\\x0a\\x7f\\x9b"
    assert safe_text("\u2028\u2029\u200d\ufeff") == "\\u2028\\u2029\\u200d\\ufeff"
    assert safe_text("\U000e0001x") == "\\U000e0001x"
    assert safe_text("葛\U000e0100飾\ufe00") == "葛\U000e0100飾\ufe00"
    assert safe_text("山田\u3000太郎") == "山田\u3000太郎"


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
        max_leaves=10,
    )
)
@example({"name": "rtl\u202eexe.tad\x1b\x00\x85\U000e0041"})
def test_safe_json_is_the_same_json_without_raw_controls(value):
    """safe_json is valid JSON for the very same value, holds no raw Cc/Cf/Zl/Zp but its indentation,
    and keeps Japanese readable."""
    for indent in (None, 2):
        text = safe_json(value, indent=indent)
        assert json.loads(text) == value
        assert _raw_forbidden(text.replace("\n", "")) == []


def test_safe_json_keeps_japanese_and_escapes_bidi():
    assert safe_json({"名前": "葛飾\u202e区\x7f"}) == '{"名前": "葛飾\\u202e区\\u007f"}'
    assert safe_json(["\U000e0041"]) == '["\\udb40\\udc41"]'


def test_mask_bytes_follows_the_same_rule():
    """Decoded bytes are escaped by safe_text's rule (the ideographic space kept), masked values too."""
    assert mask_bytes("山田\u3000太郎".encode("cp932"), None) == "山田\u3000太郎"
    assert mask_bytes(b"AB\x1bC\x7f", None) == "AB\\x1bC\\x7f"
    assert mask_bytes(b"\x1bABC", "name") == "\\x1b***"
    assert mask_bytes(b"\x82\xff", None) == "\\x82\\xff"  # not cp932: byte escapes
