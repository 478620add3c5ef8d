"""Check digits: the individual number (個人番号, "My Number").

The rule is public (番号法施行令, see ../shared/reference/payment-channels.md §5):
the 12th digit is a check digit over the first 11. Number the body's digits from the
RIGHT, P(1)…P(11), weight them Q(n) = n + 1 for n ≤ 6 and n − 5 for n ≥ 7, and take
r = Σ P(n)·Q(n) mod 11; the check digit is 0 when r ≤ 1, else 11 − r.

:func:`find_my_numbers` finds candidates in free text so that logs and reports can
hide them: a run of exactly 12 ASCII digits that is not part of a longer run of ASCII
letters or digits (so the digits inside a SHA-256 hex digest never match) and whose
check digit is right.

The second half is a registry of the check-digit families cities use on their own
numbers (納付書番号 and the like, payment-channels.md §3). Which family protects which
digits of a field is chosen per layout from configuration, as a :class:`CheckDigitRule`
(scheme name, 0-based span of the body digits, 0-based position of the check digit):

==============  ===========================================================================
``mod10-w31``   modulus 10, weights 3 and 1 from the RIGHT (rightmost body digit ×3, as in
                JAN/EAN and the 44-digit convenience-store barcode); CD = (10 − Σ mod 10) mod 10
``luhn``        modulus 10, weights 2 and 1 from the right (rightmost body digit ×2), the
                digits of each product added (分割, Luhn); CD = (10 − Σ mod 10) mod 10
``mod11-w2-7``  modulus 11, weights 2, 3, 4, 5, 6, 7, 2, 3 … from the right; CD = 11 − (Σ mod 11),
                where the two results that are not one digit both become 0: remainder 1 (→ 10)
                gives 0 and remainder 0 (→ 11) gives 0 (the common rule; some issuers differ)
``7dr``         7 check-digit remainder: the body read as a number, mod 7 (伝票番号 style)
``9dr``         9 check-digit remainder: the body read as a number, mod 9
==============  ===========================================================================
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = [
    "MY_NUMBER_MASK",
    "SCHEMES",
    "CheckDigitRule",
    "CheckDigitScheme",
    "find_my_numbers",
    "get_scheme",
    "is_valid_my_number",
    "mask_my_numbers",
    "mod10_w31",
    "my_number_check_digit",
]

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


#: What a standalone individual number inside a text becomes (logs, reports, the console).
MY_NUMBER_MASK = "[個人番号]"


def mask_my_numbers(text: str, replacement: str = MY_NUMBER_MASK) -> str:
    """``text`` with every span :func:`find_my_numbers` finds replaced by ``replacement``."""
    return _STANDALONE_12.sub(
        lambda match: replacement if is_valid_my_number(match.group()) else match.group(), text
    )


# --------------------------------------------------------------------------------------
# Check-digit families for configurable layouts (payment-channels.md §3).
# --------------------------------------------------------------------------------------


def _require_digits(body: str, scheme: str) -> None:
    if not body or not (body.isascii() and body.isdigit()):
        raise ValueError(f"{scheme}: expected a body of one or more ASCII digits, found {body!r}")


def mod10_w31(body: str) -> int:
    """Modulus 10 weights 3/1: the rightmost body digit weighs 3, then 1, 3, 1 … leftwards."""
    _require_digits(body, "mod10-w31")
    total = sum(int(digit) * (3 if index % 2 == 0 else 1) for index, digit in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def _luhn(body: str) -> int:
    _require_digits(body, "luhn")
    total = 0
    for index, digit in enumerate(reversed(body)):
        product = int(digit) * (2 if index % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def _mod11_w2_7(body: str) -> int:
    _require_digits(body, "mod11-w2-7")
    total = sum(int(digit) * (2 + index % 6) for index, digit in enumerate(reversed(body)))
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def _remainder(divisor: int, name: str) -> Callable[[str], int]:
    def compute(body: str) -> int:
        _require_digits(body, name)
        return int(body) % divisor

    return compute


@dataclass(frozen=True, slots=True)
class CheckDigitScheme:
    """One check-digit family: a name, a one-line description and how to compute the digit."""

    name: str
    description: str
    _digit: Callable[[str], int] = field(repr=False)

    def compute(self, body: str) -> str:
        """The check digit (one character) for ``body``; ValueError unless it is ASCII digits."""
        return str(self._digit(body))

    def verify(self, value: str, span: tuple[int, int], position: int) -> bool:
        """True when ``value[position]`` is the check digit of the body ``value[span[0]:span[1]]``.

        False, never an exception, when the value is too short or the body or the check
        digit is not ASCII digits.
        """
        start, end = span
        if not 0 <= start < end <= len(value) or not 0 <= position < len(value):
            return False
        body, found = value[start:end], value[position]
        if not (body.isascii() and body.isdigit() and found.isascii() and found.isdigit()):
            return False
        return self.compute(body) == found


#: Every known scheme by name. Read-only: a layout names one of these in its configuration.
SCHEMES: Mapping[str, CheckDigitScheme] = MappingProxyType(
    {
        scheme.name: scheme
        for scheme in (
            CheckDigitScheme("mod10-w31", "modulus 10, weights 3/1 from the right (JAN/EAN, コンビニ barcode)", mod10_w31),
            CheckDigitScheme("luhn", "modulus 10, weights 2/1 from the right, product digits added (Luhn)", _luhn),
            CheckDigitScheme(
                "mod11-w2-7", "modulus 11, weights 2–7 cycling from the right; remainders 0 and 1 give 0", _mod11_w2_7
            ),
            CheckDigitScheme("7dr", "7 check-digit remainder: body mod 7", _remainder(7, "7dr")),
            CheckDigitScheme("9dr", "9 check-digit remainder: body mod 9", _remainder(9, "9dr")),
        )
    }
)


def get_scheme(name: str) -> CheckDigitScheme:
    """The scheme called ``name``; ValueError listing the known names for any other name."""
    try:
        return SCHEMES[name]
    except KeyError:
        raise ValueError(f"unknown check-digit scheme {name!r}; known schemes: {', '.join(SCHEMES)}") from None


@dataclass(frozen=True, slots=True)
class CheckDigitRule:
    """Where a check digit sits in a field and which scheme computes it.

    ``span`` is the 0-based ``(start, end)`` slice of the body digits within the field
    value and ``position`` the 0-based index of the check digit; the position may not
    lie inside the span. An unknown scheme or an impossible span is a ValueError when
    the rule is made (that is, when the configuration is loaded), not when data is read.
    """

    scheme: str
    span: tuple[int, int]
    position: int

    def __post_init__(self) -> None:
        get_scheme(self.scheme)
        start, end = self.span
        if not 0 <= start < end:
            raise ValueError(f"check-digit span must be 0 <= start < end, found {self.span}")
        if self.position < 0:
            raise ValueError(f"check-digit position must be 0 or more, found {self.position}")
        if start <= self.position < end:
            raise ValueError(f"check-digit position {self.position} lies inside the body span {self.span}")

    def check(self, value: str) -> bool:
        """True when ``value`` carries the right check digit at :attr:`position`."""
        return get_scheme(self.scheme).verify(value, self.span, self.position)

    def expected(self, value: str) -> str | None:
        """The check digit the body of ``value`` calls for, or None when the body is unreadable."""
        start, end = self.span
        body = value[start:end]
        if len(body) != end - start or not (body.isascii() and body.isdigit()):
            return None
        return get_scheme(self.scheme).compute(body)

    def message(self, value: str) -> str:
        """What an operator reads when :meth:`check` fails: expected, found, where, which scheme."""
        start, end = self.span
        where = f"digits {start}–{end - 1} (0-based) with the check digit at {self.position}"
        expected = self.expected(value)
        found = value[self.position] if 0 <= self.position < len(value) else None
        if expected is None:
            return (f"check digit ({self.scheme}) cannot be computed: expected ASCII digits at {where}, "
                    f"found {value[start:end]!r}")
        if found is None:
            return f"check digit ({self.scheme}) missing: the value is {len(value)} characters long, {where}"
        return f"check digit ({self.scheme}) over {where}: expected {expected}, found {found!r}"
