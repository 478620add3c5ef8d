"""The fast validation path: numpy checks over blocks of records, compiled from the
same declarative layout as the Construct path.

Every field kind answers ``vector_ok`` for a block of records; record rules answer
``vector_ok`` too. A data record that passes every vector check is clean: it only
adds to the group's running totals, in bulk. Rules that only warn (unknown bank,
branch, result code: ``RecordRule.vector_warnings``) say over the block which rows get
which warning: such a record is accepted and totalled in bulk like a clean one, and
its warnings are listed by the rules' own ``check`` on the decoded record while the
list has room (``max_listed``), then only counted. Every other record — header,
trailer, end, unknown types, and any data record a check finds an error in (or cannot
say exactly) — goes through the streaming reader's Construct path, which gives the
exact error with its path.

Further totals (``totals.extra``) are summed in bulk like the amount, exactly at any
width (:class:`_Amounts`).

The fast path applies only to files with one separator throughout and a size that
fits it; otherwise (or when a layout has a kind or a rule that cannot be vectorised:
:func:`fast_path_refusal` says which, and ``gateway formats`` shows it) it returns
``None`` and the caller validates record by record. Both paths must give the
same :class:`~formats.validator.ValidationResult`: tests/unit/test_fastpath.py checks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from formats.fields import ZERO, Numeric
from formats.framing import EOF_MARK, Frame, sniff_separator
from formats.layout import FieldSpec, FileLayout, RecordLayout
from formats.reader import RecordReader, field_rejection
from formats.validator import FileValidator, ValidationResult

__all__ = ["BlockChecker", "fast_path_refusal", "validate_fast"]

BLOCK_RECORDS = 32_768
SEPARATORS = {"crlf": b"\r\n", "lf": b"\n", "none": b""}


class BlockChecker:
    """The vectorised acceptance test of one data record layout.

    Fields whose test is per byte (``FieldKind.byte_sets``) are checked together: one
    lookup maps every byte of the block to a bit set of the byte classes it belongs to,
    and each position needs its class's bit. The rest of each kind's test
    (``extra_ok``) and the kinds that are not per byte (``vector_ok``) are added on.
    """

    def __init__(self, layout: RecordLayout, strict: bool) -> None:
        self.layout = layout
        self.strict = strict
        #: why this record layout cannot be checked in bulk (Japanese, then English), or None
        self.refusal: str | None = None
        self.others: list[FieldSpec] = []
        self.extras: list[FieldSpec] = []
        position_sets: list[frozenset[int]] = [frozenset(range(256))] * layout.length
        for spec in layout.fields:
            sets = spec.kind.byte_sets(strict)
            if sets is None:
                probe = spec.kind.vector_ok(np.full((1, spec.width), 0x30, dtype=np.uint8), strict)
                if probe is None and self.refusal is None:
                    self.refusal = (
                        f"項目 {spec.label} ({spec.name}) の種類 {spec.kind.describe()} には一括検査がない / "
                        f"field {spec.name}: no vector check for its kind ({type(spec.kind).__name__})"
                    )
                self.others.append(spec)
                continue
            position_sets[spec.offset : spec.offset + spec.width] = sets
            if spec.kind.extra_ok(np.full((1, spec.width), 0x20, dtype=np.uint8)) is not None:
                self.extras.append(spec)
        probe_row = np.full((1, layout.length), 0x30, dtype=np.uint8)

        def probe_columns(name: str) -> np.ndarray:
            return _cols(probe_row, layout, name)

        for rule in layout.rules:
            if self.refusal is None and (
                rule.vector_warnings(layout, probe_columns, strict) is None
                and rule.vector_ok(layout, probe_columns) is None
            ):
                self.refusal = (
                    f"レコード規則 {type(rule).__name__} は一括検査できない / "
                    f"record rule {rule!r} cannot be checked in bulk"
                )
        distinct = sorted(set(position_sets), key=sorted)
        if len(distinct) > 64:
            self.refusal = self.refusal or (
                f"バイトの種類が 64 を超える ({len(distinct)}) / more than 64 distinct byte classes in the record"
            )
            distinct, position_sets = distinct[:1], [distinct[0]] * layout.length  # (never used)
        dtype = next(
            candidate
            for bits, candidate in ((8, np.uint8), (16, np.uint16), (32, np.uint32), (64, np.uint64))
            if len(distinct) <= bits
        )
        self.lookup: np.ndarray = np.zeros(256, dtype=dtype)
        for bit, allowed in enumerate(distinct):
            self.lookup[list(allowed)] |= dtype(1 << bit)
        self.need: np.ndarray = np.array([1 << distinct.index(allowed) for allowed in position_sets], dtype=dtype)

    def check(self, block: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """``(passed, warnings)`` for the rows of ``block`` (shape (n, record_length)): ``passed``, the
        rows the Construct path would accept with no error, their only findings the warnings of rules
        that answer ``vector_warnings``; ``warnings``, how many such warnings each row has (counted
        as ``RecordLayout.rule_issues`` lists them: one per field and reason). ``None`` if a rule
        cannot answer in bulk."""
        ok: np.ndarray = np.bitwise_and(np.take(self.lookup, block), self.need).all(axis=1)
        for spec in self.extras:
            ok &= spec.kind.extra_ok(block[:, spec.offset : spec.offset + spec.width])
        for spec in self.others:
            result = spec.kind.vector_ok(block[:, spec.offset : spec.offset + spec.width], self.strict)
            if result is None:
                return None
            ok &= result

        def columns(name: str) -> np.ndarray:
            return _cols(block, self.layout, name)

        found: dict[tuple[str, str], np.ndarray] = {}
        for rule in self.layout.rules:
            warned = rule.vector_warnings(self.layout, columns, self.strict)
            if warned is None:
                result = rule.vector_ok(self.layout, columns)
                if result is None:
                    return None
                ok &= result
                continue
            exact, findings = warned
            ok &= exact
            for name, code, rows in findings:
                key = (name, str(code))
                found[key] = found[key] | rows if key in found else rows
        counts = np.zeros(len(block), dtype=np.int64)
        for rows in found.values():
            counts += rows
        counts[~ok] = 0
        return ok, counts

    def clean(self, block: np.ndarray) -> np.ndarray | None:
        """Rows of ``block`` that the Construct path would accept without any error or warning;
        ``None`` if a rule cannot answer in bulk."""
        checked = self.check(block)
        if checked is None:
            return None
        ok, counts = checked
        clean: np.ndarray = ok & (counts == 0)
        return clean


def _cols(block: np.ndarray, layout: RecordLayout, name: str) -> np.ndarray:
    spec = layout.by_name[name]
    return block[:, spec.offset : spec.offset + spec.width]


def fast_path_refusal(layout: FileLayout, *, strict: bool = True) -> str | None:
    """Why files of ``layout`` cannot take the fast path whatever their content (a field kind or a
    record rule of the data record with no vector check), Japanese first, then English; ``None``
    when they can (a file may still be validated record by record for its own shape: separators
    that change, a size that does not fit, no data records)."""
    return _refusal(layout, BlockChecker(layout.layout_for("data"), strict))


def _refusal(layout: FileLayout, checker: BlockChecker) -> str | None:
    data_layout = checker.layout
    if checker.refusal is not None:
        return checker.refusal
    for name in (layout.totals.data_amount_field, *layout.totals.extra.values()):
        if not isinstance(data_layout.by_name[name].kind, Numeric):  # pragma: no cover - FileLayout checks it
            return f"集計項目 {name} が数値項目でない / totalled field {name} is not numeric"
    return None


def validate_fast(
    path: Path, layout: FileLayout, *, strict: bool = True, max_listed: int = 1000, block_records: int = BLOCK_RECORDS
) -> ValidationResult | None:
    """Validate ``path`` in blocks; ``None`` when the file or layout needs the record-by-record path."""
    data_layout = layout.layout_for("data")
    checker = BlockChecker(data_layout, strict)
    if _refusal(layout, checker) is not None:
        return None
    amount_spec = data_layout.by_name[layout.totals.data_amount_field]
    extra_specs = [(total, data_layout.by_name[name]) for total, name in layout.totals.extra.items()]
    length = layout.record_length
    size = path.stat().st_size
    with path.open("rb") as stream:
        head = stream.read(length + 2)
        if not head:
            return None
        stream.seek(max(size - 1, 0))
        body = size - 1 if stream.read(1) == EOF_MARK else size
        separator = sniff_separator(head, length)
        sep = SEPARATORS[separator]
        stride = length + len(sep)
        if body % stride == 0:
            rows, tail = body // stride, False
        elif sep and (body + len(sep)) % stride == 0:
            rows, tail = (body + len(sep)) // stride - 1, True
        else:
            return None
        if rows == 0 and not tail:
            return None

        data_type = layout.type_of("data")[0]
        split = layout.totals.split
        code_spec = data_layout.by_name[split.code_field] if split else None
        success_byte = split.success_code.encode("ascii")[0] if split else 0
        sep_row = np.frombuffer(sep, dtype=np.uint8)
        reader = RecordReader(stream, layout, strict=strict)  # used only for read_frame
        validator = FileValidator(layout, max_listed=max_listed)
        buffer = bytearray(block_records * stride)
        stream.seek(0)
        start = 0
        while start < rows:
            count = min(block_records, rows - start)
            view = memoryview(buffer)[: count * stride]
            if stream.readinto(view) != count * stride:
                return None
            block = np.frombuffer(view, dtype=np.uint8).reshape(count, stride)
            records = block[:, :length]
            if sep and not _separators_regular(block, records, sep_row, length, separator):
                return None
            checked = checker.check(records)
            if checked is None:
                return None
            clean, warnings = checked  # clean: no error (warnings are listed below, not by Construct)
            clean &= records[:, layout.type_offset] == data_type
            amount_cols = _cols(records, data_layout, amount_spec.name)
            if amount_spec.kind.optional:
                clean &= ~_blank(amount_cols)  # no amount: an unprovable total, said record by record
            warnings[~clean] = 0
            if code_spec is not None:
                codes = records[:, code_spec.offset]
                success = clean & (codes == success_byte)
                failure = clean & ~success & (codes != 0x20)
            else:
                success = failure = np.zeros(count, dtype=bool)
            sums = _RunSums(
                amount=_Amounts(amount_cols, clean),
                success=_prefix(success.astype(np.int64)),
                success_amount=_Amounts(amount_cols, success),
                failure=_prefix(failure.astype(np.int64)),
                warnings=_prefix(warnings),
                extra=[
                    (total, *_extra_sums(_cols(records, data_layout, spec.name), spec, clean))
                    for total, spec in extra_specs
                ],
            )
            previous = 0
            for row in [*np.flatnonzero(~clean).tolist(), count]:
                if row > previous:
                    accepted = _feed_run(validator, reader, records, sums, previous, row, start, stride, sep)
                    if accepted and sums.warnings[row] != sums.warnings[previous]:
                        _warn_run(validator, data_layout, strict, records, sums.warnings, previous, row, start, stride)
                if row < count:
                    validator.feed(reader.read_frame(_frame(records, row, start, stride, sep)))
                previous = row + 1
            start += count
        if tail:
            stream.seek(rows * stride)
            raw = stream.read(length)
            if len(raw) != length:
                return None
            validator.feed(reader.read_frame(Frame(rows + 1, rows * stride, raw)))
    return validator.finish(size=size, separator=separator, file=str(path))


def _blank(cols: np.ndarray) -> np.ndarray:
    blank: np.ndarray = (cols == 0x20).all(axis=1)
    return blank


#: Digits summed together: a part of a number of at most 9 digits is below 10⁹, so the prefix sums
#: of up to 2³³ such parts fit in int64; wider numbers are summed part by part and joined in Python.
_PART_DIGITS = 9


class _Amounts:
    """Prefix sums of a numeric column over the rows of ``mask`` (the others count 0), exact for any
    width: one int64 prefix sum per part of at most :data:`_PART_DIGITS` digits."""

    def __init__(self, cols: np.ndarray, mask: np.ndarray) -> None:
        width = cols.shape[1]
        self.parts: list[tuple[int, np.ndarray]] = []
        for stop in range(width, 0, -_PART_DIGITS):
            first = max(0, stop - _PART_DIGITS)
            digits = cols[:, first:stop].astype(np.int64) - ZERO
            values = digits @ (10 ** np.arange(stop - first - 1, -1, -1, dtype=np.int64))
            self.parts.append((10 ** (width - stop), _prefix(np.where(mask, values, 0))))

    def between(self, first: int, stop: int) -> int:
        """The sum over rows ``first``…``stop - 1``."""
        return sum(scale * int(prefix[stop] - prefix[first]) for scale, prefix in self.parts)


def _extra_sums(cols: np.ndarray, spec: FieldSpec, clean: np.ndarray) -> tuple[_Amounts, np.ndarray]:
    """A further total's data field over the clean rows: the sums of its values, and the prefix count
    of clean rows where it is blank (an optional number with no value, which leaves the total unknown)."""
    blank = _blank(cols) & clean if spec.kind.optional else np.zeros(len(cols), dtype=bool)
    return _Amounts(cols, clean & ~blank), _prefix(blank.astype(np.int64))


@dataclass(slots=True)
class _RunSums:
    """What a block's clean records add up to, as prefix sums (row i: the rows before it)."""

    amount: _Amounts
    success: np.ndarray
    success_amount: _Amounts
    failure: np.ndarray
    warnings: np.ndarray
    extra: list[tuple[str, _Amounts, np.ndarray]]


def _separators_regular(
    block: np.ndarray, records: np.ndarray, sep_row: np.ndarray, length: int, separator: str
) -> bool:
    """Every row ends with the separator, and no record byte could be read as a line break."""
    if not (block[:, length:] == sep_row).all():
        return False
    if (records == 0x0A).any():
        return False
    if separator == "lf" and (records[:, length - 1] == 0x0D).any():
        return False
    return True


def _prefix(values: np.ndarray) -> np.ndarray:
    out = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(values, out=out[1:])
    return out


def _frame(records: np.ndarray, row: int, start: int, stride: int, sep: bytes) -> Frame:
    index = start + row
    return Frame(index + 1, index * stride, records[row].tobytes(), sep)


def _feed_run(
    validator: FileValidator,
    reader: RecordReader,
    records: np.ndarray,
    sums: _RunSums,
    first: int,
    stop: int,
    start: int,
    stride: int,
    sep: bytes,
) -> bool:
    extra: dict[str, int | None] = {
        total: None if blanks[stop] != blanks[first] else values.between(first, stop)
        for total, values, blanks in sums.extra
    }
    accepted = validator.feed_bulk(
        stop - first,
        sums.amount.between(first, stop),
        int(sums.success[stop] - sums.success[first]),
        sums.success_amount.between(first, stop),
        int(sums.failure[stop] - sums.failure[first]),
        extra=extra,
    )
    if not accepted:
        for row in range(first, stop):
            validator.feed(reader.read_frame(_frame(records, row, start, stride, sep)))
        return False
    return True


def _warn_run(
    validator: FileValidator,
    layout: RecordLayout,
    strict: bool,
    records: np.ndarray,
    warnings: np.ndarray,
    first: int,
    stop: int,
    start: int,
    stride: int,
) -> None:
    """The warnings of the records ``first``…``stop`` of a run accepted in bulk: listed as the
    record path lists them (the rules' own ``check`` on the decoded record) while the list has
    room, then only counted."""
    issues = validator.issues
    row = first
    while row < stop and not issues.warnings_full:
        if warnings[row + 1] != warnings[row]:
            raw = records[row].tobytes()
            index = start + row
            for issue in layout.rule_issues(layout.decode_clean(raw, strict), raw):
                issues.add(field_rejection(issue, index + 1, index * stride))
        row += 1
    issues.count_unlisted_warnings(int(warnings[stop] - warnings[row]))
