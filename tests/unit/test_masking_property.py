"""Finding individual numbers (個人番号) in any text: full-width digits, letters around them,
separators inside them — and leaving longer digit runs alone.

Every number here is invented: 11 chosen digits plus the check digit the public rule
gives them (:func:`number`); none is a real person's number.
"""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formats.checkdigits import (
    MY_NUMBER_MASK,
    MY_NUMBER_SEPARATORS,
    find_my_numbers,
    is_valid_my_number,
    mask_my_numbers,
    my_number_check_digit,
)
from tests.support.masking import SEPARATORS, brute_force

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def number(body11: str) -> str:
    """An invented individual number: the 11 digits given plus their check digit."""
    return body11 + str(my_number_check_digit(body11))


def wide(text: str) -> str:
    """``text`` with its ASCII digits written full-width."""
    return text.translate(FULL_WIDTH)


N = number("40000000001")  # 400000000017
M = number("12345678901")  # 123456789018
assert (N, M) == ("400000000017", "123456789018")
BAD = N[:11] + "8"  # wrong check digit


def test_separators_are_the_documented_ones() -> None:
    assert MY_NUMBER_SEPARATORS == frozenset(SEPARATORS)


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        (N, [N]),
        (wide(N), [wide(N)]),  # full-width
        (wide(N[:6]) + N[6:], [wide(N[:6]) + N[6:]]),  # mixed
        ("X" + N, [N]),  # touching a letter
        (N + "Z", [N]),
        ("ab" + N + "cd", [N]),
        ("ｱ" + wide(N) + "ﾃﾞｽ", [wide(N)]),  # touching half-width kana
        ("個人番号" + wide(N) + "です", [wide(N)]),
        ("MN" + M + ".dat", [M]),  # inside a file name
        ("linkage_" + M + "_v2.dat", [M]),  # underscores
        ("4000 0000 0017", ["4000 0000 0017"]),  # split by spaces
        ("4000-0000-0017", ["4000-0000-0017"]),  # split by hyphens
        ("４０００　００００　００１７", ["４０００　００００　００１７"]),  # ideographic space
        ("４０００－００００－００１７", ["４０００－００００－００１７"]),  # full-width hyphen-minus
        ("４０００ー００００ー００１７", ["４０００ー００００ー００１７"]),  # ー used as a hyphen
        ("4000ｰ0000ｰ0017", ["4000ｰ0000ｰ0017"]),  # half-width ｰ (全銀 kana)
        ("4000\u22120000\u20130017", ["4000\u22120000\u20130017"]),  # minus sign, en dash
        ("番号:4 0 0 0 0 0 0 0 0 0 1 7。", ["4 0 0 0 0 0 0 0 0 0 1 7"]),
        ("(" + N + ") [" + M + "]", [N, M]),
        (N + " " + M, [N, M]),  # two numbers one space apart
        ("番号 " + N + " 2件", [N]),  # a 12-digit group, a count after it
        ("1 " + N + " 4000 0000 0017", [N, "4000 0000 0017"]),  # what is left standing alone
    ],
)
def test_found(text: str, numbers: list[str]) -> None:
    """Each valid number is found, whatever its digits, neighbours and separators."""
    assert [text[start:end] for start, end in find_my_numbers(text)] == numbers
    masked = mask_my_numbers(text)
    assert masked.count(MY_NUMBER_MASK) == len(numbers)
    assert not find_my_numbers(masked) and not brute_force(masked)


@pytest.mark.parametrize(
    "text",
    [
        "0" + N,  # a 13-digit run
        N + "7",
        wide("0" + N),  # full-width, 13 digits
        "0" + wide(N),  # mixed, 13 digits
        "00000000" + N,  # a 20-digit customer number
        "0000 0000 4000 0000 0017",  # … written in groups
        "1 4000 0000 0017",  # a digit before the run, through a separator
        "4000-0000-0017-9",  # … and after it
        "2024-05-27 10:30 4000",  # digits that are not one run of 12
        BAD,  # a wrong check digit
        wide(BAD),
        "4000 0000 0018",
        "X" + BAD + ".dat",
        "4000  0000 0017",  # two separators do not join
        "4000--0000-0017",
        "4000,0000,0017",  # a comma is not a separator
        "4000_0000_0017",
        hashlib.sha256(b"x").hexdigest(),  # a digest
    ],
)
def test_left_alone(text: str) -> None:
    """Longer digit runs, wrong check digits and separated digits that are not one run stay as they are."""
    assert find_my_numbers(text) == []
    assert mask_my_numbers(text) == text


def test_a_digest_holding_a_valid_run_is_left_alone_but_not_what_touches_it() -> None:
    """The digits of a SHA-256 hex digest are no number; a number next to the digest still is."""
    digest = ("ab" + N + "cd").ljust(64, "0")
    assert mask_my_numbers(digest) == digest
    assert mask_my_numbers(f"sha256={digest} 番号 {wide(N)}") == f"sha256={digest} 番号 {MY_NUMBER_MASK}"
    assert mask_my_numbers("0" + digest[1:] + " 4000 0000 0017") == "0" + digest[1:] + " " + MY_NUMBER_MASK
    assert mask_my_numbers("Z" + digest) == "Zab" + MY_NUMBER_MASK + digest[14:]  # 65 characters: no digest


def test_masking_keeps_the_text_around() -> None:
    """Only the number's span (separators included) is replaced."""
    assert mask_my_numbers("MN" + M + ".dat") == f"MN{MY_NUMBER_MASK}.dat"
    assert mask_my_numbers("委託者 ４０００－００００－００１７ 様", "***") == "委託者 *** 様"


# -- property ------------------------------------------------------------------------------------

#: Characters that may touch a number: letters, kana, kanji, punctuation, an underscore — no digit, no separator.
NEIGHBOURS = "XZabfMN_.:/()[]「」ｱｲﾃﾞｽあ個番号\n\t,=+"
#: Random text around it: all of the above, digits of both widths and every separator.
NOISE = NEIGHBOURS + "0123456789０１２３４５６７８９" + SEPARATORS


@st.composite
def forms(draw: st.DrawFn) -> tuple[str, str]:
    """(a valid number in ASCII, the same number written in a random form: digit widths, separators)."""
    plain = number(draw(st.text("0123456789", min_size=11, max_size=11)))
    form = ""
    for index, digit in enumerate(plain):
        if index:
            form += draw(st.sampled_from(["", "", ""] + list(SEPARATORS)))
        form += wide(digit) if draw(st.booleans()) else digit
    return plain, form


@st.composite
def planted(draw: st.DrawFn) -> tuple[str, str, tuple[int, int]]:
    """(text, the planted number in ASCII, its span): a valid number in a random form in random text."""
    plain, form = draw(forms())
    # no neighbour at all (the number starts or ends the text), or a non-digit, non-separator one, then noise
    before = draw(st.just("") | st.tuples(st.text(NOISE, max_size=30), st.sampled_from(NEIGHBOURS)).map("".join))
    after = draw(st.just("") | st.tuples(st.sampled_from(NEIGHBOURS), st.text(NOISE, max_size=30)).map("".join))
    return before + form + after, plain, (len(before), len(before) + len(form))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(planted())
def test_property_no_number_survives_masking(case: tuple[str, str, tuple[int, int]]) -> None:
    """A valid number planted in any form is found; the masked text holds no valid number,
    by the finder and by the brute-force rule; text outside the numbers is kept."""
    text, plain, span = case
    assert is_valid_my_number(plain)
    assert span in find_my_numbers(text)
    assert plain in brute_force(text)
    masked = mask_my_numbers(text)
    assert find_my_numbers(masked) == []
    assert brute_force(masked) == []
    assert MY_NUMBER_MASK in masked


@st.composite
def crowded(draw: st.DrawFn) -> str:
    """Random text and valid numbers in random forms, each joined to the next by one random character
    (a separator too, so numbers and digits run into each other)."""
    pieces = draw(st.lists(st.text(NOISE, max_size=12) | forms().map(lambda case: case[1]), max_size=6))
    return "".join(piece + draw(st.sampled_from(NOISE)) for piece in pieces)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(crowded())
def test_property_finder_agrees_with_brute_force(text: str) -> None:
    """On random text (digits of both widths, separators, letters, kana, numbers running into each other)
    the finder finds what the brute force finds, and nothing either would find survives masking."""
    ascii_digits = str.maketrans("０１２３４５６７８９", "0123456789", SEPARATORS)
    found = Counter(text[start:end].translate(ascii_digits) for start, end in find_my_numbers(text))
    # everything the brute force sees is found; the finder may find more, what masking leaves standing alone
    assert Counter(brute_force(text)) <= found
    masked = mask_my_numbers(text)
    assert brute_force(masked) == [] and find_my_numbers(masked) == []
