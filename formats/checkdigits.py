"""Check digits: the individual number (個人番号, "My Number").

The rule is public (番号法施行令, see ../shared/reference/payment-channels.md §5):
the 12th digit is a check digit over the first 11. Number the body's digits from the
RIGHT, P(1)…P(11), weight them Q(n) = n + 1 for n ≤ 6 and n − 5 for n ≥ 7, and take
r = Σ P(n)·Q(n) mod 11; the check digit is 0 when r ≤ 1, else 11 − r.

:func:`find_my_numbers` finds individual numbers in free text so that logs, reports,
the console and the command line can hide them (:func:`mask_my_numbers`). The rule:

- A *digit* is an ASCII digit ``0-9`` or a full-width one ``０-９`` (U+FF10–FF19), mixed
  freely. A *separator* is ONE of :data:`MY_NUMBER_SEPARATORS`: a space (ASCII, no-break
  U+00A0 or ideographic U+3000) or a hyphen or dash (``-``, U+2010–2015, U+2212 minus,
  U+FF0D full-width hyphen-minus, U+30FC ー and U+FF70 ｰ, which Japanese text and 全銀
  half-width kana use as a hyphen).
- A *run* is a maximal sequence of digits in which each two neighbouring digits touch
  or stand one separator apart (``4000 0000 0017``, ``４０００－００００－００１７``). A
  *group* is a maximal sequence of touching digits inside a run.
- A candidate is (a) a run of exactly 12 digits, or (b) a group of exactly 12 digits,
  also when other digits follow or precede it through a separator
  (``400000000017 400000000017``, ``番号 400000000017 2件``: both are masked, as before).
  A run of 13 or more digits whose groups are all shorter than 12 (a 20-digit customer
  number written ``0000 0000 4000 0000 0017``), and any group of 13 or more digits (a
  customer number, an amount, a record) is NOT an individual number and is left
  untouched, so reports of ordinary bank data are not mangled.
- Anything else may touch a candidate: letters, kana, punctuation, underscores
  (``X400000000017``, ``MN123456789018.dat``, ``ｱ４０００００００００１７``).
- A candidate is an individual number when its 12 digits, as ASCII, pass
  :func:`is_valid_my_number`; only then is its span (first digit to last digit,
  separators included) reported and masked.
- Masking a 12-digit group out of a longer run can leave a run of exactly 12 digits
  standing alone (``1 400000000017 4000 0000 0017``): that run is found and masked too,
  so a masked text never holds a number by this rule.
- One exception: the digits of a SHA-256 hex digest (exactly 64 ASCII hexadecimal
  characters touching no other ASCII letter or digit, as the gateway prints every
  file's digest) are never part of a candidate; about one digest in 350 would
  otherwise hold a 12-digit run that passes the check and be corrupted in the ledger,
  the reports and the audit log.

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
from functools import cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "MY_NUMBER",
    "MY_NUMBER_MASK",
    "MY_NUMBER_SEPARATORS",
    "SCHEMES",
    "VECTOR_SCHEMES",
    "CheckDigitRule",
    "CheckDigitScheme",
    "MaskedTexts",
    "WeightedSum",
    "find_my_numbers",
    "get_scheme",
    "is_valid_my_number",
    "mask_my_numbers",
    "mask_my_numbers_in",
    "mod10_w31",
    "my_number_check_digit",
    "my_number_check_digits",
]

#: What may stand (once) between two digits of one individual number: spaces (ASCII,
#: no-break, ideographic) and hyphens or dashes (ASCII, U+2010–2015, minus, full-width,
#: ー and half-width ｰ used as a hyphen).
MY_NUMBER_SEPARATORS = frozenset(" \u00a0\u3000-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d\u30fc\uff70")

_DIGIT = "[0-9\uff10-\uff19]"
_SEPARATOR = "[" + "".join(re.escape(ch) for ch in sorted(MY_NUMBER_SEPARATORS)) + "]"
#: A candidate (module docstring). It starts with a digit that no digit precedes (the
#: leading digit lets the regex engine skip to digits quickly); then either (a) the run
#: is exactly 12 digits, one separator apart at most, with no digit before or after it,
#: directly or through one separator, or (b) the group is exactly 12 touching digits.
_CANDIDATE = re.compile(
    f"{_DIGIT}(?<!{_DIGIT}{_DIGIT})"
    f"(?:(?<!{_DIGIT}{_SEPARATOR}{_DIGIT})(?:{_SEPARATOR}?{_DIGIT}){{11}}(?!{_SEPARATOR}?{_DIGIT})"
    f"|(?P<group>{_DIGIT}{{11}})(?!{_DIGIT}))"
)
#: A SHA-256 hex digest, whose digits are never an individual number; the prefilter is cheaper.
_HEX_DIGEST = re.compile(r"(?<![0-9A-Za-z])[0-9A-Fa-f]{64}(?![0-9A-Za-z])")
_HEX_64 = re.compile(r"[0-9A-Fa-f]{64}")
#: Full-width digits to ASCII, separators dropped: a candidate's 12 digits as ASCII.
_AS_ASCII = str.maketrans({**{chr(0xFF10 + n): str(n) for n in range(10)}, **dict.fromkeys(MY_NUMBER_SEPARATORS)})

# The quick test (:func:`_may_hold_number`) works on the text's UTF-8 bytes, where bytes.translate,
# count, replace and ``in`` run in C over the whole text at once.
_ASCII_DIGITS = b"0123456789"
_WIDE_DIGITS_UTF8 = tuple(chr(0xFF10 + n).encode() for n in range(10))
_WIDE_SEPARATORS_UTF8 = tuple(sorted(ch.encode() for ch in MY_NUMBER_SEPARATORS if not ch.isascii()))
_ASCII_SEPARATORS = bytes(sorted(ord(ch) for ch in MY_NUMBER_SEPARATORS if ch.isascii()))
#: The lead bytes of every non-ASCII digit and separator (U+0080-00BF, U+2000-3FFF, U+F000-FFFF).
_WILD_LEADS = frozenset(ch.encode()[0] for ch in [*MY_NUMBER_SEPARATORS, chr(0xFF10)] if not ch.isascii())
assert _WILD_LEADS == {0xC2, 0xE2, 0xE3, 0xEF}
_CONTINUATION_BYTES = bytes(range(0x80, 0xC0))
#: A byte's class: an ASCII digit ``0``, an ASCII separator ``-``, any other ASCII byte a space; the
#: lead byte of a character that may be a non-ASCII digit or separator ``0`` (as if a digit, which
#: joins more than a separator does), of any other character a space.
_CLASSES = bytes(
    ord("0") if byte in _ASCII_DIGITS or byte in _WILD_LEADS else ord("-") if byte in _ASCII_SEPARATORS else ord(" ")
    for byte in range(256)
)
#: The same for a text whose non-ASCII digits and separators are already ``0`` and ``-``: any other
#: byte of a character outside ASCII is a space.
_EXACT_CLASSES = bytes(
    ord("0") if byte in _ASCII_DIGITS else ord("-") if byte in _ASCII_SEPARATORS else ord(" ") for byte in range(256)
)
_TWELVE = b"0" * 12


@cache
def _term_tables(scheme: WeightedSum, length: int) -> tuple[tuple[int, ...], ...]:
    """For each position of a body of ``length`` digits: the term (``_term(digit × weight)``) of
    each ASCII digit byte, indexed by the byte (other bytes: 0, never looked up)."""
    return tuple(
        tuple(scheme._term((byte - 0x30) * weight) if 0x30 <= byte <= 0x39 else 0 for byte in range(256))
        for weight in scheme.weights(length)
    )


@dataclass(frozen=True, slots=True)
class WeightedSum:
    """A check digit from a weighted sum: the body's digits times weights cycling from the RIGHT
    (the rightmost digit takes ``cycle[0]``, the next ``cycle[1]`` …), each product's digits
    added when ``add_product_digits`` (Luhn), and CD = modulus − (Σ mod modulus), where a
    result that is not one digit (10, 11) is 0. One rule for one body (:meth:`compute`) and
    for a block of bodies in numpy (:meth:`compute_block`, the fast path)."""

    cycle: tuple[int, ...]
    modulus: int
    add_product_digits: bool = False

    def weights(self, length: int) -> tuple[int, ...]:
        """The weights of a body of ``length`` digits, left to right."""
        return tuple(self.cycle[(length - 1 - index) % len(self.cycle)] for index in range(length))

    # The arithmetic below is the same for ints and numpy arrays.
    def _term(self, product: Any) -> Any:
        return product // 10 + product % 10 if self.add_product_digits else product

    def _digit(self, total: Any) -> Any:
        return (self.modulus - total % self.modulus) % self.modulus % 10

    def compute(self, body: str) -> int:
        """The check digit of ``body`` (ASCII digits, not checked here)."""
        if body.isascii() and body.isdigit():  # each position's term of each digit byte, looked up
            total = sum(map(tuple.__getitem__, _term_tables(self, len(body)), body.encode("ascii")))
        else:
            total = sum(
                self._term(int(digit) * weight) for digit, weight in zip(body, self.weights(len(body)), strict=True)
            )
        check: int = self._digit(total)
        return check

    def compute_block(self, bodies: np.ndarray) -> np.ndarray:
        """The check digit of each row of ``bodies`` (digits as int64, shape (n, length))."""
        digits: np.ndarray = self._digit(self._term(bodies * self.weights(bodies.shape[1])).sum(axis=1))
        return digits


MOD10_W31 = WeightedSum((3, 1), 10)
LUHN = WeightedSum((2, 1), 10, add_product_digits=True)
MOD11_W2_7 = WeightedSum((2, 3, 4, 5, 6, 7), 11)
#: The individual number's rule is mod11-w2-7 over its 11-digit body: Q(n) = n + 1 for n ≤ 6 and
#: n − 5 for n ≥ 7 are the weights 2, 3 … 7, 2, 3 … 6 from the right, and r ≤ 1 gives 0, else 11 − r.
MY_NUMBER = MOD11_W2_7


def _ascii_digits(value: str, length: int) -> bool:
    return len(value) == length and value.isascii() and value.isdigit()


def my_number_check_digit(body11: str) -> int:
    """The check digit for an 11-digit body; ValueError unless it is exactly 11 ASCII digits."""
    if not _ascii_digits(body11, 11):
        raise ValueError(f"expected 11 ASCII digits for an individual-number body, found {len(body11)} characters")
    return MY_NUMBER.compute(body11)


def my_number_check_digits(bodies: np.ndarray) -> np.ndarray:
    """:func:`my_number_check_digit` of each row of ``bodies`` (digits as int64, shape (n, 11)), for the fast path."""
    return MY_NUMBER.compute_block(bodies)


def is_valid_my_number(value: str) -> bool:
    """True when ``value`` is exactly 12 ASCII digits and its last digit is the check digit."""
    if not _ascii_digits(value, 12):
        return False
    return my_number_check_digit(value[:11]) == int(value[11])


def _may_hold_number(text: str) -> bool:
    """False only when ``text`` holds no 12 digits in one run (module docstring: ASCII or full-width
    digits, each two neighbours touching or one separator apart), so that no candidate, and no
    individual number, can be in it; True otherwise. A quick test before :func:`find_my_numbers`'
    regular expression: most texts of a report hold no number, many fewer than 12 digits.

    Each character is reduced to its class: ``0`` (a digit), ``-`` (a separator) or a space
    (anything else); two separators or more in a row then become at least one space (``--`` → a
    space, left to right) and the single separators left are dropped, so that what stays joined
    is exactly the runs: a run of 12 digits or more is a ``0`` × 12. A text with other than ASCII
    is first counted (fewer than 12 digits, ASCII or U+FF00-FF3F, is no number), then reduced
    coarsely (any character that may be a digit or a separator, all of kana among them, as a
    digit), and only when that finds 12 reduced exactly."""
    data = text.encode("utf-8", "surrogatepass")  # a lone surrogate is three bytes, none of them a digit
    if text.isascii():
        return _TWELVE in data.translate(_CLASSES).replace(b"--", b" ").replace(b"-", b"")
    wide = data.count(b"\xef\xbc")  # U+FF00-FF3F: the full-width digits, and more (an upper bound)
    if len(data) - len(data.translate(None, _ASCII_DIGITS)) + wide < 12:
        return False
    # one class byte per character: its lead byte's (UTF-8 is self-synchronising), continuation bytes dropped
    coarse = data.translate(_CLASSES, _CONTINUATION_BYTES).replace(b"--", b" ").replace(b"-", b"")
    if _TWELVE not in coarse:
        return False
    if wide:
        for digit in _WIDE_DIGITS_UTF8:
            data = data.replace(digit, b"0")
    for separator in _WIDE_SEPARATORS_UTF8:  # never a false match across characters (self-synchronising)
        data = data.replace(separator, b"-")
    # what is left of other than ASCII: its lead byte as a digit (wild) is too much here, it is nothing
    return _TWELVE in data.translate(_EXACT_CLASSES).replace(b"--", b" ").replace(b"-", b"")


def find_my_numbers(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` spans, in order, of the individual numbers in ``text``.

    The rule is the module docstring's: ASCII or full-width digits, mixed; (a) a run of
    exactly 12 digits, each two neighbours touching or one separator (space, hyphen)
    apart, with no other digit before or after it, directly or through one separator
    (``4000-0000-0017``), or (b) a group of exactly 12 touching digits (also when more
    digits follow through a separator); a run of 13 or more digits with no 12-digit
    group, and any longer group (a 20-digit customer number, an amount), is left alone;
    letters, kana, punctuation and underscores may touch it (``X400000000017``,
    ``MN123456789018.dat``); its 12 digits must pass :func:`is_valid_my_number`; the
    digits of a SHA-256 hex digest are never part of one. A span runs from the first
    digit to the last, separators included. The spans are those of the text as it
    reads once the others are masked: a group masked out of a longer run may leave a
    run of exactly 12 digits standing alone, and that one is found too, so that a
    masked text never holds a number this function would find.
    """
    if len(text) < 12 or not _may_hold_number(text):
        return []  # the audit log masks every string it writes: the short ones cost nothing
    return _find_candidates(text)


def _find_candidates(text: str) -> list[tuple[int, int]]:
    """:func:`find_my_numbers` without its quick test (:func:`_may_hold_number`): the regular expression."""
    scan = text
    if len(text) >= 64 and _HEX_64.search(text) is not None:
        scan = _HEX_DIGEST.sub(lambda digest: "x" * 64, text)  # same length: the spans stay right
    spans: list[tuple[int, int]] = []
    while True:
        found = [match for match in _CANDIDATE.finditer(scan) if is_valid_my_number(match.group().translate(_AS_ASCII))]
        if not found:
            return sorted(spans)
        spans += [match.span() for match in found]
        if all(match.start("group") < 0 for match in found):
            return sorted(spans)
        # A 12-digit group masked out of a longer run can leave a run of exactly 12 digits
        # on its own ("1 400000000017 4000 0000 0017"): look again with the numbers blanked.
        for match in found:
            start, end = match.span()
            scan = scan[:start] + "x" * (end - start) + scan[end:]


#: What an individual number inside a text becomes (logs, reports, the console, the command line).
MY_NUMBER_MASK = "[個人番号]"


def mask_my_numbers(text: str, replacement: str = MY_NUMBER_MASK) -> str:
    """``text`` with every span :func:`find_my_numbers` finds replaced by ``replacement``."""
    spans = find_my_numbers(text)
    if not spans:
        return text
    parts: list[str] = []
    last = 0
    for start, end in spans:
        parts += (text[last:start], replacement)
        last = end
    parts.append(text[last:])
    return "".join(parts)


class MaskedTexts(dict[str, str]):
    """Texts and the same texts through :func:`mask_my_numbers`, each masked the first time it is
    looked up (``masked[text]``): a report's keys, codes and messages repeat, each is masked once.
    Look up ``str`` itself only: a subclass (a ``StrEnum``) equals its value and would get the
    text masked for another object."""

    def __init__(self, replacement: str = MY_NUMBER_MASK) -> None:
        super().__init__()
        self.replacement = replacement

    def __missing__(self, text: str) -> str:
        masked = mask_my_numbers(text, self.replacement)
        self[text] = masked
        return masked


def mask_my_numbers_in(value: Any, replacement: str = MY_NUMBER_MASK, *, memo: MaskedTexts | None = None) -> Any:
    """``value`` with :func:`mask_my_numbers` applied to every string in it: a string, or the
    keys and values of dicts and the items of lists and tuples, at any depth (for JSON output).
    Anything else (numbers, None, booleans) is returned as it is. Each distinct string is masked
    once (``memo``: given, it is used and filled, and must have been made for ``replacement``)."""
    if memo is None:
        memo = MaskedTexts(replacement)
    elif memo.replacement != replacement:
        raise ValueError("the memo masks with another replacement")
    return _mask_in(value, memo)


#: Values mask_my_numbers_in returns as they are (the types themselves, not subclasses).
_AS_IS = frozenset({int, float, bool, type(None)})


def _mask_in(value: Any, memo: MaskedTexts) -> Any:
    if type(value) is str:
        return memo[value]
    if isinstance(value, str):
        return mask_my_numbers(value, memo.replacement)
    if isinstance(value, dict):
        return {
            (memo[key] if type(key) is str else _mask_in(key, memo)): (
                memo[item] if type(item) is str else item if type(item) in _AS_IS else _mask_in(item, memo)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [memo[item] if type(item) is str else _mask_in(item, memo) for item in value]
    if isinstance(value, tuple):
        return tuple(memo[item] if type(item) is str else _mask_in(item, memo) for item in value)
    return value


# --------------------------------------------------------------------------------------
# Check-digit families for configurable layouts (payment-channels.md §3).
# --------------------------------------------------------------------------------------


def _require_digits(body: str, scheme: str) -> None:
    if not body or not (body.isascii() and body.isdigit()):
        raise ValueError(f"{scheme}: expected a body of one or more ASCII digits, found {body!r}")


def mod10_w31(body: str) -> int:
    """Modulus 10 weights 3/1: the rightmost body digit weighs 3, then 1, 3, 1 … leftwards."""
    _require_digits(body, "mod10-w31")
    return MOD10_W31.compute(body)


def _luhn(body: str) -> int:
    _require_digits(body, "luhn")
    return LUHN.compute(body)


def _mod11_w2_7(body: str) -> int:
    _require_digits(body, "mod11-w2-7")
    return MOD11_W2_7.compute(body)


def _remainder(divisor: int, name: str) -> Callable[[str], int]:
    def compute(body: str) -> int:
        _require_digits(body, name)
        return int(body) % divisor

    return compute


def _remainder_block(divisor: int) -> Callable[[np.ndarray], np.ndarray]:
    def compute(bodies: np.ndarray) -> np.ndarray:
        remainder = bodies[:, 0] % divisor
        for column in bodies.T[1:]:  # Horner, mod divisor at every step: no overflow on long bodies
            remainder = (remainder * 10 + column) % divisor
        return remainder

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
            CheckDigitScheme(
                "mod10-w31", "modulus 10, weights 3/1 from the right (JAN/EAN, コンビニ barcode)", mod10_w31
            ),
            CheckDigitScheme("luhn", "modulus 10, weights 2/1 from the right, product digits added (Luhn)", _luhn),
            CheckDigitScheme(
                "mod11-w2-7", "modulus 11, weights 2–7 cycling from the right; remainders 0 and 1 give 0", _mod11_w2_7
            ),
            CheckDigitScheme("7dr", "7 check-digit remainder: body mod 7", _remainder(7, "7dr")),
            CheckDigitScheme("9dr", "9 check-digit remainder: body mod 9", _remainder(9, "9dr")),
        )
    }
)


#: Check digits over a block of bodies (digits as int64, shape (n, length)) for the fast
#: path; each gives what ``SCHEMES[name].compute`` gives for one body.
VECTOR_SCHEMES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "mod10-w31": MOD10_W31.compute_block,
    "luhn": LUHN.compute_block,
    "mod11-w2-7": MOD11_W2_7.compute_block,
    "7dr": _remainder_block(7),
    "9dr": _remainder_block(9),
}


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
            return (
                f"check digit ({self.scheme}) cannot be computed: expected ASCII digits at {where}, "
                f"found {value[start:end]!r}"
            )
        if found is None:
            return f"check digit ({self.scheme}) missing: the value is {len(value)} characters long, {where}"
        return f"check digit ({self.scheme}) over {where}: expected {expected}, found {found!r}"
