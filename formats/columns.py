"""Records in columns: blocks of fixed-width records read as numpy arrays, their fields
decoded a column at a time, and columns of values encoded back into records.

This is the batch data path's side of the layouts (gateway/datapath/batch.py): a block of
tens of thousands of records is one ``(n, record_length)`` array; a field is a column
slice of it. Decoding a column gives exactly what :meth:`RecordLayout.decode_clean` gives
for each record (the same field kinds' ``convert``; numbers all in one step), and
:func:`encode_records` gives exactly the bytes :meth:`RecordLayout.encode` gives for each
record, joined with the separator (numbers padded in one step, other values encoded once
per distinct value), so the two data paths write the same bytes
(tests/unit/test_columns.py, tests/integration/test_batch_differential.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from formats.fields import Digits, FieldBuildError, Numeric, Text
from formats.framing import EOF_MARK, Framer
from formats.layout import FieldSpec, FileLayout, RecordLayout

__all__ = ["Block", "Columns", "encode_records", "read_blocks"]

BLOCK_RECORDS = 32_768
SEPARATORS = {"crlf": b"\r\n", "lf": b"\n", "none": b""}
_ZERO = 0x30
_SPACE = 0x20
#: bytes that begin a two-byte character in cp932 (a column without them is one character a byte)
_LEAD_BYTES = np.zeros(256, dtype=bool)
_LEAD_BYTES[0x81:0xA0] = _LEAD_BYTES[0xE0:0xFD] = True


@dataclass(frozen=True)
class Block:
    """Consecutive records of a file: their bytes, 1-based record numbers and byte offsets."""

    records: np.ndarray  # (n, record_length) uint8
    numbers: np.ndarray  # (n,) int64
    offsets: np.ndarray  # (n,) int64

    def __len__(self) -> int:
        return len(self.records)

    def raw(self, row: int) -> bytes:
        return bytes(self.records[row].tobytes())


def read_blocks(path: Path, layout: FileLayout, separator: str, block_records: int = BLOCK_RECORDS) -> Iterator[Block]:
    """The records of ``path`` in blocks, in file order; a record not of the layout's length
    (a short last line …) is left out — validation has already refused it.

    A file whose every record is followed by the same separator is read straight into
    arrays; any other file through :class:`~formats.framing.Framer`."""
    length = layout.record_length
    sep = SEPARATORS.get(separator)
    size = path.stat().st_size
    if sep is not None:
        with path.open("rb") as stream:
            stream.seek(max(size - 1, 0))
            body = size - 1 if size and stream.read(1) == EOF_MARK else size
            stride = length + len(sep)
            rows = body // stride
            tail = body - rows * stride
            if tail in (0, length) and _regular(stream, rows, stride, length, sep, block_records):
                yield from _strided(stream, rows, stride, length, block_records)
                if tail == length:
                    stream.seek(rows * stride)
                    last = np.frombuffer(stream.read(length), dtype=np.uint8).reshape(1, length)
                    yield Block(last, np.array([rows + 1]), np.array([rows * stride]))
                return
    with path.open("rb") as stream:
        raws: list[bytes] = []
        numbers: list[int] = []
        offsets: list[int] = []
        for frame in Framer(stream, length):
            if len(frame.raw) != length:
                continue
            raws.append(frame.raw)
            numbers.append(frame.index)
            offsets.append(frame.offset)
            if len(raws) == block_records:
                yield _block(raws, numbers, offsets, length)
                raws, numbers, offsets = [], [], []
        if raws:
            yield _block(raws, numbers, offsets, length)


def _block(raws: list[bytes], numbers: list[int], offsets: list[int], length: int) -> Block:
    records = np.frombuffer(b"".join(raws), dtype=np.uint8).reshape(len(raws), length)
    return Block(records, np.array(numbers, dtype=np.int64), np.array(offsets, dtype=np.int64))


def _regular(stream: Any, rows: int, stride: int, length: int, sep: bytes, block_records: int) -> bool:
    """Every record ends with ``sep`` and holds no line break (a file the Framer reads the same way)."""
    if not sep:
        return True
    sep_row = np.frombuffer(sep, dtype=np.uint8)
    for block in _strided_raw(stream, rows, stride, block_records):
        if not (block[:, length:] == sep_row).all() or (block[:, :length] == 0x0A).any():
            return False
        if sep == b"\n" and (block[:, length - 1] == 0x0D).any():
            return False
    return True


def _strided_raw(stream: Any, rows: int, stride: int, block_records: int) -> Iterator[np.ndarray]:
    stream.seek(0)
    start = 0
    while start < rows:
        count = min(block_records, rows - start)
        data = stream.read(count * stride)
        yield np.frombuffer(data, dtype=np.uint8).reshape(count, stride)
        start += count


def _strided(stream: Any, rows: int, stride: int, length: int, block_records: int) -> Iterator[Block]:
    start = 0
    for block in _strided_raw(stream, rows, stride, block_records):
        count = len(block)
        numbers = np.arange(start + 1, start + count + 1, dtype=np.int64)
        yield Block(block[:, :length], numbers, (numbers - 1) * stride)
        start += count


class Columns(Mapping[str, list[Any]]):
    """The fields of some records of one record layout, decoded a column at a time, on first use.

    ``columns[name]`` is the list of the field's values, one per row, exactly as
    :meth:`RecordLayout.decode_clean` decodes them (the rows must be valid: validation said so).
    """

    def __init__(self, layout: RecordLayout, records: np.ndarray) -> None:
        self.layout = layout
        self.records = records
        self._decoded: dict[str, list[Any]] = {}
        self._names = [spec.name for spec in layout.fields if spec.reported]

    def __len__(self) -> int:
        return len(self._names)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    @property
    def rows(self) -> int:
        return len(self.records)

    def __getitem__(self, name: str) -> list[Any]:
        if name not in self._decoded:
            spec = self.layout.by_name.get(name)
            if spec is None or not spec.reported:
                raise KeyError(name)
            self._decoded[name] = decode_column(spec, self.records[:, spec.offset : spec.offset + spec.width])
        return self._decoded[name]


def decode_column(spec: FieldSpec, cols: np.ndarray) -> list[Any]:
    """One field's values for the rows of ``cols`` (shape (n, width)), as the field kind's ``convert`` gives them."""
    kind = spec.kind
    if isinstance(kind, Numeric) and spec.width <= 18 and len(cols) and bool(((cols >= _ZERO) & (cols <= 0x39)).all()):
        values: list[Any] = kind.vector_int(cols).tolist()
        return values
    width = spec.width
    data = cols.tobytes()
    if isinstance(kind, (Text, Digits)) and len(cols) and bool((cols[:, -1] != _SPACE).all()):
        if bool(((cols > 0) & (cols < 0x80)).all()):  # ASCII, nothing to strip: numpy makes the strings
            strings: list[Any] = np.frombuffer(data, dtype=f"S{width}").astype(f"U{width}").tolist()
            return strings
    if isinstance(kind, (Text, Digits)) and len(cols) and not bool(_LEAD_BYTES[cols].any()):
        # one character a byte (ASCII, half-width kana): the column decoded at once, then cut
        text = data.decode("cp932")
        if isinstance(kind, Text):  # Text.convert: cp932, trailing spaces stripped
            return [text[start : start + width].rstrip(" ") for start in range(0, len(text), width)]
        # Digits.convert: ASCII, trailing spaces stripped, nothing left → None
        return [text[start : start + width].rstrip(" ") or None for start in range(0, len(text), width)]
    convert = kind.convert
    # each distinct value converted once (codes, dates: a few distinct values a column)
    chunks = np.ascontiguousarray(cols).view(np.dtype((np.void, width))).ravel()
    distinct, index = np.unique(chunks, return_inverse=True)
    if len(distinct) * 4 > len(chunks):  # mostly distinct: one by one
        return [convert(data[start : start + width]) for start in range(0, len(data), width)]
    values = [convert(bytes(value)) for value in distinct]
    return list(map(values.__getitem__, index.ravel().tolist()))


def encode_records(layout: RecordLayout, columns: Mapping[str, Sequence[Any]], rows: int, separator: bytes) -> bytes:
    """``rows`` records of ``layout`` from columns of values (a field without a column is
    encoded from ``None``), each followed by ``separator``: the bytes
    ``b"".join(layout.encode(values) + separator for values in rows)`` gives.

    A value that does not fit raises :class:`FieldBuildError` naming the record and field,
    as :meth:`RecordLayout.encode` does (for the first row that does not fit)."""
    if rows == 0:
        return b""
    stride = layout.length + len(separator)
    out = np.empty((rows, stride), dtype=np.uint8)
    if separator:
        out[:, layout.length :] = np.frombuffer(separator, dtype=np.uint8)
    for spec in layout.fields:
        column = columns.get(spec.name)
        try:
            out[:, spec.offset : spec.offset + spec.width] = _encode_column(spec, column, rows)
        except FieldBuildError:
            for row in range(rows):  # the first row that does not fit, named as layout.encode names it
                layout.encode({name: values[row] for name, values in columns.items()})
            raise
    return out.tobytes()


def _encode_column(spec: FieldSpec, column: Sequence[Any] | None, rows: int) -> np.ndarray:
    encode = spec.kind.encode
    if column is None:
        return np.frombuffer(encode(None), dtype=np.uint8)  # broadcast over the rows
    if isinstance(spec.kind, Numeric) and spec.width <= 18:
        numbers = _as_int64(column)
        if numbers is not None and len(numbers) and numbers.min() >= 0 and numbers.max() < 10**spec.width:
            powers = 10 ** np.arange(spec.width - 1, -1, -1, dtype=np.int64)
            digits: np.ndarray = (numbers[:, None] // powers) % 10 + _ZERO
            return digits.astype(np.uint8)
    if isinstance(spec.kind, (Text, Digits)):
        placed = _place_text(spec, column, rows)
        if placed is not None:
            return placed
    # each distinct value encoded once (a constant: once for the column); values of one type only
    # (1 and True are equal, their bytes are not)
    if len(set(map(type, column))) != 1:
        return np.frombuffer(b"".join(map(encode, column)), dtype=np.uint8).reshape(rows, spec.width)
    if column.count(column[0]) == rows:  # (a constant column is one object: compared by identity)
        return np.frombuffer(encode(column[0]), dtype=np.uint8)  # broadcast over the rows
    try:
        distinct = dict.fromkeys(column)
    except TypeError:  # a value that is not hashable
        distinct = {}
    if not distinct or len(distinct) * 4 > rows:
        return np.frombuffer(b"".join(map(encode, column)), dtype=np.uint8).reshape(rows, spec.width)
    table = np.frombuffer(b"".join(map(encode, distinct)), dtype=np.uint8).reshape(-1, spec.width)
    position = {value: at for at, value in enumerate(distinct)}
    picked: np.ndarray = table[np.fromiter(map(position.__getitem__, column), dtype=np.intp, count=rows)]
    return picked


def _as_int64(column: Sequence[Any]) -> np.ndarray | None:
    """The column as int64 when every value is a plain int (not bool, not None) that fits."""
    if set(map(type, column)) != {int}:  # bools, None and the rest: encoded one by one
        return None
    try:
        return np.fromiter(column, dtype=np.int64, count=len(column))
    except OverflowError:
        return None


def _place_text(spec: FieldSpec, column: Sequence[Any], rows: int) -> np.ndarray | None:
    """A Text or Digits column of ASCII strings that all fit, placed into its bytes at once:
    what each value's ``encode`` gives (Text: left-aligned, space-padded, every byte in the
    charset, a required value not blank; Digits: digits, zero-filled on the left or
    space-padded). None when a value needs ``encode`` itself (then it is encoded one by one,
    and a value that does not fit raises there)."""
    kind = spec.kind
    width = spec.width
    if set(map(type, column)) != {str}:
        return None
    joined = "".join(column)
    if not joined.isascii():
        return None
    lengths = np.fromiter(map(len, column), dtype=np.int64, count=rows)
    if lengths.max(initial=0) > width:
        return None
    data = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
    if isinstance(kind, Digits):
        if not lengths.all() or (len(data) and not ((data >= _ZERO) & (data <= 0x39)).all()):
            return None  # empty values (optional or refused), or not digits
        right = kind.align == "zero"
        out = np.full((rows, width), _ZERO if right else _SPACE, dtype=np.uint8)
    else:
        assert isinstance(kind, Text)
        if len(data) and not kind.charset.table(True)[data].all():
            return None  # a byte outside the charset: refused by encode
        if kind.required and not all(value.strip() for value in column):
            return None  # a blank value: refused by encode
        right = False
        out = np.full((rows, width), _SPACE, dtype=np.uint8)
    starts = np.zeros(rows, dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    row_of = np.repeat(np.arange(rows, dtype=np.int64), lengths)
    position = np.arange(len(data), dtype=np.int64) - np.repeat(starts, lengths)
    if right:
        position += np.repeat(width - lengths, lengths)
    out[row_of, position] = data
    return out
