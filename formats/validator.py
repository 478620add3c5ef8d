"""File-level checks: record grammar and control totals, and the file's outcome.

:class:`FileValidator` is fed the records of one file in order (by the streaming
reader, or in bulk by the fast path for runs of clean data records) and produces a
:class:`ValidationResult`. The rules are in docs/validation.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from formats.errors import IssueList, Level, Reason, Rejection, Severity
from formats.layout import FileLayout
from formats.reader import RecordResult

__all__ = ["FileValidator", "GroupSummary", "Status", "ValidationResult"]


class Status(StrEnum):
    OK = "ok"
    REJECTED_RECORDS = "rejected-records"
    REJECTED_FILE = "rejected-file"

    @property
    def exit_code(self) -> int:
        return {Status.OK: 0, Status.REJECTED_RECORDS: 1, Status.REJECTED_FILE: 2}[self]


@dataclass(slots=True)
class GroupSummary:
    """One header…trailer group: what its trailer declares and what its records add up to."""

    index: int
    header_record: int
    trailer_record: int | None = None
    kind: str = "transfer"
    declared: dict[str, int | None] | None = None
    computed: dict[str, int | None] = field(default_factory=dict)
    # running sums
    count: int = 0
    amount: int = 0
    unreadable_amounts: int = 0
    success_count: int = 0
    success_amount: int = 0
    other_count: int = 0
    other_amount: int = 0
    result_codes_seen: bool = False
    extra: dict[str, int | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "header_record": self.header_record,
            "trailer_record": self.trailer_record,
            "kind": self.kind,
            "declared": self.declared,
            "computed": self.computed,
        }


@dataclass(slots=True)
class ValidationResult:
    """Everything `gateway validate` reports about one file."""

    format: str
    status: Status
    separator: str
    size: int
    records: int
    accepted: int
    rejected_records: int
    groups: list[GroupSummary]
    errors: list[Rejection]
    warnings: list[Rejection]
    dropped_errors: int = 0
    dropped_warnings: int = 0
    file: str | None = None

    @property
    def exit_code(self) -> int:
        return self.status.exit_code

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.format,
            "status": str(self.status),
            "separator": self.separator,
            "size": self.size,
            "records": self.records,
            "accepted": self.accepted,
            "rejected_records": self.rejected_records,
            "groups": [group.as_dict() for group in self.groups],
            "rejected": [issue.as_dict() for issue in self.errors],
            "warnings": [issue.as_dict() for issue in self.warnings],
            "not_listed": {"rejected": self.dropped_errors, "warnings": self.dropped_warnings},
        }


class FileValidator:
    """Grammar state machine plus control-total accumulator for one file."""

    def __init__(self, layout: FileLayout, *, max_listed: int = 1000) -> None:
        self.layout = layout
        self.issues = IssueList(limit=max_listed)
        self.groups: list[GroupSummary] = []
        self.group: GroupSummary | None = None
        self.ended = False
        self.records = 0
        self.rejected_data = 0
        self.rejected_other = 0
        self.refuse_file = False
        self.has_end = any(role == "end" for role, _ in layout.records.values())
        totals = layout.totals
        self._amount_field = totals.data_amount_field
        self._code_field = totals.split.code_field if totals.split else None
        self._success = totals.split.success_code if totals.split else None

    # -- feeding ----------------------------------------------------------
    def feed(self, result: RecordResult) -> None:
        for issue in result.issues:
            self.issues.add(issue)
        has_error = not result.ok
        if result.role is None:
            self.rejected_other += 1
            return
        if result.role == "data":
            self.records += 1
            if has_error:
                self.rejected_data += 1
        elif has_error:
            self.refuse_file = True
        self._grammar(result)
        if result.role == "data" and self.group is not None:
            self._count(result)
        elif result.role == "trailer" and self.group is not None:
            self._close(result)

    def feed_bulk(
        self,
        count: int,
        amount: int,
        success_count: int,
        success_amount: int,
        failure_codes: int = 0,
        extra: Mapping[str, int | None] | None = None,
    ) -> bool:
        """Add a run of clean data records; False when the grammar needs them one by one.

        ``failure_codes`` counts records whose result code is set and is not the success code.
        ``extra`` holds, for each further total (``layout.totals.extra``), the sum of the run's
        values of its data field, or ``None`` when a record of the run has no value there (a blank
        optional field): as records fed one by one would leave it (an unknown total stays unknown).
        """
        group = self.group
        if group is None or self.ended:
            return False
        totals = self.layout.totals.extra
        if totals and (extra is None or set(extra) != set(totals)):
            raise ValueError(f"feed_bulk: the run's sum of each further total is needed ({', '.join(totals)})")
        self.records += count
        group.count += count
        group.amount += amount
        if count and extra:
            for total in totals:
                added = extra[total]
                before = group.extra.get(total, 0)
                group.extra[total] = before + added if added is not None and before is not None else None
        if self._code_field is not None:
            group.success_count += success_count
            group.success_amount += success_amount
            group.other_count += count - success_count
            group.other_amount += amount - success_amount
            if failure_codes:
                group.result_codes_seen = True
        return True

    # -- grammar ----------------------------------------------------------
    def _grammar(self, result: RecordResult) -> None:
        role = result.role
        assert role is not None  # add() keeps records of no known type out of the grammar
        if self.ended:
            self._grammar_error(result, "no record after the end record")
            return
        if role == "header":
            if self.group is not None:
                self._grammar_error(result, "a trailer record before the next header (the group is not closed)")
                self._summarise(self.group)
            self.group = GroupSummary(index=len(self.groups) + 1, header_record=result.index)
            self.groups.append(self.group)
        elif role == "data":
            if self.group is None:
                self._grammar_error(result, "a header record before data records")
        elif role == "trailer":
            if self.group is None:
                self._grammar_error(result, "a header and data records before a trailer")
        elif role == "end":
            if self.group is not None:
                self._grammar_error(result, "a trailer record before the end record (the group is not closed)")
                self._summarise(self.group)
                self.group = None
            elif not self.groups:
                self._grammar_error(result, "at least one header…trailer group before the end record")
            self.ended = True

    def _grammar_error(self, result: RecordResult, expected: str) -> None:
        self.refuse_file = True
        found = f"{result.role} record" if result.role else "a record"
        self.issues.add(
            Rejection(
                code=Reason.GRAMMAR,
                level=Level.FILE,
                record=result.index,
                offset=result.offset,
                expected=expected,
                found=found,
                message=f"record {result.index}, offset {result.offset}: expected {expected}, found {found}",
            )
        )

    # -- totals -----------------------------------------------------------
    def _count(self, result: RecordResult) -> None:
        group = self.group
        assert group is not None
        group.count += 1
        amount = result.values.get(self._amount_field) if result.readable else None
        if isinstance(amount, int):
            group.amount += amount
        else:
            group.unreadable_amounts += 1
        for total, data_field in self.layout.totals.extra.items():
            value = result.values.get(data_field) if result.readable else None
            before = group.extra.get(total, 0)
            group.extra[total] = before + value if isinstance(value, int) and before is not None else None
        if self._code_field is not None:
            code = result.values.get(self._code_field) if result.readable else None
            if code is not None and code != self._success:
                group.result_codes_seen = True
            if code == self._success:
                group.success_count += 1
                group.success_amount += amount if isinstance(amount, int) else 0
            else:
                group.other_count += 1
                group.other_amount += amount if isinstance(amount, int) else 0

    def _summarise(self, group: GroupSummary) -> dict[str, int | None]:
        """Set the group's kind and computed totals from its records (and trailer, if any)."""
        split = self.layout.totals.split
        declared = group.declared or {}
        # amounts cannot be computed when a data record's amount could not be read
        proven = group.unreadable_amounts == 0
        computed: dict[str, int | None] = {"count": group.count, "amount": group.amount if proven else None}
        for total in self.layout.totals.extra:
            computed[total] = group.extra.get(total, 0)
        if split is not None:
            declared_split = (declared.get("transferred_count") or 0) + (declared.get("failed_count") or 0)
            is_result = group.result_codes_seen or declared_split > 0
            group.kind = "result" if is_result else "request"
            computed.update(
                transferred_count=group.success_count if is_result else 0,
                transferred_amount=(group.success_amount if proven else None) if is_result else 0,
                failed_count=group.other_count if is_result else 0,
                failed_amount=(group.other_amount if proven else None) if is_result else 0,
            )
        group.computed = computed
        return computed

    def _close(self, result: RecordResult) -> None:
        group = self.group
        assert group is not None
        self.group = None
        group.trailer_record = result.index
        totals = self.layout.totals
        split = totals.split
        readable = result.readable
        values = result.values if readable else {}

        names = {"count": totals.count_field, "amount": totals.amount_field, **{t: t for t in totals.extra}}
        if split is not None:
            names.update(
                transferred_count=split.transferred_count,
                transferred_amount=split.transferred_amount,
                failed_count=split.failed_count,
                failed_amount=split.failed_amount,
            )
        group.declared = {key: values.get(name) if readable else None for key, name in names.items()}
        computed = self._summarise(group)
        if not readable:
            return
        checks = [
            ("count", Reason.TRAILER_COUNT_MISMATCH),
            ("amount", Reason.TRAILER_AMOUNT_MISMATCH),
            *((total, Reason.TRAILER_AMOUNT_MISMATCH) for total in totals.extra),
        ]
        if split is not None:
            checks += [
                ("transferred_count", Reason.TRAILER_TRANSFERRED_MISMATCH),
                ("transferred_amount", Reason.TRAILER_TRANSFERRED_MISMATCH),
                ("failed_count", Reason.TRAILER_FAILED_MISMATCH),
                ("failed_amount", Reason.TRAILER_FAILED_MISMATCH),
            ]
        trailer = result.layout
        assert trailer is not None
        for key, reason in checks:
            declared = group.declared[key]
            if declared is None:
                continue  # the field itself is already rejected
            if computed[key] is None:
                if key != "amount":
                    continue  # one TRAILER_AMOUNT_UNVERIFIABLE says it for the group
                reason = Reason.TRAILER_AMOUNT_UNVERIFIABLE
                expected = "every data record's amount readable, to prove the total"
                found = f"{group.unreadable_amounts} data record(s) whose amount cannot be read"
            elif declared == computed[key]:
                continue
            else:
                expected = f"{computed[key]:,} (computed from the data records)"
                found = f"{declared:,} (declared by the trailer)"
            spec = trailer.by_name[names[key]]
            self.refuse_file = True
            self.issues.add(
                Rejection(
                    code=reason,
                    level=Level.FILE,
                    record=result.index,
                    offset=result.offset + spec.offset,
                    field=spec.name,
                    field_ja=spec.label,
                    expected=expected,
                    found=found,
                    message=(
                        f"record {result.index} (trailer of group {group.index}), field {spec.label} "
                        f"({spec.name}): expected {expected}, found {found}"
                    ),
                )
            )

    # -- outcome ----------------------------------------------------------
    def finish(
        self,
        *,
        size: int,
        separator: str,
        empty: bool = False,
        inconsistent: RecordResult | None = None,
        file: str | None = None,
    ) -> ValidationResult:
        if empty:
            self.issues.add(
                Rejection(
                    code=Reason.EMPTY_FILE,
                    level=Level.FILE,
                    record=None,
                    offset=0,
                    expected="at least one record",
                    found="0 bytes",
                    message="the file is empty: expected at least one record, found 0 bytes",
                )
            )
            self.refuse_file = True
        else:
            if inconsistent is not None:
                self.refuse_file = True
                self.issues.add(
                    Rejection(
                        code=Reason.SEPARATOR_INCONSISTENT,
                        level=Level.FILE,
                        record=inconsistent.index,
                        offset=inconsistent.offset,
                        expected=f"{separator.upper()} after every record",
                        found="a different line ending",
                        message=(
                            f"record {inconsistent.index}, offset {inconsistent.offset}: the line ending "
                            f"differs from the first record's ({separator.upper()})"
                        ),
                    )
                )
            if self.group is not None:
                self._eof_error(size, "a trailer record closing the last group")
                self._summarise(self.group)
            if self.has_end and not self.ended:
                self._eof_error(size, "an end record")
        errors = sorted(self.issues.errors, key=_order)
        warnings = sorted(self.issues.warnings, key=_order)
        if self.issues.dropped_errors:
            errors.append(
                Rejection(
                    code=Reason.TOO_MANY_ERRORS,
                    level=Level.FILE,
                    severity=Severity.WARNING,
                    expected=f"at most {self.issues.limit} listed rejections",
                    found=f"{self.issues.dropped_errors} more not listed",
                    message=f"{self.issues.dropped_errors} further rejections were counted but not listed",
                )
            )
        if self.refuse_file:
            status = Status.REJECTED_FILE
        elif any(e.severity is Severity.ERROR for e in errors):
            status = Status.REJECTED_RECORDS
        else:
            status = Status.OK
        return ValidationResult(
            format=self.layout.id,
            status=status,
            separator=separator,
            size=size,
            records=self.records,
            accepted=self.records - self.rejected_data,
            rejected_records=self.rejected_data,
            groups=self.groups,
            errors=errors,
            warnings=warnings,
            dropped_errors=self.issues.dropped_errors,
            dropped_warnings=self.issues.dropped_warnings,
            file=file,
        )

    def _eof_error(self, size: int, expected: str) -> None:
        self.refuse_file = True
        self.issues.add(
            Rejection(
                code=Reason.GRAMMAR,
                level=Level.FILE,
                record=None,
                offset=size,
                expected=expected,
                found="end of file",
                message=f"end of file at offset {size}: expected {expected}, found end of file",
            )
        )


def _order(rejection: Rejection) -> tuple[int, int, int]:
    record = rejection.record if rejection.record is not None else 1 << 62
    return (record, 0 if rejection.level is not Level.FILE else 1, rejection.offset or 0)
