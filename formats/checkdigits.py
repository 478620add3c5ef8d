"""Check digits: the individual number (個人番号, "My Number").

The rule is public (番号法施行令, see ../shared/reference/payment-channels.md §5):
the 12th digit is a check digit over the first 11. Number the body's digits from the
RIGHT, P(1)…P(11), weight them Q(n) = n + 1 for n ≤ 6 and n − 5 for n ≥ 7, and take
r = Σ P(n)·Q(n) mod 11; the check digit is 0 when r ≤ 1, else 11 − r.

:func:`find_my_numbers` finds candidates in free text so that logs and reports can
hide them: a run of exactly 12 ASCII digits that is not part of a longer run of ASCII
letters or digits (so the digits inside a SHA-256 hex digest never match) and whose
check digit is right.
"""

from __future__ import annotations

import re

__all__ = ["find_my_numbers", "is_valid_my_number", "mask_my_numbers", "my_number_check_digit"]

#: A run of exactly 12 ASCII digits, not touching another ASCII letter or digit.
_STANDALONE_12 = re.compile(r"(?<![0-9A-Za-z])[0-9]{12}(?![0-9A-Za-z])")

#: Weights Q(n) for n = 1..11, counting from the right of the body.
_WEIGHTS = tuple(n + 1 if n <= 6 else n - 5 for n in range(1, 12))


def _ascii_digits(value: str, length: int) -> bool:
    return len(value) == length and value.isascii() and value.isdigit()


def my_number_check_digit(body11: str) -> int:
    """The check digit for an 11-digit body; ValueError unless it is exactly 11 ASCII digits."""
    if not _ascii_digits(body11, 11):
        raise ValueError(f"expected 11 ASCII digits for an individual-number body, found {len(body11)} characters")
    total = sum(int(digit) * weight for digit, weight in zip(reversed(body11), _WEIGHTS))
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def is_valid_my_number(value: str) -> bool:
    """True when ``value`` is exactly 12 ASCII digits and its last digit is the check digit."""
    if not _ascii_digits(value, 12):
        return False
    return my_number_check_digit(value[:11]) == int(value[11])


def find_my_numbers(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` spans of the standalone 12-digit runs in ``text`` that pass the check."""
    return [match.span() for match in _STANDALONE_12.finditer(text) if is_valid_my_number(match.group())]


def mask_my_numbers(text: str, replacement: str = "[個人番号]") -> str:
    """``text`` with every span :func:`find_my_numbers` finds replaced by ``replacement``."""
    return _STANDALONE_12.sub(
        lambda match: replacement if is_valid_my_number(match.group()) else match.group(), text
    )
