"""OCR lines with two leading check digits: hand-derived vectors, lines, bad input, properties.

No public OCR line with its check digits could be found, so the vectors are derived by
hand from payment-channels.md §3; every number in them is invented.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formats.codecs import ErrorCode, decode_ocr, encode_ocr, ocr_check_digits

# Upper line, body (37) = 口座番号 00100000001 + 金額 00000012345 + 負担区分 1 + 予備 00000 + 加入者データ 000000007.
# Non-zero digits d[i] (0-based from the left) with their weights:
#   even i, w2 = 9,8,7,…,2,9,… (advancing on even i only), CD1 weight 1:
#     i=2 d=1 w2=8 → 8;  i=10 d=1 w2=4 → 4;  i=18 d=2 w2=8 → 16;  i=20 d=4 w2=7 → 28;
#     i=22 d=1 w2=6 → 6;  i=36 d=7 w2=7 → 49
#   odd i, CD2 weight 1, w1 = 3,4,…,9,2,… (advancing on odd i only):
#     i=17 d=1 w1=3 → 3;  i=19 d=3 w1=4 → 12;  i=21 d=5 w1=5 → 25
#   CD2 = (8+4+16+28+6+49 + 1+3+5) mod 10 = 120 mod 10 = 0
#   CD1 = (1+1+2+4+1+7 + 3+12+25 + 2·0) mod 11 = 56 mod 11 = 1
UPPER_BODY = "0010000000100000012345100000000000007"
UPPER = "10" + UPPER_BODY
# Body 36 zeros then 2: CD2 = 2·7 mod 10 = 4 (i=36 has w2 = 7); CD1 = (2 + 2·4) mod 11 = 10, written 0.
TEN_TO_ZERO = "04" + "0" * 36 + "2"
# Lower line, invented 42-digit body; its check digits (0, 6) come from the same rule.
LOWER_BODY = "0" * 22 + "20250401" + "000000000123"
LOWER = "06" + LOWER_BODY


@pytest.mark.parametrize(
    ("body", "pair"), [(UPPER_BODY, (1, 0)), (TEN_TO_ZERO[2:], (0, 4)), (LOWER_BODY, (0, 6)), ("0" * 37, (0, 0))]
)
def test_check_digits(body: str, pair: tuple[int, int]) -> None:
    """ocr_check_digits follows §3, remainder 10 written 0."""
    assert ocr_check_digits(body) == pair


@pytest.mark.parametrize(("value", "line"), [(UPPER, "upper"), (TEN_TO_ZERO, "upper"), (LOWER, "lower")])
def test_decode_valid_lines(value: str, line: str) -> None:
    """A right line decodes valid, with its line taken from its length."""
    result = decode_ocr(value)
    assert result.valid and result.errors == ()
    assert result.line == line
    assert result.body == value[2:]
    assert (result.cd1, result.cd2) == (int(value[0]), int(value[1]))
    assert result.fields == {"line": line, "cd1": int(value[0]), "cd2": int(value[1]), "body": value[2:]}


def test_surrounding_spaces_are_accepted_and_positions_count_them() -> None:
    """Spaces around the line are fine; positions count from the value as given."""
    assert decode_ocr(f"  {UPPER}\n").valid
    (error,) = decode_ocr("  2" + UPPER[1:]).errors
    assert (error.code, error.position, error.expected, error.found) == (ErrorCode.CHECK_DIGIT, 2, "1", "2")


@pytest.mark.parametrize(
    ("value", "bad"), [("3" + UPPER[1:], {0}), (UPPER[0] + "9" + UPPER[2:], {1}), ("99" + UPPER[2:], {0, 1})]
)
def test_bad_check_digits(value: str, bad: set[int]) -> None:
    """Each wrong check digit is its own CHECK_DIGIT error at its position."""
    result = decode_ocr(value)
    assert not result.valid
    assert {error.position for error in result.errors} == bad
    assert all(error.code == ErrorCode.CHECK_DIGIT for error in result.errors)


@pytest.mark.parametrize("value", ["", UPPER[:-1], UPPER + "0", LOWER + "0", "1" * 40])
def test_wrong_length(value: str) -> None:
    """Neither 39 nor 44 digits is a LENGTH error naming both lengths."""
    result = decode_ocr(value)
    assert [error.code for error in result.errors] == [ErrorCode.LENGTH]
    assert "39" in (result.errors[0].expected or "") and "44" in (result.errors[0].expected or "")
    assert result.line is None


@pytest.mark.parametrize(("index", "char"), [(5, "a"), (0, "x"), (38, "９")])
def test_non_digit(index: int, char: str) -> None:
    """A non-digit is a NOT_DIGIT error at its position, and no check digit is judged."""
    value = UPPER[:index] + char + UPPER[index + 1 :]
    result = decode_ocr(value)
    assert [(error.code, error.position) for error in result.errors] == [(ErrorCode.NOT_DIGIT, index)]


@pytest.mark.parametrize("body", ["", "12a", "１２"])
def test_check_digits_need_ascii_digits(body: str) -> None:
    """ocr_check_digits refuses anything but ASCII digits with ValueError."""
    with pytest.raises(ValueError):
        ocr_check_digits(body)


bodies = st.sampled_from([37, 42]).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n))


@given(bodies)
def test_round_trip(body: str) -> None:
    """decode(encode(body)) is valid and gives the body back."""
    result = decode_ocr(encode_ocr(body))
    assert result.valid and result.body == body


@given(bodies, st.integers(0, 43), st.integers(1, 9))
def test_single_changed_digit_is_always_detected(body: str, index: int, step: int) -> None:
    """The CD1/CD2 pair catches every single changed digit, check digits included."""
    line = encode_ocr(body)
    index %= len(line)
    changed = line[:index] + str((int(line[index]) + step) % 10) + line[index + 1 :]
    result = decode_ocr(changed)
    assert not result.valid
    assert {error.code for error in result.errors} == {ErrorCode.CHECK_DIGIT}


@given(st.text(max_size=50))
def test_never_raises(value: str) -> None:
    """Any text at all decodes to a result, never an exception."""
    assert decode_ocr(value).valid in (True, False)
