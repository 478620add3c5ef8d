"""The streaming reader: one :class:`RecordResult` per physical record, never stopping
at the first bad one (Construct's ``GreedyRange`` would silently stop; it is not used)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from formats.errors import Level, Reason, Rejection, Severity
from formats.framing import Frame, Framer
from formats.layout import FieldIssue, FileLayout, RecordLayout, Role
from formats.masking import mask_bytes

__all__ = ["RecordReader", "RecordResult", "field_rejection", "record_rejection"]


@dataclass(slots=True)
class RecordResult:
    """What one record turned out to be."""

    index: int
    offset: int
    raw: bytes
    role: Role | None
    layout: RecordLayout | None
    values: dict[str, Any] = field(default_factory=dict)
    issues: list[Rejection] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(issue.severity is Severity.ERROR for issue in self.issues)

    @property
    def readable(self) -> bool:
        """The record had the right length and a known type, so its fields were read."""
        return self.layout is not None and not any(
            issue.code in (Reason.RECORD_LENGTH, Reason.UNKNOWN_RECORD_TYPE) for issue in self.issues
        )


def field_rejection(issue: FieldIssue, record: int, record_offset: int) -> Rejection:
    spec = issue.field
    found = mask_bytes(issue.found, spec.personal)
    where = f"record {record}, offset {record_offset + spec.offset}"
    message = (
        f"{where}: field {spec.label} ({spec.name}) expected {issue.expected}, "
        f"found {found!r}"
        + (f" (byte {issue.position + 1} of the field)" if issue.severity is Severity.ERROR else "")
        + (f"; {issue.detail}" if issue.detail else "")
    )
    return Rejection(
        code=issue.code,
        level=Level.FIELD,
        severity=issue.severity,
        record=record,
        offset=record_offset + spec.offset,
        field=spec.name,
        field_ja=spec.label,
        expected=issue.expected,
        found=found,
        message=message,
    )


def record_rejection(code: Reason, frame: Frame, expected: str, found: str, level: Level = Level.RECORD) -> Rejection:
    return Rejection(
        code=code,
        level=level,
        record=frame.index,
        offset=frame.offset,
        expected=expected,
        found=found,
        message=f"record {frame.index}, offset {frame.offset}: expected {expected}, found {found}",
    )


class RecordReader:
    """Iterate over ``stream`` as records of ``layout``.

    Each result carries the record's number, offset, raw bytes, role, decoded values
    and every problem found in it. File-level framing facts (separator, size, empty
    file, inconsistent separators) are on ``framer`` once iteration is done.
    """

    def __init__(self, stream: BinaryIO, layout: FileLayout, *, strict: bool = True) -> None:
        self.layout = layout
        self.strict = strict
        self.framer = Framer(stream, layout.record_length)

    def __iter__(self) -> Iterator[RecordResult]:
        for frame in self.framer:
            yield self.read_frame(frame)

    def read_frame(self, frame: Frame) -> RecordResult:
        layout = self.layout
        typed = layout.role_of(frame.raw)
        if typed is None:
            found = mask_bytes(frame.raw[layout.type_offset : layout.type_offset + 1], None) or "nothing"
            known = ", ".join(f"{key.decode()} ({role})" for key, (role, _) in layout.records.items())
            result = RecordResult(frame.index, frame.offset, frame.raw, None, None)
            if len(frame.raw) != layout.record_length:
                result.issues.append(self._length_issue(frame))
            result.issues.append(record_rejection(Reason.UNKNOWN_RECORD_TYPE, frame, f"record type {known}", found))
            return result
        role, record_layout = typed
        result = RecordResult(frame.index, frame.offset, frame.raw, role, record_layout)
        if len(frame.raw) != layout.record_length:
            result.issues.append(self._length_issue(frame))
            return result
        values, issues = record_layout.check(frame.raw, self.strict)
        result.values = values
        result.issues.extend(field_rejection(issue, frame.index, frame.offset) for issue in issues)
        return result

    def _length_issue(self, frame: Frame) -> Rejection:
        return record_rejection(
            Reason.RECORD_LENGTH,
            frame,
            f"{self.layout.record_length} bytes",
            f"{len(frame.raw)} bytes",
        )
