"""Tests for formats.kana: user input to Zengin half-width kana name fields."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formats.kana import KanaError, byte_length, encode, fit, normalise

ALLOWED = set(" 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ()-.ﾞﾟ") | {chr(c) for c in range(0xFF71, 0xFF9E)}
KANA_BYTES = range(0xA6, 0xDE)  # ｦ … ﾝ
MARK_BYTES = (0xDE, 0xDF)  # ﾞ ﾟ


def test_hiragana_becomes_half_width_katakana() -> None:
    """Hiragana is converted to half-width katakana."""
    assert normalise("さくらもち") == "ｻｸﾗﾓﾁ"


def test_full_width_katakana_becomes_half_width() -> None:
    """Full-width katakana is converted to half-width katakana."""
    assert normalise("サクラモチ") == "ｻｸﾗﾓﾁ"


def test_voiced_kana_split_and_counted_in_bytes() -> None:
    """A voiced kana becomes base plus ﾞ, so "ガッコウ" is ｶﾞﾂｺｳ in five bytes."""
    assert normalise("ガッコウ") == "ｶﾞﾂｺｳ"
    assert encode("ガッコウ") == "ｶﾞﾂｺｳ".encode("cp932")
    assert byte_length("ガッコウ") == 5
    assert byte_length("がっこう") == 5


def test_semi_voiced_and_vu_split() -> None:
    """Semi-voiced kana split into base plus ﾟ and ヴ/ゔ become ｳﾞ."""
    assert normalise("パピプペポ") == "ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ"
    assert normalise("ヴゔ") == "ｳﾞｳﾞ"


def test_half_width_voiced_input_is_kept_apart() -> None:
    """Half-width ｶﾞ input stays two characters instead of being merged into ガ."""
    assert normalise("ｶﾞｯｺｳ") == "ｶﾞﾂｺｳ"


def test_decomposed_voice_mark_is_split() -> None:
    """A kana followed by a combining voice mark (NFD input) becomes base plus ﾞ/ﾟ."""
    assert normalise("か\u3099は\u309a") == "ｶﾞﾊﾟ"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ァィゥェォッャュョ", "ｱｲｳｴｵﾂﾔﾕﾖ"),
        ("ぁぃぅぇぉっゃゅょ", "ｱｲｳｴｵﾂﾔﾕﾖ"),
        ("ｧｨｩｪｫｯｬｭｮ", "ｱｲｳｴｵﾂﾔﾕﾖ"),
        ("ヮヵヶゎゕゖ", "ﾜｶｹﾜｶｹ"),
        ("ヰヱゐゑ", "ｲｴｲｴ"),
    ],
)
def test_small_and_obsolete_kana_enlarged(text: str, expected: str) -> None:
    """Small kana (full- and half-width) are enlarged and ヰヱ become ｲｴ."""
    assert normalise(text) == expected


@pytest.mark.parametrize("text", ["ヲ", "を", "ｦ"])
def test_wo_becomes_o_by_default(text: str) -> None:
    """ヲ/を/ｦ become ｵ unless the record type allows ｦ."""
    assert normalise(f"ﾃ{text}") == "ﾃｵ"


@pytest.mark.parametrize("text", ["ヲ", "を", "ｦ"])
def test_wo_kept_when_allowed(text: str) -> None:
    """ヲ/を/ｦ become ｦ when allow_wo is set."""
    assert normalise(f"ﾃ{text}", allow_wo=True) == "ﾃｦ"
    assert encode(f"ﾃ{text}", allow_wo=True) == b"\xc3\xa6"


@pytest.mark.parametrize("dash", ["ー", "－", "‐", "―", "−", "ｰ", "-", "–", "—"])
def test_dashes_become_hyphen_minus(dash: str) -> None:
    """Long vowel marks and hyphen-likes all become "-"."""
    assert normalise(f"ケ{dash}キ") == "ｹ-ｷ"


def test_ascii_is_upper_cased() -> None:
    """Lower-case ASCII letters are upper-cased."""
    assert normalise("abc Def") == "ABC DEF"


def test_full_width_digits_letters_and_symbols() -> None:
    """Full-width digits, letters and （）． become ASCII."""
    assert normalise("ＡＢｃ１２３（ｶ）．") == "ABC123(ｶ)."


def test_middle_dot_and_full_width_space_become_space() -> None:
    """・ and the full-width space become a space; inner spaces are kept."""
    assert normalise("アイ・ウエ　オ  カ") == "ｱｲ ｳｴ ｵ  ｶ"


def test_leading_and_trailing_spaces_are_stripped() -> None:
    """Spaces (including converted ones) at either end are removed."""
    assert normalise("　 ・テスト ・") == "ﾃｽﾄ"


def test_company_abbreviation_in_kana_is_kept() -> None:
    """A kana abbreviation with parentheses passes unchanged; nothing is expanded."""
    assert normalise("ｶ)ﾃｽﾄｼｮｳｼﾞ") == "ｶ)ﾃｽﾄｼﾖｳｼﾞ"


def test_kanji_raises_with_char_and_index() -> None:
    """A kanji raises KanaError naming the character and its index."""
    with pytest.raises(KanaError) as caught:
        normalise("テスト株式会社")
    assert caught.value.char == "株"
    assert caught.value.index == 3
    assert "'株'" in str(caught.value) and "index 3" in str(caught.value)


def test_yen_sign_raises_with_char_and_index() -> None:
    """A yen sign raises KanaError naming it and its index."""
    with pytest.raises(KanaError) as caught:
        normalise("ｱｲ¥")
    assert (caught.value.char, caught.value.index) == ("¥", 2)


@pytest.mark.parametrize("text", ["ｱ/ｲ", "ｱ,ｲ", "ｱ￥", "ｱ😀", "ｱ\tｲ", "ゝ"])
def test_other_characters_raise(text: str) -> None:
    """Slashes, commas, emoji, tabs and iteration marks are rejected."""
    with pytest.raises(KanaError):
        normalise(text)


def test_kana_error_is_value_error_and_pickles() -> None:
    """KanaError is a ValueError and survives pickling with its attributes."""
    error = KanaError("漢", 4)
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.char, copy.index, str(copy)) == ("漢", 4, str(error))


def test_fit_drops_kana_and_mark_together() -> None:
    """A cut between ｶ and ﾞ drops both."""
    assert fit("ガッコウ", 1) == b""
    assert fit("アガ", 2) == "ｱ".encode("cp932")
    assert fit("アガ", 3) == "ｱｶﾞ".encode("cp932")


def test_fit_strips_spaces_left_by_cut_and_does_not_pad() -> None:
    """Trailing spaces from the cut are removed and short values are not padded."""
    assert fit("アイ ウエ", 3) == "ｱｲ".encode("cp932")
    assert fit("アイ", 10) == "ｱｲ".encode("cp932")


def test_fit_rejects_negative_width() -> None:
    """A negative width is a ValueError."""
    with pytest.raises(ValueError):
        fit("アイ", -1)


_KANA_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x3041, max_codepoint=0x3096),  # hiragana
        st.characters(min_codepoint=0x30A1, max_codepoint=0x30FC),  # katakana, ・ and ー
        st.characters(min_codepoint=0xFF66, max_codepoint=0xFF9F),  # half-width katakana
        st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \u3000"),
    ),
    max_size=40,
)


@given(text=_KANA_TEXT, width=st.integers(min_value=0, max_value=50), allow_wo=st.booleans())
def test_property_normalise_encode_fit(text: str, width: int, allow_wo: bool) -> None:
    """Kana/ASCII/digit/space text never raises, stays in the charset, and fits without splitting a mark."""
    out = normalise(text, allow_wo=allow_wo)
    assert set(out) <= (ALLOWED | {"ｦ"} if allow_wo else ALLOWED)
    assert normalise(out, allow_wo=allow_wo) == out
    raw = encode(text, allow_wo=allow_wo)
    assert len(raw) == len(out) == byte_length(text, allow_wo=allow_wo)
    cut = fit(text, width, allow_wo=allow_wo)
    assert len(cut) <= width
    assert raw.startswith(cut)
    assert not cut.endswith(b" ")
    if cut and len(cut) < len(raw):
        assert not (cut[-1] in KANA_BYTES and raw[len(cut)] in MARK_BYTES)
