"""Taking a file out of an inbox without trusting the path it was seen under.

An inbox is written by other people and programs. Between the scanner's look and the
claim, a name can be swapped for a symbolic link (``ln -s /etc/shadow .x && mv -T .x
queued.dat``), a FIFO or a device; a file can be a hard link to a file outside the spool,
belong to another user (``sudo cp``) or be unreadable. So an inbox file is opened once,
with ``O_NOFOLLOW | O_NONBLOCK``, and everything after that works on the descriptor:

1. :func:`open_inbox_file` refuses (:class:`Refused`) what is not one plain regular file:
   a symbolic link, a FIFO, a socket, a device, a folder, a file with more than one hard
   link, a file the gateway may not read;
2. :func:`take` moves the entry into ``work/`` with a rename that never replaces, then
   checks that what moved is the inode that was opened (a swap between the open and the
   rename is refused, the swapped-in entry is left where it moved, unfollowed). A file of
   another user is copied from the descriptor into a new file of the gateway's own (mode
   0o600) and its inbox entry removed, so the gateway never changes the mode of, or keeps
   working on, a file someone else can still write. The SHA-256 is computed from the
   descriptor (or while copying), never by opening the path again.

Nothing here follows a link, changes a file outside the spool or blocks on a FIFO.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from spool.atomic import NAME_MAX, fit_name, fsync_dir, move_into, sha256_fd, write_temp

__all__ = ["Refused", "Taken", "copy_into", "open_inbox_file", "take", "work_name"]

_CHUNK = 1024 * 1024
_FILE_MODE = 0o600
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class Refused(Exception):
    """An inbox entry the gateway will not take as an input file.

    ``code`` is stable (a report's status detail, an audit field); ``reason_ja`` is the
    sentence an operator reads, ``reason`` its English form."""

    def __init__(self, code: str, reason_ja: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason_ja = reason_ja
        self.reason = reason


def _kind(mode: int) -> tuple[str, str]:
    for test, ja, en in (
        (stat.S_ISLNK, "シンボリックリンク", "a symbolic link"),
        (stat.S_ISDIR, "フォルダ", "a folder"),
        (stat.S_ISFIFO, "名前付きパイプ(FIFO)", "a FIFO"),
        (stat.S_ISSOCK, "ソケット", "a socket"),
        (stat.S_ISCHR, "キャラクタデバイス", "a character device"),
        (stat.S_ISBLK, "ブロックデバイス", "a block device"),
    ):
        if test(mode):
            return ja, en
    return "通常のファイル以外のもの", "not a regular file"


def _check_regular(info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        ja, en = _kind(info.st_mode)
        raise Refused(
            "not-regular",
            f"通常のファイルではなく{ja}のため、受け付けませんでした。",
            f"{en}, not a regular file: refused",
        )
    if info.st_nlink > 1:
        raise Refused(
            "hard-links",
            f"ハードリンクが{info.st_nlink}個あるファイル(スプール外のファイルと同じ実体の可能性)のため、"
            "受け付けませんでした。コピーしたファイルを置いてください。",
            f"a file with {info.st_nlink} hard links (it may be a file outside the spool): refused; put a copy instead",
        )


def open_inbox_file(path: Path) -> tuple[int, os.stat_result]:
    """Open an inbox entry for reading without following a link; its descriptor and ``fstat``.

    Raises FileNotFoundError when the entry is gone (another process took it) and
    :class:`Refused` for anything that is not one plain regular file the gateway may read."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        raise
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise Refused(
                "not-regular",
                "シンボリックリンクのため、リンク先を読まずに受け付けませんでした。",
                "a symbolic link: refused without following it",
            ) from error
        if error.errno in (errno.EACCES, errno.EPERM):
            owner = _owner_text(path)
            raise Refused(
                "unreadable",
                f"ゲートウェイの利用者が読めないファイル({owner})のため、受け付けませんでした。"
                "読み取り権限を付けて置き直してください。",
                f"the gateway's user may not read this file ({owner}): refused",
            ) from error
        if error.errno == errno.ENAMETOOLONG:
            raise Refused(
                "name", "ファイル名が長すぎるため、受け付けませんでした。", "the file name is too long: refused"
            ) from error
        if error.errno in (errno.ENXIO, errno.ENODEV, errno.EWOULDBLOCK):  # a socket, a device without reader
            raise Refused(
                "not-regular", "通常のファイルではないため、受け付けませんでした。", "not a regular file: refused"
            ) from error
        raise
    try:
        info = os.fstat(fd)
        _check_regular(info)
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def _owner_text(path: Path) -> str:
    try:
        info = os.lstat(path)
    except OSError:
        return "所有者不明"
    return f"所有者 uid {info.st_uid}, 権限 {stat.S_IMODE(info.st_mode):04o}"


def work_name(file_id: str, name: str) -> str:
    """``<file_id>__<name>``, the name cut (by bytes, at a character boundary) to fit a folder entry."""
    prefix = f"{file_id}__"
    return prefix + fit_name(name, NAME_MAX - len(prefix.encode()))


@dataclass(frozen=True, slots=True)
class Taken:
    """An inbox file now in ``work/``: its path there, content hash and size."""

    path: Path
    sha256: str
    size: int
    copied: bool


def take(source: Path, fd: int, info: os.stat_result, directory: Path, name: str) -> Taken:
    """Move the opened inbox file ``source`` (descriptor ``fd``, ``fstat`` ``info``) to ``directory/name``.

    The gateway's own file is renamed (never replacing anything) and checked to be the
    inode that was opened, then set to mode 0o600 through the descriptor. Another user's
    file is copied from the descriptor into a new file and its inbox entry removed.

    Raises FileNotFoundError / FileExistsError like :func:`spool.atomic.move_into` (another
    process took it first), and :class:`Refused` (code ``swapped``) when the entry that
    moved is not the file that was opened: it stays at ``directory/name``, unfollowed."""
    if info.st_uid != os.geteuid():
        return _copy(source, fd, info, directory, name)
    target = move_into(source, directory, name)
    moved = os.lstat(target)
    if (moved.st_dev, moved.st_ino) != (info.st_dev, info.st_ino) or not stat.S_ISREG(moved.st_mode):
        ja, en = _kind(moved.st_mode) if not stat.S_ISREG(moved.st_mode) else ("別のファイル", "another file")
        raise Refused(
            "swapped",
            f"確認後に{ja}へ差し替えられたため、受け付けませんでした。",
            f"replaced by {en} after it was checked: refused",
        )
    os.fchmod(fd, _FILE_MODE)  # spool files are readable by the owner only
    return Taken(target, sha256_fd(fd), os.fstat(fd).st_size, copied=False)


def copy_into(fd: int, directory: Path, name: str) -> Taken:
    """A new file ``directory/name`` (mode 0o600, never replacing one) holding the content of
    ``fd``: written under a temporary name, hashed while written, fsynced, then renamed."""

    def chunks() -> Iterator[bytes]:
        offset = 0
        while chunk := os.pread(fd, _CHUNK, offset):
            offset += len(chunk)
            yield chunk

    temp, digest = write_temp(directory, name, chunks())
    try:
        target = move_into(temp, directory, name)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return Taken(target, digest, target.stat().st_size, copied=True)


def _copy(source: Path, fd: int, info: os.stat_result, directory: Path, name: str) -> Taken:
    taken = copy_into(fd, directory, name)
    # the inbox entry goes only if it is still the file that was copied (else another process's now)
    try:
        now = os.lstat(source)
    except FileNotFoundError:
        now = None
    try:
        if now is None or (now.st_dev, now.st_ino) != (info.st_dev, info.st_ino):
            raise FileNotFoundError(errno.ENOENT, "file gone (claimed by another process?)", str(source))
        os.unlink(source)  # of two processes copying the same file, only one removes it
    except FileNotFoundError:
        taken.path.unlink(missing_ok=True)
        raise
    fsync_dir(Path(source).parent)
    return taken
