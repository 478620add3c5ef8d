"""The one baseline every benchmark prints beside its figure: decode every field of every
data record of a fixed-width file into a dict with ``struct.iter_unpack``.

The decoder is generated per layout family from the layout's own data record
(``get_format(...).layout_for("data")``: each field's offset, width and kind):

- ``Numeric`` → ``int``;
- ``Text``, ``DoubleByteText``, ``Code`` → the bytes decoded as cp932 (the layout's
  encoding), trailing spaces stripped;
- ``Digits`` → ASCII ``str`` (account numbers, codes: leading zeros kept);
- ``Date`` → its digits as ASCII ``str`` (not turned into a ``datetime.date``: the baseline
  does not check calendars; say so when quoting it);
- ``Constant`` → ASCII ``str``; ``Filler`` → skipped (padded over, never decoded).

Header, trailer and end records are recognised by the record-type byte and skipped, so
the baseline's count is the data records'. It checks nothing (no totals, no code lists,
no bank master): it is the floor of "read every field", not a validator.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from formats.layout import FileLayout

Decoder = Callable[[bytes], Iterator[dict[str, Any]]]

CHUNK_RECORDS = 8192


def _separator(path: Path, record_length: int) -> bytes:
    with path.open("rb") as stream:
        head = stream.read(record_length + 2)
    tail = head[record_length:]
    if tail.startswith(b"\r\n"):
        return b"\r\n"
    if tail.startswith(b"\n"):
        return b"\n"
    return b""


def make_decoder(layout: FileLayout, separator: bytes = b"\r\n") -> tuple[struct.Struct, Decoder]:
    """A struct over one record plus its separator, and a generator of one dict per data record."""
    data = layout.layout_for("data")
    encoding = layout.encoding
    parts: list[str] = []
    names: list[str] = []
    exprs: list[str] = []
    position = 0
    type_index: int | None = None
    for field in data.fields:
        kind = type(field.kind).__name__
        assert field.offset == position, (field.name, field.offset, position)
        position += field.width
        if layout.type_offset == field.offset and field.width == 1:
            type_index = len(names)
        if kind == "Filler":
            parts.append(f"{field.width}x")
            continue
        parts.append(f"{field.width}s")
        variable = f"f{len(names)}"
        names.append(variable)
        if kind == "Numeric":
            expr = f"int({variable})"
        elif kind in ("Text", "DoubleByteText", "Code"):
            expr = f"{variable}.decode({encoding!r}).rstrip(' \\u3000')"
        elif kind in ("Digits", "Date", "Constant"):
            expr = f"{variable}.decode('ascii')"
        else:  # pragma: no cover - a kind this baseline does not know yet
            raise ValueError(f"baseline: no decoding for field kind {kind} ({field.name})")
        exprs.append(f"{field.name!r}: {expr}")
    parts.append(f"{len(separator)}x" if separator else "")
    record = struct.Struct("".join(parts))
    data_type = next(code for code, (role, _) in layout.records.items() if role == "data")
    if type_index is None:
        # the record type lies inside a wider field: test the raw byte instead
        raise ValueError("baseline: the record type is not a one-byte field of its own")
    source = (
        "def decode(chunk):\n"
        f"    for ({', '.join(names)},) in unpack(chunk):\n"
        f"        if f{type_index} == {data_type!r}:\n"
        f"            yield {{{', '.join(exprs)}}}\n"
    )
    scope: dict[str, Any] = {"unpack": record.iter_unpack}
    exec(source, scope)  # code generated from the layout's own field list
    return record, scope["decode"]


def baseline(path: Path, layout: FileLayout) -> tuple[int, int, float]:
    """Decode every data record of ``path`` into a dict: (records, sum of the data amount field, seconds).

    The file must be regular framing (every record followed by the same separator)."""
    amount_field = layout.totals.data_amount_field if layout.totals else None
    start = time.perf_counter()
    record, decode = make_decoder(layout, _separator(path, layout.record_length))
    count = total = 0
    with path.open("rb") as stream:
        while chunk := stream.read(record.size * CHUNK_RECORDS):
            usable = len(chunk) - len(chunk) % record.size  # a trailing 0x1A or a short last line
            for values in decode(chunk[:usable]):
                count += 1
                if amount_field:
                    total += values[amount_field]
    return count, total, time.perf_counter() - start


def line(figure: str, value: float, unit: str, base: float | None = None, note: str = "") -> str:
    """One printed figure, the same format in every script: figure, value, baseline, ratio."""
    text = f"{figure:<60} {value:12,.1f} {unit:<9}"
    if base is not None:
        text += f" baseline {base:12,.1f} {unit:<9} ratio {value / base:6.3f}"
    if note:
        text += f"  ({note})"
    return text
