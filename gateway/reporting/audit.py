"""The audit log: one JSON line per event, on structlog, with personal data masked.

Every step of a file's journey emits an event (``get_logger(file_id=...).info("claimed", ...)``).
:func:`configure` sends events as JSON lines to an append-only file (created ``0o600``,
its new parent folders ``0o700``) with an ISO-8601 UTC ``timestamp`` and a ``level``, and
— when asked, or by default when stderr is a terminal — also to stderr in a readable form.

:class:`MaskingProcessor` runs in every chain, before anything is rendered, so that no
personal data reaches any output:

- keys ``raw``, ``raw_bytes``, ``data`` and ``content`` are dropped (record bytes never go to a log);
- values of ``account_number``, ``customer_number`` and ``account`` keep only their last 3
  characters; values of ``individual_number`` and ``my_number`` keep nothing;
- in every string (the ``event`` message, keys, nested dicts, lists and tuples, exception
  text and traceback) an individual number becomes ``[個人番号]`` by
  formats.checkdigits.mask_my_numbers: 12 digits, ASCII or full-width, possibly split by
  single spaces or hyphens, whatever letters or kana touch them (``MN123456789018.dat``),
  passing the check digit; a longer digit run (a 20-digit customer number) and the
  digits of a SHA-256 hex digest are left alone; an int that is a valid number is masked too;
- bytes become ``<N bytes>``.

Importing this module installs a safe default (no file; console only on a terminal) so
that nothing is ever logged unmasked before the application calls :func:`configure`.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO, cast

import structlog
from structlog.typing import EventDict, FilteringBoundLogger, Processor, WrappedLogger

from formats.checkdigits import MY_NUMBER_MASK, is_valid_my_number, mask_my_numbers
from formats.masking import Personal, mask

__all__ = ["MY_NUMBER_MASK", "MaskingProcessor", "configure", "get_logger"]

_DROPPED_KEYS = frozenset({"raw", "raw_bytes", "data", "content"})
_PERSONAL_KEYS: dict[str, Personal] = {
    "account_number": "account",
    "customer_number": "account",
    "account": "account",
    "individual_number": "mynumber",
    "my_number": "mynumber",
}
_MAX_DEPTH = 16


class MaskingProcessor:
    """Removes or masks personal data in an event dict; safe to run more than once.

    A pending ``exc_info`` is rendered to an ``exception`` string first (as
    ``structlog.processors.format_exc_info`` does), so that the exception text and
    traceback are masked like any other string.
    """

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        if "exc_info" in event_dict:
            event_dict = structlog.processors.format_exc_info(logger, method_name, event_dict)
        return self._mapping(event_dict, 0)

    # -- values -------------------------------------------------------------
    def _mapping(self, mapping: Mapping[Any, Any], depth: int) -> dict[Any, Any]:
        cleaned: dict[Any, Any] = {}
        for key, value in mapping.items():
            name = key.lower() if isinstance(key, str) else key
            if name in _DROPPED_KEYS:
                continue
            clean_key = mask_my_numbers(key, MY_NUMBER_MASK) if isinstance(key, str) else key
            personal = _PERSONAL_KEYS.get(name) if isinstance(name, str) else None
            if personal is not None:
                cleaned[clean_key] = self._personal(value, personal, depth + 1)
            else:
                cleaned[clean_key] = self._value(value, depth + 1)
        return cleaned

    def _value(self, value: Any, depth: int) -> Any:
        if value is None or isinstance(value, (bool, float)):
            return value
        if isinstance(value, str):
            return mask_my_numbers(value, MY_NUMBER_MASK)
        if isinstance(value, int):
            return MY_NUMBER_MASK if is_valid_my_number(str(value)) else value
        if isinstance(value, (bytes, bytearray, memoryview)):
            return f"<{len(value)} bytes>" if not isinstance(value, memoryview) else f"<{value.nbytes} bytes>"
        if depth > _MAX_DEPTH:
            return "<nested too deep>"
        if isinstance(value, Mapping):
            return self._mapping(value, depth)
        if isinstance(value, tuple):
            return tuple(self._value(item, depth + 1) for item in value)
        if isinstance(value, (list, set, frozenset)):
            return [self._value(item, depth + 1) for item in value]
        if isinstance(value, BaseException):
            return mask_my_numbers(f"{type(value).__name__}: {value}", MY_NUMBER_MASK)
        # anything else would be rendered with str()/repr() later: render it now, masked
        return mask_my_numbers(str(value), MY_NUMBER_MASK)

    def _personal(self, value: Any, personal: Personal, depth: int) -> Any:
        if value is None:
            return None
        if isinstance(value, (bytes, bytearray, memoryview)):
            return self._value(value, depth)
        if depth > _MAX_DEPTH:
            return "<nested too deep>"
        if isinstance(value, Mapping):
            return {key: self._personal(item, personal, depth + 1) for key, item in self._mapping(value, depth).items()}
        if isinstance(value, (list, tuple, set, frozenset)):
            return [self._personal(item, personal, depth + 1) for item in value]
        return mask(str(value), personal)


class _AuditSink:
    """The wrapped logger: writes rendered lines to the currently configured file, if any.

    It looks the file up on every write, so a logger bound before :func:`configure`
    is called again writes to the new file instead of a closed one.
    """

    def __init__(self) -> None:
        self.file: TextIO | None = None
        self.path: Path | None = None
        self.lock = threading.Lock()

    def msg(self, message: str) -> None:
        with self.lock:
            if self.file is not None:
                self._follow_rotation()
                self.file.write(message + "\n")
                self.file.flush()

    def _follow_rotation(self) -> None:
        """Reopen the log when another process replaced it (gateway purge rotates it), as
        logging's WatchedFileHandler does."""
        if self.path is None or self.file is None:
            return
        try:
            current = os.stat(self.path)
        except FileNotFoundError:
            current = None
        opened = os.fstat(self.file.fileno())
        if current is None or (current.st_ino, current.st_dev) != (opened.st_ino, opened.st_dev):
            self.file.close()
            self.file = _open_log(self.path)

    log = debug = info = warn = warning = error = err = critical = fatal = exception = failure = msg


class _ConsoleEcho:
    """Writes a readable copy of each event to stderr and passes the event on unchanged."""

    def __init__(self, colors: bool) -> None:
        self._renderer = structlog.dev.ConsoleRenderer(colors=colors)

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        stream = sys.stderr
        if stream is not None:
            text = self._renderer(logger, method_name, dict(event_dict))
            stream.write(f"{text}\n")
            stream.flush()
        return event_dict


_SINK = _AuditSink()


def _private_dirs(directory: Path) -> None:
    """Create ``directory`` and any missing parents with mode 0o700 (existing ones untouched)."""
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(folder, 0o700)


def _open_log(path: Path) -> TextIO:
    _private_dirs(path.parent)
    flags = os.O_WRONLY | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o600)
        os.fchmod(fd, 0o600)  # whatever the umask
    except FileExistsError:
        fd = os.open(path, flags)
    return os.fdopen(fd, "a", encoding="utf-8", newline="\n")


def _stderr_is_tty() -> bool:
    stream = sys.stderr
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False


def configure(log_path: Path | None, *, console: bool | None = None, level: int = logging.INFO) -> None:
    """Send audit events to ``log_path`` as JSON lines (and to stderr when ``console``).

    ``console=None`` means: a readable console copy only when stderr is a terminal.
    ``log_path=None`` writes no file. Calling it again replaces the previous
    configuration and closes the previous file.
    """
    if console is None:
        console = _stderr_is_tty()
    new_file = _open_log(Path(log_path)) if log_path is not None else None
    with _SINK.lock:
        old_file, _SINK.file = _SINK.file, new_file
        _SINK.path = Path(log_path) if log_path is not None else None
    if old_file is not None:
        old_file.close()

    processors: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.StackInfoRenderer(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        MaskingProcessor(),
    ]
    if console:
        processors.append(_ConsoleEcho(colors=_stderr_is_tty()))
    processors.append(structlog.processors.JSONRenderer(ensure_ascii=False))
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(level),
        context_class=dict,
        logger_factory=lambda *args: _SINK,
        cache_logger_on_first_use=False,
    )


def get_logger(**initial: Any) -> FilteringBoundLogger:
    """A logger bound to ``initial`` (e.g. ``file_id``, ``channel``), writing to the audit log."""
    return cast(FilteringBoundLogger, structlog.get_logger(**initial))


configure(None)
