"""Durable file operations: a file is either wholly there under its final name or not at all.

Writing goes to a hidden temporary name (``.tmp-<final name>.<pid>.<random>``) in the
target folder, is fsynced, then renamed over the final name and the folder fsynced:
a crash leaves at most a stale ``.tmp-*`` file (removed when `gateway run` starts, by
`remove_stale_temps`, once its writer's process is gone), and a retry with the same final name replaces the earlier output instead
of adding a second one. Files are created with mode 0o600.

Moving an input file (`move_into`) never replaces anything: it is a rename that fails
if the target exists (``renameat2(RENAME_NOREPLACE)`` on Linux), so of two processes
claiming the same file exactly one gets it, and the other gets FileNotFoundError.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import secrets
import stat
import time
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import cast

from spool.process import pid_alive

__all__ = [
    "TEMP_PREFIX",
    "TempWriter",
    "atomic_write",
    "NAME_MAX",
    "commit",
    "fit_name",
    "fsync_dir",
    "move_into",
    "remove_stale_temps",
    "sha256_fd",
    "sha256_file",
    "temp_path",
    "write_temp",
]

TEMP_PREFIX = ".tmp-"
"""Every temporary name starts with this (and is therefore hidden from the scanner)."""

_CHUNK = 1024 * 1024
_FILE_MODE = 0o600
NAME_MAX = 255
"""Bytes in one folder entry's name, on every file system the spool is meant for."""


def sha256_fd(fd: int) -> str:
    """The SHA-256 of an open file's whole content in hex (read from offset 0 with ``pread``)."""
    digest = hashlib.sha256()
    offset = 0
    while chunk := os.pread(fd, _CHUNK, offset):
        digest.update(chunk)
        offset += len(chunk)
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's content in hex, read in 1 MiB chunks."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return sha256_fd(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (creations, renames, removals) to disk."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check_name(name: str) -> None:
    if not name or name in {".", ".."} or "/" in name or "\0" in name:
        raise ValueError(f"expected a plain file name, found {name!r}")


def fit_name(name: str, room: int = NAME_MAX) -> str:
    """``name`` cut to at most ``room`` bytes of UTF-8, at a character boundary (the start kept)."""
    return name.encode("utf-8", "surrogateescape")[:room].decode("utf-8", "ignore")


def _temp_name(final_name: str) -> str:
    tail = f".{os.getpid()}.{secrets.token_hex(6)}"
    # A final name near the file system's limit is cut (by bytes, at a character boundary).
    return f"{TEMP_PREFIX}{fit_name(final_name, NAME_MAX - len(TEMP_PREFIX) - len(tail.encode()))}{tail}"


def temp_path(directory: Path, final_name: str) -> Path:
    """A new hidden temporary name in `directory` for `final_name`: ``.tmp-<final name>.<pid>.<random>``."""
    _check_name(final_name)
    return Path(directory) / _temp_name(final_name)


class TempWriter:
    """A new file written under a temporary name, hashed and counted as it is written, then
    finished (flushed, fsynced and closed; it keeps its temporary name) or discarded (removed).

    The file is created with ``O_EXCL`` and mode 0o600; ``buffering`` is :func:`open`'s."""

    def __init__(self, temp: Path, *, buffering: int = -1) -> None:
        self.temp = Path(temp)
        fd = os.open(self.temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, _FILE_MODE)
        try:
            os.fchmod(fd, _FILE_MODE)
            self._file = open(fd, "wb", buffering=buffering)
        except BaseException:
            os.close(fd)
            self.temp.unlink(missing_ok=True)
            raise
        self._digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self._digest.update(data)
        self.size += len(data)

    def finish(self) -> str:
        """Flush, fsync and close; the file stays under its temporary name. Returns its SHA-256."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        return self._digest.hexdigest()

    def discard(self) -> None:
        """Close (if still open) and remove the temporary file."""
        try:
            if not self._file.closed:
                self._file.close()
        finally:
            self.temp.unlink(missing_ok=True)


def write_temp(directory: Path, final_name: str, chunks: bytes | Iterable[bytes]) -> tuple[Path, str]:
    """Write `chunks` (or one bytes object) to a new hidden temporary file in `directory` and fsync it.

    Returns (temporary path, SHA-256 of the content). If anything fails — including the
    iterable raising — the temporary file is removed and the exception re-raised."""
    if isinstance(chunks, (bytes, bytearray, memoryview)):
        chunks = cast(Iterable[bytes], (chunks,))
    writer = TempWriter(temp_path(directory, final_name))
    try:
        for chunk in chunks:
            writer.write(chunk)
        digest = writer.finish()
    except BaseException:
        writer.discard()
        raise
    return writer.temp, digest


def commit(temp: Path, final: Path) -> None:
    """Rename `temp` over `final` (replacing an earlier `final`) and fsync the folder(s)."""
    os.replace(temp, final)
    fsync_dir(Path(final).parent)
    if Path(temp).parent != Path(final).parent:
        fsync_dir(Path(temp).parent)


def atomic_write(path: Path, data: bytes | Iterable[bytes]) -> str:
    """Write `data` to `path` all at once or not at all (replacing an existing file); returns its SHA-256."""
    path = Path(path)
    temp, digest = write_temp(path.parent, path.name, data)
    try:
        commit(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return digest


# --- rename without replacing -------------------------------------------------------------

_AT_FDCWD = -100
_RENAME_NOREPLACE = 1


def _load_renameat2() -> Callable[[bytes, bytes], int] | None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int

    def rename_noreplace(src: bytes, dst: bytes) -> int:
        if function(_AT_FDCWD, src, _AT_FDCWD, dst, _RENAME_NOREPLACE) == 0:
            return 0
        return ctypes.get_errno()

    return rename_noreplace


_renameat2 = _load_renameat2()


def _rename_noreplace(src: Path, dst: Path) -> None:
    """Rename src to dst, failing with FileExistsError if dst exists; never replaces."""
    if _renameat2 is not None:
        code = _renameat2(os.fsencode(src), os.fsencode(dst))
        if code == 0:
            return
        if code not in {errno.EINVAL, errno.ENOSYS, errno.ENOTSUP}:  # the file system cannot: fall back
            raise OSError(code, os.strerror(code), str(src), None, str(dst))
    _link_then_unlink(src, dst)


def _link_then_unlink(src: Path, dst: Path) -> None:
    """Portable no-replace rename: a hard link (refuses an existing dst), then remove src.

    Of two callers racing on the same src, the one whose unlink fails removes its own
    link again and gets FileNotFoundError, so exactly one ends up holding the file."""
    os.link(src, dst, follow_symlinks=False)
    try:
        os.unlink(src)
    except FileNotFoundError:
        os.unlink(dst)
        raise


def move_into(src: Path, directory: Path, name: str) -> Path:
    """Rename `src` to `directory/name` on the same file system and fsync both folders.

    Raises FileNotFoundError when `src` is gone (another process claimed it) or `directory`
    is missing, FileExistsError when the target exists (an input file is never replaced),
    and OSError(EXDEV) when `directory` is on another file system."""
    _check_name(name)
    src = Path(src)
    target = Path(directory) / name
    try:
        _rename_noreplace(src, target)
    except FileNotFoundError as error:
        if not Path(directory).is_dir():
            raise FileNotFoundError(
                errno.ENOENT, "target folder missing (run the spool's ensure())", str(directory)
            ) from error
        raise FileNotFoundError(errno.ENOENT, "file gone (claimed by another process?)", str(src)) from error
    except FileExistsError as error:
        raise FileExistsError(errno.EEXIST, "target exists; refusing to replace it", str(target)) from error
    fsync_dir(Path(directory))
    if src.parent != Path(directory):
        fsync_dir(src.parent)
    return target


def remove_stale_temps(
    directory: Path,
    older_than: float = 0,
    *,
    prefix: str = "",
    dead_writers: bool = False,
    keep: Collection[str] = frozenset(),
) -> list[Path]:
    """Delete the temporaries in `directory` no writer will finish: the regular files named
    ``.tmp-<prefix>*``; returns what was deleted, sorted (nothing when the folder is missing).

    - `older_than`: only those whose mtime is at least this many seconds old (0: any age);
    - `dead_writers`: only those whose writer's process is gone, by the pid in the name
      (``.tmp-<final name>.<pid>.<random>``, as `write_temp` names them; a name without
      one is left alone);
    - `keep`: paths (as ``str(path)``) never deleted, such as staged outputs still to deliver."""
    directory = Path(directory)
    removed: list[Path] = []
    now = time.time()
    try:
        entries = os.scandir(directory)
    except (FileNotFoundError, NotADirectoryError):
        return removed
    with entries:
        for entry in entries:
            if not entry.name.startswith(TEMP_PREFIX + prefix):
                continue
            path = directory / entry.name
            if str(path) in keep:
                continue
            if dead_writers:
                parts = entry.name.rsplit(".", 2)
                if len(parts) != 3 or not parts[1].isdigit() or pid_alive(int(parts[1])):
                    continue
            try:
                info = entry.stat(follow_symlinks=False)
                if not stat.S_ISREG(info.st_mode):
                    continue
                if older_than > 0 and now - info.st_mtime < older_than:
                    continue
                os.unlink(path)
            except FileNotFoundError:  # committed or removed meanwhile
                continue
            removed.append(path)
    if removed:
        fsync_dir(directory)
    return sorted(removed)
