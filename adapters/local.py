"""The local-folder transport: outputs staged under a hidden temporary name in the
destination folder, fsynced, and renamed into place only when the whole input file
has been accepted (spool.atomic.commit). Names are deterministic per input file and
destination, so a retry replaces instead of duplicating."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from spool.atomic import TEMP_PREFIX, commit, remove_stale_temps

__all__ = ["LocalFolder", "StagedFile", "output_name"]


def output_name(file_id: str, destination: str, extension: str) -> str:
    """The deterministic output name for one input file and destination."""
    return f"{file_id}.{destination}.{extension}"


class StagedFile:
    """An output being written: appended to, then finished (fsynced) or discarded."""

    def __init__(self, folder: Path, final_name: str) -> None:
        self.final = folder / final_name
        self.temp = folder / f"{TEMP_PREFIX}{final_name}.{os.getpid()}.{secrets.token_hex(4)}"
        self._fd = os.open(self.temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        self._file = open(self._fd, "wb", buffering=1 << 20, closefd=True)  # noqa: SIM115 - closed in finish/discard
        self._digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self._digest.update(data)
        self.size += len(data)

    def finish(self) -> str:
        """Flush and fsync; the file stays under its temporary name. Returns its SHA-256."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        return self._digest.hexdigest()

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.temp.unlink(missing_ok=True)


class LocalFolder:
    """A destination that is a folder on this machine (usually <spool>/outbox/<name>)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def stage(self, final_name: str) -> StagedFile:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return StagedFile(self.folder, final_name)

    @staticmethod
    def commit(temp: Path, final: Path) -> None:
        commit(temp, final)

    def discard_stale(self, file_id: str) -> list[Path]:
        """Remove temporaries a crashed run left for one input file (never another file's)."""
        return remove_stale_temps(self.folder, prefix=f"{file_id}.")
