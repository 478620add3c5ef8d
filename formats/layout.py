"""Record and file layouts.

A :class:`RecordLayout` wraps a Construct ``Struct`` of field kinds whose size is
asserted against the record length. It parses one record field by field so that
*every* bad field of a record is reported, not only the first.

A :class:`FileLayout` names the record length, encoding, where the record type sits,
which record layout each type uses and its role in the grammar
(header, data*, trailer; several groups; one end), and the control totals that the
trailer must agree with.
"""

from __future__ import annotations

import struct as _struct
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import construct

from formats.errors import FieldError, Reason, Severity
from formats.fields import FieldBuildError, FieldKind, Filler, Numeric
from formats.masking import Personal

__all__ = [
    "ControlTotals",
    "end_record",
    "FieldIssue",
    "FieldSpec",
    "FileLayout",
    "LayoutError",
    "RecordLayout",
    "RecordRule",
    "ResultSplit",
    "Role",
]

Role = Literal["header", "data", "trailer", "end"]


class LayoutError(ValueError):
    """Raised when a layout definition itself is wrong (sizes, names, kinds)."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a record layout, with its position."""

    name: str
    label: str
    kind: FieldKind
    offset: int

    @property
    def width(self) -> int:
        return self.kind.width

    @property
    def personal(self) -> Personal | None:
        return self.kind.personal

    @property
    def reported(self) -> bool:
        """Fillers are not shown as values."""
        return not isinstance(self.kind, Filler)


@dataclass(frozen=True, slots=True)
class FieldIssue:
    """A problem with one field of one record (before it is placed in a file)."""

    field: FieldSpec
    code: Reason
    expected: str
    found: bytes
    position: int = 0
    severity: Severity = Severity.ERROR
    detail: str = ""


class RecordRule:
    """A check across fields of one record (known bank codes, known result codes …).

    ``check`` sees the decoded values of a record whose fields all parsed;
    ``vector_ok`` (optional) answers the same over a block, for the fast path.
    """

    def check(self, layout: RecordLayout, values: Mapping[str, Any], raw: bytes) -> Iterable[FieldIssue]:
        return ()

    def vector_ok(self, layout: RecordLayout, columns: Callable[[str], Any]) -> Any:
        return None

    def vector_warnings(self, layout: RecordLayout, columns: Callable[[str], Any], strict: bool) -> Any:
        """For a rule that only ever warns: ``(exact, found)`` over a block, or ``None``.

        ``exact`` marks the rows (whose fields all parse) for which ``found`` says exactly what
        ``check`` yields; ``found`` is a sequence of ``(field name, reason, rows)``, one per warning
        ``check`` can give. The fast path accepts the exact rows without the record path, counting
        their warnings from ``found``; other rows go through ``check``.
        """
        return None


def _unwrap(subcon: construct.Construct[Any, Any]) -> tuple[str, str, FieldKind]:
    name, docs = subcon.name, subcon.docs
    while isinstance(subcon, construct.Renamed):
        name = name or subcon.name
        docs = docs or subcon.docs
        subcon = subcon.subcon
    if not isinstance(subcon, FieldKind):
        raise LayoutError(f"field {name!r} is a {type(subcon).__name__}, not a field kind from formats.fields")
    if not name:
        raise LayoutError('every field needs a name: write "name" / Kind(...) * "項目名"')
    return name, docs or name, subcon


class RecordLayout:
    """One record type: a Construct ``Struct`` of field kinds of exactly ``length`` bytes."""

    def __init__(
        self, name: str, label: str, struct: construct.Struct, *, length: int, rules: Iterable[RecordRule] = ()
    ) -> None:
        self.name = name
        self.label = label
        self.struct = struct
        self.length = length
        self.rules = tuple(rules)
        specs: list[FieldSpec] = []
        offset = 0
        for subcon in struct.subcons:
            field_name, field_label, kind = _unwrap(subcon)
            if any(spec.name == field_name for spec in specs):
                raise LayoutError(f"record {name}: field name {field_name!r} is used twice")
            specs.append(FieldSpec(field_name, field_label, kind, offset))
            offset += kind.width
        size = struct.sizeof()
        if size != length or offset != length:
            raise LayoutError(f"record {name}: fields add up to {size} bytes, the record length is {length}")
        self.fields: tuple[FieldSpec, ...] = tuple(specs)
        self.by_name: dict[str, FieldSpec] = {spec.name: spec for spec in specs}
        self._reported = tuple(spec for spec in specs if spec.reported)
        # one C-level split of a record into its reported fields, for decode_clean
        self._splitter = _struct.Struct(
            "".join(f"{spec.width}s" if spec.reported else f"{spec.width}x" for spec in specs)
        )
        self._converters = tuple((spec.name, spec.kind.convert) for spec in self._reported)
        self._encoders = tuple((spec.name, spec.kind.encode) for spec in specs)

    def __repr__(self) -> str:
        return f"RecordLayout({self.name!r}, {len(self.fields)} fields, {self.length} bytes)"

    def parse(self, raw: bytes, strict: bool = True) -> dict[str, Any]:
        """Strict Construct parse: the first bad field raises, with its path."""
        container = self.struct.parse(raw, strict=strict)
        return {spec.name: container[spec.name] for spec in self._reported}

    def build(self, values: Mapping[str, Any]) -> bytes:
        """Build one record; a value that does not fit raises FieldBuildError naming the field."""
        complete = {spec.name: values.get(spec.name) for spec in self.fields}
        try:
            data = self.struct.build(complete)
        except FieldBuildError as error:
            spec = self.by_name.get(str(error.path).rsplit(" -> ", 1)[-1]) if error.path else None
            where = f"{spec.label} ({spec.name})" if spec else str(error.path)
            raise FieldBuildError(f"record {self.name}, field {where}: {error.reason}") from None
        assert len(data) == self.length
        return data

    def encode(self, values: Mapping[str, Any]) -> bytes:
        """Build one record without Construct's per-call overhead (for large outputs).

        Gives exactly the bytes :meth:`build` gives (tests/unit/test_layouts.py), using the
        same field kinds' ``encode``; a value that does not fit raises FieldBuildError
        naming the record and field.
        """
        try:
            return b"".join([encode(values.get(name)) for name, encode in self._encoders])
        except FieldBuildError:
            for spec in self.fields:  # find the field again, to name it
                try:
                    spec.kind.encode(values.get(spec.name))
                except FieldBuildError as error:
                    raise FieldBuildError(
                        f"record {self.name}, field {spec.label} ({spec.name}): {error.reason}"
                    ) from None
            raise

    def check(self, raw: bytes, strict: bool = True) -> tuple[dict[str, Any], list[FieldIssue]]:
        """Check every field on its own; collect every problem.

        Returns the decoded values (a field that failed is absent) and the issues,
        field errors first, then record rules (only when all fields parsed). A field
        is decoded by its kind directly (the same code Construct's adapter runs); a
        field that fails is parsed again through Construct, whose error carries the
        field's path.
        """
        values: dict[str, Any] = {}
        issues: list[FieldIssue] = []
        for spec in self.fields:
            chunk = raw[spec.offset : spec.offset + spec.width]
            try:
                value = spec.kind.decode(chunk, strict)
            except FieldError:
                error = self._construct_error(spec, chunk, strict)
                issues.append(FieldIssue(spec, error.code, error.expected, chunk, error.position, error.severity))
                continue
            if spec.reported:
                values[spec.name] = value
        if not issues:
            issues = self.rule_issues(values, raw)
        return values, issues

    def rule_issues(self, values: Mapping[str, Any], raw: bytes) -> list[FieldIssue]:
        """What the record rules find in a record whose fields all parsed (``values`` as decoded)."""
        issues: list[FieldIssue] = []
        for rule in self.rules:
            for issue in rule.check(self, values, raw):
                # two rules may check the same thing (a check digit, and a codec that checks it too):
                # one bad field gives one rejection per reason
                if not any(seen.field is issue.field and seen.code == issue.code for seen in issues):
                    issues.append(issue)
        return issues

    def _construct_error(self, spec: FieldSpec, chunk: bytes, strict: bool) -> FieldError:
        try:
            (spec.name / spec.kind).parse(chunk, strict=strict)
        except FieldError as error:
            return error
        raise AssertionError(f"field {spec.name}: decode refused {chunk!r} but Construct accepted it")

    def decode_clean(self, raw: bytes, strict: bool = True) -> dict[str, Any]:
        """Decode a record already known to be valid (validated before): no Construct, no checks.

        Gives what :meth:`check` gives for a valid record (tests/unit/test_layouts.py)."""
        return {
            name: convert(chunk)
            for (name, convert), chunk in zip(self._converters, self._splitter.unpack(raw), strict=True)
        }


def end_record(length: int, *, filler_label: str = "予備") -> RecordLayout:
    """The end record every Zengin-style layout closes with: データ区分 "9", then spaces."""
    from formats.fields import Constant

    return RecordLayout(
        "end",
        "エンド・レコード",
        construct.Struct(
            "record_type" / Constant(b"9") * "データ区分",
            "filler" / Filler(length - 1) * filler_label,
        ),
        length=length,
    )


@dataclass(frozen=True, slots=True)
class ResultSplit:
    """How a result file splits its total into succeeded (振替済) and failed (振替不能)."""

    code_field: str = "result_code"
    success_code: str = "0"
    transferred_count: str = "transferred_count"
    transferred_amount: str = "transferred_amount"
    failed_count: str = "failed_count"
    failed_amount: str = "failed_amount"


@dataclass(frozen=True, slots=True)
class ControlTotals:
    """Which trailer fields must agree with which data fields."""

    count_field: str = "total_count"
    amount_field: str = "total_amount"
    data_amount_field: str = "amount"
    split: ResultSplit | None = None
    #: further amount totals: trailer field → the data field it sums (e.g. 延滞金合計 → 延滞金).
    #: Checked when every record's value is readable; a record whose value is not is already
    #: rejected, and the main amount total alone decides whether the file can be proven.
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FileLayout:
    """A whole file format: record length, encoding, record types and their roles, checks."""

    id: str
    title: str
    records: Mapping[bytes, tuple[Role, RecordLayout]]
    totals: ControlTotals
    record_length: int = 120
    encoding: str = "cp932"
    type_offset: int = 0
    multi_group: bool = True
    identify: Callable[[bytes], bool] | None = None
    description: str = ""
    builder_defaults: Mapping[str, Any] = field(default_factory=dict)
    #: how data records map to the canonical model, for layouts described in files
    #: (``[canonical]``; read by gateway/model/normalise.py — formats/ only carries it)
    canonical: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        roles = [role for role, _ in self.records.values()]
        for role in ("header", "data", "trailer"):
            if roles.count(role) != 1:
                raise LayoutError(f"file layout {self.id}: needs exactly one {role} record type")
        for key, (_role, record) in self.records.items():
            if len(key) != 1:
                raise LayoutError(f"file layout {self.id}: record type keys are single bytes, got {key!r}")
            if record.length != self.record_length:
                raise LayoutError(
                    f"file layout {self.id}: record {record.name} is {record.length} bytes, "
                    f"the file's record length is {self.record_length}"
                )
        data = self.layout_for("data")
        trailer = self.layout_for("trailer")
        for name in (self.totals.count_field, self.totals.amount_field, *self.totals.extra):
            if not isinstance(trailer.by_name.get(name, None) and trailer.by_name[name].kind, Numeric):
                raise LayoutError(f"file layout {self.id}: trailer field {name!r} must be Numeric")
        for name in (self.totals.data_amount_field, *self.totals.extra.values()):
            if not isinstance(data.by_name.get(name) and data.by_name[name].kind, Numeric):
                raise LayoutError(f"file layout {self.id}: data field {name!r} must be Numeric")

    def type_of(self, role: Role) -> bytes:
        for key, (candidate, _) in self.records.items():
            if candidate == role:
                return key
        raise KeyError(role)

    def layout_for(self, role: Role) -> RecordLayout:
        return self.records[self.type_of(role)][1]

    def role_of(self, raw: bytes) -> tuple[Role, RecordLayout] | None:
        return self.records.get(raw[self.type_offset : self.type_offset + 1])
