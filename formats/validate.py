"""Validate one file: the fast path where it applies, the streaming reader otherwise.

Both give the same :class:`~formats.validator.ValidationResult` (tests/unit/test_fastpath.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from formats.layout import FileLayout
from formats.reader import RecordReader
from formats.validator import FileValidator, ValidationResult

__all__ = ["validate_path", "validate_stream"]


def validate_stream(
    stream: BinaryIO, layout: FileLayout, *, strict: bool = True, max_listed: int = 1000, name: str | None = None
) -> ValidationResult:
    """Record by record through Construct: the reference path, exact for every record."""
    reader = RecordReader(stream, layout, strict=strict)
    validator = FileValidator(layout, max_listed=max_listed)
    inconsistent = None
    for result in reader:
        if inconsistent is None and reader.framer.inconsistent_at is not None:
            inconsistent = result
        validator.feed(result)
    framer = reader.framer
    return validator.finish(
        size=framer.size, separator=framer.separator, empty=framer.empty, inconsistent=inconsistent, file=name
    )


def validate_path(
    path: str | os.PathLike[str], layout: FileLayout, *, strict: bool = True, max_listed: int = 1000, fast: bool = True
) -> ValidationResult:
    """Validate a file on disk, using the vectorised fast path when the file allows it."""
    path = Path(path)
    if fast:
        from formats.fastpath import validate_fast

        result = validate_fast(path, layout, strict=strict, max_listed=max_listed)
        if result is not None:
            return result
    with path.open("rb") as stream:
        return validate_stream(stream, layout, strict=strict, max_listed=max_listed, name=str(path))
