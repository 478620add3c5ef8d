"""OCR lines of 払込取扱票-style slips: two check digits in front of the body.

The upper line is 39 digits (CD1 CD2 + 37-digit body), the lower line 44 digits
(CD1 CD2 + 42-digit body); which line a value is follows from its length. The check
digits over the body d[0..n−1], indexed from the left (payment-channels.md §3):

- CD2 = (Σ even i of d[i]·w2 + Σ odd i of d[i]) mod 10, where w2 runs 9, 8, … 2, 9, 8 …
  and advances on even positions only;
- CD1 = (Σ even i of d[i] + Σ odd i of d[i]·w1 + 2·CD2) mod 11, a result of 10 written 0,
  where w1 runs 3, 4, … 9, 2, 3 … and advances on odd positions only.

The same pair protects both halves of the MPN data inside an eL-QR (:mod:`formats.codecs.elqr`).
The pair catches every single changed digit: an odd position changes CD2 (weight 1); an
even position whose change CD2 misses (a change of 5 under an even weight) changes the
weight-1 term of CD1 by 5 mod 11, which never maps to the same digit.
:func:`decode_ocr` never raises for bad input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from formats.codecs._common import CodecIssue, ErrorCode, FieldValue, ascii_digits, result_dict

__all__ = ["OCR_LABELS", "OCR_LINE_LENGTHS", "OcrResult", "decode_ocr", "encode_ocr", "ocr_check_digits", "pair_errors"]

Line = Literal["upper", "lower"]

#: Total length (check digits included) of each line.
OCR_LINE_LENGTHS: dict[Line, int] = {"upper": 39, "lower": 44}

OCR_LABELS: dict[str, str] = {
    "line": "段 (上段/下段)",
    "cd1": "チェックデジット1",
    "cd2": "チェックデジット2",
    "body": "OCR本体",
}


def ocr_check_digits(body: str) -> tuple[int, int]:
    """``(CD1, CD2)`` for a body of ASCII digits (37 or 42 on a slip; any length computes)."""
    if not ascii_digits(body):
        raise ValueError(f"expected a body of ASCII digits, found {body!r}")
    sum2 = sum1 = 0
    w2, w1 = 9, 3
    for index, char in enumerate(body):
        digit = int(char)
        if index % 2 == 0:
            sum2 += digit * w2
            sum1 += digit
            w2 = 9 if w2 == 2 else w2 - 1
        else:
            sum2 += digit
            sum1 += digit * w1
            w1 = 2 if w1 == 9 else w1 + 1
    cd2 = sum2 % 10
    cd1 = (sum1 + 2 * cd2) % 11 % 10
    return cd1, cd2


def encode_ocr(body: str) -> str:
    """The OCR line for ``body``: its two check digits, then the body."""
    cd1, cd2 = ocr_check_digits(body)
    return f"{cd1}{cd2}{body}"


@dataclass(frozen=True, slots=True)
class OcrResult:
    """A decoded OCR line: which line, the body, the stated check digits, and every error found."""

    value: str
    errors: tuple[CodecIssue, ...]
    line: Line | None = None
    body: str | None = None
    cd1: int | None = None
    cd2: int | None = None

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def fields(self) -> dict[str, FieldValue]:
        return {"line": self.line, "cd1": self.cd1, "cd2": self.cd2, "body": self.body}

    @property
    def labels(self) -> dict[str, str]:
        return dict(OCR_LABELS)

    @property
    def personal_fields(self) -> frozenset[str]:
        return frozenset({"body"})

    def as_dict(self) -> dict[str, Any]:
        return result_dict("ocr", self)


def pair_errors(text: str, lead: int, field: str) -> list[CodecIssue]:
    """Errors for a CD1 CD2 + body run of ASCII digits starting at position ``lead`` of the value."""
    cd1, cd2 = ocr_check_digits(text[2:])
    errors = []
    for offset, (name, expected) in enumerate((("CD1", cd1), ("CD2", cd2))):
        if text[offset] != str(expected):
            errors.append(
                CodecIssue(
                    ErrorCode.CHECK_DIGIT,
                    lead + offset,
                    str(expected),
                    text[offset],
                    field,
                    f"{field} {name}: expected {expected}, found {text[offset]}",
                )
            )
    return errors


def decode_ocr(value: str) -> OcrResult:
    """Decode an upper (39-digit) or lower (44-digit) OCR line; problems are errors, never exceptions."""
    text = value.strip()
    lead = len(value) - len(value.lstrip())
    errors: list[CodecIssue] = []
    bad = [(index, char) for index, char in enumerate(text) if not ("0" <= char <= "9")]
    for index, char in bad[:10]:
        errors.append(
            CodecIssue(
                ErrorCode.NOT_DIGIT,
                lead + index,
                "an ASCII digit 0-9",
                char,
                message=f"character {lead + index}: expected an ASCII digit, found {char!r}",
            )
        )
    line: Line | None = next((name for name, length in OCR_LINE_LENGTHS.items() if length == len(text)), None)
    if line is None:
        errors.append(
            CodecIssue(
                ErrorCode.LENGTH,
                lead,
                "39 digits (upper line) or 44 digits (lower line)",
                f"{len(text)} characters",
                message=f"expected 39 (upper line) or 44 (lower line) digits, found {len(text)}",
            )
        )
        return OcrResult(value, tuple(errors))
    cd1 = int(text[0]) if ascii_digits(text[0]) else None
    cd2 = int(text[1]) if ascii_digits(text[1]) else None
    if not bad:
        errors.extend(pair_errors(text, lead, f"{line} line"))
    return OcrResult(value, tuple(errors), line, text[2:], cd1, cd2)
