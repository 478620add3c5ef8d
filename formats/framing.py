"""Framing: a byte stream into physical records, whatever separators the sender used.

Accepted: no separator (consecutive fixed-length records), CRLF after each record,
CRLF between records, LF, and one trailing 0x1A (EOF mark). A record of the wrong
length is handed on as it is (the reader reports it at its offset); nothing is skipped.
Memory stays bounded: the stream is read in chunks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, Literal

__all__ = ["Frame", "Framer", "Separator", "sniff_separator"]

Separator = Literal["crlf", "lf", "none"]
EOF_MARK = b"\x1a"
CHUNK = 1 << 20


@dataclass(slots=True)
class Frame:
    """One physical record: 1-based number, byte offset, bytes without separator."""

    index: int
    offset: int
    raw: bytes
    terminator: bytes = b""


def sniff_separator(head: bytes, record_length: int) -> Separator:
    """Decide the separator from the first record (docs/validation.md §1)."""
    newline = head.find(b"\n", 0, record_length + 2)
    if newline < 0:
        return "none"
    return "crlf" if newline > 0 and head[newline - 1 : newline] == b"\r" else "lf"


@dataclass
class Framer:
    """Iterates the frames of a stream; afterwards ``separator``, ``size``, ``empty`` and
    ``inconsistent_at`` (the first frame whose separator differs) describe the file."""

    stream: BinaryIO
    record_length: int = 120
    chunk_size: int = CHUNK
    separator: Separator = "none"
    size: int = 0
    empty: bool = False
    inconsistent_at: Frame | None = None
    frames: int = field(default=0)

    def __iter__(self) -> Iterator[Frame]:
        buffer = b""
        while len(buffer) < self.record_length + 2:  # enough to see the first record's line ending
            chunk = self.stream.read(self.chunk_size)
            if not chunk:
                break
            buffer += chunk
        self.separator = sniff_separator(buffer[: self.record_length + 2], self.record_length)
        self.size = len(buffer)
        eof = False
        if self.separator == "none":
            yield from self._blocks(buffer, eof)
        else:
            yield from self._lines(buffer, eof)

    # -- helpers ----------------------------------------------------------
    def _read(self) -> bytes:
        chunk = self.stream.read(self.chunk_size)
        self.size += len(chunk)
        return chunk

    def _finish_tail(self, tail: bytes) -> bytes:
        """Drop one EOF mark at the very end of the file."""
        return tail[:-1] if tail.endswith(EOF_MARK) else tail

    def _emit(self, offset: int, raw: bytes, terminator: bytes = b"") -> Frame:
        self.frames += 1
        return Frame(self.frames, offset, raw, terminator)

    def _blocks(self, buffer: bytes, eof: bool) -> Iterator[Frame]:
        length = self.record_length
        offset = 0
        start = 0
        while True:
            if not eof:
                chunk = self._read()
                if chunk:
                    buffer = buffer[start:] + chunk
                    start = 0
                    # keep one record back until EOF so a final 0x1A can be recognised
                    while len(buffer) - start > length + 1:
                        yield self._emit(offset, buffer[start : start + length])
                        start += length
                        offset += length
                    continue
                eof = True
            tail = self._finish_tail(buffer[start:])
            if offset == 0 and not tail:
                self.empty = True
                return
            for position in range(0, len(tail), length):
                yield self._emit(offset + position, tail[position : position + length])
            return

    def _lines(self, buffer: bytes, eof: bool) -> Iterator[Frame]:
        expected = b"\r\n" if self.separator == "crlf" else b"\n"
        offset = 0
        start = 0
        while True:
            newline = buffer.find(b"\n", start)
            if newline >= 0:
                end = newline - 1 if newline > start and buffer[newline - 1] == 0x0D else newline
                terminator = buffer[end : newline + 1]
                frame = self._emit(offset, buffer[start:end], terminator)
                if terminator != expected and self.inconsistent_at is None:
                    self.inconsistent_at = frame
                yield frame
                offset += newline + 1 - start
                start = newline + 1
                continue
            if not eof:
                chunk = self._read()
                if chunk:
                    buffer = buffer[start:] + chunk
                    start = 0
                    continue
                eof = True
            tail = self._finish_tail(buffer[start:])
            if tail:
                yield self._emit(offset, tail)
            elif self.frames == 0:
                self.empty = True
            return
