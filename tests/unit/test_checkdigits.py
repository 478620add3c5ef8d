"""Individual-number (個人番号) check digit and finding numbers in text.

Every number here is invented and built from the public rule (payment-channels.md §5);
none is a real person's number.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from formats.checkdigits import (
    find_my_numbers,
    is_valid_my_number,
    mask_my_numbers,
    my_number_check_digit,
    my_number_check_digits,
)
from formats.layouts.micjet import MyNumberCheckDigit

# Body 31415926535, digits P(n) counted from the right and weights Q(n):
#   n     1  2  3  4  5  6  7  8  9 10 11
#   P(n)  5  3  5  6  2  9  5  1  4  1  3
#   Q(n)  2  3  4  5  6  7  2  3  4  5  6
#   P·Q  10  9 20 30 12 63 10  3 16  5 18   Σ = 196
# 196 mod 11 = 9 (> 1), so the check digit is 11 − 9 = 2: 314159265352.
VALID = "314159265352"
# Body 27182818284: Σ = 8+24+8+40+6+56+4+24+4+35+12 = 221, 221 mod 11 = 1 (≤ 1) → check digit 0.
VALID_R1 = "271828182840"
# Body of zeros: Σ = 0, r = 0 → check digit 0.
VALID_R0 = "000000000000"
WRONG_CHECK = "314159265353"


@pytest.mark.parametrize(
    ("body", "digit"),
    [("31415926535", 2), ("27182818284", 0), ("00000000000", 0), ("40000000001", 7)],
)
def test_check_digit(body: str, digit: int) -> None:
    """The check digit follows the weights 2..7, 2..6 from the right, mod 11."""
    assert my_number_check_digit(body) == digit


@pytest.mark.parametrize("body", ["", "1234567890", "123456789012", "1234567890a", "１２３４５６７８９０１"])
def test_check_digit_needs_eleven_ascii_digits(body: str) -> None:
    """Anything but 11 ASCII digits is a ValueError, not a silent answer."""
    with pytest.raises(ValueError):
        my_number_check_digit(body)


@pytest.mark.parametrize("value", [VALID, VALID_R1, VALID_R0])
def test_valid_numbers(value: str) -> None:
    """Numbers built from the rule are valid."""
    assert is_valid_my_number(value)


@pytest.mark.parametrize(
    "value",
    [WRONG_CHECK, VALID[:11], VALID + "0", " " + VALID, "３１４１５９２６５３５２", "31415926535x", ""],
)
def test_invalid_numbers(value: str) -> None:
    """A wrong check digit, a wrong length, spaces or full-width digits are not valid."""
    assert not is_valid_my_number(value)


def test_find_standalone_numbers() -> None:
    """Standalone valid 12-digit runs are found with their spans; others are not."""
    text = f"番号 {VALID}、誤り {WRONG_CHECK}、({VALID_R1})"
    spans = find_my_numbers(text)
    assert [text[start:end] for start, end in spans] == [VALID, VALID_R1]
    assert spans[0] == (text.index(VALID), text.index(VALID) + 12)


@pytest.mark.parametrize(
    "text",
    [
        "0" + VALID,  # part of a 13-digit run
        VALID + "7",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  # a SHA-256
    ],
)
def test_not_standalone(text: str) -> None:
    """Digits inside a longer run of digits, or inside a SHA-256 hex digest, are not individual numbers."""
    assert find_my_numbers(text) == []


@pytest.mark.parametrize("text", ["x" + VALID, VALID + "Z", "ab" + VALID + "cd"])
def test_letters_do_not_hide_a_number(text: str) -> None:
    """A number touching ASCII letters is still found (it used to escape the mask)."""
    assert [text[start:end] for start, end in find_my_numbers(text)] == [VALID]


def test_sha256_of_digits_around_a_valid_number() -> None:
    """A hex digest that contains a valid 12-digit run between hex letters is left alone."""
    digest = ("ab" + VALID + "cd").ljust(64, "0")
    assert find_my_numbers(digest) == []
    assert mask_my_numbers(digest) == digest


def test_non_ascii_neighbours_do_not_join() -> None:
    """Japanese text, punctuation and line ends around the number do not hide it."""
    for text in (f"個人番号{VALID}です", f"{VALID}\n", f"-{VALID}-", f"：{VALID}"):
        assert len(find_my_numbers(text)) == 1


def test_mask_my_numbers() -> None:
    """Valid numbers are replaced; a wrong check digit is left as it is."""
    assert mask_my_numbers(f"a {VALID} b {WRONG_CHECK}") == f"a [個人番号] b {WRONG_CHECK}"
    assert mask_my_numbers(VALID, "***") == "***"


_bodies = st.text(alphabet="0123456789", min_size=11, max_size=11)


@given(_bodies)
def test_property_computed_check_digit_is_valid(body: str) -> None:
    """Any 11 digits plus their computed check digit make a valid number."""
    number = body + str(my_number_check_digit(body))
    assert is_valid_my_number(number)
    assert find_my_numbers(f"[{number}]") == [(1, 13)]


def _remainder(body: str) -> int:
    """r = Σ P(n)·Q(n) mod 11, written out independently of the module under test."""
    weights = [2, 3, 4, 5, 6, 7, 2, 3, 4, 5, 6]  # Q(1)..Q(11), P(1) being the rightmost digit
    return sum(int(d) * q for d, q in zip(body[::-1], weights)) % 11


def test_blind_spot_of_the_rule() -> None:
    """r = 0 and r = 1 both give check digit 0, so a change between them goes unnoticed.

    45537211591 has r = 1 and 45237211591 has r = 0 (the third digit from the left
    changes by 3, its weight Q(9) = 4 moves Σ by 12 ≡ 1); both end in 0 and both are
    valid. This is the rule as published, not a bug here.
    """
    assert (_remainder("45537211591"), _remainder("45237211591")) == (1, 0)
    assert is_valid_my_number("455372115910") and is_valid_my_number("452372115910")


@given(_bodies, st.integers(min_value=0, max_value=11), st.integers(min_value=1, max_value=9))
def test_property_single_digit_change_is_invalid(body: str, position: int, shift: int) -> None:
    """Changing any one digit makes the number invalid, except between bodies with r = 0 and r = 1.

    A changed body digit always moves r (11 is prime and no weight or difference is a
    multiple of it), but r = 0 and r = 1 share check digit 0: that is the one case the
    rule cannot see, and the only one where the altered number stays valid.
    """
    number = body + str(my_number_check_digit(body))
    changed = str((int(number[position]) + shift) % 10)
    altered = number[:position] + changed + number[position + 1 :]
    assert altered != number
    blind_spot = position < 11 and {_remainder(body), _remainder(altered[:11])} == {0, 1}
    assert is_valid_my_number(altered) is blind_spot


def test_scalar_and_vector_check_digits_agree() -> None:
    """The fast path's check digits (my_number_check_digits, used by the MIC-JET layout's rule) are
    my_number_check_digit's for 5,000 random bodies, and the rule's vector_ok accepts exactly the
    numbers is_valid_my_number accepts."""
    rng = np.random.default_rng(20260528)
    bodies = rng.integers(0, 10, size=(5000, 11), dtype=np.int64)
    texts = ["".join(map(str, row)) for row in bodies.tolist()]
    assert my_number_check_digits(bodies).tolist() == [my_number_check_digit(text) for text in texts]

    found = rng.integers(0, 10, size=5000)  # a random last digit: about one in ten right
    numbers = [text + str(digit) for text, digit in zip(texts, found.tolist(), strict=True)]
    cols = np.frombuffer("".join(numbers).encode("ascii"), dtype=np.uint8).reshape(-1, 12)
    ok = MyNumberCheckDigit().vector_ok(None, lambda name: cols)  # type: ignore[arg-type]
    assert ok.tolist() == [is_valid_my_number(number) for number in numbers]
    assert 300 < int(ok.sum()) < 700
