"""What the codecs share: the error record, its stable codes, and small helpers.

A codec never raises for bad input: every problem becomes a :class:`CodecIssue` in the
result's ``errors`` (a record, not an exception, hence not called ``…Error``), carrying a stable code, the 0-based position in the value AS GIVEN (so an
operator can count to it), what was expected, what was found, the field it concerns
and a plain-language message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Protocol

__all__ = [
    "CodecIssue",
    "CodecResult",
    "ErrorCode",
    "FieldValue",
    "Severity",
    "ascii_digits",
    "jsonable",
    "result_dict",
]

#: A decoded field value: text, a number, a date, or None when absent or unreadable.
FieldValue = str | int | date | None


class ErrorCode(StrEnum):
    """Stable error codes. Never rename one: reports and operators rely on them."""

    LENGTH = "LENGTH"
    NOT_DIGIT = "NOT_DIGIT"
    NOT_ASCII = "NOT_ASCII"
    CHECK_DIGIT = "CHECK_DIGIT"
    AI = "AI"
    DATE = "DATE"
    VALUE = "VALUE"
    MISMATCH = "MISMATCH"
    CRC = "CRC"
    TLV_TRUNCATED = "TLV_TRUNCATED"
    TLV_HEADER = "TLV_HEADER"
    TAG_UNKNOWN = "TAG_UNKNOWN"
    TAG_DUPLICATE = "TAG_DUPLICATE"
    TAG_MISSING = "TAG_MISSING"
    TAG_LENGTH = "TAG_LENGTH"
    TAG_ORDER = "TAG_ORDER"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class CodecIssue:
    """One problem in a decoded value: what, where, expected, found.

    ``position`` is the 0-based offset in the value as given (None when the problem has
    no single place, such as a missing tag); ``field`` names the field or the TLV tag path
    ("27/01"). A WARNING does not make the value invalid.
    """

    code: ErrorCode
    position: int | None
    expected: str | None
    found: str | None
    field: str | None = None
    message: str = ""
    severity: Severity = Severity.ERROR

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": str(self.code),
            "severity": str(self.severity),
            "position": self.position,
            "field": self.field,
            "expected": self.expected,
            "found": self.found,
            "message": self.message,
        }


def ascii_digits(text: str) -> bool:
    """True for a non-empty run of ASCII digits only (full-width digits are not digits here)."""
    return bool(text) and text.isascii() and text.isdigit()


def jsonable(value: FieldValue) -> str | int | None:
    """A field value as JSON can carry it: dates as ISO 8601 text."""
    return value.isoformat() if isinstance(value, date) else value


class CodecResult(Protocol):
    """What every ``decode_*`` returns (BarcodeResult, OcrResult, ElqrResult)."""

    @property
    def value(self) -> str: ...

    @property
    def valid(self) -> bool: ...

    @property
    def fields(self) -> dict[str, FieldValue]: ...

    @property
    def errors(self) -> tuple[CodecIssue, ...]: ...

    @property
    def labels(self) -> dict[str, str]: ...

    @property
    def personal_fields(self) -> frozenset[str]: ...


def result_dict(
    kind: str, result: CodecResult, *, value: str | None = None, fields: Mapping[str, FieldValue] | None = None
) -> dict[str, Any]:
    """A decoded value as JSON carries it: kind, value, valid, fields (dates as ISO 8601) and errors;
    ``value`` and ``fields`` stand in for the result's own (the decode command's masked ones)."""
    return {
        "kind": kind,
        "value": result.value if value is None else value,
        "valid": result.valid,
        "fields": {name: jsonable(field) for name, field in (result.fields if fields is None else fields).items()},
        "errors": [error.as_dict() for error in result.errors],
    }
