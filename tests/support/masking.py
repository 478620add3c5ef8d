"""An independent oracle for individual numbers in text: the rule of formats.checkdigits.find_my_numbers
found the slow, obvious way, for tests to check the finder and every text the gateway writes."""

from __future__ import annotations

#: what may stand between two groups of digits of one number
SEPARATORS = " \u00a0\u3000-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d\u30fc\uff70"


def _check_digit_ok(digits: str) -> bool:
    """The public rule, written out again: weights 2..7, 2..6 from the right of the body, mod 11."""
    weights = [2, 3, 4, 5, 6, 7, 2, 3, 4, 5, 6]
    remainder = sum(int(d) * w for d, w in zip(digits[10::-1], weights)) % 11
    return int(digits[11]) == (0 if remainder <= 1 else 11 - remainder)


def brute_force(text: str) -> list[str]:
    """Every valid number in ``text`` by the rule, found the slow, obvious way (ASCII digits out).

    Digests (a maximal token of ASCII letters and digits that is 64 hexadecimal
    characters) are blanked first. Then each digit (full-width ones normalised) is
    listed with its position; neighbours one position apart are one group, and groups
    whose digits stand exactly one separator apart are one run. A run of exactly 12
    digits, and a group of exactly 12 digits, is a candidate.
    """
    chars = list(text)
    i = 0
    while i < len(chars):
        j = i
        while j < len(chars) and chars[j].isascii() and chars[j].isalnum():
            j += 1
        if j - i == 64 and all(ch in "0123456789abcdefABCDEF" for ch in chars[i:j]):
            chars[i:j] = ["x"] * 64
        i = max(j, i + 1)
    digits = [
        (pos, str("0123456789０１２３４５６７８９".index(ch) % 10))
        for pos, ch in enumerate(chars)
        if ch in "0123456789０１２３４５６７８９"
    ]
    runs: list[list[tuple[int, str]]] = []
    groups: list[list[tuple[int, str]]] = []
    for pos, digit in digits:
        if runs and (pos == runs[-1][-1][0] + 1 or (pos == runs[-1][-1][0] + 2 and chars[pos - 1] in SEPARATORS)):
            runs[-1].append((pos, digit))
        else:
            runs.append([(pos, digit)])
        if groups and pos == groups[-1][-1][0] + 1:
            groups[-1].append((pos, digit))
        else:
            groups.append([(pos, digit)])
    candidates = {
        seq[0][0]: "".join(d for _, d in seq) for seq in runs + groups if len(seq) == 12
    }  # a run may be a group
    return [c for _, c in sorted(candidates.items()) if _check_digit_ok(c)]
