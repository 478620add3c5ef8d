"""The check-digit registry: each scheme by hand and against published examples, rules, errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formats.checkdigits import SCHEMES, CheckDigitRule, get_scheme, mod10_w31

# --- hand-computed examples (arithmetic in the comments) ---------------------------------------

# mod10-w31, body 4912345: weights from the right 3,1,3,1,3,1,3 over 5,4,3,2,1,9,4:
#   5·3 + 4·1 + 3·3 + 2·1 + 1·3 + 9·1 + 4·3 = 15+4+9+2+3+9+12 = 54; (10 − 4) mod 10 = 6.
# luhn, body 4912345: weights from the right 2,1,2,1,2,1,2; products 10,4,6,2,2,9,8, digits added
#   1+0 + 4 + 6 + 2 + 2 + 9 + 8 = 32; (10 − 2) mod 10 = 8.
# mod11-w2-7, body 4912345: weights 2,3,4,5,6,7,2 over 5,4,3,2,1,9,4:
#   10+12+12+10+6+63+8 = 121; 121 mod 11 = 0 → 11 − 0 = 11 → 0.
# mod11-w2-7, body 6: 6·2 = 12; 12 mod 11 = 1 → 11 − 1 = 10 → 0.
# mod11-w2-7, body 10: 0·2 + 1·3 = 3; 3 mod 11 = 3 → 11 − 3 = 8.
# 7dr, body 4912345: 4912345 = 7·701763 + 4 → 4.
# 9dr, body 4912345: 4912345 = 9·545816 + 1 → 1 (the digit sum 28 ≡ 1 mod 9 agrees).
HAND = [
    ("mod10-w31", "4912345", "6"),
    ("luhn", "4912345", "8"),
    ("mod11-w2-7", "4912345", "0"),
    ("mod11-w2-7", "6", "0"),
    ("mod11-w2-7", "10", "8"),
    ("7dr", "4912345", "4"),
    ("9dr", "4912345", "1"),
    ("9dr", "9", "0"),
]

# --- published examples --------------------------------------------------------------------------
PUBLISHED = [
    # https://qiita.com/yoshi389111/items/00ca7b3ed9ceac904cde (Luhn: 20151119 → 3, 20151149 → 0)
    ("luhn", "20151119", "3"),
    ("luhn", "20151149", "0"),
    # The classic Luhn example 79927398713 (https://en.wikipedia.org/wiki/Luhn_algorithm)
    ("luhn", "7992739871", "3"),
    # https://www.activebarcode.com/ja/codes/checkdigit/modulo10.html (EAN-13 400763000011 → 6)
    ("mod10-w31", "400763000011", "6"),
    # https://yone098.hatenablog.com/entry/20071116/1195145892 (M11W2~7: 12345678 → 5, and its tests)
    ("mod11-w2-7", "12345678", "5"),
    ("mod11-w2-7", "123456789", "2"),
    ("mod11-w2-7", "987654321", "1"),
    ("mod11-w2-7", "4444333999999999", "6"),
    # https://mimosa.gr.jp/toitsu/check_digit.html (7DR: 123456 → 4, written 1234564)
    ("7dr", "123456", "4"),
    # github.com/TakamoriYamashiro/shipping-jp-js README.md: 7DR tracking numbers of
    # Yamato 444413758703, Japan Post 405548424886 and Sagawa 512547514334
    ("7dr", "44441375870", "3"),
    ("7dr", "40554842488", "6"),
    ("7dr", "51254751433", "4"),
]


@pytest.mark.parametrize(("scheme", "body", "digit"), HAND + PUBLISHED)
def test_compute(scheme: str, body: str, digit: str) -> None:
    """Each scheme computes the check digit of hand-worked and published examples."""
    assert SCHEMES[scheme].compute(body) == digit


@pytest.mark.parametrize(("scheme", "body", "digit"), HAND + PUBLISHED)
def test_verify_trailing_check_digit(scheme: str, body: str, digit: str) -> None:
    """verify() accepts the body followed by its check digit and refuses any other last digit."""
    value = body + digit
    span, position = (0, len(body)), len(body)
    assert SCHEMES[scheme].verify(value, span, position)
    for other in "0123456789".replace(digit, ""):
        assert not SCHEMES[scheme].verify(body + other, span, position)


def test_known_schemes() -> None:
    """The registry holds exactly the five families the reference names."""
    assert set(SCHEMES) == {"mod10-w31", "luhn", "mod11-w2-7", "7dr", "9dr"}


def test_barcode_helper_is_the_registered_scheme() -> None:
    """mod10_w31, which the barcode uses, is the registry's mod10-w31."""
    assert str(mod10_w31("4912345")) == SCHEMES["mod10-w31"].compute("4912345")


@pytest.mark.parametrize("body", ["", "12a4", "１２３", " 123"])
@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_compute_needs_ascii_digits(scheme: str, body: str) -> None:
    """Anything but ASCII digits is a ValueError from compute()."""
    with pytest.raises(ValueError):
        SCHEMES[scheme].compute(body)


@pytest.mark.parametrize(
    ("value", "span", "position"),
    [("12", (0, 5), 5), ("1234564", (0, 6), 9), ("12a4564", (0, 6), 6), ("123456x", (0, 6), 6), ("1234564", (3, 3), 6)],
)
def test_verify_is_false_for_unreadable_values(value: str, span: tuple[int, int], position: int) -> None:
    """verify() answers False, never raises, for short values, non-digits or an empty span."""
    assert not SCHEMES["7dr"].verify(value, span, position)


def test_unknown_scheme_lists_known_ones() -> None:
    """An unknown scheme is a ValueError that names every known scheme."""
    with pytest.raises(ValueError) as caught:
        get_scheme("mod97")
    for name in SCHEMES:
        assert name in str(caught.value)
    with pytest.raises(ValueError, match="luhn"):
        CheckDigitRule("mod97", (0, 6), 6)


def test_rule_with_leading_check_digit() -> None:
    """A rule can put the check digit before the body (position 0, body 1–7)."""
    rule = CheckDigitRule("7dr", (1, 7), 0)
    assert rule.check("4123456")
    assert not rule.check("5123456")
    assert rule.expected("5123456") == "4"


def test_rule_inside_a_longer_field() -> None:
    """A rule reads only its span and position, whatever surrounds them."""
    rule = CheckDigitRule("luhn", (2, 10), 10)
    assert rule.check("XX201511193 tail")
    assert not rule.check("XX201511194 tail")


def test_rule_messages_say_expected_and_found() -> None:
    """The message names the scheme, where the digits are, what was expected and what was found."""
    rule = CheckDigitRule("mod11-w2-7", (0, 8), 8)
    message = rule.message("123456789")
    assert "mod11-w2-7" in message and "expected 5" in message and "'9'" in message
    assert "cannot be computed" in rule.message("1234x6785")
    assert "missing" in rule.message("12345678")


@pytest.mark.parametrize(("span", "position"), [((3, 3), 5), ((4, 2), 5), ((0, 6), 3), ((0, 6), -1), ((-1, 6), 7)])
def test_rule_refuses_impossible_layouts(span: tuple[int, int], position: int) -> None:
    """An empty or reversed span, or a check digit inside the body, is refused when the rule is made."""
    with pytest.raises(ValueError):
        CheckDigitRule("luhn", span, position)


@given(st.text("0123456789", min_size=1, max_size=30), st.integers(0, 29), st.integers(1, 9))
def test_weighted_mod10_schemes_catch_any_single_digit_change(body: str, index: int, step: int) -> None:
    """mod10-w31 and Luhn detect every change of a single body digit."""
    index %= len(body)
    changed = body[:index] + str((int(body[index]) + step) % 10) + body[index + 1 :]
    for name in ("mod10-w31", "luhn"):
        scheme = SCHEMES[name]
        assert not scheme.verify(changed + scheme.compute(body), (0, len(body)), len(body))
