"""One small fixed-width writer for the hand-written samples (tests/data/**/make_samples.py).

A sample maker spells every record out field by field, from the positions of the
layout it follows; this module only does the byte work around that: a field padded
to its width (left- or right-aligned, with a fill byte, in cp932 or ASCII), a number
zero-filled, a record joined from its fields and checked against the record length,
records joined with their separator, and the ``<case>.dat`` written::

    rec = partial(record, length=120)
    rec(b"1", exact("GWPA01", 6), num(count, 8), text("ｼｹﾝ ﾀﾛｳ", 30), SP * 75)
    write = writer(HERE)
    write("clean_crlf", join([header(), *data, trailer(), end()]))

It knows nothing of the project's layouts and imports none of its code (formats/,
gateway/, adapters/, spool/), so that the samples stay independent of the code they
test (tests/data/README.md). It is run directly by the makers, so only the standard
library is used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = [
    "CRLF",
    "LF",
    "SP",
    "ZENKAKU_SPACE",
    "align_left",
    "align_right",
    "exact",
    "join",
    "num",
    "record",
    "text",
    "writer",
    "zenkaku",
]

CRLF = b"\r\n"
LF = b"\n"
SP = b" "
#: The full-width space U+3000 in cp932.
ZENKAKU_SPACE = "\u3000".encode("cp932")
assert ZENKAKU_SPACE == b"\x81\x40"


# ---------------------------------------------------------------- fields


def align_left(raw: bytes, width: int, fill: bytes = SP) -> bytes:
    """``raw`` left-aligned in ``width`` bytes: as many whole ``fill`` units as fit after it,
    then half-width spaces for what is left (one byte of an odd width after full-width spaces)."""
    assert len(raw) <= width, (raw, width)
    room = width - len(raw)
    return raw + fill * (room // len(fill)) + SP * (room % len(fill))


def align_right(raw: bytes, width: int, fill: bytes = SP) -> bytes:
    """``raw`` right-aligned in ``width`` bytes, ``fill`` (one byte) before it."""
    assert len(raw) <= width, (raw, width)
    assert len(fill) == 1, fill
    return raw.rjust(width, fill)


def text(value: str, width: int, fill: bytes = SP, *, encoding: str = "cp932") -> bytes:
    """Text left-aligned and padded with ``fill`` (half-width spaces by default; pass
    ``ZENKAKU_SPACE`` for a full-width field): cp932 by default, ``encoding="ascii"``
    where only ASCII belongs."""
    return align_left(value.encode(encoding), width, fill)


def zenkaku(value: str, width: int) -> bytes:
    """Full-width text only (every character two bytes in cp932), padded with full-width
    spaces and, for an odd width, one half-width space."""
    raw = value.encode("cp932")
    assert len(raw) == 2 * len(value), value  # every character double-byte
    return align_left(raw, width, ZENKAKU_SPACE)


def num(value: int, width: int) -> bytes:
    """N: the digits of ``value``, right-aligned, zero-filled."""
    return align_right(str(value).encode("ascii"), width, b"0")


def exact(value: str, width: int, *, encoding: str = "ascii") -> bytes:
    """A literal that must already have the field's width (codes, dates, numbers as written)."""
    raw = value.encode(encoding)
    assert len(raw) == width, (value, width)
    return raw


# ---------------------------------------------------------------- records and files


def record(*parts: bytes, length: int) -> bytes:
    """The fields of one record, joined; exactly ``length`` bytes or an AssertionError."""
    data = b"".join(parts)
    assert len(data) == length, (len(data), length, data)
    return data


def join(records: Iterable[bytes], separator: bytes = CRLF, *, after_last: bool = True) -> bytes:
    """The records with ``separator`` after each one (CRLF, LF, or ``b""`` for none);
    ``after_last=False``: only between them."""
    records = list(records)
    data = separator.join(records)
    return data + separator if after_last and records else data


def writer(folder: Path) -> Callable[[str, bytes], Path]:
    """A ``write(case, data)`` that writes ``folder/<case>.dat`` (making the folder) and returns its path."""

    def write(case: str, data: bytes) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{case}.dat"
        path.write_bytes(data)
        return path

    return write
